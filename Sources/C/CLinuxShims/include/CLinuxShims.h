/* Linux calls Swift's Glibc module does not expose (they need _GNU_SOURCE or <sys/vfs.h>). */
#ifndef CLINUXSHIMS_H
#define CLINUXSHIMS_H

#include <stddef.h>

/* unshare(CLONE_NEWNS): a mount namespace for the calling thread; 0 or -1 with errno. */
int CLinuxShims_unshare_mount_namespace(void);

/* 1 if path is on a cgroup v2 file system, 0 if not, -1 with errno on error. */
int CLinuxShims_is_cgroup2(const char *path);

/* perf_event_open for the trace event `id`, on every CPU's events (pid -1, cpu 0), close-on-exec;
 * the fd or -1 with errno. For attaching a BPF program to a tracefs-defined kprobe. */
int CLinuxShims_perf_event_open_tracepoint(unsigned long long id);

/* bpf(BPF_MAP_CREATE) of an invalid ring buffer: 0 if the kernel let the call reach the map's
 * own checks (it answers EINVAL), else the errno of what refused it first (EPERM from a seccomp
 * filter, an LSM, or the kernel: no CAP_BPF in the initial user namespace). */
int CLinuxShims_bpf_refusal(void);

/* memmem(3): the first place `needle` occurs in `haystack`, or NULL. */
void *CLinuxShims_memmem(const void *haystack, size_t haystack_length, const void *needle,
			 size_t needle_length);

#endif
