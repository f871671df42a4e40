/* sd-workload: syscalls with exactly known counts, sleeps measured, failing and odd calls. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/ioctl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "workload.h"

int mode_syscalls(long n)
{
	char byte;
	long i;

	ready();
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	for (i = 0; i < 2 * n; i++)
		syscall(SYS_sched_yield);
	for (i = 0; i < 3 * n; i++)
		syscall(SYS_umask, 022);
	for (i = 0; i < n; i++) /* a high syscall number: 318 on x86_64, 278 on arm64 */
		syscall(SYS_getrandom, &byte, 1, 0);
	printf("{\"mode\":\"syscalls\",\"counts\":{\"getppid\":%ld,\"sched_yield\":%ld,\"umask\":%ld,"
	       "\"getrandom\":%ld}}\n", n, 2 * n, 3 * n, n);
	return 0;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The value at quantile q by nearest rank: the ceil(q * n)-th smallest. */
static uint64_t nearest_rank(const uint64_t *sorted, long n, double q)
{
	long rank = (long)(q * n);

	if ((double)rank < q * n)
		rank++;
	return sorted[rank < 1 ? 0 : rank - 1];
}

int mode_sleep(long ms, long n)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
	uint64_t *took = calloc(n, sizeof(*took));
	long i;

	if (!took)
		die("calloc");
	ready();
	for (i = 0; i < n; i++) {
		uint64_t t0 = now_ns();

		if (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL))
			die("clock_nanosleep");
		took[i] = now_ns() - t0;
	}
	printf("{\"mode\":\"sleep\",\"ms\":%ld,\"counts\":{\"clock_nanosleep\":%ld},\"measured_ns\":[", ms, n);
	for (i = 0; i < n; i++)
		printf("%s%llu", i ? "," : "", (unsigned long long)took[i]);
	printf("]}\n");
	free(took);
	return 0;
}

/* Sleeps timed from user space, the truth a latency histogram's percentiles must hold: first
 * 100 clock_nanosleep calls that return at once (an absolute time already past), whose measured
 * durations are almost all overhead (entry, exit, and whatever a tracer does outside its own
 * timestamps), then N sleeps of MS ms. Reports the slowest of the first as the overhead, and the
 * min, max and p50/p90/p99 (nearest rank) of all N + 100, in ns. And "max_less_cpu": the longest
 * of (a call's duration less the thread's CPU time around it) over the calls it was not
 * preempted around: the least a kernel-side timer can have seen of the longest call, even when
 * a stalled CPU stretched the workload's own part of one (the stall is the thread's CPU time;
 * where the kernel accounts steal time, KVM's steal clock, a steal there is not, and can exceed
 * this bound). */
int mode_timed_sleep(long ms, long n)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 }, past = {};
	long total = n + 100, i;
	uint64_t *took = calloc(total, sizeof(*took)), overhead = 0, max_less_cpu = 0;

	if (!took)
		die("calloc");
	ready();
	for (i = 0; i < total; i++) {
		long switches = involuntary_switches();
		uint64_t cpu = thread_cpu_ns(), t0 = now_ns();

		if (clock_nanosleep(CLOCK_MONOTONIC, i < 100 ? TIMER_ABSTIME : 0, i < 100 ? &past : &ts, NULL))
			die("clock_nanosleep");
		took[i] = now_ns() - t0;
		cpu = thread_cpu_ns() - cpu;
		if (involuntary_switches() == switches && took[i] > cpu && took[i] - cpu > max_less_cpu)
			max_less_cpu = took[i] - cpu;
		if (i < 100 && took[i] > overhead)
			overhead = took[i];
	}
	qsort(took, total, sizeof(*took), compare_u64);
	printf("{\"mode\":\"timed-sleep\",\"ms\":%ld,\"counts\":{\"clock_nanosleep\":%ld},\"measured_ns\":"
	       "{\"min\":%llu,\"max\":%llu,\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"max_less_cpu\":%llu},"
	       "\"overhead_ns\":%llu}\n",
	       ms, total, (unsigned long long)took[0], (unsigned long long)took[total - 1],
	       (unsigned long long)nearest_rank(took, total, 0.5), (unsigned long long)nearest_rank(took, total, 0.9),
	       (unsigned long long)nearest_rank(took, total, 0.99), (unsigned long long)max_less_cpu,
	       (unsigned long long)overhead);
	free(took);
	return 0;
}

int mode_openat(long n)
{
	long i;

	ready();
	for (i = 0; i < n; i++) {
		int fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY);

		if (fd < 0)
			die("openat /dev/null");
		close(fd);
	}
	for (i = 0; i < 2 * n; i++)
		syscall(SYS_openat, AT_FDCWD, "/nonexistent/sd-workload", O_RDONLY);
	printf("{\"mode\":\"openat\",\"counts\":{\"ok\":%ld,\"ENOENT\":%ld}}\n", n, 2 * n);
	return 0;
}

int mode_getppid(long n)
{
	uint64_t t0;
	long i;

	ready();
	t0 = now_ns();
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	printf("{\"mode\":\"getppid\",\"n\":%ld,\"ns_per_call\":%.2f}\n", n, (double)(now_ns() - t0) / n);
	return 0;
}

int mode_args(long n)
{
	long i;

	ready();
	for (i = 0; i < n; i++)
		syscall(SYS_pselect6, 100L, 101L, 102L, 103L, 104L, 105L); /* long: variadic */
	printf("{\"mode\":\"args\",\"counts\":{\"pselect6\":%ld}}\n", n);
	return 0;
}

int mode_futex(long n)
{
	uint32_t word = 0;
	long i;

	ready();
	for (i = 0; i < n; i++)
		syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	for (i = 0; i < n; i++) /* the word is not 1: EAGAIN at once */
		syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
	printf("{\"mode\":\"futex\",\"counts\":{\"FUTEX_WAKE_PRIVATE\":%ld,\"FUTEX_WAIT_PRIVATE\":%ld}}\n",
	       n, n);
	return 0;
}

int mode_ioctl(long n)
{
	int fds[2], pending;
	long i;

	if (pipe(fds))
		die("pipe");
	ready();
	for (i = 0; i < n; i++)
		if (ioctl(fds[0], FIONREAD, &pending))
			die("ioctl");
	printf("{\"mode\":\"ioctl\",\"counts\":{\"%lu\":%ld}}\n", (unsigned long)FIONREAD, n);
	return 0;
}

int mode_read(long n)
{
	int fd = open("/dev/zero", O_RDONLY);
	char byte;
	long i;

	if (fd < 0)
		die("open /dev/zero");
	ready();
	for (i = 0; i < n; i++)
		if (read(fd, &byte, 1) != 1)
			die("read");
	printf("{\"mode\":\"read\",\"counts\":{\"sd-workload\":%ld}}\n", n);
	return 0;
}

int mode_newer(long n)
{
	long i;

	ready();
	for (i = 0; i < n; i++) {
		syscall(451, -1, NULL, NULL, NULL, 0);   /* cachestat(bad fd) */
		syscall(452, -1, "", 0, 0);              /* fchmodat2(bad fd) */
		syscall(462, 1, 4096, 0);                /* mseal(unaligned): EINVAL */
		syscall(468, -1, "", NULL, 0, 0);        /* file_getattr(bad fd) */
		syscall(500);                            /* no kernel has it yet: ENOSYS */
		syscall(100000);                         /* numbers no kernel can have */
		syscall(1000);
	}
	printf("{\"mode\":\"newer\",\"counts\":{\"cachestat\":%ld,\"fchmodat2\":%ld,\"mseal\":%ld,"
	       "\"file_getattr\":%ld,\"500\":%ld,\"invalid\":%ld}}\n", n, n, n, n, n, 2 * n);
	return 0;
}

int mode_ia32(long n)
{
	long i, wrong = 0, ppid = getppid();

	ready();
	for (i = 0; i < n; i++) {
#if defined(__x86_64__)
		long r;

		asm volatile("int $0x80" : "=a"(r) : "a"(64L) : "memory", "r8", "r9", "r10", "r11");
		wrong += r != ppid;
#else
		wrong++;
#endif
		syscall(SYS_getppid);
	}
	printf("{\"mode\":\"ia32\",\"ia32_calls\":%ld,\"failed\":%ld,\"counts\":{\"getppid\":%ld}}\n", n, wrong, n);
	return 0;
}

int mode_close_keys(long keys, long phases)
{
	long phase, i;

	ready();
	for (phase = 0; phase < phases; phase++) {
		for (i = 0; i < keys; i++)
			close((int)(100000 + phase * keys + i)); /* never open: EBADF */
		if (phase + 1 < phases)
			ready();
	}
	printf("{\"mode\":\"close-keys\",\"keys\":%ld,\"phases\":%ld,\"first_fd\":100000}\n", keys, phases);
	return 0;
}

int mode_retval(long n)
{
	long i;

	ready();
	for (i = 0; i < n; i++)
		syscall(SYS_close, -1);
	printf("{\"mode\":\"retval\",\"counts\":{\"-9\":%ld}}\n", n);
	return 0;
}

static void on_signal(int signo)
{
	(void)signo;
}

int mode_signals(long n)
{
	struct sigaction action = { .sa_handler = on_signal };
	long i;

	if (sigaction(SIGUSR1, &action, NULL))
		die("sigaction");
	ready();
	for (i = 0; i < n; i++)
		syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1); /* the handler returns: rt_sigreturn */
	printf("{\"mode\":\"signals\",\"counts\":{\"rt_sigreturn\":%ld,\"tgkill\":%ld}}\n", n, n);
	return 0;
}

/* N sends of one byte on a loopback TCP connection (the peer reads them at the end). */
int mode_tcp_send(long n)
{
	struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t length = sizeof(address);
	int listener = socket(AF_INET, SOCK_STREAM, 0), sender = socket(AF_INET, SOCK_STREAM, 0), receiver;
	char byte = 'x';
	long i;

	if (listener < 0 || sender < 0 || bind(listener, (struct sockaddr *)&address, sizeof(address)) ||
	    listen(listener, 1) || getsockname(listener, (struct sockaddr *)&address, &length) ||
	    connect(sender, (struct sockaddr *)&address, sizeof(address)))
		die("tcp setup");
	receiver = accept(listener, NULL, NULL);
	if (receiver < 0)
		die("accept");
	ready();
	for (i = 0; i < n; i++)
		if (send(sender, &byte, 1, 0) != 1)
			die("send");
	printf("{\"mode\":\"tcp-send\",\"counts\":{\"sd-workload\":%ld}}\n", n);
	return 0;
}

/* N x stat of a path the test chose (on overlayfs, a stat calls vfs_getattr_nosec thrice,
 * nested). The report is written with write(2): stdio's first output fstat()s stdout, one more
 * getattr than the N the report states. */
int mode_stat(long n, const char *path)
{
	struct stat info;
	char report[128];
	long i;

	ready();
	for (i = 0; i < n; i++)
		if (stat(path, &info))
			die(path);
	i = snprintf(report, sizeof(report), "{\"mode\":\"stat\",\"counts\":{\"stat\":%ld}}\n", n);
	if (write(1, report, (size_t)i) != i)
		die("write");
	return 0;
}

/* N rounds of every x86_64 syscall number from 0 to 469 with zero arguments (most fail at
 * once: EFAULT, EINVAL, EBADF), in this process: a syscalldist profile then has about 430 keys
 * with N calls each. For benchmarks, run as root, so left out is all that zero arguments would
 * make block (pause, select, pselect6, ppoll, msgrcv), end or replace the process (exit,
 * exit_group, execve, execveat, rt_sigreturn, fork, vfork, clone, clone3; uretprobe and uprobe
 * send SIGILL from outside their trampoline), or change the host: System V IPC (cmd 0 of
 * shmctl, semctl and msgctl is IPC_RMID of the host's id 0; msgget makes a queue a round),
 * acct (NULL turns process accounting off), module loading, fchmod, fchown and utimensat (fd 0
 * may by then be an anonymous inode every such fd shares), ptrace, vhangup, sethostname,
 * setdomainname, kexec_load, kexec_file_load, seccomp. */
int mode_many_syscalls(long n)
{
#if defined(__x86_64__)
	static const int skipped[] = { 15, 23, 29, 30, 31, 34, 56, 57, 58, 59, 60, 64, 65, 66, 67,
				       68, 69, 70, 71, 91, 93, 101, 153, 163, 170, 171, 175, 176,
				       220, 231, 246, 270, 271, 280, 313, 317, 320, 322, 335, 336,
				       435 };
	int made = 0;
	long round;

	ready();
	for (round = 0; round < n; round++) {
		for (int nr = 0; nr < 470; nr++) {
			int skip = 0;

			for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
				skip |= skipped[i] == nr;
			if (!skip) {
				syscall(nr, 0, 0, 0, 0, 0, 0);
				made += round == 0;
			}
		}
	}
	printf("{\"mode\":\"many-syscalls\",\"numbers\":%d,\"rounds\":%ld}\n", made, n);
	return 0;
#else
	(void)n;
	die("many-syscalls: x86_64 numbers only");
	return 1;
#endif
}
