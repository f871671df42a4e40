/* sd-workload: syscalls with exactly known counts, for the kernel tests and the benchmark.
 *
 *   sd-workload [--stop] MODE ARGS...
 *     bpf-mix N        MAP_CREATE x3, MAP_UPDATE_ELEM xN, MAP_LOOKUP_ELEM x2N (N miss),
 *                      MAP_GET_NEXT_KEY xN+1, OBJ_GET_INFO_BY_FD x5
 *     syscalls N       getppid xN, sched_yield x2N, umask x3N, getrandom xN
 *     sleep MS N       N x clock_nanosleep of MS milliseconds
 *     openat N         openat: N that succeed, 2N of a missing file (ENOENT)
 *     lookup N         N x bpf(BPF_MAP_LOOKUP_ELEM) on a 1-entry array (benchmark loop)
 *     getppid N        N x getppid (benchmark loop)
 *     progarray T N    T threads, N alternating update/delete each on one shared PROG_ARRAY
 *     stuck T          T threads enter a long nanosleep, then the process exits mid-call
 *     exits T          T threads end with the exit syscall, then the process with exit_group:
 *                      T + 1 calls that never return
 *     args N           N x pselect6(100, 101, 102, 103, 104, 105): fails at once; argument i
 *                      is 100 + i on every hook
 *     futex N          N x FUTEX_WAKE_PRIVATE with no waiter, N x FUTEX_WAIT_PRIVATE that fails
 *     ioctl N          N x ioctl(FIONREAD) on a pipe
 *     read N           N x read of one byte from /dev/zero
 *
 *   --stop  after setup, stop with SIGSTOP; the test attaches, then sends SIGCONT.
 *
 * Prints one JSON line: the mode, ns_per_call where it is a loop, and the exact counts issued. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/futex.h>
#include <sys/ioctl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int stop_after_setup;

static void ready(void)
{
	fflush(stdout);
	if (stop_after_setup)
		raise(SIGSTOP);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "sd-workload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int map_create(enum bpf_map_type type, unsigned key_size, unsigned value_size, unsigned max)
{
	union bpf_attr a = { .map_type = type, .key_size = key_size, .value_size = value_size,
			     .max_entries = max };

	return (int)sys_bpf(BPF_MAP_CREATE, &a);
}

static long map_op(int cmd, int fd, const void *key, void *value, uint64_t flags)
{
	union bpf_attr a = { .map_fd = fd, .key = (uintptr_t)key, .value = (uintptr_t)value,
			     .flags = flags };

	return sys_bpf(cmd, &a);
}

static int mode_bpf_mix(long n)
{
	long creates = 0, updates = 0, lookups = 0, next_keys = 0, infos = 0;
	uint32_t key, next;
	uint64_t value;
	int fds[3], i;

	ready();
	fds[0] = map_create(BPF_MAP_TYPE_HASH, 4, 8, n);
	fds[1] = map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 4);
	fds[2] = map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
	creates = 3;
	if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0)
		die("BPF_MAP_CREATE");
	for (key = 0; key < n; key++, updates++)
		if (map_op(BPF_MAP_UPDATE_ELEM, fds[0], &key, &value, BPF_ANY))
			die("BPF_MAP_UPDATE_ELEM");
	for (key = 0; key < 2 * n; key++, lookups++)
		map_op(BPF_MAP_LOOKUP_ELEM, fds[0], &key, &value, 0); /* the second half: ENOENT */
	for (const uint32_t *kp = NULL;; kp = &key) {
		union bpf_attr a = { .map_fd = fds[0], .key = (uintptr_t)kp, .next_key = (uintptr_t)&next };

		next_keys++;
		if (sys_bpf(BPF_MAP_GET_NEXT_KEY, &a))
			break;
		key = next;
	}
	for (i = 0; i < 5; i++, infos++) {
		struct bpf_map_info info = {};
		union bpf_attr a = { .info = { .bpf_fd = fds[i % 3], .info_len = sizeof(info),
					       .info = (uintptr_t)&info } };

		if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a))
			die("BPF_OBJ_GET_INFO_BY_FD");
	}
	printf("{\"mode\":\"bpf-mix\",\"pid\":%d,\"counts\":{\"BPF_MAP_CREATE\":%ld,"
	       "\"BPF_MAP_UPDATE_ELEM\":%ld,\"BPF_MAP_LOOKUP_ELEM\":%ld,\"BPF_MAP_GET_NEXT_KEY\":%ld,"
	       "\"BPF_OBJ_GET_INFO_BY_FD\":%ld},\"failed\":{\"BPF_MAP_LOOKUP_ELEM\":%ld,"
	       "\"BPF_MAP_GET_NEXT_KEY\":1}}\n",
	       getpid(), creates, updates, lookups, next_keys, infos, n);
	return 0;
}

static int mode_syscalls(long n)
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

static int mode_sleep(long ms, long n)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
	long i;

	ready();
	for (i = 0; i < n; i++)
		if (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL))
			die("clock_nanosleep");
	printf("{\"mode\":\"sleep\",\"ms\":%ld,\"counts\":{\"clock_nanosleep\":%ld}}\n", ms, n);
	return 0;
}

static int mode_openat(long n)
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

static int mode_lookup(long n)
{
	uint32_t key = 0;
	uint64_t value = 0, t0;
	union bpf_attr a = {};
	long i;
	int fd = map_create(BPF_MAP_TYPE_ARRAY, 4, 8, 1);

	if (fd < 0)
		die("BPF_MAP_CREATE");
	a.map_fd = fd;
	a.key = (uintptr_t)&key;
	a.value = (uintptr_t)&value;
	ready();
	t0 = now_ns();
	for (i = 0; i < n; i++)
		syscall(__NR_bpf, BPF_MAP_LOOKUP_ELEM, &a, sizeof(a));
	printf("{\"mode\":\"lookup\",\"n\":%ld,\"ns_per_call\":%.2f}\n", n, (double)(now_ns() - t0) / n);
	return 0;
}

static int mode_getppid(long n)
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

struct worker {
	pthread_t thread;
	int map_fd, prog_fd;
	uint32_t key;
	long n, errors;
	pthread_barrier_t *start;
};

static void *progarray_worker(void *arg)
{
	struct worker *w = arg;
	uint32_t value = (uint32_t)w->prog_fd;
	long i;

	pthread_barrier_wait(w->start);
	for (i = 0; i < w->n; i++) {
		int cmd = (i & 1) ? BPF_MAP_DELETE_ELEM : BPF_MAP_UPDATE_ELEM;

		if (map_op(cmd, w->map_fd, &w->key, (i & 1) ? NULL : &value, BPF_ANY))
			w->errors++;
	}
	return NULL;
}

static int mode_progarray(int threads, long n)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr load = { .prog_type = BPF_PROG_TYPE_SOCKET_FILTER, .insns = (uintptr_t)prog,
				.insn_cnt = 2, .license = (uintptr_t)"GPL" };
	struct worker *workers = calloc(threads, sizeof(*workers));
	pthread_barrier_t start;
	long errors = 0;
	uint64_t t0;
	int map_fd, prog_fd, i;

	if (threads < 1 || threads > 1024 || !workers) {
		fprintf(stderr, "sd-workload: progarray takes 1 to 1024 threads\n");
		return 2;
	}
	map_fd = map_create(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, threads);
	prog_fd = (int)sys_bpf(BPF_PROG_LOAD, &load);
	if (map_fd < 0 || prog_fd < 0)
		die("progarray setup");
	pthread_barrier_init(&start, NULL, threads + 1);
	for (i = 0; i < threads; i++) {
		workers[i] = (struct worker){ .map_fd = map_fd, .prog_fd = prog_fd, .key = i, .n = n,
					      .start = &start };
		if (pthread_create(&workers[i].thread, NULL, progarray_worker, &workers[i]))
			die("pthread_create");
	}
	ready();
	pthread_barrier_wait(&start);
	t0 = now_ns();
	for (i = 0; i < threads; i++) {
		pthread_join(workers[i].thread, NULL);
		errors += workers[i].errors;
	}
	printf("{\"mode\":\"progarray\",\"threads\":%d,\"counts\":{\"BPF_MAP_UPDATE_ELEM\":%ld,"
	       "\"BPF_MAP_DELETE_ELEM\":%ld},\"errors\":%ld,\"ns_per_op\":%.2f}\n",
	       threads, threads * ((n + 1) / 2), threads * (n / 2), errors,
	       (double)(now_ns() - t0) / ((double)threads * n));
	return 0;
}

static void *sleep_forever(void *arg)
{
	struct timespec ts = { .tv_sec = 3600 };

	(void)arg;
	syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL);
	return NULL;
}

static int mode_stuck(int threads)
{
	struct timespec settle = { .tv_nsec = 200 * 1000000 };
	pthread_t thread;
	int i;

	ready();
	for (i = 0; i < threads; i++)
		if (pthread_create(&thread, NULL, sleep_forever, NULL))
			die("pthread_create");
	nanosleep(&settle, NULL);
	printf("{\"mode\":\"stuck\",\"threads\":%d}\n", threads);
	fflush(stdout);
	syscall(SYS_exit_group, 0); /* every sleeper dies inside its call: no sys_exit for them */
	return 0;
}

static int mode_args(long n)
{
	long i;

	ready();
	for (i = 0; i < n; i++)
		syscall(SYS_pselect6, 100L, 101L, 102L, 103L, 104L, 105L); /* long: variadic */
	printf("{\"mode\":\"args\",\"counts\":{\"pselect6\":%ld}}\n", n);
	return 0;
}

static int mode_futex(long n)
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

static int mode_ioctl(long n)
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

static int mode_read(long n)
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

static void *exit_now(void *arg)
{
	(void)arg;
	syscall(SYS_exit, 0);
	return NULL;
}

static int mode_exits(int threads)
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

int main(int argc, char **argv)
{
	int a = 1;

	if (a < argc && strcmp(argv[a], "--stop") == 0) {
		stop_after_setup = 1;
		a++;
	}
	if (argc - a < 2) {
		fprintf(stderr, "usage: sd-workload [--stop] bpf-mix N | syscalls N | sleep MS N | "
				"openat N | lookup N | getppid N | progarray T N | stuck T | exits T | args N | futex N | ioctl N | read N\n");
		return 2;
	}
	const char *mode = argv[a];
	long x = atol(argv[a + 1]), y = argc - a > 2 ? atol(argv[a + 2]) : 0;

	if (!strcmp(mode, "bpf-mix"))
		return mode_bpf_mix(x);
	if (!strcmp(mode, "syscalls"))
		return mode_syscalls(x);
	if (!strcmp(mode, "sleep"))
		return mode_sleep(x, y);
	if (!strcmp(mode, "openat"))
		return mode_openat(x);
	if (!strcmp(mode, "lookup"))
		return mode_lookup(x);
	if (!strcmp(mode, "getppid"))
		return mode_getppid(x);
	if (!strcmp(mode, "progarray"))
		return mode_progarray((int)x, y);
	if (!strcmp(mode, "args"))
		return mode_args(x);
	if (!strcmp(mode, "futex"))
		return mode_futex(x);
	if (!strcmp(mode, "ioctl"))
		return mode_ioctl(x);
	if (!strcmp(mode, "read"))
		return mode_read(x);
	if (!strcmp(mode, "exits"))
		return mode_exits((int)x);
	if (!strcmp(mode, "stuck"))
		return mode_stuck((int)x);
	fprintf(stderr, "sd-workload: unknown mode %s\n", mode);
	return 2;
}
