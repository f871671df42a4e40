/* SPDX-License-Identifier: GPL-2.0 */
/* A traced call's time off CPU, as the scheduler's hooks and the exit see it: the stretches a
 * thread spends away (blocked, then waiting for a CPU: --off-cpu's split), the wait site each
 * blocked stretch is added to, and the stretches whose switch a hook missed, rebuilt from the
 * thread's runtime. */
#ifndef SD_OFFCPU_BPF_H
#define SD_OFFCPU_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "syscalldist.h"
#include "sd_maps.bpf.h"
#include "sd_task.bpf.h"

/* `ns` of a call keyed `key` go to wait site `site` (a stack, or a lock kind). */
static __always_inline void sd_wait_site_add(__u64 key, __s64 site, __u64 ns)
{
	struct sd_wait_key k = { .key = key, .stack = site };
	struct sd_wait *w = bpf_map_lookup_elem(&wait_sites, &k), fresh = {};
	struct sd_cpu *cpu;

	if (!w) {
		bpf_map_update_elem(&wait_sites, &k, &fresh, BPF_NOEXIST);
		w = bpf_map_lookup_elem(&wait_sites, &k);
	}
	if (w) {
		sd_add(&w->ns, ns);
		sd_add(&w->count, 1);
	} else if ((cpu = sd_cpu())) {
		sd_stat(cpu, SD_STAT_WAIT_LOST);
	}
}

/* A blocked stretch of `ns` ends: its time goes to the place the thread blocked at. */
static __always_inline void sd_wait_site(struct sd_start *s, __u64 ns)
{
	sd_wait_site_add(s->key, s->pending_stack, ns);
}

/* lock:contention_begin (5.19+): a traced call's thread waits for `lock`, of kind `flags`. A
 * mutex spins (LCB_F_SPIN|LCB_F_MUTEX), then sleeps (LCB_F_MUTEX): one wait, of the last kind.
 * A lock waited for inside that wait is part of it, not counted apart: another lock (the
 * mutex's wait_lock), or a spinlock at the lock's own address (a semaphore's, an rt-mutex's
 * wait_lock), whose end is then that inner wait's, not the outer one's (SD_LOCK_INNER). */
static __always_inline void sd_contention_begin(__u64 lock, __u64 flags)
{
	struct sd_start *s = sd_start_of(sd_current(), 0);

	if (!s || !s->ts)
		return;
	if (s->contend_since) {
		if (lock == s->contend_lock && (flags & SD_LCB_MUTEX) && (s->contend_flags & SD_LCB_MUTEX))
			s->contend_flags = flags;
		else if (lock == s->contend_lock)
			s->contend_flags |= SD_LOCK_INNER;
		return;
	}
	s->contend_since = bpf_ktime_get_ns();
	s->contend_lock = lock;
	s->contend_flags = flags;
}

/* lock:contention_end: the wait for `lock` is over; its time goes to the lock's kind. The state
 * is cleared after the time is added: a lock waited for meanwhile (the map's own) is nested. */
static __always_inline void sd_contention_end(__u64 lock)
{
	struct sd_start *s = sd_start_of(sd_current(), 0);
	__u64 since;

	if (!s || !s->ts || !(since = s->contend_since) || s->contend_lock != lock)
		return;
	if (s->contend_flags & SD_LOCK_INNER) {
		s->contend_flags &= ~(__u64)SD_LOCK_INNER;
		return;
	}
	sd_wait_site_add(s->key, (__s64)SD_LOCK_SITE - (__s64)(s->contend_flags & 63), bpf_ktime_get_ns() - since);
	s->contend_since = 0;
}

/* A thread in a traced call runs again: its stretch off CPU (since off_since) ends at `now`. */
static __always_inline void sd_back_on_cpu(struct sd_start *s, __u64 now)
{
	__u64 off = now - s->off_since;

	s->off_cpu += off;
	/* waiting for a CPU: all of a stretch that began runnable, else from the wakeup on; a
	 * blocked stretch whose wakeup went unseen counts as blocked */
	if (cfg.split_time) {
		__u64 blocked = off;

		if (s->off_runnable) {
			s->runnable += off;
			blocked = 0;
		} else if (s->woken_at >= s->off_since && s->woken_at <= now) {
			s->runnable += now - s->woken_at;
			blocked = s->woken_at - s->off_since;
		}
		if (cfg.wait_sites && blocked)
			sd_wait_site(s, blocked);
		s->woken_at = 0;
	}
	if (off > s->longest_off) {
		s->longest_off = off;
		s->blocked_stack = s->pending_stack;
	}
	s->off_since = 0;
}

/* A stretch off CPU whose end the sched_switch hook did not see (on some kernels it misses a
 * thread's return to a CPU now and then: man page, BUGS), closed at `now` by a thread that runs:
 * it ended no later than `now` less the time the thread has run since it left, by the
 * scheduler's own count (task clock: steal time counts as off CPU). That count is current when
 * the thread leaves a CPU; at a call's exit it lags by what the thread ran since its last tick
 * (one tick at most, unless the tick is stopped: nohz_full), counted off CPU too. */
static __always_inline void sd_close_unseen_stretch(
	struct sd_cpu *cpu, struct sd_start *s, struct task_struct *task, __u64 now)
{
	__u64 since = now > s->off_since ? now - s->off_since : 0, ran = sd_runtime(task) - s->ran_at_off;

	if (cfg.task_runtime_offset)
		since = ran < since ? since - ran : 0;
	sd_back_on_cpu(s, s->off_since + since);
	if (cpu)
		sd_stat(cpu, SD_STAT_SWITCH_UNSEEN);
}

/* A thread in a traced call comes back on a CPU: its stretch off CPU ends now. By the scheduler's
 * count it ran nothing since it left, unless the hook missed a return to a CPU and the leaving
 * after it: then that run is taken off, and the miss counted. */
static __always_inline void sd_back_on_cpu_switched(struct sd_start *s, struct task_struct *task, __u64 now)
{
	if (sd_runtime(task) != s->ran_at_off)
		sd_close_unseen_stretch(sd_cpu(), s, task, now);
	else
		sd_back_on_cpu(s, now);
}

/* A thread in a traced call comes back on a CPU it was not seen leaving (the switch-out's
 * lookup of its start failed: task storage is busy there now and then on 5.13 to 6.1). Since it
 * was last seen on a CPU (`on_at`) it ran what the scheduler's runtime says, exact for a thread
 * not running, and was off CPU the rest: one stretch, where it blocked unknown. */
static __always_inline void sd_close_unseen_switch_out(struct sd_start *s, struct task_struct *task, __u64 now)
{
	__u64 since = now > s->on_at ? now - s->on_at : 0, ran = sd_runtime(task) - s->ran_at_on;
	struct sd_cpu *cpu = sd_cpu();

	if (cpu)
		sd_stat(cpu, SD_STAT_SWITCH_UNSEEN);
	if (!cfg.task_runtime_offset || ran >= since)
		return;
	s->off_since = now - (since - ran);
	s->pending_stack = SD_STACK_NOT_TAKEN;
	s->off_runnable = 0; /* how it left is unknown: blocked, the larger part of most stretches */
	s->woken_at = 0;
	sd_back_on_cpu(s, now);
}

#endif
