/* Calls whose time is known to go one way, with the kernel's own account of it beside them
 * (/proc/thread-self/schedstat: ns run, ns waited on a run queue), for the time split. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "workload.h"

/* The calling thread's run time and run-queue wait, by the scheduler (CONFIG_SCHED_INFO), read
 * from `fd` (its /proc/thread-self/schedstat) with lseek and read: no pread64, the calls the
 * test traces. */
static void schedstat(int fd, uint64_t *run, uint64_t *wait)
{
	char text[128];
	unsigned long long r = 0, w = 0;
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0 || (n = read(fd, text, sizeof(text) - 1)) <= 0)
		die("/proc/thread-self/schedstat");
	text[n] = 0;
	if (sscanf(text, "%llu %llu", &r, &w) != 2)
		die("/proc/thread-self/schedstat");
	*run = r;
	*wait = w;
}

static void pin_to_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static atomic_int hogs_stop;

static void *hog(void *unused)
{
	(void)unused;
	pin_to_cpu0();
	while (!atomic_load_explicit(&hogs_stop, memory_order_relaxed))
		;
	return NULL;
}

/* N preads of MB MiB from a memfd (busy on CPU: a copy), on CPU 0 shared with two threads that
 * spin there: the reads wait for the CPU about two thirds of the time. Reports, summed over the
 * reads alone (each sampled right before and after), the thread's CPU time (exact: the thread
 * clock brings the scheduler's count up to date) and the rest of their wall time, off CPU, and
 * the scheduler's schedstat wait beside them. */
int mode_hogged_reads(long mb, long n)
{
	const long hogs = 2;
	size_t size = (size_t)mb << 20;
	char *buffer = malloc(size);
	int fd = memfd_create("sd-workload-hogged", 0), stat = open("/proc/thread-self/schedstat", O_RDONLY);
	pthread_t threads[2];
	uint64_t run = 0, wait = 0, cpu = 0, off = 0, wall = 0;
	long i;

	if (!buffer || fd < 0 || stat < 0)
		die("malloc, memfd_create or open schedstat");
	memset(buffer, 'x', size);
	if (write(fd, buffer, size) != (ssize_t)size)
		die("write");
	pin_to_cpu0();
	ready();
	for (i = 0; i < hogs; i++)
		if (pthread_create(&threads[i], NULL, hog, NULL))
			die("pthread_create");
	usleep(20000); /* the hogs running */
	for (i = 0; i < n; i++) {
		uint64_t run0, wait0, run1, wait1, wall0, cpu0, wall1, cpu1;

		schedstat(stat, &run0, &wait0);
		wall0 = now_ns();
		cpu0 = thread_cpu_ns();
		if (pread(fd, buffer, size, 0) != (ssize_t)size)
			die("pread");
		cpu1 = thread_cpu_ns();
		wall1 = now_ns();
		schedstat(stat, &run1, &wait1);
		run += run1 - run0;
		wait += wait1 - wait0;
		cpu += cpu1 - cpu0;
		off += (wall1 - wall0) - (cpu1 - cpu0);
		wall += wall1 - wall0;
	}
	atomic_store(&hogs_stop, 1);
	for (i = 0; i < hogs; i++)
		pthread_join(threads[i], NULL);
	printf("{\"mode\":\"hogged-reads\",\"counts\":{\"pread64\":%ld},\"cpu_ns\":%llu,\"off_cpu_ns\":%llu,\"wall_ns\":%llu,"
	       "\"schedstat_run_ns\":%llu,\"schedstat_wait_ns\":%llu}\n",
	       n, (unsigned long long)cpu, (unsigned long long)off, (unsigned long long)wall, (unsigned long long)run, (unsigned long long)wait);
	free(buffer);
	return 0;
}
