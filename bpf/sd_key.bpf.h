/* SPDX-License-Identifier: GPL-2.0 */
/* A key of parts (cfg.key_parts > 0): each part's value, those known at entry kept in the start,
 * the others found at exit, side by side in the event's key words. A part may read a field of
 * user memory through its argument, and may turn an fd into what it names: the fd table's walk
 * (task->files->fdt->fd[n]) reads the kernel's memory at offsets from its BTF (cfg.fd_layout). */
#ifndef SD_KEY_BPF_H
#define SD_KEY_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "syscalldist.h"
#include "sd_maps.bpf.h"
#include "sd_task.bpf.h"

/* The syscall key of a number: every number no syscall has counts as one, the invalid key
 * SD_SYSCALL_KEYS, so that `syscall(100000)` cannot grow the key space. */
static __always_inline __u64 sd_syscall_key(long nr)
{
	return (__u64)nr < SD_SYSCALL_KEYS ? (__u64)nr : SD_SYSCALL_KEYS;
}

/* The words of the sparse hashes' keys: a one-part key takes two (a comm's 16 bytes). */
static __always_inline __u32 sd_key_words(void)
{
	return cfg.key_parts ? cfg.key_words : 2;
}

static __always_inline __u64 sd_kernel_word(__u64 address, __u32 bytes)
{
	__u64 value = 0;

	bpf_probe_read_kernel(&value, bytes & 15, (void *)address);
	return value;
}

/* The file at the task's fd `fd` (0: none open there). BPF programs run under RCU, which keeps
 * the fd table they read alive. */
static __always_inline __u64 sd_fd_file(struct task_struct *task, __s64 fd)
{
	const volatile struct sd_fd_layout *l = &cfg.fd_layout;
	__u64 files, fdt, table;

	if (fd < 0)
		return 0;
	files = sd_kernel_word((__u64)task + l->task_files, 8);
	fdt = files ? sd_kernel_word(files + l->files_fdt, 8) : 0;
	if (!fdt || (__u64)fd >= sd_kernel_word(fdt + l->fdt_max_fds, 4))
		return 0;
	table = sd_kernel_word(fdt + l->fdt_fd, 8);
	return table ? sd_kernel_word(table + fd * 8, 8) : 0;
}

/* The kind an inode's mode gives a file. */
static __always_inline __u64 sd_fd_kind_of_mode(__u32 mode)
{
	switch (mode & 0170000) { /* S_IFMT */
	case 0100000: return SD_FD_REGULAR;
	case 0040000: return SD_FD_DIRECTORY;
	case 0010000: return SD_FD_PIPE;
	case 0020000: return SD_FD_CHAR_DEVICE;
	case 0060000: return SD_FD_BLOCK_DEVICE;
	case 0120000: return SD_FD_SYMLINK;
	case 0140000: return SD_FD_SOCKET;
	default: return SD_FD_OTHER;
	}
}

/* A file of the anonymous inode: its kind by the name the kernel gave it ("bpf-map"). */
static __always_inline __u64 sd_fd_anon_kind(__u64 file)
{
	const volatile struct sd_fd_layout *l = &cfg.fd_layout;
	__u64 dentry = sd_kernel_word(file + l->file_dentry, 8), name[2] = {}, kind = SD_FD_OTHER;
	__u64 text = dentry ? sd_kernel_word(dentry + l->dentry_name, 8) : 0;

	if (!text || bpf_probe_read_kernel_str(name, sizeof(name), (void *)text) < 0)
		return SD_FD_OTHER;
#pragma clang loop unroll(full)
	for (int k = 1; k < SD_FD_ANON_KINDS; k++) {
		if (l->anon_names[k][0] && name[0] == l->anon_names[k][0] && name[1] == l->anon_names[k][1])
			kind = k;
	}
	return kind;
}

/* A file's kind: its inode's mode, and where that is a regular file's or none, its file system
 * (an anonymous inode's file, a pidfd). */
static __always_inline __u64 sd_fd_kind(__u64 file)
{
	const volatile struct sd_fd_layout *l = &cfg.fd_layout;
	__u64 inode = sd_kernel_word(file + l->file_f_inode, 8), kind, sb, magic;

	if (!inode)
		return SD_FD_OTHER;
	kind = sd_fd_kind_of_mode(sd_kernel_word(inode + l->inode_i_mode, 2));
	if (kind != SD_FD_REGULAR && kind != SD_FD_OTHER)
		return kind;
	sb = sd_kernel_word(inode + l->inode_i_sb, 8);
	magic = sb ? sd_kernel_word(sb + l->sb_magic, 8) : 0;
	if (magic == SD_ANON_INODE_FS_MAGIC)
		return sd_fd_anon_kind(file);
	return magic == SD_PID_FS_MAGIC ? SD_FD_PIDFD : kind;
}

/* What `fd` names (SD_FD_WORDS words: kind << 56 | type << 32 | id, then a name), and in the
 * start's fd record `slot` what the exit checks again: the fd, its file and the file's object. */
static __always_inline void sd_fd_describe(
	struct task_struct *task, struct sd_start *s, __u32 slot, __s64 fd, __u64 *words)
{
	const volatile struct sd_fd_layout *l = &cfg.fd_layout;
	__u64 file = sd_fd_file(task, fd), object, kind, type = 0, id = 0;

	slot &= SD_KEY_FD_PARTS - 1;
	s->fd[slot] = fd;
	s->fd_file[slot] = file;
	s->fd_object[slot] = 0;
	words[1] = 0;
	words[2] = 0;
	if (!file) {
		words[0] = (__u64)SD_FD_NOT_OPEN << 56 | (__u32)fd;
		return;
	}
	object = sd_kernel_word(file + l->file_private_data, 8);
	s->fd_object[slot] = object;
	kind = sd_fd_kind(file);
	if (kind == SD_FD_BPF_MAP) {
		type = sd_kernel_word(object + l->map_type, 4);
		id = sd_kernel_word(object + l->map_id, 4);
		bpf_probe_read_kernel(&words[1], 16, (void *)(object + l->map_name));
	} else if (kind == SD_FD_BPF_PROG) {
		__u64 aux = sd_kernel_word(object + l->prog_aux, 8);

		type = sd_kernel_word(object + l->prog_type, 4);
		if (aux) {
			id = sd_kernel_word(aux + l->prog_aux_id, 4);
			bpf_probe_read_kernel(&words[1], 16, (void *)(aux + l->prog_aux_name));
		}
	} else if (kind == SD_FD_SOCKET) {
		__u64 sk = sd_kernel_word(object + l->socket_sk, 8);

		type = sk ? sd_kernel_word(sk + l->sk_family, 2) : 0;
	}
	words[0] = kind << 56 | (type & 0xffff) << 32 | (__u32)id;
}

/* At the call's end: whether its fd still names what it named at entry. */
static __always_inline __u64 sd_fd_changed(struct task_struct *task, struct sd_start *s, __u32 slot)
{
	__u64 file;

	slot &= SD_KEY_FD_PARTS - 1;
	if (!s->fd_file[slot])
		return 0; /* nothing open there at entry: the part says so */
	file = sd_fd_file(task, s->fd[slot]);
	if (!file)
		return SD_FD_CLOSED_IN_CALL;
	if (file != s->fd_file[slot]
	    || sd_kernel_word(file + cfg.fd_layout.file_private_data, 8) != s->fd_object[slot])
		return SD_FD_REUSED_IN_CALL;
	return 0;
}

/* `bytes` (1, 2, 4 or 8) of user memory at `address`, little-endian, into `value`; a read that
 * faults leaves 0, is counted, and returns 0. */
static __always_inline int sd_user_value(struct sd_cpu *cpu, __u64 address, __u32 bytes, __u64 *value)
{
	*value = 0;
	if (bpf_probe_read_user(value, bytes & 15, (void *)address) == 0)
		return 1;
	if (cpu)
		sd_stat(cpu, SD_STAT_KEY_READ_FAULT);
	return 0;
}

/* An fd part's `when`: the earlier part it names has one of its values. */
static __always_inline int sd_part_wanted(struct sd_start *s, const volatile struct sd_key_part *p)
{
	__u32 other = (p->when_part - 1) & (SD_KEY_PARTS - 1);
	__u64 value = s->entry_key[cfg.part[other].word & (SD_KEY_WORDS - 1)];

	return value < 64 && (p->when_values >> value) & 1;
}

/* An fd part that names nothing: not read (`kind` SD_FD_NOT_READ), or its fd's read faulted. */
static __always_inline void sd_fd_none(struct sd_start *s, __u32 slot, __u64 kind, __u64 *words)
{
	s->fd_file[slot & (SD_KEY_FD_PARTS - 1)] = 0; /* nothing for the exit to check */
	words[0] = kind << 56;
	words[1] = 0;
	words[2] = 0;
}

/* Entry: the parts known now (arguments, the syscall), each in its words of the start. `args`:
 * each part's argument, as its hook read it. */
static __always_inline void sd_entry_parts(
	struct task_struct *task, struct sd_cpu *cpu, struct sd_start *s, long nr, const __u64 *args)
{
#pragma clang loop unroll(full)
	for (int i = 0; i < SD_KEY_PARTS; i++) {
		const volatile struct sd_key_part *p = &cfg.part[i];
		__u32 w = p->word;
		__u64 value;

		if (i >= cfg.key_parts)
			break;
		if (p->source == SD_KEY_SYSCALL)
			value = sd_syscall_key(nr);
		else if (p->source <= SD_KEY_ARG5)
			value = args[i];
		else
			continue; /* found at exit */
		if (p->fd) { /* the loader keeps every fd part's words within the key */
			if (w > SD_KEY_WORDS - SD_FD_WORDS)
				continue;
			if (p->when_part && !sd_part_wanted(s, p))
				sd_fd_none(s, p->fd_slot, SD_FD_NOT_READ, &s->entry_key[w]);
			else if (p->read_size && !sd_user_value(cpu, value + p->read_offset, p->read_size, &value))
				sd_fd_none(s, p->fd_slot, SD_FD_UNREADABLE, &s->entry_key[w]);
			else
				sd_fd_describe(task, s, p->fd_slot, (int)value, &s->entry_key[w]);
		} else if (w < SD_KEY_WORDS) {
			if (p->read_size)
				sd_user_value(cpu, value + p->read_offset, p->read_size, &value);
			s->entry_key[w] = value;
		}
	}
}

/* Exit: every part's words into the event's key, an fd part's marked when its fd changed. */
static __always_inline void sd_exit_parts(
	struct task_struct *task, struct sd_start *s, struct sd_event *e, long ret)
{
#pragma clang loop unroll(full)
	for (int w = 0; w < SD_KEY_WORDS; w++)
		e->key[w] = 0;
#pragma clang loop unroll(full)
	for (int i = 0; i < SD_KEY_PARTS; i++) {
		const volatile struct sd_key_part *p = &cfg.part[i];
		__u32 w = p->word;

		if (i >= cfg.key_parts)
			break;
		if (w >= SD_KEY_WORDS)
			continue;
		switch (p->source) {
		case SD_KEY_RETVAL:
			e->key[w] = ret;
			break;
		case SD_KEY_ERRNO:
			e->key[w] = e->err;
			break;
		case SD_KEY_PID:
			e->key[w] = sd_ids(task).tgid;
			break;
		case SD_KEY_TID:
			e->key[w] = sd_ids(task).tid;
			break;
		case SD_KEY_CGROUP:
			e->key[w] = bpf_get_current_cgroup_id();
			break;
		case SD_KEY_COMM:
			if (w < SD_KEY_WORDS - 1)
				sd_comm(task, &e->key[w]);
			break;
		case SD_KEY_NONE:
			break;
		default: /* known at entry */
			if (p->fd && w > SD_KEY_WORDS - SD_FD_WORDS)
				break; /* as at entry */
			e->key[w] = s->entry_key[w];
			if (p->fd) {
				e->key[w] |= sd_fd_changed(task, s, p->fd_slot);
				e->key[w + 1] = s->entry_key[w + 1];
				e->key[w + 2] = s->entry_key[w + 2];
			}
		}
	}
}

#endif
