/* sd-workload: threads that exit inside calls, one after another, and reuse each other's ids. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "workload.h"

static void *sleep_forever(void *arg)
{
	struct timespec ts = { .tv_sec = 3600 };

	(void)arg;
	syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL);
	return NULL;
}

/* How many of this process's other threads are blocked in clock_nanosleep (their syscall as
 * /proc shows it): each has passed the syscall's entry. */
static int sleepers_in_their_call(void)
{
	char path[64], line[64];
	int tid, self = (int)syscall(SYS_gettid), in_call = 0;
	DIR *tasks = opendir("/proc/self/task");
	struct dirent *entry;

	if (!tasks)
		die("opendir /proc/self/task");
	while ((entry = readdir(tasks))) {
		FILE *file;

		tid = atoi(entry->d_name);
		if (tid <= 0 || tid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
		file = fopen(path, "r");
		if (file && fgets(line, sizeof(line), file) && atol(line) == SYS_clock_nanosleep)
			in_call++;
		if (file)
			fclose(file);
	}
	closedir(tasks);
	return in_call;
}

/* THREADS threads that sleep an hour each, killed by exit_group once every one is inside its
 * call (however slow a CPU made them to get there: a minute at most), after one 1 ms sleep of
 * the main thread's, which returns. */
int mode_stuck(int threads)
{
	struct timespec own = { .tv_nsec = 1000000 };
	uint64_t deadline;
	pthread_t thread;
	int i;

	ready();
	for (i = 0; i < threads; i++)
		if (pthread_create(&thread, NULL, sleep_forever, NULL))
			die("pthread_create");
	deadline = now_ns() + 60000000000ULL;
	while (sleepers_in_their_call() < threads) {
		if (now_ns() > deadline)
			die("sleepers not in clock_nanosleep after 60 s");
		poll(NULL, 0, 1); /* not clock_nanosleep, whose calls the test counts */
	}
	nanosleep(&own, NULL);
	printf("{\"mode\":\"stuck\",\"threads\":%d}\n", threads);
	fflush(stdout);
	syscall(SYS_exit_group, 0); /* every sleeper dies inside its call: no sys_exit for them */
	return 0;
}

static void *exit_now(void *arg)
{
	(void)arg;
	syscall(SYS_exit, 0);
	return NULL;
}

int mode_exits(int threads)
{
	pthread_t *ids = calloc(threads, sizeof(*ids));
	int i;

	ready();
	for (i = 0; i < threads; i++)
		if (pthread_create(&ids[i], NULL, exit_now, NULL))
			die("pthread_create");
	for (i = 0; i < threads; i++)
		pthread_join(ids[i], NULL); /* the kernel clears the tid on exit: join still works */
	printf("{\"mode\":\"exits\",\"threads\":%d,\"never_return\":%d}\n", threads, threads + 1);
	fflush(stdout);
	syscall(SYS_exit_group, 0);
	return 0;
}

static void *churn_thread(void *arg)
{
	(void)arg;
	syscall(SYS_getppid);
	syscall(SYS_exit, 0); /* never returns: the call is abandoned, not counted */
	return NULL;
}

int mode_churn(int threads)
{
	pthread_t thread;
	int i;

	ready();
	for (i = 0; i < threads; i++) {
		if (pthread_create(&thread, NULL, churn_thread, NULL))
			die("pthread_create");
		pthread_join(thread, NULL);
	}
	printf("{\"mode\":\"churn\",\"threads\":%d,\"counts\":{\"getppid\":%d},\"never_return\":%d}\n",
	       threads, threads, threads + 1);
	fflush(stdout);
	syscall(SYS_exit_group, 0);
	return 0;
}

static void set_last_pid(pid_t pid)
{
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");

	if (!f || fprintf(f, "%d", pid) < 0 || fclose(f))
		die("write /proc/sys/kernel/ns_last_pid");
}

struct reuse_thread {
	pid_t tid;
};

static void *reuse_first(void *arg)
{
	((struct reuse_thread *)arg)->tid = (pid_t)syscall(SYS_gettid);
	syscall(SYS_exit, 0); /* dies inside exit: a start that never finishes */
	return NULL;
}

static void *reuse_second(void *arg)
{
	/* this thread's first return is from clone, a syscall it never entered */
	((struct reuse_thread *)arg)->tid = (pid_t)syscall(SYS_gettid);
	syscall(SYS_getppid);
	syscall(SYS_exit, 0);
	return NULL;
}

/* Runs `run` in a new thread, which gets the id `want` if no other task takes it first
 * (ns_last_pid); returns the id it got. */
static pid_t thread_with_id(pid_t want, void *(*run)(void *))
{
	struct reuse_thread thread_ids = {};
	pthread_t thread;

	set_last_pid(want - 1);
	if (pthread_create(&thread, NULL, run, &thread_ids))
		die("pthread_create");
	pthread_join(thread, NULL);
	return thread_ids.tid;
}

/* The id of a dead thread handed to a new one, as happens on any busy host once ids wrap. */
int mode_reuse(void)
{
	struct reuse_thread first = {};
	pid_t second = 0;
	char path[64];
	pthread_t thread;
	int attempts = 0;

	ready();
	while (attempts < 20) {
		pid_t want = (pid_t)syscall(SYS_gettid) + 1000 + attempts * 100;

		attempts++;
		set_last_pid(want - 1);
		if (pthread_create(&thread, NULL, reuse_first, &first))
			die("pthread_create");
		pthread_join(thread, NULL);
		snprintf(path, sizeof(path), "/proc/self/task/%d", first.tid);
		while (access(path, F_OK) == 0)
			usleep(1000); /* until the id is free again */
		second = thread_with_id(first.tid, reuse_second);
		if (second == first.tid)
			break; /* else another task took the id first: try again elsewhere */
	}
	/* every attempt: two threads that end in exit, and one getppid; then exit_group */
	printf("{\"mode\":\"reuse\",\"reused\":%s,\"tid\":%d,\"attempts\":%d,\"counts\":{\"getppid\":%d},"
	       "\"never_return\":%d}\n", second == first.tid ? "true" : "false", first.tid,
	       attempts, attempts, 2 * attempts + 1);
	fflush(stdout);
	syscall(SYS_exit_group, 0);
	return 0;
}

/* The thread that calls execve: the new image's arguments are its id and when execve began. */
static void *exec_from_thread(void *arg)
{
	char tid[24], began[24];
	char *argv[] = { "sd-workload", "exec-thread", tid, began, NULL };

	(void)arg;
	snprintf(tid, sizeof(tid), "%ld", syscall(SYS_gettid));
	snprintf(began, sizeof(began), "%llu", (unsigned long long)now_ns());
	syscall(SYS_execve, "/proc/self/exe", argv, environ);
	die("execve");
	return NULL;
}

/* A thread that is not its process's leader calls execve: the kernel gives it the leader's id
 * and frees its own, with no exit of that thread. The new image (old_tid set) bounds execve's
 * time from its own clock, waits 10 ms, then has threads take the old id (ns_last_pid) until one
 * gets it: that thread's first return, from clone, is of a syscall it never entered. */
int mode_exec_thread(long old_tid, long exec_began)
{
	uint64_t execve_bound_ns;
	pid_t got = 0;
	int attempts = 0;

	if (!old_tid) {
		pthread_t thread;

		ready();
		if (pthread_create(&thread, NULL, exec_from_thread, NULL))
			die("pthread_create");
		pthread_join(thread, NULL); /* never returns: the execve ends this thread */
		die("execve from a thread");
	}
	execve_bound_ns = now_ns() - (uint64_t)exec_began;
	usleep(10000);
	while (attempts < 20 && got != old_tid) {
		attempts++;
		got = thread_with_id((pid_t)old_tid, reuse_second);
	}
	/* the leader's pthread_join and each new thread's exit never return; then exit_group */
	printf("{\"mode\":\"exec-thread\",\"reused\":%s,\"tid\":%ld,\"attempts\":%d,"
	       "\"execve_bound_ns\":%llu,\"counts\":{\"execve\":1,\"getppid\":%d}}\n",
	       got == old_tid ? "true" : "false", old_tid, attempts,
	       (unsigned long long)execve_bound_ns, attempts);
	fflush(stdout);
	syscall(SYS_exit_group, 0);
	return 0;
}
