/* sd-workload: bpf() calls with exactly known counts per command. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "workload.h"

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

int mode_bpf_mix(long n)
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

int mode_lookup(long n)
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

/* A socket filter that tail-calls through `map` at every key below `keys`, each a constant: the
 * JIT patches those jumps in place, so that every update of the map takes the poke path
 * (prog_array_map_poke_run under the map's poke_mutex), as a loaded XDP dispatcher makes it. */
static int load_tail_caller(int map_fd, int keys)
{
	struct bpf_insn *insns = calloc(5 * keys + 3, sizeof(*insns));
	union bpf_attr load = { .prog_type = BPF_PROG_TYPE_SOCKET_FILTER, .license = (uintptr_t)"GPL" };
	int n = 0, i, fd;

	if (!insns)
		die("calloc");
	insns[n++] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_6, .src_reg = BPF_REG_1 };
	for (i = 0; i < keys; i++) {
		insns[n++] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_1, .src_reg = BPF_REG_6 };
		insns[n++] = (struct bpf_insn){ .code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = BPF_REG_2,
						.src_reg = BPF_PSEUDO_MAP_FD, .imm = map_fd };
		insns[n++] = (struct bpf_insn){ 0 };
		insns[n++] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = i };
		insns[n++] = (struct bpf_insn){ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call };
	}
	insns[n++] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 };
	insns[n++] = (struct bpf_insn){ .code = BPF_JMP | BPF_EXIT };
	load.insns = (uintptr_t)insns;
	load.insn_cnt = n;
	fd = (int)sys_bpf(BPF_PROG_LOAD, &load);
	free(insns);
	return fd;
}

int mode_progarray(int threads, long n, int tail)
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
	if (map_fd < 0 || prog_fd < 0 || (tail && load_tail_caller(map_fd, threads) < 0))
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
	printf("{\"mode\":\"%s\",\"threads\":%d,\"counts\":{\"BPF_MAP_UPDATE_ELEM\":%ld,"
	       "\"BPF_MAP_DELETE_ELEM\":%ld},\"errors\":%ld,\"ns_per_op\":%.2f}\n",
	       tail ? "progarray-tail" : "progarray", threads, threads * ((n + 1) / 2), threads * (n / 2), errors,
	       (double)(now_ns() - t0) / ((double)threads * n));
	return 0;
}
