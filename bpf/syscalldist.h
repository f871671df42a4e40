/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between syscalldist.bpf.c and Swift (module CSyscallDist): only __u32/__u64, like
 * libbpf-tools' *.h beside *.bpf.c. User space fills `struct sd_settings` into .rodata before
 * load; the verifier then prunes every path the profile did not pick. */
#ifndef SYSCALLDIST_H
#define SYSCALLDIST_H

#include <linux/types.h>

/* What the program measures: one syscall, every syscall, or one kernel function. */
#define SD_TARGET_SYSCALL 0
#define SD_TARGET_ALL_SYSCALLS 1
#define SD_TARGET_KERNEL_FUNCTION 2

/* Where the histogram key comes from. ARG0..ARG5 are 0..5 on purpose. */
#define SD_KEY_ARG0 0
#define SD_KEY_ARG5 5
#define SD_KEY_SYSCALL 6
#define SD_KEY_RETVAL 7
#define SD_KEY_ERRNO 8 /* 0 on success, else -retval */
#define SD_KEY_PID 9   /* thread-group id, what users call the pid */
#define SD_KEY_TID 10
#define SD_KEY_NONE 11
#define SD_KEY_COMM 12 /* sparse only: the task's comm, 16 bytes */

/* Bucket kinds: also the tail-call index into `bucket_steps`. */
#define SD_BUCKET_LOG2 0
#define SD_BUCKET_LINEAR 1
#define SD_BUCKET_LOG2_LINEAR 2
#define SD_BUCKET_KINDS 3

/* Keys below key_count go to the dense per-CPU array; sparse keys (pids, raw values) to a hash. */
#define SD_STORAGE_DENSE 0
#define SD_STORAGE_SPARSE 1

#define SD_LOG2_SLOTS 64
#define SD_MAX_BUCKET_SLOTS 1024

/* Per-CPU counters in the `stats` map, so a user knows when numbers are incomplete. Calls that
 * were counted need no counter: they are the histograms' sums. */
#define SD_STAT_KEY_RANGE 0 /* key >= key_count: not counted (dense storage) */
#define SD_STAT_MAP_FULL 1  /* sparse hash full: not counted */
#define SD_STAT_DISPATCH 2  /* tail call failed: bucket step missing */
#define SD_STAT_COUNT 3

struct sd_settings {
	__u32 target;      /* SD_TARGET_* */
	__u32 syscall_nr;  /* SD_TARGET_SYSCALL on raw hooks: the one to keep */
	__u32 key_source;  /* SD_KEY_* */
	__u32 storage;     /* SD_STORAGE_* */
	__u32 key_count;   /* dense: keys 0..key_count-1 */
	__u32 bucket_kind; /* SD_BUCKET_* */
	__u32 bucket_slots;
	__u32 sub_bucket_bits; /* log2-linear: 2^bits sub-buckets per power of two */
	__u64 unit_ns;         /* latency is divided by this before bucketing */
	__u64 linear_min;      /* in units */
	__u64 linear_step;     /* in units, > 0 */
	__u32 split_outcome;   /* histogram per (key, ok / errno): sparse storage only */
	__u32 filter_tgid;     /* 0: any process */
	__u32 filter_tid;      /* 0: any thread */
	__u32 self_tgid;       /* never count the tool's own calls */
	__u64 filter_cgroup;   /* cgroup v2 id, 0: any */
	__u64 filter_comm[2];  /* task comm, 16 bytes, zero: any */
	__u32 filter_comm_set;
	__u32 track_concurrency;   /* count the calls in flight, keep the most at once */
	__u32 concurrency_per_key; /* per dense key known at entry, else one for the probe */
	__u32 pad;
};

/* A per-thread start, indexed by tid in the `starts` array. */
struct sd_start {
	__u64 ts;  /* 0: no call in flight */
	__u64 key; /* argument or syscall number captured at entry (arguments are gone by exit) */
};

/* Handed from the exit handler to the bucket step through per-CPU `scratch`. */
struct sd_event {
	__u64 latency; /* in units */
	__u64 ns;      /* the same latency in nanoseconds, for the exact sum */
	__u64 key[2];  /* key[1] is only used by comm */
	__u64 err;     /* -retval when it failed, else 0 */
};

/* Each series keeps bucket_slots counters, then the sum of its latencies in ns at this slot. In
 * the sparse hash the sum sits under slot SD_SUM_SLOT. */
#define SD_SUM_SLOT 0xffffffff

/* Threads inside the traced call: now, and the most there were at once. */
struct sd_concurrency {
	__u64 now;
	__u64 max;
};

/* Failed calls per (key, errno), in the `errors` hash: only failing calls touch it. */
struct sd_error_key {
	__u64 key[2];
	__u32 err;
	__u32 pad;
};

/* Sparse storage key: one count per (key, outcome, slot); the outcome is the errno (0: ok)
 * with split_outcome, else 0. */
struct sd_sparse_key {
	__u64 key[2];
	__u32 slot;
	__u32 outcome;
};

#endif
