/* SPDX-License-Identifier: GPL-2.0 */
/* The current task as each kernel lets a program see it, and where its call in flight is kept.
 * Linux 5.13 and later (the main object): the task's BTF pointer, its fields read directly at
 * offsets from the kernel's BTF, the start in task-local storage (freed with the task).
 * Linux 5.10 to 5.12 (this file with SD_COMPAT, the compat object): helpers, and the start in a
 * hash by thread id, which the task-exit hook empties, so that no later thread with the same id
 * finds it. */
#ifndef SD_TASK_BPF_H
#define SD_TASK_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "syscalldist.h"
#include "sd_arch.bpf.h"
#include "sd_maps.bpf.h"

struct task_struct;

/* The task's pid and tgid as the tool's pid namespace sees them; 0 when it sees it not at all. */
struct sd_ids {
	__u32 tgid, tid;
};

static __always_inline struct sd_ids sd_host_ids(struct task_struct *task);

static __always_inline struct sd_ids sd_ids(struct task_struct *task)
{
	struct sd_ids ids = {};

	if (cfg.pidns_ino) {
		struct bpf_pidns_info ns = {};

		if (bpf_get_ns_current_pid_tgid(cfg.pidns_dev, cfg.pidns_ino, &ns, sizeof(ns)) == 0) {
			ids.tgid = ns.tgid;
			ids.tid = ns.pid;
		}
		return ids;
	}
	return sd_host_ids(task);
}

#ifndef SD_COMPAT

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sd_start);
} starts SEC(".maps");

/* A field of the task at an offset read from the kernel's BTF: a known constant to the
 * verifier, which checks the load against the kernel's own layout. */
#define SD_TASK_FIELD(task, type, offset) (*(type *)((char *)(task) + (offset)))

static __always_inline struct task_struct *sd_current(void)
{
	return bpf_get_current_task_btf();
}

static __always_inline struct sd_start *sd_start_of(struct task_struct *task, int create)
{
	return bpf_task_storage_get(&starts, task, 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* The start of a task sched_switch names (a BTF pointer), the running one or not. */
static __always_inline struct sd_start *sd_start_of_switched(struct task_struct *task, int running)
{
	return bpf_task_storage_get(&starts, task, 0, 0);
}

/* Task-local storage goes with the task. */
static __always_inline void sd_start_forget(struct task_struct *task)
{
}

/* ... through execve too, whatever id the kernel gives the task. */
static __always_inline void sd_start_moved(__u32 old_tid)
{
}

static __always_inline struct sd_ids sd_host_ids(struct task_struct *task)
{
	struct sd_ids ids = {
		.tgid = SD_TASK_FIELD(task, __u32, cfg.task_tgid_offset),
		.tid = SD_TASK_FIELD(task, __u32, cfg.task_pid_offset),
	};

	return ids;
}

static __always_inline void sd_comm(struct task_struct *task, __u64 comm[2])
{
	comm[0] = SD_TASK_FIELD(task, __u64, cfg.task_comm_offset);
	comm[1] = SD_TASK_FIELD(task, __u64, cfg.task_comm_offset + 8);
}

/* A 32-bit caller (int $0x80 or a 32-bit program on x86_64, AArch32 on arm64): its syscall
 * numbers belong to another table. x86_64: the thread's TS_COMPAT status, which int $0x80 sets
 * for 64-bit programs too (no register says so). arm64: the user state's PSR_MODE32_BIT, a uapi
 * constant, rather than a TIF_ number, which kernels may renumber. */
static __always_inline int sd_compat_caller(struct task_struct *task)
{
#if defined(__TARGET_ARCH_arm64)
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

	return regs && (regs->pstate & 0x10);
#else
	return cfg.compat_mask && (SD_TASK_FIELD(task, __u32, cfg.compat_offset) & cfg.compat_mask);
#endif
}

/* The ns the task has run, by the scheduler's count; 0 where its place is unknown. */
static __always_inline __u64 sd_runtime(struct task_struct *task)
{
	return cfg.task_runtime_offset ? SD_TASK_FIELD(task, __u64, cfg.task_runtime_offset) : 0;
}

/* The task's scheduler state: 0 is TASK_RUNNING. */
static __always_inline __u32 sd_task_state(struct task_struct *task)
{
	return SD_TASK_FIELD(task, __u32, cfg.task_state_offset);
}

#else /* SD_COMPAT */

/* Preallocated, so a start without a key of parts is only what comes before `entry_key` (its
 * value size is set before load): the program reads the rest only with key_parts. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* threads with a start, set before load */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct sd_start)); /* set before load */
} starts SEC(".maps");

/* Not a BTF pointer here: only ever passed to helpers. */
static __always_inline struct task_struct *sd_current(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

static __always_inline struct sd_start *sd_start_of(struct task_struct *task, int create)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sd_start *s = bpf_map_lookup_elem(&starts, &tid), fresh = {};

	if (s || !create)
		return s;
	bpf_map_update_elem(&starts, &tid, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&starts, &tid); /* NULL: as many threads as the hash holds */
}

/* The start of a task sched_switch names: the running one is the current thread, the other's
 * id is read at its offset from the kernel's BTF. */
static __always_inline struct sd_start *sd_start_of_switched(struct task_struct *task, int running)
{
	__u32 tid = 0;

	if (running)
		return sd_start_of(task, 0);
	bpf_probe_read_kernel(&tid, sizeof(tid), (char *)task + cfg.task_pid_offset);
	return bpf_map_lookup_elem(&starts, &tid);
}

/* The thread exits: its id may be handed to a new thread, which must not find this start. */
static __always_inline void sd_start_forget(struct task_struct *task)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&starts, &tid);
}

/* A thread that is not its process's leader called execve: the kernel gave it the leader's id
 * and freed its own, with no exit of this thread. Its start (the execve) moves with it: left under
 * the old id, the execve's return would find none, and the next thread given that id would
 * finish it as its own, from its first return (clone's), timed since this execve began. */
static __always_inline void sd_start_moved(__u32 old_tid)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sd_start *s, moved;

	if (old_tid == tid)
		return;
	s = bpf_map_lookup_elem(&starts, &old_tid);
	if (!s)
		return;
	if (cfg.key_parts)
		moved = *s;
	else
		__builtin_memcpy(&moved, s, __builtin_offsetof(struct sd_start, entry_key));
	bpf_map_delete_elem(&starts, &old_tid); /* first: its room is the moved start's */
	if (bpf_map_update_elem(&starts, &tid, &moved, BPF_ANY)) {
		struct sd_cpu *cpu = sd_cpu();

		if (cpu) /* another CPU took the room: the call never returns, as far as we know */
			sd_stat(cpu, SD_STAT_ABANDONED);
	}
}

static __always_inline struct sd_ids sd_host_ids(struct task_struct *task)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sd_ids ids = { .tgid = pid_tgid >> 32, .tid = (__u32)pid_tgid };

	return ids;
}

static __always_inline void sd_comm(struct task_struct *task, __u64 comm[2])
{
	bpf_get_current_comm(comm, 16);
}

/* x86_64: TS_COMPAT, read with a helper (no BTF pointer before 5.11); arm64 before 5.15 has no
 * way to the user registers: AArch32 callers are not told apart there. */
static __always_inline int sd_compat_caller(struct task_struct *task)
{
#if defined(__TARGET_ARCH_arm64)
	return 0;
#else
	__u32 status = 0;

	if (!cfg.compat_mask)
		return 0;
	bpf_probe_read_kernel(&status, sizeof(status), (char *)task + cfg.compat_offset);
	return status & cfg.compat_mask;
#endif
}

/* The ns the task has run, by the scheduler's count; 0 where its place is unknown. */
static __always_inline __u64 sd_runtime(struct task_struct *task)
{
	__u64 ran = 0;

	if (cfg.task_runtime_offset)
		bpf_probe_read_kernel(&ran, sizeof(ran), (char *)task + cfg.task_runtime_offset);
	return ran;
}

/* The time split is refused before 5.13 (user space): never called here. */
static __always_inline __u32 sd_task_state(struct task_struct *task)
{
	__u32 state = 0;

	bpf_probe_read_kernel(&state, sizeof(state), (char *)task + cfg.task_state_offset);
	return state;
}

#endif /* SD_COMPAT */
#endif
