// SPDX-License-Identifier: GPL-2.0
/* parts PAIR: attach the programs of parts.bpf.o (next to this binary) whose names begin with
 * PAIR_ (PAIR_enter and PAIR_exit, or sched_empty's four hooks), print "Attached PAIR, hit
 * Ctrl-C to end." and wait for SIGINT or SIGTERM. */
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
	char path[4096], prefix[64];
	int chosen = 0;
	struct bpf_object *obj;
	struct bpf_program *p;

	if (argc != 2) { fprintf(stderr, "usage: parts PAIR\n"); return 2; }
	snprintf(path, sizeof(path), "%s.bpf.o", argv[0]);
	snprintf(prefix, sizeof(prefix), "%s_", argv[1]);
	obj = bpf_object__open_file(path, NULL);
	if (!obj) { perror(path); return 1; }
	bpf_object__for_each_program(p, obj) {
		const char *name = bpf_program__name(p);
		bpf_program__set_autoload(p, !strncmp(name, prefix, strlen(prefix)));
	}
	bpf_object__for_each_program(p, obj)
		chosen += bpf_program__autoload(p);
	if (!chosen) { fprintf(stderr, "parts: no program begins with %s\n", prefix); return 2; }
	if (bpf_object__load(obj)) { perror("load"); return 1; }
	bpf_object__for_each_program(p, obj)
		if (bpf_program__autoload(p) && !bpf_program__attach(p)) { perror(bpf_program__name(p)); return 1; }
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "Attached %s, hit Ctrl-C to end.\n", argv[1]);
	while (!stop)
		pause();
	bpf_object__close(obj);
	return 0;
}
