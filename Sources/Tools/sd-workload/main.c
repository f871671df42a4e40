/* sd-workload: syscalls with exactly known counts, for the kernel tests and the benchmark.
 *
 *   sd-workload [--stop] MODE ARGS...
 *     bpf-maps N       a hash sd_rules: N updates, N lookups; a PROG_ARRAY sd_progs: 2N updates;
 *                      each's id asked once; one lookup on fd 1000, not open
 *     bpf-bad-attr N   N x BPF_MAP_LOOKUP_ELEM and N x BPF_PROG_LOAD with an attr at address 1
 *     fd-swap N        N reads of a pipe; a read whose fd is closed while it blocks, one whose fd
 *                      another pipe's dup2 replaces
 *     bpf-mix N        MAP_CREATE x3, MAP_UPDATE_ELEM xN, MAP_LOOKUP_ELEM x2N (N miss),
 *                      MAP_GET_NEXT_KEY xN+1, OBJ_GET_INFO_BY_FD x5
 *     syscalls N       getppid xN, sched_yield x2N, umask x3N, getrandom xN
 *     sleep MS N       N x clock_nanosleep of MS milliseconds, each timed (measured_ns)
 *     timed-sleep MS N 100 x clock_nanosleep that returns at once, then N of MS ms, each timed
 *                      from user space: min, max, p50/p90/p99 by nearest rank, the overhead, and
 *                      max_less_cpu (the longest call less its thread's CPU time around it)
 *     openat N         openat: N that succeed, 2N of a missing file (ENOENT)
 *     lookup N         N x bpf(BPF_MAP_LOOKUP_ELEM) on a 1-entry array (benchmark loop)
 *     getppid N        N x getppid (benchmark loop)
 *     progarray T N    T threads, N alternating update/delete each on one shared PROG_ARRAY
 *     progarray-tail T N  the same, with a loaded program tail-calling through every key (each
 *                      a constant): every update takes the poke path, under its poke_mutex
 *     stuck T          T threads enter a long nanosleep; once /proc shows each in it, the process
 *                      sleeps 1 ms and exits mid-call (exit_group)
 *     exits T          T threads end with the exit syscall, then the process with exit_group:
 *                      T + 1 calls that never return
 *     args N           N x pselect6(100, 101, 102, 103, 104, 105): fails at once; argument i
 *                      is 100 + i on every hook
 *     futex N          N x FUTEX_WAKE_PRIVATE with no waiter, N x FUTEX_WAIT_PRIVATE that fails
 *     ioctl N          N x ioctl(FIONREAD) on a pipe
 *     read N           N x read of one byte from /dev/zero
 *     churn T          T threads one after another, each: one getppid, then the exit syscall
 *     reuse            a thread dies in exit; a new thread gets its id (ns_last_pid), makes one
 *                      getppid and exits: the id's second owner must not inherit the first's call
 *     exec-thread      a thread that is not the leader calls execve (the kernel gives it the
 *                      leader's id); the new image has a new thread take the old id
 *     newer N          N x each of cachestat, fchmodat2, mseal, file_getattr (newer than
 *                      Debian 12's headers), N x syscall 500 and N x each of 100000 and 1000
 *                      (numbers no kernel has): every one fails at once
 *     ia32 N           N x getppid through int $0x80 (ia32 number 64, x86_64 semget), and N x
 *                      the native getppid
 *     close-keys K P   P phases of K x close(fd) on distinct unused fds (EBADF); with --stop,
 *                      stops again after each phase
 *     retval N         N x close(-1): returns -EBADF
 *     signals N        N x a signal to itself whose handler returns: N x tgkill, N x rt_sigreturn
 *                      (whose exit the kernel reports as syscall -1)
 *     tcp-send N       N x send of one byte on a loopback TCP connection
 *     stat N PATH      N x stat(PATH)
 *     slow-sleeps S F  S x clock_nanosleep of 20 ms among F of 1 ms, by a syscall instruction in
 *                      sd_sleep_syscall (the first frame of their user stacks); reports its tid,
 *                      late_fast, quiet_slow and cpu_ns (see slow_modes.c)
 *     read-big MB N    N x pread64 of a MB MiB in-memory file, whole: milliseconds on CPU
 *     many-syscalls N  N rounds of every x86_64 syscall number with zero arguments, but those
 *                      that would block, end the process or change the host (benchmarks)
 *     slow-waits N     N x futex wait that times out after 20 ms (ETIMEDOUT), each after one
 *                      that fails at once (EAGAIN); late_fast: those of these that took 10 ms
 *     hogged-reads MB N  N x pread64 of MB MiB on CPU 0 beside two threads spinning there: the
 *                      reads wait for the CPU; reports the thread's schedstat run and wait
 *
 *   --stop  after setup, stop with SIGSTOP; the test attaches, then sends SIGCONT.
 *
 * Prints one JSON line: the mode, ns_per_call where it is a loop, and the exact counts issued. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "workload.h"

static int stop_after_setup;

void ready(void)
{
	fflush(stdout);
	if (stop_after_setup)
		raise(SIGSTOP);
}

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* Involuntary context switches of the calling thread so far: a preemption between two reads. */
long involuntary_switches(void)
{
	struct rusage usage;

	if (getrusage(RUSAGE_THREAD, &usage))
		die("getrusage");
	return usage.ru_nivcsw;
}

void die(const char *what)
{
	fprintf(stderr, "sd-workload: %s: %s\n", what, strerror(errno));
	exit(1);
}

struct mode {
	const char *name;
	int arguments; /* how many numbers follow the mode's name */
	int (*run)(long x, long y);
};

#define SD_MODE0(name, fn) { name, 0, run_##fn }
#define SD_MODE1(name, fn) { name, 1, run_##fn }
#define SD_MODE2(name, fn) { name, 2, run_##fn }
static int run_bpf_mix(long x, long y) { (void)y; return mode_bpf_mix(x); }
static int run_syscalls(long x, long y) { (void)y; return mode_syscalls(x); }
static int run_sleep(long x, long y) { return mode_sleep(x, y); }
static int run_timed_sleep(long x, long y) { return mode_timed_sleep(x, y); }
static int run_openat(long x, long y) { (void)y; return mode_openat(x); }
static int run_lookup(long x, long y) { (void)y; return mode_lookup(x); }
static int run_getppid(long x, long y) { (void)y; return mode_getppid(x); }
static int run_bpf_maps(long x, long y) { (void)y; return mode_bpf_maps(x); }
static int run_fd_swap(long x, long y) { (void)y; return mode_fd_swap(x); }
static int run_bpf_bad_attr(long x, long y) { (void)y; return mode_bpf_bad_attr(x); }
static int run_progarray(long x, long y) { return mode_progarray((int)x, y, 0); }
static int run_progarray_tail(long x, long y) { return mode_progarray((int)x, y, 1); }
static int run_stuck(long x, long y) { (void)y; return mode_stuck((int)x); }
static int run_exits(long x, long y) { (void)y; return mode_exits((int)x); }
static int run_args(long x, long y) { (void)y; return mode_args(x); }
static int run_futex(long x, long y) { (void)y; return mode_futex(x); }
static int run_ioctl(long x, long y) { (void)y; return mode_ioctl(x); }
static int run_read(long x, long y) { (void)y; return mode_read(x); }
static int run_churn(long x, long y) { (void)y; return mode_churn((int)x); }
static int run_reuse(long x, long y) { (void)x; (void)y; return mode_reuse(); }
static int run_exec_thread(long x, long y) { return mode_exec_thread(x, y); }
static int run_newer(long x, long y) { (void)y; return mode_newer(x); }
static int run_ia32(long x, long y) { (void)y; return mode_ia32(x); }
static int run_close_keys(long x, long y) { return mode_close_keys(x, y); }
static int run_retval(long x, long y) { (void)y; return mode_retval(x); }
static int run_signals(long x, long y) { (void)y; return mode_signals(x); }
static int run_tcp_send(long x, long y) { (void)y; return mode_tcp_send(x); }
static int run_slow_sleeps(long x, long y) { return mode_slow_sleeps(x, y); }
static int run_read_big(long x, long y) { return mode_read_big(x, y); }
static int run_hogged_reads(long x, long y) { return mode_hogged_reads(x, y); }
static int run_slow_waits(long x, long y) { (void)y; return mode_slow_waits(x); }
static int run_many_syscalls(long x, long y) { (void)y; return mode_many_syscalls(x); }
static const char *stat_path;
static int run_stat(long x, long y) { (void)y; return mode_stat(x, stat_path); }

static const struct mode modes[] = {
	SD_MODE1("bpf-mix", bpf_mix), SD_MODE1("syscalls", syscalls), SD_MODE2("sleep", sleep),
	SD_MODE2("timed-sleep", timed_sleep),
	SD_MODE1("openat", openat), SD_MODE1("lookup", lookup), SD_MODE1("getppid", getppid),
	SD_MODE2("progarray", progarray), SD_MODE2("progarray-tail", progarray_tail), SD_MODE1("stuck", stuck), SD_MODE1("exits", exits),
	SD_MODE1("args", args), SD_MODE1("futex", futex), SD_MODE1("ioctl", ioctl),
	SD_MODE1("read", read), SD_MODE1("churn", churn), SD_MODE0("reuse", reuse),
	SD_MODE0("exec-thread", exec_thread),
	SD_MODE1("newer", newer), SD_MODE1("ia32", ia32), SD_MODE2("close-keys", close_keys),
	SD_MODE1("retval", retval), SD_MODE1("signals", signals), SD_MODE1("tcp-send", tcp_send),
	SD_MODE2("stat", stat), SD_MODE2("slow-sleeps", slow_sleeps), SD_MODE2("read-big", read_big),
	SD_MODE1("slow-waits", slow_waits), SD_MODE1("many-syscalls", many_syscalls),
	SD_MODE2("hogged-reads", hogged_reads), SD_MODE1("bpf-maps", bpf_maps), SD_MODE1("fd-swap", fd_swap),
	SD_MODE1("bpf-bad-attr", bpf_bad_attr),
};

int main(int argc, char **argv)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	int a = 1;
	size_t i;

	/* Before Linux 5.11 a BPF map's memory counts against RLIMIT_MEMLOCK, summed over the
	 * user's processes: with a tracer's maps charged to root too, the bpf modes' maps would not
	 * fit (BPF_MAP_CREATE: EPERM). Every BPF program on such kernels lifts it; so does this. */
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	/* a task name the test chooses (a task may only name itself), e.g. one with quotes */
	if (getenv("SD_WORKLOAD_COMM"))
		prctl(PR_SET_NAME, getenv("SD_WORKLOAD_COMM"));
	if (a < argc && strcmp(argv[a], "--stop") == 0) {
		stop_after_setup = 1;
		a++;
	}
	/* A container's init (pid 1) cannot stop itself: the signal is ignored. It runs the mode in
	 * a child then, and waits for it. */
	if (stop_after_setup && getpid() == 1) {
		pid_t child = fork();
		int status;

		if (child > 0) {
			waitpid(child, &status, 0);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
		}
	}
	for (i = 0; a < argc && i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(argv[a], modes[i].name) || argc - a - 1 < modes[i].arguments)
			continue;
		stat_path = argc - a > 2 ? argv[a + 2] : NULL; /* stat's second argument is a path */
		return modes[i].run(argc - a > 1 ? atol(argv[a + 1]) : 0, argc - a > 2 ? atol(argv[a + 2]) : 0);
	}
	fprintf(stderr, "usage: sd-workload [--stop] MODE ARGS... (the modes are listed in main.c)\n");
	return 2;
}
