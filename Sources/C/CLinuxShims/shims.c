#define _GNU_SOURCE
#include <sched.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include <errno.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "CLinuxShims.h"

int CLinuxShims_unshare_mount_namespace(void)
{
	return unshare(CLONE_NEWNS);
}

int CLinuxShims_is_cgroup2(const char *path)
{
	struct statfs fs;

	if (statfs(path, &fs) != 0)
		return -1;
	return fs.f_type == CGROUP2_SUPER_MAGIC;
}

int CLinuxShims_perf_event_open_tracepoint(unsigned long long id)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_TRACEPOINT;
	attr.config = id;
	return (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
}

int CLinuxShims_bpf_refusal(void)
{
	union bpf_attr attr;
	long fd;

	/* a ring buffer of 0 bytes: invalid, but a type that needs CAP_BPF, which Linux 6.5 and later
	 * check only once the type is known (an unknown type is EINVAL in a user namespace too) */
	memset(&attr, 0, sizeof(attr));
	attr.map_type = BPF_MAP_TYPE_RINGBUF;
	fd = syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
	if (fd >= 0) {
		close((int)fd);
		return 0;
	}
	return errno == EINVAL ? 0 : errno;
}

void *CLinuxShims_memmem(const void *haystack, size_t haystack_length, const void *needle,
			 size_t needle_length)
{
	return memmem(haystack, haystack_length, needle, needle_length);
}
