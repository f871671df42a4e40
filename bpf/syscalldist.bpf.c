// SPDX-License-Identifier: GPL-2.0
/* The one generic program behind every profile. User space writes `cfg` before load, keeps only
 * the programs of the probe method it picked (autoload), and fills `bucket_steps` with that
 * method's bucket steps. Entry handlers record a per-thread start; exit handlers compute the
 * latency and key and tail-call the step for the profile's bucket kind. A profile only selects
 * among these paths: it can never make the kernel run new code. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "syscalldist.h"
#include "syscalldist.bpf.h"

const volatile struct sd_settings cfg = {};

/* Per-thread starts indexed by tid; sized from pid_max, so it cannot fill up, and array lookups
 * are inlined by the JIT (no helper call). A thread killed mid-call leaves a slot that the next
 * thread with its tid overwrites. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set to pid_max before load */
	__type(key, __u32);
	__type(value, struct sd_start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sd_event);
} scratch SEC(".maps");

/* Dense histograms: one element per key holding its bucket_slots
 * counters and then its latency sum in ns. One element per series (not per slot) keeps map
 * creation fast (the kernel allocates each per-CPU element apart) and costs one lookup per call.
 * Per-CPU: no atomics. No BTF value type, so user space can size the value before load. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);  /* keys, set before load */
	__uint(key_size, 4);
	__uint(value_size, 8);   /* (bucket_slots + 1) * 8, set before load */
} counts SEC(".maps");

/* Sparse histograms, for keys with no small bound (pids, comms, raw values). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1); /* set before load */
	__type(key, struct sd_sparse_key);
	__type(value, __u64);
} sparse SEC(".maps");

/* Shared (not per-CPU): the threads in the call at once, across CPUs. Only with --concurrency. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* dense key count when per key, set before load */
	__type(key, __u32);
	__type(value, struct sd_concurrency);
} concurrency SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sd_error_key);
	__type(value, __u64);
} errors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SD_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SD_BUCKET_KINDS);
	__type(key, __u32);
	__type(value, __u32);
} bucket_steps SEC(".maps");

static __always_inline void sd_stat(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &which);

	if (v)
		*v += 1;
}

/* Filters that can be decided before the call: the verifier drops the ones left at zero. */
static __always_inline int sd_wanted(__u64 pid_tgid)
{
	__u32 tgid = pid_tgid >> 32, tid = (__u32)pid_tgid;

	if (cfg.self_tgid && tgid == cfg.self_tgid)
		return 0;
	if (cfg.filter_tgid && tgid != cfg.filter_tgid)
		return 0;
	if (cfg.filter_tid && tid != cfg.filter_tid)
		return 0;
	if (cfg.filter_cgroup && bpf_get_current_cgroup_id() != cfg.filter_cgroup)
		return 0;
	if (cfg.filter_comm_set) {
		__u64 comm[2] = {};

		bpf_get_current_comm(comm, sizeof(comm));
		if (comm[0] != cfg.filter_comm[0] || comm[1] != cfg.filter_comm[1])
			return 0;
	}
	return 1;
}

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

static __always_inline void sd_concurrency_enter(__u64 entry_key)
{
	struct sd_concurrency *c = sd_concurrency_of(entry_key);
	__u64 now, seen;

	if (!c)
		return;
	now = __sync_fetch_and_add(&c->now, 1) + 1;
	seen = c->max;
	for (int i = 0; i < 4 && now > seen; i++) { /* a bounded compare-and-swap for the max */
		__u64 previous = __sync_val_compare_and_swap(&c->max, seen, now);

		if (previous == seen)
			break;
		seen = previous;
	}
}

static __always_inline void sd_enter(__u64 key)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct sd_start *s;

	if (!sd_wanted(pid_tgid))
		return;
	s = bpf_map_lookup_elem(&starts, &tid);
	if (!s)
		return;
	s->key = key;
	s->ts = bpf_ktime_get_ns();
	if (cfg.track_concurrency)
		sd_concurrency_enter(key);
}

/* ---- bucket steps: the tail-call targets ------------------------------------------------- */

/* Adds `value` to a counter in a per-CPU hash, creating it on first use. */
static __always_inline void sd_hash_add(void *map, void *k, __u64 value)
{
	__u64 *v = bpf_map_lookup_elem(map, k);

	if (v) {
		*v += value;
		return;
	}
	if (bpf_map_update_elem(map, k, &value, BPF_NOEXIST) == 0)
		return;
	v = bpf_map_lookup_elem(map, k); /* another CPU inserted it first */
	if (v)
		*v += value;
	else
		sd_stat(SD_STAT_MAP_FULL);
}

static __always_inline void sd_count(__u32 slot)
{
	__u32 zero = 0, series;
	struct sd_event *e = bpf_map_lookup_elem(&scratch, &zero);
	__u64 *v;

	if (!e)
		return;
	if (cfg.storage == SD_STORAGE_DENSE && e->key[0] >= cfg.key_count) {
		sd_stat(SD_STAT_KEY_RANGE);
		return;
	}
	/* with split outcomes the errno is already the sparse key's outcome: count it once */
	if (e->err && !cfg.split_outcome) {
		struct sd_error_key ek = { .key = { e->key[0], e->key[1] }, .err = e->err };

		sd_hash_add(&errors, &ek, 1);
	}
	if (slot >= cfg.bucket_slots)
		slot = cfg.bucket_slots - 1;
	if (cfg.storage == SD_STORAGE_DENSE) {
		series = (__u32)e->key[0];
		v = bpf_map_lookup_elem(&counts, &series);
		if (v) {
			v[slot] += 1; /* slot < bucket_slots, the value holds bucket_slots + 1 */
			v[cfg.bucket_slots] += e->ns;
		}
		return;
	}
	struct sd_sparse_key k = {
		.key = { e->key[0], e->key[1] },
		.slot = slot,
		.outcome = cfg.split_outcome ? e->err : 0,
	};

	sd_hash_add(&sparse, &k, 1);
	k.slot = SD_SUM_SLOT;
	sd_hash_add(&sparse, &k, e->ns);
}

static __always_inline void sd_step_log2(void)
{
	__u32 zero = 0;
	struct sd_event *e = bpf_map_lookup_elem(&scratch, &zero);

	if (e)
		sd_count(sd_log2l(e->latency));
}

static __always_inline void sd_step_linear(void)
{
	__u32 zero = 0;
	struct sd_event *e = bpf_map_lookup_elem(&scratch, &zero);
	__u64 lat;

	if (!e)
		return;
	lat = e->latency;
	if (lat < cfg.linear_min)
		sd_count(0);
	else
		sd_count(1 + (lat - cfg.linear_min) / cfg.linear_step);
}

static __always_inline void sd_step_log2_linear(void)
{
	__u32 zero = 0, bits = cfg.sub_bucket_bits, sub = 1u << bits, exp;
	struct sd_event *e = bpf_map_lookup_elem(&scratch, &zero);
	__u64 lat;

	if (!e)
		return;
	lat = e->latency;
	if (lat < sub) {
		sd_count(lat);
		return;
	}
	exp = sd_log2l(lat);
	sd_count(sub * (exp - bits + 1) + ((lat >> (exp - bits)) - sub));
}

static __always_inline void sd_exit(void *ctx, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid, zero = 0;
	struct sd_start *s;
	struct sd_event *e;
	__u64 delta;

	s = bpf_map_lookup_elem(&starts, &tid);
	if (!s || !s->ts)
		return;
	delta = bpf_ktime_get_ns() - s->ts;
	s->ts = 0;
	if (cfg.track_concurrency) {
		struct sd_concurrency *c = sd_concurrency_of(s->key);

		if (c)
			__sync_fetch_and_add(&c->now, -1);
	}
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return;
	e->ns = delta;
	e->latency = cfg.unit_ns > 1 ? delta / cfg.unit_ns : delta;
	e->err = ret < 0 && ret >= -4095 ? -ret : 0; /* MAX_ERRNO: other negatives are values */
	e->key[1] = 0;
	switch (cfg.key_source) {
	case SD_KEY_RETVAL:
		e->key[0] = ret;
		break;
	case SD_KEY_ERRNO:
		e->key[0] = ret < 0 ? -ret : 0;
		break;
	case SD_KEY_PID:
		e->key[0] = pid_tgid >> 32;
		break;
	case SD_KEY_TID:
		e->key[0] = tid;
		break;
	case SD_KEY_NONE:
		e->key[0] = 0;
		break;
	case SD_KEY_COMM:
		bpf_get_current_comm(e->key, sizeof(e->key));
		break;
	default: /* arguments and the syscall number were captured at entry */
		e->key[0] = s->key;
	}
#ifdef SD_STRAIGHT_LINE
	/* bench/program-cost.sh only: the step inline, to price the tail call */
	if (cfg.bucket_kind == SD_BUCKET_LOG2)
		sd_step_log2();
	else if (cfg.bucket_kind == SD_BUCKET_LINEAR)
		sd_step_linear();
	else
		sd_step_log2_linear();
#else
	bpf_tail_call(ctx, &bucket_steps, cfg.bucket_kind);
	sd_stat(SD_STAT_DISPATCH);
#endif
}

/* One set of steps per program type: a PROG_ARRAY only holds programs of its caller's type. */
#define SD_BUCKET_STEPS(sec, prefix)                                                   \
	SEC(sec) int prefix##_log2(void *ctx) { sd_step_log2(); return 0; }            \
	SEC(sec) int prefix##_linear(void *ctx) { sd_step_linear(); return 0; }        \
	SEC(sec) int prefix##_log2lin(void *ctx) { sd_step_log2_linear(); return 0; }

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

static __always_inline int sd_syscall_skipped(long nr)
{
	return cfg.target == SD_TARGET_SYSCALL && nr != cfg.syscall_nr;
}

static __always_inline __u64 sd_entry_key(long nr, __u64 arg)
{
	return cfg.key_source == SD_KEY_SYSCALL ? (__u64)nr : arg;
}

/* One load per argument at a constant offset: the verifier refuses a moved ctx pointer, and
 * the empty asm keeps clang from merging the six loads into one with a computed address. */
#define SD_TP_ARG(i)                                                                   \
	case i:                                                                        \
		arg = ctx->args[i];                                                    \
		asm volatile("" : "+r"(arg));                                          \
		break;

SEC("tracepoint")
int sd_tp_enter(struct sd_tp_enter_ctx *ctx)
{
	__u64 arg = 0;

	if (sd_syscall_skipped(ctx->nr))
		return 0;
	/* The kernel refuses (EACCES) to attach a program that reads past the event's record,
	 * and a syscall without arguments has none: read one only when the key is one. */
	switch (cfg.key_source) {
	SD_TP_ARG(0) SD_TP_ARG(1) SD_TP_ARG(2) SD_TP_ARG(3) SD_TP_ARG(4) SD_TP_ARG(5)
	}
	sd_enter(sd_entry_key(ctx->nr, arg));
	return 0;
}

SEC("tracepoint")
int sd_tp_exit(struct sd_tp_exit_ctx *ctx)
{
	if (sd_syscall_skipped(ctx->nr))
		return 0;
	sd_exit(ctx, ctx->ret);
	return 0;
}

SD_BUCKET_STEPS("tracepoint", sd_tp)

/* ---- raw tracepoints sys_enter/sys_exit: no tracefs needed; every syscall runs them ----- */
static __always_inline __u64 sd_raw_arg(struct pt_regs *regs)
{
	unsigned long v = 0;

	if (cfg.key_source <= SD_KEY_ARG5)
		bpf_probe_read_kernel(&v, sizeof(v), SD_SYSCALL_ARG_PTR(regs, cfg.key_source));
	return v;
}

SEC("raw_tp")
int sd_raw_enter(__u64 *ctx)
{
	long nr = ctx[1];

	if (sd_syscall_skipped(nr))
		return 0;
	sd_enter(sd_entry_key(nr, sd_raw_arg((struct pt_regs *)ctx[0])));
	return 0;
}

SEC("raw_tp")
int sd_raw_exit(__u64 *ctx)
{
	/* sys_exit carries no syscall number: only threads with a recorded start go further */
	sd_exit(ctx, (long)ctx[1]);
	return 0;
}

SD_BUCKET_STEPS("raw_tp", sd_raw)

/* ---- BTF tracepoints: like raw_tp, but pt_regs is read directly (no probe_read) ---------- */
SEC("tp_btf/sys_enter")
int sd_btf_enter(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	long nr = ctx[1];
	__u64 arg = 0;

	if (sd_syscall_skipped(nr))
		return 0;
	if (cfg.key_source <= SD_KEY_ARG5)
		arg = *SD_SYSCALL_ARG_PTR(regs, cfg.key_source);
	sd_enter(sd_entry_key(nr, arg));
	return 0;
}

SEC("tp_btf/sys_exit")
int sd_btf_exit(__u64 *ctx)
{
	sd_exit(ctx, (long)ctx[1]);
	return 0;
}

SD_BUCKET_STEPS("tp_btf/sys_exit", sd_btf)

/* ---- kernel functions: fentry/fexit (attach target set by user space) ------------------- */
SEC("fentry")
int sd_fentry(__u64 *ctx)
{
	__u64 arg = 0;

	if (cfg.target == SD_TARGET_SYSCALL) {
		/* the syscall's wrapper (__x64_sys_NAME) takes the user's registers */
		struct pt_regs *regs = (struct pt_regs *)ctx[0];

		if (cfg.key_source <= SD_KEY_ARG5)
			bpf_probe_read_kernel(&arg, sizeof(arg), SD_SYSCALL_ARG_PTR(regs, cfg.key_source));
		sd_enter(sd_entry_key(cfg.syscall_nr, arg));
		return 0;
	}
	if (cfg.key_source <= SD_KEY_ARG5)
		bpf_get_func_arg(ctx, cfg.key_source, &arg);
	sd_enter(arg);
	return 0;
}

SEC("fexit")
int sd_fexit(__u64 *ctx)
{
	__u64 ret = 0;

	bpf_get_func_ret(ctx, &ret);
	sd_exit(ctx, (long)ret);
	return 0;
}

SD_BUCKET_STEPS("fexit", sd_fexit)

/* ---- kernel functions: kprobe/kretprobe, where fentry is missing ------------------------- */
#define SD_KPROBE_ARG(i)                                                               \
	case i:                                                                        \
		arg = SD_FUNC_ARG(ctx, i);                                             \
		asm volatile("" : "+r"(arg));                                          \
		break;

SEC("kprobe")
int sd_kprobe(struct pt_regs *ctx)
{
	__u64 arg = 0;

	switch (cfg.key_source) { /* ctx is pt_regs: constant offsets only, as for tracepoints */
	SD_KPROBE_ARG(0) SD_KPROBE_ARG(1) SD_KPROBE_ARG(2) SD_KPROBE_ARG(3) SD_KPROBE_ARG(4)
	SD_KPROBE_ARG(5)
	}
	sd_enter(arg);
	return 0;
}

SEC("kretprobe")
int sd_kretprobe(struct pt_regs *ctx)
{
	sd_exit(ctx, (long)SD_FUNC_RET(ctx));
	return 0;
}

SD_BUCKET_STEPS("kprobe", sd_kprobe)

char LICENSE[] SEC("license") = "GPL";
