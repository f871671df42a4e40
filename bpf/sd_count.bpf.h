/* SPDX-License-Identifier: GPL-2.0 */
/* Counting one finished call: the bucket steps (the tail-call targets, one per bucket kind) and
 * the series they add to. */
#ifndef SD_COUNT_BPF_H
#define SD_COUNT_BPF_H

#include <linux/bpf.h>
#include <asm-generic/errno-base.h>
#include <bpf/bpf_helpers.h>
#include "syscalldist.h"
#include "sd_bits.bpf.h"
#include "sd_key.bpf.h"
#include "sd_maps.bpf.h"

/* Adds a latency to a series: its bucket, the sum, the largest and the smallest, and with
 * `split` (a constant: the steps for --off-cpu are programs of their own, so that the others
 * run not one instruction more) the time blocked and waiting for a CPU. A series every CPU
 * shares is added to with atomics. */
static __always_inline void sd_record(struct sd_cpu *cpu, __u64 *v, __u64 slot, __u64 ns, const int split)
{
	__u32 n = cfg.bucket_slots;

#ifndef SD_COMPAT
	if (cfg.shared_series) {
		sd_add(&v[slot], 1);
		sd_add(&v[n], ns);
		sd_raise(cpu, &v[n + 1], ns);
		sd_raise(cpu, &v[n + 2], ~ns);
		if (split) {
			sd_add(&v[n + SD_SERIES_EXTRA_WORDS], cpu->event.blocked_ns);
			sd_add(&v[n + SD_SERIES_EXTRA_WORDS + 1], cpu->event.runnable_ns);
		}
		return;
	}
#endif
	if (split) { /* the value holds SD_SPLIT_WORDS more */
		v[n + SD_SERIES_EXTRA_WORDS] += cpu->event.blocked_ns;
		v[n + SD_SERIES_EXTRA_WORDS + 1] += cpu->event.runnable_ns;
	}
	if (ns > v[n + 1])
		v[n + 1] = ns;
	if (~ns > v[n + 2]) /* the smallest, inverted: 0 is "none yet" */
		v[n + 2] = ~ns;
	v[n] += ns;
	v[slot] += 1; /* slot < bucket_slots: the value holds bucket_slots + 3 words */
}

/* The dense series of a key in this generation, or NULL (counted as out of range). */
static __always_inline __u64 *sd_dense_series(struct sd_cpu *cpu, __u32 gen)
{
	__u64 key = cpu->event.key[0];
	__u32 index;

	if (key >= cfg.key_count) {
		sd_stat(cpu, SD_STAT_KEY_RANGE);
		return NULL;
	}
	index = gen * cfg.key_count + (__u32)key;
	return bpf_map_lookup_elem(&counts, &index);
}

/* The value of a key in one of a generation's hashes, created from `init` on first use; NULL
 * when it cannot be had: the hash is full, or (*busy) the bucket's lock is held by a BPF program
 * this one interrupted on the CPU. Two CPUs inserting the same key: the second gets -EEXIST
 * (not busy) and its lookup finds the first one's element. */
static __always_inline void *sd_hash_value(void *map, void *key, void *init, int *busy)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	*busy = bpf_map_update_elem(map, key, init, BPF_NOEXIST) == -EBUSY;
	return bpf_map_lookup_elem(map, key);
}

/* The event's key words into a hash key: as many as the hashes' key size reads. */
static __always_inline void sd_copy_key(__u64 *to, const __u64 *from)
{
#pragma clang loop unroll(full)
	for (int w = 0; w < SD_KEY_WORDS; w++) {
		if (w < sd_key_words())
			to[w] = from[w];
	}
}

static __always_inline __u64 *sd_sparse_series(struct sd_cpu *cpu, __u32 gen)
{
	struct sd_event *e = &cpu->event;
	struct sd_series_key k;
	__u32 zero = 0;
	void *init = bpf_map_lookup_elem(&zeros, &zero);
	int busy = 0;
	__u64 *v;

	if (!init)
		return NULL;
	k.outcome = cfg.split_outcome ? e->err : 0;
	k.cpu = cfg.shared_series ? 0 : bpf_get_smp_processor_id();
	sd_copy_key(k.key, e->key);
	v = sd_hash_value(gen ? (void *)&sparse_1 : (void *)&sparse_0, &k, init, &busy);
	if (!v)
		sd_stat(cpu, busy ? SD_STAT_MAP_BUSY : SD_STAT_MAP_FULL);
	return v;
}

/* Failed calls by errno: kept apart from the histograms unless outcomes are split (then the
 * errno is already the series' outcome). A full (or busy) map loses the errno, not the call. */
static __always_inline void sd_count_error(struct sd_cpu *cpu, __u32 gen)
{
	struct sd_event *e = &cpu->event;
	struct sd_error_key k = { .err = e->err, .unused = 0 };
	__u64 zero = 0, *v;
	int busy = 0;

	sd_copy_key(k.key, e->key);
	v = sd_hash_value(gen ? (void *)&errors_1 : (void *)&errors_0, &k, &zero, &busy);
	if (v)
		sd_add(v, 1);
	else
		sd_stat(cpu, SD_STAT_ERRORS_FULL);
}

static __always_inline void sd_count(struct sd_cpu *cpu, __u64 slot, const int split)
{
	__u32 gen = sd_generation & 1;
	__u64 *v;

	if (slot >= cfg.bucket_slots)
		slot = cfg.bucket_slots - 1;
	v = cfg.storage == SD_STORAGE_DENSE ? sd_dense_series(cpu, gen) : sd_sparse_series(cpu, gen);
	if (!v)
		return;
	if (cpu->event.err && !cfg.split_outcome)
		sd_count_error(cpu, gen);
	sd_record(cpu, v, slot, cpu->event.ns, split);
	if (cfg.report_slow && cpu->event.slow)
		sd_stat(cpu, SD_STAT_SLOW);
}

static __always_inline void sd_step_log2(const int split)
{
	struct sd_cpu *cpu = sd_cpu();

	if (cpu)
		sd_count(cpu, sd_log2l(cpu->event.latency), split);
}

static __always_inline void sd_step_linear(const int split)
{
	struct sd_cpu *cpu = sd_cpu();
	__u64 lat;

	if (!cpu)
		return;
	lat = cpu->event.latency;
	if (lat < cfg.linear_min) {
		sd_count(cpu, 0, split);
		return;
	}
	/* 64-bit all the way, and no + 1 past 2^64 - 1: sd_count clamps to the overflow bucket */
	lat = (lat - cfg.linear_min) / cfg.linear_step;
	sd_count(cpu, lat < cfg.bucket_slots ? lat + 1 : cfg.bucket_slots, split);
}

static __always_inline void sd_step_log2_linear(const int split)
{
	struct sd_cpu *cpu = sd_cpu();
	__u32 bits = cfg.sub_bucket_bits, sub = 1u << bits, exp;
	__u64 lat;

	if (!cpu)
		return;
	lat = cpu->event.latency;
	if (lat < sub) {
		sd_count(cpu, lat, split);
		return;
	}
	exp = sd_log2l(lat);
	sd_count(cpu, (__u64)sub * (exp - bits + 1) + ((lat >> (exp - bits)) - sub), split);
}

/* Prometheus native histogram and OpenTelemetry exponential buckets: slot 0 is 0 ns, the others
 * the buckets (2^((k-1)/2^schema), 2^(k/2^schema)] s from the one of 1 ns up. A value's power of
 * two of ns narrows it to the slots from exp_octave_slot[i] to the next power's; halving them
 * against `exp_upper` finds the first whose upper bound holds it. Counts ns whatever the unit. */
static __always_inline void sd_step_exponential(const int split)
{
	struct sd_cpu *cpu = sd_cpu();
	__u32 low, high, mid, octave, i;
	__u64 ns, *upper;

	if (!cpu)
		return;
	ns = cpu->event.ns;
	if (!ns) {
		sd_count(cpu, 0, split);
		return;
	}
	octave = sd_log2l(ns) & 63;
	low = cfg.exp_octave_slot[octave];
	high = octave < 63 ? cfg.exp_octave_slot[(octave + 1) & 63] : cfg.bucket_slots - 1;
	for (i = 0; i < SD_EXP_SEARCH_STEPS && low < high; i++) {
		mid = low + (high - low) / 2;
		upper = bpf_map_lookup_elem(&exp_upper, &mid);
		if (!upper)
			break;
		if (*upper >= ns)
			high = mid;
		else
			low = mid + 1;
	}
	sd_count(cpu, low, split);
}

/* Hands the finished call to the profile's bucket step. */
static __always_inline void sd_dispatch(void *ctx, struct sd_cpu *cpu)
{
#ifdef SD_STRAIGHT_LINE
	/* bench/program-cost.sh only: the step inline, to price the tail call */
	if (cfg.bucket_kind == SD_BUCKET_LOG2)
		sd_step_log2(0);
	else if (cfg.bucket_kind == SD_BUCKET_LINEAR)
		sd_step_linear(0);
	else if (cfg.bucket_kind == SD_BUCKET_LOG2_LINEAR)
		sd_step_log2_linear(0);
	else
		sd_step_exponential(0);
#else
	bpf_tail_call(ctx, &bucket_steps, cfg.bucket_kind);
	sd_stat(cpu, SD_STAT_DISPATCH);
#endif
}

/* One set of steps per program type: a PROG_ARRAY only holds programs of its caller's type;
 * the *_split ones keep the time split too (--off-cpu). */
#define SD_BUCKET_STEPS(sec, prefix)                                                   \
	SEC(sec) int prefix##_log2(void *ctx) { sd_step_log2(0); return 0; }           \
	SEC(sec) int prefix##_linear(void *ctx) { sd_step_linear(0); return 0; }       \
	SEC(sec) int prefix##_log2lin(void *ctx) { sd_step_log2_linear(0); return 0; } \
	SEC(sec) int prefix##_exp(void *ctx) { sd_step_exponential(0); return 0; }     \
	SEC(sec) int prefix##_log2_split(void *ctx) { sd_step_log2(1); return 0; }     \
	SEC(sec) int prefix##_linear_split(void *ctx) { sd_step_linear(1); return 0; } \
	SEC(sec) int prefix##_log2lin_split(void *ctx) { sd_step_log2_linear(1); return 0; } \
	SEC(sec) int prefix##_exp_split(void *ctx) { sd_step_exponential(1); return 0; }

#endif
