// SPDX-License-Identifier: GPL-2.0
/* The one generic program behind every profile. User space writes `cfg` before load, keeps only
 * the programs of the probe method it picked (autoload), and fills `bucket_steps` with that
 * method's bucket step. Entry handlers record a per-thread start; exit handlers compute the
 * latency and key and tail-call the step for the profile's bucket kind; `sd_task_exit` accounts
 * for calls whose thread exits inside them. A profile only selects among these paths: it can
 * never make the kernel run new code. This file holds the hooks; the work is in the headers. */
#include <linux/bpf.h>
#include <asm-generic/errno-base.h>
#include <bpf/bpf_helpers.h>
#include "syscalldist.h"
#include "sd_arch.bpf.h"
#include "sd_maps.bpf.h"
#include "sd_task.bpf.h"
#include "sd_key.bpf.h"
#include "sd_track.bpf.h"
#include "sd_count.bpf.h"

static __always_inline int sd_syscall_skipped(long nr)
{
	return cfg.target == SD_TARGET_SYSCALL && nr != cfg.syscall_nr;
}

/* The one-part key known at entry: the syscall's key, or the argument. */
static __always_inline __u64 sd_entry_key(long nr, __u64 arg)
{
	return cfg.key_source == SD_KEY_SYSCALL ? sd_syscall_key(nr) : arg;
}

/* A key of parts: each argument part's argument into `args`, read as the hook reads one (`CASES`
 * read it into `arg`, by the constant `PLACE`: the argument's index, or its slot). The loop is
 * unrolled so that each part's settings are constants the verifier prunes by. */
#define SD_PART_ARGS(args, PLACE, CASES)                                               \
	_Pragma("clang loop unroll(full)")                                             \
	for (int i = 0; i < SD_KEY_PARTS; i++) {                                       \
		__u64 arg = 0;                                                         \
		if (i < cfg.key_parts && cfg.part[i].source <= SD_KEY_ARG5) {         \
			switch (PLACE) { CASES }                                       \
		}                                                                      \
		args[i] = arg;                                                         \
	}

/* Entry on a hook that sees every syscall. A 32-bit caller's numbers belong to another table, as
 * do its argument registers (the per-syscall tracepoints never see it). Every syscall keyed by
 * number, its calls are keyed apart (compat_key_base + n), which user space names from that
 * table; otherwise they are not traced: tracing all syscalls, they are counted apart; tracing one,
 * they cannot be told apart from the others. */
static __always_inline void sd_enter_any_syscall(
	struct task_struct *task, long nr, __u64 arg, const __u64 *args)
{
	__u64 key;

	if (sd_syscall_skipped(nr))
		return;
	if (!sd_compat_caller(task)) {
		key = sd_entry_key(nr, arg);
	} else if (cfg.compat_key_base) {
		key = (__u64)nr < SD_SYSCALL_KEYS ? cfg.compat_key_base + nr : SD_SYSCALL_KEYS;
	} else {
		struct sd_cpu *cpu = sd_cpu();

		if (cfg.target == SD_TARGET_ALL_SYSCALLS && cpu && sd_wanted(task))
			sd_stat(cpu, SD_STAT_COMPAT);
		return;
	}
	sd_enter(task, nr, key, args);
}

static __always_inline void sd_exit_and_count(
	void *ctx, enum sd_exit_nr how, long nr, struct pt_regs *regs, long ret)
{
	struct sd_cpu *cpu = sd_exit(ctx, sd_current(), how, nr, regs, ret);

	if (cpu)
		sd_dispatch(ctx, cpu);
}

/* ---- every hook: a thread that exits with a call in flight --------------------------------- */
SEC("raw_tp/sched_process_exit")
int sd_task_exit(void *ctx)
{
	sd_task_exits(sd_current());
	return 0;
}

/* ---- Linux 5.10 to 5.12 (loaded there only): execve by a thread that is not the leader ---- */
SEC("raw_tp/sched_process_exec")
int sd_task_exec(__u64 *ctx)
{
	sd_start_moved((__u32)ctx[1]); /* old_pid: the thread's id before the execve */
	return 0;
}

/* ---- time off CPU inside a traced call (loaded only for slow calls or the time split) ---- */
SEC("tp_btf/sched_switch")
int sd_sched_switch(__u64 *ctx)
{
	sd_switch(ctx, (int)(ctx[0] & 1), (struct task_struct *)ctx[1], (struct task_struct *)ctx[2]);
	return 0;
}

/* ---- the time split: a blocked thread in a traced call woken (loaded only for the split) -- */
SEC("tp_btf/sched_wakeup")
int sd_sched_wakeup(__u64 *ctx)
{
	sd_wakeup((struct task_struct *)ctx[0]);
	return 0;
}

/* ---- the time split, 5.19+: a traced call's waits for locks (loaded only then) ----------- */
SEC("tp_btf/contention_begin")
int sd_lock_contention_begin(__u64 *ctx)
{
	sd_contention_begin(ctx[0], ctx[1]);
	return 0;
}

SEC("tp_btf/contention_end")
int sd_lock_contention_end(__u64 *ctx)
{
	sd_contention_end(ctx[0]);
	return 0;
}

/* ---- tracepoint: syscalls:sys_{enter,exit}_NAME or raw_syscalls:sys_{enter,exit} --------- */
/* Both families share this layout: syscall number at 8, arguments from 16, return value at 16. */
struct sd_tp_enter_ctx {
	__u64 common;
	int nr;
	int pad;
	unsigned long args[6];
};
struct sd_tp_exit_ctx {
	__u64 common;
	int nr;
	int pad;
	long ret;
};

/* One load per argument at a constant offset: the verifier refuses a moved ctx pointer, and
 * the empty asm keeps clang from merging the six loads into one with a computed address. */
#define SD_TP_ARG(i)                                                                   \
	case i:                                                                        \
		arg = ctx->args[i];                                                    \
		asm volatile("" : "+r"(arg));                                          \
		break;

#define SD_TP_ARGS SD_TP_ARG(0) SD_TP_ARG(1) SD_TP_ARG(2) SD_TP_ARG(3) SD_TP_ARG(4) SD_TP_ARG(5)

SEC("tracepoint")
int sd_tp_enter(struct sd_tp_enter_ctx *ctx)
{
	__u64 arg = 0, args[SD_KEY_PARTS];

	if (sd_syscall_skipped(ctx->nr))
		return 0;
	/* The kernel refuses (EACCES) to attach a program that reads past the event's record,
	 * and a syscall without arguments has none: read one only when the key is one. */
	switch (cfg.key_source) {
	SD_TP_ARGS
	}
	SD_PART_ARGS(args, cfg.part[i].source, SD_TP_ARGS)
	/* syscalls:* events never fire for 32-bit callers; raw_syscalls:* do */
	if (cfg.target == SD_TARGET_ALL_SYSCALLS)
		sd_enter_any_syscall(sd_current(), ctx->nr, arg, args);
	else
		sd_enter(sd_current(), ctx->nr, sd_entry_key(ctx->nr, arg), args);
	return 0;
}

SEC("tracepoint")
int sd_tp_exit(struct sd_tp_exit_ctx *ctx)
{
	if (sd_syscall_skipped(ctx->nr))
		return 0;
	sd_exit_and_count(ctx, SD_NR_GIVEN, ctx->nr, NULL, ctx->ret);
	return 0;
}

SD_BUCKET_STEPS("tracepoint", sd_tp)

/* ---- raw tracepoints sys_enter/sys_exit: no tracefs needed; every syscall runs them ----- */
static __always_inline __u64 sd_raw_arg(struct pt_regs *regs, __u32 index)
{
	unsigned long v = 0;

	if (index <= SD_KEY_ARG5)
		bpf_probe_read_kernel(&v, sizeof(v), SD_SYSCALL_ARG_PTR(regs, index));
	return v;
}

/* The user's registers as a syscall hook sees them: each part's argument. */
#define SD_RAW_PART_ARG case 0: arg = sd_raw_arg(regs, cfg.part[i].source); break;

SEC("raw_tp")
int sd_raw_enter(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	__u64 args[SD_KEY_PARTS];

	SD_PART_ARGS(args, 0, SD_RAW_PART_ARG)
	sd_enter_any_syscall(sd_current(), ctx[1], sd_raw_arg(regs, cfg.key_source), args);
	return 0;
}

SEC("raw_tp")
int sd_raw_exit(__u64 *ctx)
{
	/* sys_exit carries no number: it is read where other syscalls' enters are skipped */
	sd_exit_and_count(ctx, cfg.target == SD_TARGET_SYSCALL ? SD_NR_FROM_REGS : SD_NR_UNKNOWN, 0,
			  (struct pt_regs *)ctx[0], (long)ctx[1]);
	return 0;
}

SD_BUCKET_STEPS("raw_tp", sd_raw)

/* ---- BTF tracepoints: like raw_tp, but pt_regs is read directly (no probe_read) ---------- */
SEC("tp_btf/sys_enter")
int sd_btf_enter(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	__u64 arg = 0, args[SD_KEY_PARTS];

	if (cfg.key_source <= SD_KEY_ARG5)
		arg = *SD_SYSCALL_ARG_PTR(regs, cfg.key_source);
	SD_PART_ARGS(args, 0, case 0: arg = *SD_SYSCALL_ARG_PTR(regs, cfg.part[i].source);)
	sd_enter_any_syscall(sd_current(), ctx[1], arg, args);
	return 0;
}

SEC("tp_btf/sys_exit")
int sd_btf_exit(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];

	sd_exit_and_count(ctx, SD_NR_GIVEN, *SD_SYSCALL_NR_PTR(regs), NULL, (long)ctx[1]);
	return 0;
}

SD_BUCKET_STEPS("tp_btf/sys_exit", sd_btf)

/* ---- kernel functions: fentry/fexit (attach target set by user space) ------------------- */
/* A kernel function's argument as its type has it: 1, 2 or 4 bytes are the lower bits of their
 * register or context slot only. */
static __always_inline __u64 sd_function_argument(__u64 value, __u32 bytes)
{
	switch (bytes) {
	case 1:
		return (__u8)value;
	case 2:
		return (__u16)value;
	case 4:
		return (__u32)value;
	default:
		return value;
	}
}

/* A kernel function's return value as a long: a 32-bit int's register holds it in its lower
 * half only. */
static __always_inline long sd_function_result(__u64 ret)
{
	return cfg.func_returns_int32 ? (long)(int)ret : (long)ret;
}

/* fentry's context is the function's arguments: one load at a constant index (the verifier
 * checks it against the function's prototype; bpf_get_func_arg would need Linux 5.17). */
#define SD_FENTRY_ARG(i)                                                               \
	case i:                                                                        \
		arg = ctx[i];                                                          \
		asm volatile("" : "+r"(arg));                                          \
		break;

#define SD_FENTRY_ARGS                                                                 \
	SD_FENTRY_ARG(0) SD_FENTRY_ARG(1) SD_FENTRY_ARG(2) SD_FENTRY_ARG(3) SD_FENTRY_ARG(4)  \
	SD_FENTRY_ARG(5) SD_FENTRY_ARG(6) SD_FENTRY_ARG(7) SD_FENTRY_ARG(8) SD_FENTRY_ARG(9)  \
	SD_FENTRY_ARG(10)

SEC("fentry")
int sd_fentry_enter(__u64 *ctx)
{
	struct task_struct *task = sd_current();
	__u64 arg = 0, args[SD_KEY_PARTS];

	if (cfg.target == SD_TARGET_SYSCALL) {
		/* the syscall's wrapper (__x64_sys_NAME) takes the user's registers */
		struct pt_regs *regs = (struct pt_regs *)ctx[0];

		SD_PART_ARGS(args, 0, SD_RAW_PART_ARG)
		sd_enter(task, cfg.syscall_nr, sd_entry_key(cfg.syscall_nr, sd_raw_arg(regs, cfg.key_source)), args);
		return 0;
	}
	if (cfg.key_source <= SD_KEY_ARG5) {
		switch (cfg.func_key_slot) {
		SD_FENTRY_ARGS
		}
	}
	SD_PART_ARGS(args, cfg.part[i].func_slot, SD_FENTRY_ARGS)
#pragma clang loop unroll(full)
	for (int i = 0; i < SD_KEY_PARTS; i++)
		args[i] = sd_function_argument(args[i], cfg.part[i].func_bytes);
	sd_enter(task, 0, sd_function_argument(arg, cfg.func_key_bytes), args);
	return 0;
}

/* fexit's context: the arguments, then the return value (bpf_get_func_ret needs Linux 5.17).
 * A constant index again: the verifier refuses a moved context pointer. */
#define SD_FEXIT_RET(i)                                                                \
	case i:                                                                        \
		ret = ctx[i];                                                          \
		asm volatile("" : "+r"(ret));                                          \
		break;

SEC("fexit")
int sd_fentry_exit(__u64 *ctx)
{
	__u64 ret = 0;

	switch (cfg.func_return_slot) {
	SD_FEXIT_RET(0) SD_FEXIT_RET(1) SD_FEXIT_RET(2) SD_FEXIT_RET(3) SD_FEXIT_RET(4)
	SD_FEXIT_RET(5) SD_FEXIT_RET(6) SD_FEXIT_RET(7) SD_FEXIT_RET(8) SD_FEXIT_RET(9)
	SD_FEXIT_RET(10) SD_FEXIT_RET(11) SD_FEXIT_RET(12)
	}
	sd_exit_and_count(ctx, SD_NR_UNKNOWN, 0, NULL, sd_function_result(ret));
	return 0;
}

SD_BUCKET_STEPS("fexit", sd_fentry)

/* ---- kernel functions: kprobe/kretprobe, where fentry is missing ------------------------- */
#define SD_KPROBE_ARG(i)                                                               \
	case i:                                                                        \
		arg = SD_FUNC_ARG(ctx, i);                                             \
		asm volatile("" : "+r"(arg));                                          \
		break;
#define SD_KPROBE_ARGS                                                                 \
	SD_KPROBE_ARG(0) SD_KPROBE_ARG(1) SD_KPROBE_ARG(2) SD_KPROBE_ARG(3) SD_KPROBE_ARG(4)  \
	SD_KPROBE_ARG(5)

SEC("kprobe")
int sd_kprobe_enter(struct pt_regs *ctx)
{
	__u64 arg = 0, args[SD_KEY_PARTS];

	/* ctx is pt_regs: constant offsets only, as for tracepoints; the register of the key's
	 * argument (a struct argument of up to 16 bytes takes two) */
	if (cfg.key_source <= SD_KEY_ARG5) {
		switch (cfg.func_key_slot) {
		SD_KPROBE_ARGS
		}
	}
	SD_PART_ARGS(args, cfg.part[i].func_slot, SD_KPROBE_ARGS)
#pragma clang loop unroll(full)
	for (int i = 0; i < SD_KEY_PARTS; i++)
		args[i] = sd_function_argument(args[i], cfg.part[i].func_bytes);
	sd_enter(sd_current(), 0, sd_function_argument(arg, cfg.func_key_bytes), args);
	return 0;
}

SEC("kretprobe")
int sd_kprobe_exit(struct pt_regs *ctx)
{
	sd_exit_and_count(ctx, SD_NR_UNKNOWN, 0, NULL, sd_function_result(SD_FUNC_RET(ctx)));
	return 0;
}

SD_BUCKET_STEPS("kprobe", sd_kprobe)

char LICENSE[] SEC("license") = "GPL";
