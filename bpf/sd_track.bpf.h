/* SPDX-License-Identifier: GPL-2.0 */
/* Entry and exit of a traced call, whatever the hook and the kernel (sd_task.bpf.h): filters, the
 * per-thread start, the concurrency counters, and the event handed to the bucket step. */
#ifndef SD_TRACK_BPF_H
#define SD_TRACK_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "syscalldist.h"
#include "sd_arch.bpf.h"
#include "sd_maps.bpf.h"
#include "sd_task.bpf.h"
#include "sd_offcpu.bpf.h"
#include "sd_key.bpf.h"

/* Filters that can be decided before the call: the verifier drops the ones left at zero. */
static __always_inline int sd_wanted(struct task_struct *task)
{
	if (cfg.self_tgid || cfg.filter_tgid || cfg.filter_tid) {
		struct sd_ids ids = sd_ids(task);

		if (cfg.self_tgid && ids.tgid == cfg.self_tgid)
			return 0;
		if (cfg.filter_tgid && ids.tgid != cfg.filter_tgid)
			return 0;
		if (cfg.filter_tid && ids.tid != cfg.filter_tid)
			return 0;
	}
	if (cfg.filter_cgroup && bpf_current_task_under_cgroup(&cgroup_filter, 0) != 1)
		return 0;
	if (cfg.filter_comm_set) {
		__u64 comm[2] = {};

		sd_comm(task, comm);
		if (comm[0] != cfg.filter_comm[0] || comm[1] != cfg.filter_comm[1])
			return 0;
	}
	return 1;
}

#ifndef SD_COMPAT
/* The concurrency counter of a call: its key's when known at entry, else the probe's one. */
static __always_inline struct sd_concurrency *sd_concurrency_of(__u64 entry_key)
{
	__u32 index = 0;

	if (cfg.concurrency_per_key) {
		if (entry_key >= cfg.key_count)
			return NULL;
		index = entry_key;
	}
	return bpf_map_lookup_elem(&concurrency, &index);
}

static __always_inline void sd_concurrency_enter(struct sd_cpu *cpu, __u64 entry_key)
{
	struct sd_concurrency *c = sd_concurrency_of(entry_key);
	__u64 now;

	if (!c)
		return;
	now = __sync_fetch_and_add(&c->now, 1) + 1;
	sd_raise(cpu, &c->max, now);
}

/* A call leaves the traced function, however it ended (returned, abandoned, replaced). */
static __always_inline void sd_concurrency_leave(__u64 entry_key)
{
	struct sd_concurrency *c = sd_concurrency_of(entry_key);

	if (c)
		__sync_fetch_and_add(&c->now, -1);
}

#else
/* Linux 5.10 to 5.11 have no BPF compare-and-swap: --concurrency is refused there. */
static __always_inline void sd_concurrency_enter(struct sd_cpu *cpu, __u64 entry_key)
{
}

static __always_inline void sd_concurrency_leave(__u64 entry_key)
{
}
#endif

/* Ends a call that will not be counted (its thread exited, or its exit was not seen). */
static __always_inline void sd_discard(struct sd_cpu *cpu, struct sd_start *s, enum sd_stat why)
{
	sd_stat(cpu, why);
	s->ts = 0;
	if (cfg.track_concurrency)
		sd_concurrency_leave(s->key);
}

/* A call begins. `key`: the one-part key known at entry; with a key of parts, `args` holds each
 * part's argument (SD_KEY_PARTS of them) and `key` is 0. */
static __always_inline void sd_enter(struct task_struct *task, long nr, __u64 key, const __u64 *args)
{
	struct sd_cpu *cpu;
	struct sd_start *s;

	if (!sd_wanted(task))
		return;
	cpu = sd_cpu();
	if (!cpu)
		return;
	s = sd_start_of(task, 1);
	if (!s) {
		sd_stat(cpu, SD_STAT_NO_STORAGE);
		return;
	}
	if (s->ts)
		sd_discard(cpu, s, SD_STAT_REPLACED);
	s->key = key;
	s->nr = nr;
	if (cfg.key_parts)
		sd_entry_parts(task, cpu, s, nr, args);
	if (cfg.track_switches) {
		s->off_since = 0;
		s->off_cpu = 0;
		s->longest_off = 0;
		s->blocked_stack = SD_STACK_NOT_TAKEN;
		if (cfg.split_time) {
			s->runnable = 0;
			s->woken_at = 0;
			s->contend_since = 0;
		}
	}
	s->ts = bpf_ktime_get_ns();
	if (cfg.track_switches) {
		s->on_at = s->ts;
		s->ran_at_on = sd_runtime(task);
	}
	sd_stat(cpu, SD_STAT_STARTED);
	if (cfg.track_concurrency)
		sd_concurrency_enter(cpu, key);
}

/* The thread leaves the kernel for good with a call in flight: that call never returns. */
static __always_inline void sd_task_exits(struct task_struct *task)
{
	struct sd_start *s = sd_start_of(task, 0);
	struct sd_cpu *cpu;

	if (s && s->ts) {
		cpu = sd_cpu();
		if (cpu)
			sd_discard(cpu, s, SD_STAT_ABANDONED);
	}
	sd_start_forget(task);
}

/* A call at or above the threshold ended: its record to the ring buffer, or counted as lost. */
static __always_inline void sd_report_slow(
	void *ctx, struct task_struct *task, struct sd_cpu *cpu, struct sd_start *s, __u64 now)
{
	struct sd_event *e = &cpu->event;
	struct sd_slow_call *r;
	struct sd_ids ids;

	e->slow = 1; /* counted as slow by the bucket step, once it is in a histogram */
	r = bpf_ringbuf_reserve(&slow_calls, sizeof(*r), 0);
	if (!r) {
		sd_stat(cpu, SD_STAT_SLOW_DROPPED);
		return;
	}
	ids = sd_ids(task);
	r->end_ns = now;
	r->latency_ns = e->ns;
	r->off_cpu_ns = s->off_cpu;
	r->runnable_ns = cfg.split_time ? e->runnable_ns : 0;
	r->blocked_ns = cfg.split_time ? e->blocked_ns : 0;
	r->longest_off_ns = s->longest_off;
#pragma clang loop unroll(full)
	for (int w = 0; w < SD_KEY_WORDS; w++)
		r->key[w] = w < sd_key_words() ? e->key[w] : 0;
	r->err = e->err;
	r->pid = ids.tgid;
	r->tid = ids.tid;
	sd_comm(task, r->comm);
	r->user_stack = SD_STACK_NOT_TAKEN;
	r->kernel_stack = SD_STACK_NOT_TAKEN;
	if (cfg.slow_stacks) {
		r->user_stack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
		r->kernel_stack = s->blocked_stack;
	}
	bpf_ringbuf_submit(r, 0);
}

/* The finished call's key: its one part (an argument or the syscall known at entry), or its
 * parts. */
static __always_inline void sd_exit_key(struct task_struct *task, struct sd_start *s, struct sd_event *e, long ret)
{
	if (cfg.key_parts) {
		sd_exit_parts(task, s, e, ret);
		return;
	}
	switch (cfg.key_source) {
	case SD_KEY_RETVAL:
		e->key[0] = ret;
		break;
	case SD_KEY_ERRNO:
		e->key[0] = e->err; /* a negative value that is no errno is a success */
		break;
	case SD_KEY_PID:
		e->key[0] = sd_ids(task).tgid;
		break;
	case SD_KEY_TID:
		e->key[0] = sd_ids(task).tid;
		break;
	case SD_KEY_NONE:
		e->key[0] = 0;
		break;
	case SD_KEY_COMM:
		sd_comm(task, e->key);
		break;
	case SD_KEY_CGROUP:
		e->key[0] = bpf_get_current_cgroup_id();
		break;
	default: /* arguments and the syscall number were captured at entry */
		e->key[0] = s->key;
	}
}

/* How an exit hook knows which syscall it leaves: not at all (kernel functions; raw_tp tracing
 * every syscall, where each entry replaces the start anyway), given, or read from pt_regs (raw_tp
 * tracing one syscall: a probe_read, so only once a start is found). */
enum sd_exit_nr {
	SD_NR_UNKNOWN,
	SD_NR_GIVEN,
	SD_NR_FROM_REGS,
};

/* Finishes the thread's call: fills the CPU's event and returns it for the bucket step, or NULL
 * when there is nothing to count. Where the syscall is known, an exit only finishes the call of
 * the same syscall: a start whose own exit went unseen is discarded, not mis-timed. The kernel
 * forgets the number (-1) in rt_sigreturn (x86, arm64) and a successful execve (arm64): that
 * exit finishes whatever its thread started. */
static __always_inline struct sd_cpu *sd_exit(void *ctx,
	struct task_struct *task, enum sd_exit_nr how, long nr, struct pt_regs *regs, long ret)
{
	struct sd_start *s = sd_start_of(task, 0);
	struct sd_event *e;
	struct sd_cpu *cpu;
	__u64 now, delta;

	if (!s || !s->ts)
		return NULL;
	now = bpf_ktime_get_ns();
	cpu = sd_cpu();
	if (!cpu)
		return NULL;
	if (how == SD_NR_FROM_REGS) {
		typeof(*SD_SYSCALL_NR_PTR(regs)) from_regs = 0;

		bpf_probe_read_kernel(&from_regs, sizeof(from_regs), SD_SYSCALL_NR_PTR(regs));
		nr = from_regs;
	}
	if (how != SD_NR_UNKNOWN && nr != -1 && s->nr != (__u64)nr) {
		sd_discard(cpu, s, SD_STAT_MISMATCHED);
		return NULL;
	}
	delta = now - s->ts;
	s->ts = 0;
	sd_stat(cpu, SD_STAT_FINISHED);
	if (cfg.track_concurrency)
		sd_concurrency_leave(s->key);
	e = &cpu->event;
	e->ns = delta;
	e->latency = cfg.unit_ns > 1 ? delta / cfg.unit_ns : delta;
	e->err = ret < 0 && ret >= -4095 ? -ret : 0; /* MAX_ERRNO: other negatives are values */
	e->key[1] = 0;
	e->slow = 0;
	sd_exit_key(task, s, e, ret);
	/* Running, so back on a CPU: a stretch still open means the sched_switch hook missed the
	 * switch back in */
	if (cfg.track_switches) {
		if (s->off_since)
			sd_close_unseen_stretch(cpu, s, task, now);
		if (cfg.split_time) {
			__u64 off = s->off_cpu < delta ? s->off_cpu : delta;

			e->runnable_ns = s->runnable < off ? s->runnable : off;
			e->blocked_ns = off - e->runnable_ns;
		}
	}
	if (cfg.report_slow && delta >= cfg.slower_than_ns)
		sd_report_slow(ctx, task, cpu, s, now);
	return cpu;
}

/* A context switch: a thread in a traced call that leaves the CPU starts a stretch off CPU
 * (with --stacks, the kernel stack where it blocks is taken now: at the call's end it would only
 * show the way out), and one that comes back ends it. A thread preempted, or leaving in
 * TASK_RUNNING (a yield; a wakeup that came before it slept), stays runnable: it waits for a
 * CPU; any other state blocks until a wakeup. Loaded with slow calls or the time split only. */
static __always_inline void sd_switch(
	void *ctx, int preempt, struct task_struct *prev, struct task_struct *next)
{
	struct sd_start *s = sd_start_of_switched(prev, 1);
	__u64 now = 0; /* read once, and only for a thread in a traced call: most switches have none */

	if (s && s->ts) {
		now = bpf_ktime_get_ns();
		if (s->off_since) /* it ran, and the hook missed its switch back in */
			sd_close_unseen_stretch(sd_cpu(), s, prev, now);
		if (cfg.split_time) {
			s->off_runnable = preempt || sd_task_state(prev) == 0;
			s->woken_at = 0;
		}
		s->off_since = now;
		s->ran_at_off = sd_runtime(prev);
		/* where it blocks: for --stacks, or a wait site (not for a thread that waits for a CPU) */
		s->pending_stack = cfg.slow_stacks || (cfg.wait_sites && !s->off_runnable)
			? bpf_get_stackid(ctx, &stacks, 0) : SD_STACK_NOT_TAKEN;
	}
	s = sd_start_of_switched(next, 0);
	if (!s || !s->ts)
		return;
	if (!now)
		now = bpf_ktime_get_ns();
	if (s->off_since)
		sd_back_on_cpu_switched(s, next, now);
	else /* in a call, on a CPU again, never seen leaving it */
		sd_close_unseen_switch_out(s, next, now);
	s->on_at = now;
	s->ran_at_on = sd_runtime(next);
}

/* A thread is woken: one blocked in a traced call starts waiting for a CPU. Loaded with the time
 * split only. */
static __always_inline void sd_wakeup(struct task_struct *task)
{
	struct sd_start *s = sd_start_of_switched(task, 0);

	if (s && s->ts && s->off_since && !s->off_runnable && !s->woken_at)
		s->woken_at = bpf_ktime_get_ns();
}

#endif
