/* SPDX-License-Identifier: GPL-2.0 */
/* The settings and every map of the program but `starts` (sd_task.bpf.h). Sizes marked "set before
 * load" come from user space (Sources/BPF/Tracer); maps a profile does not use are left at one entry. */
#ifndef SD_MAPS_BPF_H
#define SD_MAPS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "syscalldist.h"

const volatile struct sd_settings cfg = {};

/* Which half of the double-buffered histograms the exits write: user space flips it, waits for
 * an RCU grace period (every program that read the old value has then returned), and reads and
 * empties the old half, which nothing writes any more. A deleted hash element may be reused at
 * once, so this is what keeps an increment in flight from landing in another key. */
volatile __u32 sd_generation;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sd_cpu);
} cpu_state SEC(".maps");

/* Dense histograms: per generation, one element per key with its bucket counters and then
 * SD_SERIES_EXTRA_WORDS. One element per series keeps map creation fast and costs one inlined
 * lookup per call. Per-CPU (no atomics) while every CPU's copy fits the budget; past it, user
 * space makes it a plain array whose series every CPU shares (cfg.shared_series). No BTF value
 * type, so user space can size the value. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); /* or BPF_MAP_TYPE_ARRAY, set before load */
	__uint(max_entries, 1); /* 2 x keys, set before load */
	__uint(key_size, 4);
	__uint(value_size, 8); /* (bucket_slots + SD_SERIES_EXTRA_WORDS) * 8, set before load */
} counts SEC(".maps");

/* Sparse histograms, one hash per generation, for keys with no small bound (pids, comms, raw
 * values). Preallocated: hashes that allocate at run time are unsafe in tracing programs before
 * Linux 6.1 (the kernel warns). */
#define SD_SPARSE_MAP(name)                                                            \
	struct {                                                                       \
		__uint(type, BPF_MAP_TYPE_HASH);                                       \
		__uint(max_entries, 1); /* from a memory budget, set before load */   \
		__uint(key_size, sizeof(struct sd_series_key)); /* set before load */ \
		__uint(value_size, 8);  /* as `counts`, set before load */            \
	} name SEC(".maps")
SD_SPARSE_MAP(sparse_0);
SD_SPARSE_MAP(sparse_1);

/* What a new sparse series starts from: zeros, as many as a series has words. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, 4);
	__uint(value_size, 8); /* as `counts`, set before load */
} zeros SEC(".maps");

/* Failed calls per (key, errno), one hash per generation. */
#define SD_ERRORS_MAP(name)                                                            \
	struct {                                                                       \
		__uint(type, BPF_MAP_TYPE_HASH);                                       \
		__uint(max_entries, 1); /* set before load */                          \
		__uint(key_size, sizeof(struct sd_error_key)); /* set before load */  \
		__uint(value_size, 8);                                                 \
	} name SEC(".maps")
SD_ERRORS_MAP(errors_0);
SD_ERRORS_MAP(errors_1);

/* Shared (not per-CPU): the threads in the call at once, across CPUs. Only with --concurrency. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* dense key count when per key, set before load */
	__type(key, __u32);
	__type(value, struct sd_concurrency);
} concurrency SEC(".maps");

/* --cgroup: the cgroup whose tasks (and its descendants') are traced, at index 0. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} cgroup_filter SEC(".maps");

/* Slow calls, one `struct sd_slow_call` each: a full buffer drops the record (counted), never
 * blocks the traced thread. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096); /* bytes, a power of two of pages, set before load */
} slow_calls SEC(".maps");

/* Stacks of slow calls (--stacks) and of wait sites (--off-cpu). An id stays the same stack for the whole run: a different
 * stack that hashes to a taken slot is lost (-EEXIST), never put in its place. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1); /* set before load */
	__uint(key_size, 4);
	__uint(value_size, 127 * 8); /* PERF_MAX_STACK_DEPTH frames */
} stacks SEC(".maps");

/* --off-cpu: blocked time by call key and wait site, summed since the start (never emptied:
 * user space takes the difference; a full map loses the new sites, counted). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1); /* set before load */
	__type(key, struct sd_wait_key);
	__type(value, struct sd_wait);
} wait_sites SEC(".maps");

/* Exponential buckets: the largest latency in ns each slot holds (slot 0, the zero bucket: 0),
 * filled by user space after load from the same rule Prometheus and OpenTelemetry bucket by.
 * One copy for every key and CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* the layout's slots, set before load */
	__type(key, __u32);
	__type(value, __u64);
} exp_upper SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SD_BUCKET_KINDS);
	__type(key, __u32);
	__type(value, __u32);
} bucket_steps SEC(".maps");

static __always_inline struct sd_cpu *sd_cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&cpu_state, &zero);
}

static __always_inline void sd_stat(struct sd_cpu *cpu, enum sd_stat which)
{
	cpu->stats[which] += 1;
}

/* Adds to a word other CPUs add to. Relaxed with the result unused, clang emits the plain
 * locked add (BPF_XADD), which Linux 5.10 knows; __sync_fetch_and_add is a fetch-add under
 * -mcpu=v3, whose whole object 5.10's verifier refuses. */
static __always_inline void sd_add(__u64 *word, __u64 value)
{
	__atomic_fetch_add(word, value, __ATOMIC_RELAXED);
}

#ifndef SD_COMPAT
/* Raises a word other CPUs may raise too to at least `value` (BPF has no atomic max). A failed
 * compare-and-swap means another CPU changed the word; past SD_RAISE_TRIES of them the raise is
 * given up and counted, so that a low figure is never silent. */
static __always_inline void sd_raise(struct sd_cpu *cpu, __u64 *word, __u64 value)
{
	__u64 seen = *(volatile __u64 *)word;

	for (int i = 0; i < SD_RAISE_TRIES; i++) {
		__u64 previous;

		if (value <= seen)
			return;
		previous = __sync_val_compare_and_swap(word, seen, value);
		if (previous == seen)
			return;
		seen = previous;
	}
	if (value > seen)
		sd_stat(cpu, SD_STAT_EXTREME_LOST);
}
#endif

#endif
