#define _GNU_SOURCE
#include <sched.h>
#include <sys/vfs.h>
#include <linux/magic.h>

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
