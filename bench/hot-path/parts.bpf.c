// SPDX-License-Identifier: GPL-2.0
/* bench/hot-path.sh: the parts of a syscall latency histogram, each a pair of programs, so that
 * what a tracer costs above the shared floors (../shared/bench/floor) can be split into what any
 * tracer of its kind must pay. The raw_tp pairs are on every syscall, as `syscalldist` runs;
 * `lat_ts` is the shared floor_lat (bpf() per command) with its start kept in task storage, the
 * way bpfsyscalldist keeps it, instead of an array indexed by thread id (which must be sized for
 * pid_max: 64 MiB at systemd's 4194304, and is found again by the next thread of the same id). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct start { __u64 ts, key; };
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct start);
} starts SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 64 * 64); /* key x log2 slot */
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

static __always_inline __u32 log2l(__u64 v) /* the floor's own */
{
	__u32 r = 0, s;
	s = (v > 0xFFFFFFFF) << 5; v >>= s; r = s;
	s = (v > 0xFFFF) << 4; v >>= s; r |= s;
	s = (v > 0xFF) << 3; v >>= s; r |= s;
	s = (v > 0xF) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	return r | (v >> 1);
}

static __always_inline __u64 *slot(__u32 index)
{
	return bpf_map_lookup_elem(&hist, &index);
}

/* empty: what the raw_tp hook itself costs */
SEC("raw_tp/sys_enter") int empty_enter(void *ctx) { return 0; }
SEC("raw_tp/sys_exit") int empty_exit(void *ctx) { return 0; }

/* clock: one clock read at each end, kept in a per-CPU word */
SEC("raw_tp/sys_enter") int clock_enter(void *ctx)
{
	__u64 *c = slot(0);

	if (c)
		*c = bpf_ktime_get_ns();
	return 0;
}
SEC("raw_tp/sys_exit") int clock_exit(void *ctx)
{
	__u64 *c = slot(1);

	if (c)
		*c = bpf_ktime_get_ns();
	return 0;
}

/* storage: the current task's storage at each end (created at entry), no clock */
SEC("raw_tp/sys_enter") int storage_enter(void *ctx)
{
	struct start *s = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), 0,
					       BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (s)
		s->key++;
	return 0;
}
SEC("raw_tp/sys_exit") int storage_exit(void *ctx)
{
	struct start *s = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), 0, 0);

	if (s)
		s->key--;
	return 0;
}

/* The least a latency histogram with its start in task storage does at each end. */
static __always_inline void start_call(__u64 key)
{
	struct start *s = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), 0,
					       BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (s) {
		s->key = key;
		s->ts = bpf_ktime_get_ns();
	}
}

static __always_inline void finish_call(void)
{
	struct start *s = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), 0, 0);
	__u64 *c;

	if (!s || !s->ts)
		return;
	c = slot((__u32)(s->key & 63) * 64 + log2l((bpf_ktime_get_ns() - s->ts) / 1000));
	s->ts = 0;
	if (c)
		*c += 1;
}

/* raw_lat: both, and a log2 histogram by syscall: the least a task-storage all-syscalls
 * histogram does */
SEC("raw_tp/sys_enter") int raw_lat_enter(__u64 *ctx) { start_call(ctx[1]); return 0; }
SEC("raw_tp/sys_exit") int raw_lat_exit(void *ctx) { finish_call(); return 0; }

/* lat_ts: floor_lat, its start in task storage */
struct enter_ctx { __u64 common; int nr; int pad; unsigned long args[6]; };
SEC("tracepoint/syscalls/sys_enter_bpf")
int lat_ts_enter(struct enter_ctx *ctx) { start_call(ctx->args[0]); return 0; }
SEC("tracepoint/syscalls/sys_exit_bpf") int lat_ts_exit(void *ctx) { finish_call(); return 0; }

/* sched_empty: an empty program on each scheduler hook --off-cpu loads (bench/switch-cost.sh), what
 * the hook itself and bpf_stats' own clock reads cost per switch, wakeup and lock wait */
SEC("tp_btf/sched_switch") int sched_empty_switch(void *ctx) { return 0; }
SEC("tp_btf/sched_wakeup") int sched_empty_wakeup(void *ctx) { return 0; }
SEC("tp_btf/contention_begin") int sched_empty_lock_begin(void *ctx) { return 0; }
SEC("tp_btf/contention_end") int sched_empty_lock_end(void *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
