/* sd-workload: calls on fds whose objects are known: BPF maps by name, and fds closed or
 * replaced while a call on them is blocked. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "workload.h"

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int named_map(enum bpf_map_type type, const char *name, unsigned max)
{
	union bpf_attr a = { .map_type = type, .key_size = 4, .value_size = 4, .max_entries = max };

	strncpy(a.map_name, name, sizeof(a.map_name) - 1);
	return (int)sys_bpf(BPF_MAP_CREATE, &a);
}

static uint32_t map_id(int fd)
{
	struct bpf_map_info info = {};
	union bpf_attr a = { .info = { .bpf_fd = fd, .info_len = sizeof(info), .info = (uintptr_t)&info } };

	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a))
		die("BPF_OBJ_GET_INFO_BY_FD");
	return info.id;
}

static void map_call(int cmd, int fd, uint32_t key, uint32_t *value)
{
	union bpf_attr a = { .map_fd = fd, .key = (uintptr_t)&key, .value = (uintptr_t)value };

	if (sys_bpf(cmd, &a) && fd >= 0 && cmd != BPF_MAP_LOOKUP_ELEM)
		die("bpf map command");
}

/* A hash "sd_rules" and a PROG_ARRAY "sd_progs" (one socket filter in it), each created, then
 * asked its id once: N updates and N lookups of the hash, 2N updates of the PROG_ARRAY, and one
 * lookup on an fd that is not open. */
int mode_bpf_maps(long n)
{
	struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr load = { .prog_type = BPF_PROG_TYPE_SOCKET_FILTER, .insns = (uintptr_t)prog,
				.insn_cnt = 2, .license = (uintptr_t)"GPL" };
	int rules = named_map(BPF_MAP_TYPE_HASH, "sd_rules", 16);
	int progs = named_map(BPF_MAP_TYPE_PROG_ARRAY, "sd_progs", 4);
	int prog_fd = (int)sys_bpf(BPF_PROG_LOAD, &load);
	int closed = 1000;
	uint32_t value = 7, rules_id, progs_id;
	long i;

	if (rules < 0 || progs < 0 || prog_fd < 0)
		die("bpf-maps setup");
	close(closed);
	ready();
	rules_id = map_id(rules);
	progs_id = map_id(progs);
	for (i = 0; i < n; i++) {
		map_call(BPF_MAP_UPDATE_ELEM, rules, (uint32_t)(i % 16), &value);
		map_call(BPF_MAP_LOOKUP_ELEM, rules, (uint32_t)(i % 16), &value);
	}
	value = (uint32_t)prog_fd;
	for (i = 0; i < 2 * n; i++)
		map_call(BPF_MAP_UPDATE_ELEM, progs, (uint32_t)(i % 4), &value);
	map_call(BPF_MAP_LOOKUP_ELEM, closed, 0, &value);
	printf("{\"mode\":\"bpf-maps\",\"pid\":%d,\"rules_id\":%u,\"progs_id\":%u,\"hash_updates\":%ld,"
	       "\"hash_lookups\":%ld,\"prog_array_updates\":%ld,\"info_calls\":1,\"not_open_fd\":%d}\n",
	       getpid(), rules_id, progs_id, n, n, 2 * n, closed);
	return 0;
}

/* N x BPF_MAP_LOOKUP_ELEM and N x BPF_PROG_LOAD whose attr points at no memory (EFAULT). */
int mode_bpf_bad_attr(long n)
{
	long i, faulted = 0;

	ready();
	for (i = 0; i < n; i++) {
		faulted += syscall(__NR_bpf, BPF_MAP_LOOKUP_ELEM, (void *)1, sizeof(union bpf_attr)) < 0 && errno == EFAULT;
		faulted += syscall(__NR_bpf, BPF_PROG_LOAD, (void *)1, sizeof(union bpf_attr)) < 0 && errno == EFAULT;
	}
	if (faulted != 2 * n)
		die("bpf with a bad attr did not fail with EFAULT");
	printf("{\"mode\":\"bpf-bad-attr\",\"pid\":%d,\"lookups\":%ld,\"prog_loads\":%ld}\n", getpid(), n, n);
	return 0;
}

struct blocked_read {
	int fd;
	pthread_t thread;
	pid_t tid;
	long result;
};

static void *read_one(void *arg)
{
	struct blocked_read *r = arg;
	char byte;

	r->tid = (pid_t)syscall(SYS_gettid);
	r->result = read(r->fd, &byte, 1);
	return NULL;
}

/* Waits until the thread is blocked inside read (/proc shows the syscall it is in). */
static void wait_blocked_in_read(pid_t tid)
{
	char path[64], line[32] = "", prefix[16];

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	snprintf(prefix, sizeof(prefix), "%d ", SYS_read);
	for (;;) {
		FILE *f = fopen(path, "r");

		if (f) {
			if (!fgets(line, sizeof(line), f))
				line[0] = 0;
			fclose(f);
		}
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			return;
		usleep(1000);
	}
}

/* A read blocked on a pipe while another thread changes its fd, then wakes it by writing to the
 * pipe: `how` 0 closes the fd, 1 puts another pipe at that fd (dup2). */
static void change_under_read(int how)
{
	struct blocked_read r = { .tid = 0 };
	int pipe_fds[2], other[2];

	if (pipe(pipe_fds) || pipe(other))
		die("pipe");
	r.fd = pipe_fds[0];
	if (pthread_create(&r.thread, NULL, read_one, &r))
		die("pthread_create");
	while (!__atomic_load_n(&r.tid, __ATOMIC_SEQ_CST))
		usleep(1000);
	wait_blocked_in_read(r.tid);
	if (how == 0)
		close(pipe_fds[0]);
	else if (dup2(other[0], pipe_fds[0]) < 0)
		die("dup2");
	if (write(pipe_fds[1], "x", 1) != 1)
		die("write");
	pthread_join(r.thread, NULL);
	if (r.result != 1)
		die("the blocked read");
	close(pipe_fds[1]);
	close(other[0]);
	close(other[1]);
	if (how == 1)
		close(pipe_fds[0]);
}

/* N reads of one byte from a pipe, then one read whose fd is closed while it blocks and one
 * whose fd is replaced by another pipe's. */
int mode_fd_swap(long n)
{
	int pipe_fds[2];
	char byte;
	long i;

	if (pipe(pipe_fds))
		die("pipe");
	ready();
	for (i = 0; i < n; i++) {
		if (write(pipe_fds[1], "x", 1) != 1 || read(pipe_fds[0], &byte, 1) != 1)
			die("pipe read");
	}
	change_under_read(0);
	change_under_read(1);
	printf("{\"mode\":\"fd-swap\",\"pid\":%d,\"pipe_reads\":%ld,\"closed_in_call\":1,\"reused_in_call\":1}\n",
	       getpid(), n);
	return 0;
}
