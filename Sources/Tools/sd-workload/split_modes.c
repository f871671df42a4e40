/* Calls whose time is known to go one way, with the kernel's own account of it beside them
 * (/proc/thread-self/schedstat: ns run, ns waited on a run queue), for the time split. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "workload.h"

/* The calling thread's run time and run-queue wait, by the scheduler (CONFIG_SCHED_INFO). */
static void schedstat(uint64_t *run, uint64_t *wait)
{
	unsigned long long r = 0, w = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (!f || fscanf(f, "%llu %llu", &r, &w) != 2)
		die("/proc/thread-self/schedstat");
	fclose(f);
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
 * spin there: the reads wait for the CPU about two thirds of the time. Reports the thread's
 * schedstat deltas over the loop and its CPU time. */
int mode_hogged_reads(long mb, long n)
{
	const long hogs = 2;
	size_t size = (size_t)mb << 20;
	char *buffer = malloc(size);
	int fd = memfd_create("sd-workload-hogged", 0);
	pthread_t threads[2];
	uint64_t run0, wait0, run1, wait1, cpu, wall;
	long i;

	if (!buffer || fd < 0)
		die("malloc or memfd_create");
	memset(buffer, 'x', size);
	if (write(fd, buffer, size) != (ssize_t)size)
		die("write");
	pin_to_cpu0();
	ready();
	for (i = 0; i < hogs; i++)
		if (pthread_create(&threads[i], NULL, hog, NULL))
			die("pthread_create");
	usleep(20000); /* the hogs running */
	schedstat(&run0, &wait0);
	cpu = thread_cpu_ns();
	wall = now_ns();
	for (i = 0; i < n; i++)
		if (pread(fd, buffer, size, 0) != (ssize_t)size)
			die("pread");
	wall = now_ns() - wall;
	cpu = thread_cpu_ns() - cpu;
	schedstat(&run1, &wait1);
	atomic_store(&hogs_stop, 1);
	for (i = 0; i < hogs; i++)
		pthread_join(threads[i], NULL);
	printf("{\"mode\":\"hogged-reads\",\"counts\":{\"pread64\":%ld},\"wall_ns\":%llu,\"cpu_ns\":%llu,"
	       "\"schedstat_run_ns\":%llu,\"schedstat_wait_ns\":%llu}\n",
	       n, (unsigned long long)wall, (unsigned long long)cpu, (unsigned long long)(run1 - run0),
	       (unsigned long long)(wait1 - wait0));
	free(buffer);
	return 0;
}
