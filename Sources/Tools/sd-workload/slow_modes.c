/* sd-workload: slow calls with known truth, for --slower-than and --stacks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "workload.h"

/* clock_nanosleep by the syscall instruction itself, in this function: the first frame of the
 * user stack of every call it makes. noinline, and with frame pointers (Package.swift), so its
 * callers follow. */
__attribute__((noinline)) long sd_sleep_syscall(const struct timespec *duration)
{
	long ret = SYS_clock_nanosleep;
#if defined(__x86_64__)
	register long a1 asm("rdi") = CLOCK_MONOTONIC;
	register long a2 asm("rsi") = 0;
	register long a3 asm("rdx") = (long)duration;
	register long a4 asm("r10") = 0;

	asm volatile("syscall" : "+a"(ret) : "r"(a1), "r"(a2), "r"(a3), "r"(a4) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long x8 asm("x8") = SYS_clock_nanosleep;
	register long x0 asm("x0") = CLOCK_MONOTONIC;
	register long x1 asm("x1") = 0;
	register long x2 asm("x2") = (long)duration;
	register long x3 asm("x3") = 0;

	asm volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
	ret = x0;
#else
#error "x86_64 or arm64"
#endif
	return ret;
}

/* A 1 ms sleep the workload saw take 10 ms or more (its own clock, around the syscall): the
 * scheduler was late, and a tracer's 10 ms threshold may rightly count it as slow. */
static int sd_fast_sleep_was_late(const struct timespec *fast_ts)
{
	uint64_t before = now_ns();

	if (sd_sleep_syscall(fast_ts))
		die("clock_nanosleep");
	return now_ns() - before >= 10000000;
}

/* A 20 ms sleep in which the thread ran less than 1 ms by its own CPU clock: between arming its
 * timer and blocking it ran less than that (a stalled virtual CPU counts on that clock where the
 * kernel does not account steal time, as under qemu's emulation), so it spent at least 19 ms off
 * CPU in one stretch. (Not on a fully preemptible kernel, where a preemption in between could
 * split it; Debian's and this VM's are not. Its preemptions are no guide: the tool, woken by the
 * call's record as it returns, preempts it then, after the stretch.) */
static int sd_slow_sleep_was_quiet(const struct timespec *slow_ts)
{
	uint64_t cpu = thread_cpu_ns();

	if (sd_sleep_syscall(slow_ts))
		die("clock_nanosleep");
	return thread_cpu_ns() - cpu < 1000000;
}

/* SLOW x 20 ms sleeps among FAST x 1 ms ones (one slow after every FAST/SLOW fast), all on the
 * main thread, whose tid is reported, with how many 1 ms sleeps took 10 ms or more by the
 * workload's own clock ("late_fast": on a busy machine the scheduler can be that late), how many
 * 20 ms sleeps ran under 1 ms on CPU ("quiet_slow": those blocked 19 ms in one stretch) and the
 * CPU time the thread ran in all of them ("cpu_ns": the most a tracer may count on CPU). */
int mode_slow_sleeps(long slow, long fast)
{
	struct timespec slow_ts = { .tv_nsec = 20000000 }, fast_ts = { .tv_nsec = 1000000 };
	long every = slow > 0 ? fast / slow : 0, i, made_fast = 0, late = 0, quiet = 0;
	uint64_t cpu;

	ready();
	cpu = thread_cpu_ns();
	for (i = 0; i < slow; i++) {
		for (long j = 0; j < every && made_fast < fast; j++, made_fast++)
			late += sd_fast_sleep_was_late(&fast_ts);
		quiet += sd_slow_sleep_was_quiet(&slow_ts);
	}
	for (; made_fast < fast; made_fast++)
		late += sd_fast_sleep_was_late(&fast_ts);
	cpu = thread_cpu_ns() - cpu;
	printf("{\"mode\":\"slow-sleeps\",\"tid\":%ld,\"slow\":%ld,\"late_fast\":%ld,\"quiet_slow\":%ld,"
	       "\"cpu_ns\":%llu,\"counts\":{\"clock_nanosleep\":%ld}}\n",
	       (long)syscall(SYS_gettid), slow, late, quiet, (unsigned long long)cpu, slow + fast);
	return 0;
}

/* N reads of a MB MiB file on tmpfs (in memory), each of the whole file in one call: calls that
 * take milliseconds on CPU, copying. Reports the time the reads took and the CPU time the thread
 * ran in them: the difference is the most a tracer may count off CPU ("wall_ns", "cpu_ns"), and
 * that difference for each read, in order ("off_cpu_most_ns"). */
int mode_read_big(long mb, long n)
{
	size_t size = (size_t)mb << 20;
	char *buffer = malloc(size);
	uint64_t *most = calloc(n > 0 ? n : 1, sizeof(*most)), wall, cpu;
	int fd = memfd_create("sd-workload-big", 0);
	long i;

	if (!buffer || !most || fd < 0)
		die("malloc or memfd_create");
	memset(buffer, 'x', size);
	if (write(fd, buffer, size) != (ssize_t)size)
		die("write");
	ready();
	wall = now_ns();
	cpu = thread_cpu_ns();
	for (i = 0; i < n; i++) {
		uint64_t call_wall = now_ns(), call_cpu = thread_cpu_ns();

		if (pread(fd, buffer, size, 0) != (ssize_t)size)
			die("pread");
		call_cpu = thread_cpu_ns() - call_cpu;
		call_wall = now_ns() - call_wall;
		most[i] = call_wall > call_cpu ? call_wall - call_cpu : 0;
	}
	cpu = thread_cpu_ns() - cpu;
	wall = now_ns() - wall;
	printf("{\"mode\":\"read-big\",\"mb\":%ld,\"wall_ns\":%llu,\"cpu_ns\":%llu,\"off_cpu_most_ns\":[",
	       mb, (unsigned long long)wall, (unsigned long long)cpu);
	for (i = 0; i < n; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)most[i]);
	printf("],\"counts\":{\"pread64\":%ld}}\n", n);
	free(most);
	return 0;
}

/* N futex waits that time out after 20 ms (ETIMEDOUT), each after one that fails at once (the
 * word is not 1: EAGAIN): slow calls that fail, among fast ones that fail otherwise. Reports how
 * many of the fast ones took 10 ms or more by the workload's own clock ("late_fast": a stalled
 * or busy CPU), which a 10 ms threshold may rightly show. */
int mode_slow_waits(long n)
{
	struct timespec timeout = { .tv_nsec = 20000000 };
	uint32_t word = 0;
	long i, late = 0;

	ready();
	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		if (syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0) != -1 || errno != EAGAIN)
			die("futex (EAGAIN)");
		late += now_ns() - t0 >= 10000000;
		if (syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &timeout, NULL, 0) != -1 || errno != ETIMEDOUT)
			die("futex (ETIMEDOUT)");
	}
	printf("{\"mode\":\"slow-waits\",\"late_fast\":%ld,\"counts\":{\"FUTEX_WAIT_PRIVATE\":%ld}}\n", late, 2 * n);
	return 0;
}
