// SPDX-License-Identifier: GPL-2.0
/* parts PAIR: attach the two programs PAIR_enter and PAIR_exit of parts.bpf.o (next to this
 * binary), print "Attached PAIR, hit Ctrl-C to end." and wait for SIGINT or SIGTERM. */
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
	char path[4096], enter[64], exit_[64];
	struct bpf_object *obj;
	struct bpf_program *p;

	if (argc != 2) { fprintf(stderr, "usage: parts PAIR\n"); return 2; }
	snprintf(path, sizeof(path), "%s.bpf.o", argv[0]);
	snprintf(enter, sizeof(enter), "%s_enter", argv[1]);
	snprintf(exit_, sizeof(exit_), "%s_exit", argv[1]);
	obj = bpf_object__open_file(path, NULL);
	if (!obj) { perror(path); return 1; }
	bpf_object__for_each_program(p, obj) {
		const char *name = bpf_program__name(p);
		bpf_program__set_autoload(p, !strcmp(name, enter) || !strcmp(name, exit_));
	}
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
