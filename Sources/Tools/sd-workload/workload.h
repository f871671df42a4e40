/* sd-workload: what its modes share. */
#ifndef SD_WORKLOAD_H
#define SD_WORKLOAD_H

#include <stdint.h>

/* After setup: with --stop, stop with SIGSTOP until the test has attached and sends SIGCONT. */
void ready(void);
uint64_t now_ns(void);
long involuntary_switches(void);
/* CPU time this thread has run (CLOCK_THREAD_CPUTIME_ID): what a tracer may call on CPU. */
uint64_t thread_cpu_ns(void);
/* Prints what failed with errno's words and exits 1. */
void die(const char *what);

/* bpf_modes.c */
int mode_bpf_mix(long n);
int mode_lookup(long n);
int mode_progarray(int threads, long n, int tail);
/* fd_modes.c */
int mode_bpf_maps(long n);
int mode_fd_swap(long n);
int mode_bpf_bad_attr(long n);
/* syscall_modes.c */
int mode_syscalls(long n);
int mode_sleep(long ms, long n);
int mode_timed_sleep(long ms, long n);
int mode_openat(long n);
int mode_getppid(long n);
int mode_args(long n);
int mode_futex(long n);
int mode_ioctl(long n);
int mode_read(long n);
int mode_newer(long n);
int mode_ia32(long n);
int mode_close_keys(long keys, long phases);
int mode_retval(long n);
int mode_signals(long n);
int mode_tcp_send(long n);
int mode_stat(long n, const char *path);
int mode_many_syscalls(long n);
/* split_modes.c */
int mode_hogged_reads(long mb, long n);
/* slow_modes.c */
int mode_slow_sleeps(long slow, long fast);
int mode_read_big(long mb, long n);
int mode_slow_waits(long n);
/* thread_modes.c */
int mode_stuck(int threads);
int mode_exits(int threads);
int mode_churn(int threads);
int mode_reuse(void);
int mode_exec_thread(long old_tid, long exec_began);

#endif
