/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between the BPF program and Swift (module CSyscallDist): only __u32/__u64, like
 * libbpf-tools' *.h beside *.bpf.c. User space fills `struct sd_settings` into .rodata before
 * load; the verifier then prunes every path the profile did not pick. The enums have explicit
 * values: they are indexes and settings both sides read; those marked SD_CLOSED list every value
 * there is, so Swift imports them as enums a switch can exhaust. */
#ifndef SYSCALLDIST_H
#define SYSCALLDIST_H

#include <linux/types.h>

#define SD_CLOSED __attribute__((enum_extensibility(closed)))

/* What the program measures: one syscall, every syscall, or one kernel function. */
enum SD_CLOSED sd_target {
	SD_TARGET_SYSCALL = 0,
	SD_TARGET_ALL_SYSCALLS = 1,
	SD_TARGET_KERNEL_FUNCTION = 2,
};

/* Where the histogram key comes from. ARG0..ARG5 are 0..5 on purpose: the argument's index. */
enum SD_CLOSED sd_key_source {
	SD_KEY_ARG0 = 0,
	SD_KEY_ARG1 = 1,
	SD_KEY_ARG2 = 2,
	SD_KEY_ARG3 = 3,
	SD_KEY_ARG4 = 4,
	SD_KEY_ARG5 = 5,
	SD_KEY_SYSCALL = 6,
	SD_KEY_RETVAL = 7,
	SD_KEY_ERRNO = 8, /* 0 on success, else -retval */
	SD_KEY_PID = 9,   /* thread-group id, what users call the pid */
	SD_KEY_TID = 10,
	SD_KEY_NONE = 11,
	SD_KEY_COMM = 12, /* sparse only: the task's comm, 16 bytes */
	SD_KEY_CGROUP = 13, /* sparse only: the task's cgroup v2 id (its directory's inode) */
};

/* A key of several parts (`key_parts` > 0), or of one that reads user memory or names an fd:
 * each part's value is a word of the key (a comm's two, an fd's SD_FD_WORDS), counted as one
 * key of `key_words` words in the sparse hash. */
enum sd_key_layout {
	SD_KEY_PARTS = 4,  /* the most parts a key has */
	SD_KEY_WORDS = 8,  /* the most words all its parts take */
	SD_FD_WORDS = 3,   /* an fd's part: kind, type and id; then a name of 16 bytes */
	SD_FD_ANON_KINDS = 14, /* sd_fd_kind: below it, those an anonymous inode's files may be */
};

/* What an fd part's first word says the fd named at entry (bits 56..63; bits 32..47 its type or
 * family, 0..31 its id), from its inode's mode, and for a file of the anonymous inode (whose
 * superblock says so) from the name the kernel gave it (`anon_inode:bpf-map`): kallsyms does not
 * list data (file_operations) on kernels without CONFIG_KALLSYMS_ALL. */
enum SD_CLOSED sd_fd_kind {
	SD_FD_NOT_OPEN = 0,    /* no open file at that fd when the call began (or a negative fd) */
	SD_FD_BPF_MAP = 1,     /* type: enum bpf_map_type; id; the map's name */
	SD_FD_BPF_PROG = 2,    /* type: enum bpf_prog_type; id; the program's name */
	SD_FD_BPF_LINK = 3,
	SD_FD_SOCKET = 4,      /* type: the address family */
	SD_FD_EVENTFD = 5, SD_FD_EPOLL = 6, SD_FD_TIMERFD = 7, SD_FD_SIGNALFD = 8, SD_FD_PIDFD = 9,
	SD_FD_PERF_EVENT = 10, SD_FD_IO_URING = 11, SD_FD_INOTIFY = 12, SD_FD_USERFAULTFD = 13,
	SD_FD_REGULAR = 14,    /* from here, the inode's mode */
	SD_FD_DIRECTORY = 15,
	SD_FD_PIPE = 16,       /* a pipe or a FIFO */
	SD_FD_CHAR_DEVICE = 17, SD_FD_BLOCK_DEVICE = 18,
	SD_FD_SYMLINK = 19,    /* opened with O_PATH | O_NOFOLLOW */
	SD_FD_OTHER = 20,      /* an anonymous inode of another kind */
	SD_FD_UNREADABLE = 254, /* its `read` of user memory faulted: no fd to look at */
	SD_FD_NOT_READ = 255,  /* the part's `when` did not hold: the fd was not looked at */
};

/* Bits 48..55 of an fd part's first word: at the call's end the fd no longer named the file it
 * named at entry. The part still shows the entry's file, so said. */
#define SD_FD_CLOSED_IN_CALL (1ULL << 48)
#define SD_FD_REUSED_IN_CALL (1ULL << 49)

struct sd_key_part {
	__u32 source;      /* enum sd_key_source */
	__u32 word;        /* its first word in the key */
	/* arguments: where fentry's context and kprobe's registers hold it, and its bytes */
	__u32 func_slot;
	__u32 func_bytes;
	/* non-zero: the value is the read_size (1, 2, 4 or 8) bytes of user memory at the argument
	 * plus read_offset, read at entry */
	__u32 read_size;
	__u32 read_offset;
	__u32 fd;          /* the value is an fd: the part is what it names (SD_FD_WORDS words) */
	__u32 fd_slot;     /* which of the start's SD_KEY_FD_PARTS fd records keeps it */
	/* an fd part with `when`: read only if the value of part when_part - 1 (earlier, one word)
	 * is below 64 and its bit is set in when_values; 0: always */
	__u32 when_part;
	__u32 unused;
	__u64 when_values;
};

/* Where struct fields are in the running kernel (its BTF), for an fd's walk: task->files->fdt
 * ->fd[n], the file's private data, dentry and inode, the inode's mode and superblock, and what
 * the object says of itself. */
struct sd_fd_layout {
	__u32 task_files;
	__u32 files_fdt;
	__u32 fdt_max_fds;
	__u32 fdt_fd;
	__u32 file_dentry;      /* f_path.dentry */
	__u32 file_private_data;
	__u32 file_f_inode;
	__u32 inode_i_mode;
	__u32 inode_i_sb;
	__u32 sb_magic;
	__u32 dentry_name;      /* d_name.name */
	__u32 map_type, map_id, map_name;
	__u32 prog_type, prog_aux, prog_aux_id, prog_aux_name;
	__u32 socket_sk;
	__u32 sk_family;
	/* the name the kernel gives the anonymous inode's files of each kind (index: the kind, from
	 * 1 below SD_FD_ANON_KINDS), as 16 bytes padded with zeros */
	__u64 anon_names[SD_FD_ANON_KINDS][2];
};

/* Superblock magics (linux/magic.h) that tell an inode's file system. */
#define SD_ANON_INODE_FS_MAGIC 0x09041934
#define SD_PID_FS_MAGIC 0x50494446
#define SD_KEY_FD_PARTS 2 /* the most fd parts a key has */

/* Bucket kinds: also the tail-call index into `bucket_steps`, which has SD_BUCKET_KINDS slots. */
enum SD_CLOSED sd_bucket_kind {
	SD_BUCKET_LOG2 = 0,
	SD_BUCKET_LINEAR = 1,
	SD_BUCKET_LOG2_LINEAR = 2,
	SD_BUCKET_EXPONENTIAL = 3,
};
#define SD_BUCKET_KINDS 4

/* Dense: keys below key_count index a per-CPU array. Sparse (pids, comms, raw values): a hash. */
enum SD_CLOSED sd_storage {
	SD_STORAGE_DENSE = 0,
	SD_STORAGE_SPARSE = 1,
};

enum sd_limits {
	SD_LOG2_SLOTS = 64,       /* a log2 layout's slots: one per power of two of a __u64 */
	SD_MAX_BUCKET_SLOTS = 1024, /* the most slots a linear or log2-linear layout may have */
	/* exponential: the halvings that find a value's bucket among those that meet its power of
	 * two of nanoseconds (at most 2^schema + 1 of them, schema <= 8) */
	SD_EXP_SEARCH_STEPS = 9,
	/* words a series keeps after its bucket counters: the latency sum, the largest latency and
	 * the smallest latency stored inverted (~ns), so that an untouched 0 means "none yet" */
	SD_SERIES_EXTRA_WORDS = 3,
	/* with split_time, two more after those: the ns the calls spent blocked (asleep), and
	 * waiting for a CPU (runnable); on CPU is the latency sum less both */
	SD_SPLIT_WORDS = 2,
	/* compare-and-swaps one raise of a largest or smallest value may take: each failure means
	 * another CPU changed the value meanwhile; giving up is counted (SD_STAT_EXTREME_LOST) */
	SD_RAISE_TRIES = 64,
	/* syscall keys: numbers 0..SD_SYSCALL_KEYS-1; every other number (no kernel has one yet:
	 * x86_64 ends at 471 today) counts under the key SD_SYSCALL_KEYS, "invalid" */
	SD_SYSCALL_KEYS = 512,
	/* func_return_slot of a function that returns nothing */
	SD_NO_RETURN_SLOT = 0xff,
};

/* Per-CPU counters in `cpu_state`, so that every call is accounted for. Identities, exact once
 * the programs are detached: started = finished + replaced + abandoned + mismatched + in flight;
 * finished = counted + key_range + map_full + map_busy + dispatch. SD_STAT_COUNT: how many. */
enum SD_CLOSED sd_stat {
	SD_STAT_STARTED = 0,    /* an entry recorded a start */
	SD_STAT_FINISHED = 1,   /* an exit took its thread's start */
	SD_STAT_REPLACED = 2,   /* an entry found its thread's previous call unfinished (re-entered,
				 * or its exit not seen): that call is not counted */
	SD_STAT_ABANDONED = 3,  /* the thread exited inside the call (exit, exit_group, a kill) */
	SD_STAT_MISMATCHED = 4, /* an exit of another syscall found the start: the started call's
				 * own exit was not seen; not counted */
	SD_STAT_NO_STORAGE = 5, /* no per-thread storage (allocation failed, or busy): not timed */
	SD_STAT_COMPAT = 6,     /* 32-bit (ia32, AArch32) calls seen on raw hooks and not traced
				 * (compat_key_base 0) */
	SD_STAT_KEY_RANGE = 7,  /* dense key beyond the range: dropped */
	SD_STAT_MAP_FULL = 8,   /* sparse histogram map full: dropped */
	SD_STAT_ERRORS_FULL = 9, /* errors map full or busy: counted, but its errno not itemized */
	SD_STAT_DISPATCH = 10,  /* tail call failed (a bug): dropped */
	SD_STAT_MAP_BUSY = 11,  /* sparse hash busy (a BPF program this one interrupted held the
				 * bucket's lock): dropped */
	SD_STAT_SLOW = 12,      /* a call at or above the slow-call threshold was counted */
	SD_STAT_SLOW_DROPPED = 13, /* a slow call's record found the ring buffer full: lost */
	SD_STAT_EXTREME_LOST = 14, /* a largest, smallest or most-at-once value was not raised
				    * within SD_RAISE_TRIES tries: that figure may be low */
	SD_STAT_SWITCH_UNSEEN = 15, /* slow-call mode: a traced thread's leaving or return to a CPU
				     * the sched_switch hook did not see; its time off CPU was
				     * rebuilt from the scheduler's runtime */
	SD_STAT_WAIT_LOST = 16, /* --off-cpu: a blocked stretch not kept by wait site (the
				 * wait_sites map full or busy); its time is still in the split */
	SD_STAT_KEY_READ_FAULT = 17, /* a key part's read of user memory faulted (a part that
				      * names an fd: "unreadable"; any other: 0), once per part */
	SD_STAT_COUNT = 18,
};

/* A stack id that is no stack (`stacks` map ids are >= 0; a failed bpf_get_stackid is -errno) */
enum sd_stack_none {
	SD_STACK_NOT_TAKEN = -1000, /* not asked for, or the call never blocked */
	/* a `wait_sites` entry of a lock's kind, not a stack: SD_LOCK_SITE - its LCB_F_* flags
	 * (below 64), the time calls waited for locks of that kind (lock:contention_*) */
	SD_LOCK_SITE = -65536,
};

/* lock.h's LCB_F_MUTEX; and a bit of sd_start.contend_flags no LCB_F_* flag uses: a spinlock at
 * the waited-for lock's own address is being waited for inside that wait */
#define SD_LCB_MUTEX (1U << 5)
#define SD_LOCK_INNER (1ULL << 32)

struct sd_settings {
	__u32 target;      /* enum sd_target */
	__u32 syscall_nr;  /* SD_TARGET_SYSCALL: the one to keep on hooks that see every syscall */
	__u32 key_source;  /* enum sd_key_source */
	__u32 storage;     /* enum sd_storage */
	__u32 key_count;   /* dense: keys 0..key_count-1 (each generation) */
	/* one series per key for every CPU, added to with atomics (memory independent of the CPU
	 * count), instead of one per key and CPU; never in the compat object (no compare-and-swap) */
	__u32 shared_series;
	__u32 bucket_kind; /* enum sd_bucket_kind */
	__u32 bucket_slots;
	__u32 sub_bucket_bits; /* log2-linear: 2^bits sub-buckets per power of two */
	/* exponential: the slot of 2^i ns, for each i; the slots' upper bounds are `exp_upper` */
	__u32 exp_octave_slot[64];
	__u64 unit_ns;         /* latency is divided by this before bucketing */
	__u64 linear_min;      /* in units */
	__u64 linear_step;     /* in units, > 0 */
	__u32 split_outcome;   /* histogram per (key, ok / errno): sparse storage only */
	__u32 filter_tgid;     /* 0: any process */
	__u32 filter_tid;      /* 0: any thread */
	__u32 self_tgid;       /* never count the tool's own calls */
	__u32 filter_cgroup;   /* only tasks in the cgroup of `cgroup_filter`[0] or below it */
	__u32 filter_comm_set;
	__u64 filter_comm[2];  /* task comm, 16 bytes */
	__u32 track_concurrency;   /* count the calls in flight, keep the most at once */
	__u32 concurrency_per_key; /* per dense key known at entry, else one for the probe */
	/* struct task_struct as the running kernel lays it out (from its BTF): the program reads
	 * these fields directly instead of calling helpers */
	__u32 task_pid_offset;
	__u32 task_tgid_offset;
	__u32 task_comm_offset;
	/* 32-bit callers: the word of task_struct that says so and the bit (x86: thread_info.status
	 * & TS_COMPAT, arm64: thread_info.flags & TIF_32BIT); 0: the hook never sees them */
	__u32 compat_offset;
	__u32 compat_mask;
	/* non-zero: every syscall keyed by number, and 32-bit callers' numbers have a table in user
	 * space (ia32); such a call of number n < SD_SYSCALL_KEYS is keyed compat_key_base + n.
	 * 0: they are not traced, only counted apart (SD_STAT_COMPAT) */
	__u32 compat_key_base;
	/* se.sum_exec_runtime: the ns the task ran (task clock: less steal and accounted IRQ time),
	 * which the scheduler brings up to date when it leaves a CPU and at each tick; 0: unknown */
	__u32 task_runtime_offset;
	/* kernel functions, from their BTF prototype: where fentry's context holds the key's
	 * argument and fexit's the return value (a struct argument of up to 16 bytes takes two
	 * slots), and whether the return value is a 32-bit signed int (its register's upper half is
	 * then no part of it: -2 is 0x00000000fffffffe) */
	__u32 func_key_slot;
	__u32 func_return_slot; /* SD_NO_RETURN_SLOT: a void function */
	__u32 func_returns_int32;
	__u32 func_key_bytes; /* the key argument's size: a u32 in a 64-bit register is its lower half */
	/* non-zero: the tool runs in this pid namespace (nsfs dev and inode), and the pid filters,
	 * the self filter and pid/tid keys use its ids */
	__u64 pidns_dev;
	__u64 pidns_ino;
	/* slow calls: each call of at least slower_than_ns is sent to `slow_calls` with the time
	 * its thread spent off CPU inside it (the sched_switch hook runs only then), and with
	 * slow_stacks the user stack where it ended and the kernel stack where it blocked longest */
	__u32 report_slow;
	__u32 slow_stacks;
	__u64 slower_than_ns;
	/* every counted call's time split: blocked and waiting for a CPU summed per series
	 * (SD_SPLIT_WORDS, by the *_split bucket steps); sched_wakeup runs only then */
	__u32 split_time;
	/* report_slow or split_time: entry and exit keep each call's time off CPU, which the
	 * sched_switch hook (loaded only then) counts */
	__u32 track_switches;
	/* with split_time: each blocked stretch's time is summed in `wait_sites` by the call's
	 * entry key and the kernel stack where its thread left the CPU */
	__u32 wait_sites;
	/* task_struct's __state (state before 5.14): 0 is TASK_RUNNING, so a task leaving a CPU
	 * with it waits for a CPU, else it blocks */
	__u32 task_state_offset;
	/* 0: the one-part key of key_source. Else the key's parts (part[0..key_parts-1]) and the
	 * words they take (the sparse hashes' keys are sized to them) */
	__u32 key_parts;
	__u32 key_words;
	struct sd_key_part part[SD_KEY_PARTS];
	struct sd_fd_layout fd_layout;
};

/* A thread's call in flight, in task-local storage: freed with the task, so it cannot leak or
 * be found by a later thread that reuses the id. */
struct sd_start {
	__u64 ts;  /* 0: no call in flight */
	__u64 key; /* argument or syscall number captured at entry (arguments are gone by exit) */
	__u64 nr;  /* the syscall entered: an exit only finishes the call its thread started */
	/* with report_slow only: the call's time off CPU, kept by the sched_switch hook */
	__u64 off_since;   /* switched out at; 0 while on CPU */
	__u64 off_cpu;     /* ns off CPU in the call so far */
	__u64 longest_off; /* the longest stretch off CPU */
	__s32 blocked_stack; /* kernel stack id where it went off CPU for longest */
	__s32 pending_stack; /* kernel stack id of the stretch off CPU now */
	__u64 ran_at_off;    /* the thread's runtime when it left the CPU (task_runtime_offset) */
	__u64 on_at;         /* when it was last seen on a CPU in the call: entry or a switch in */
	__u64 ran_at_on;     /* its runtime then */
	/* with split_time: the call's ns waiting for a CPU so far; whether the stretch off CPU now
	 * began runnable (preempted, or yielded); when a blocked stretch was woken (0: not yet) */
	__u64 runnable;
	__u64 woken_at;
	__u64 off_runnable;
	/* with split_time, on 5.19+ (lock:contention_begin/end): when the thread began waiting for
	 * the lock at `contend_lock` (0: not waiting), and that lock's kind (LCB_F_* flags) */
	__u64 contend_since;
	__u64 contend_lock;
	__u64 contend_flags;
	/* a key of parts: the words of those known at entry, and for each fd part the fd and what
	 * it named then (the file, and its object), which the exit checks again */
	__u64 entry_key[SD_KEY_WORDS];
	__s64 fd[SD_KEY_FD_PARTS];
	__u64 fd_file[SD_KEY_FD_PARTS];
	__u64 fd_object[SD_KEY_FD_PARTS];
};

/* One slow call, as `slow_calls` (a ring buffer) hands it to user space. */
struct sd_slow_call {
	__u64 end_ns;  /* CLOCK_MONOTONIC (bpf_ktime_get_ns) when it ended */
	__u64 latency_ns;
	__u64 off_cpu_ns;
	__u64 longest_off_ns;
	__u64 key[SD_KEY_WORDS];
	__u64 err;     /* -retval when it failed, else 0 */
	__u32 pid;     /* thread-group id and thread id in the tool's pid namespace */
	__u32 tid;
	__s64 user_stack;   /* `stacks` ids, or SD_STACK_NOT_TAKEN, or -errno */
	__s64 kernel_stack;
	__u64 comm[2];
	/* with split_time: of off_cpu_ns (cut to the latency), the ns waiting for a CPU; the rest
	 * was blocked */
	__u64 runnable_ns;
	__u64 blocked_ns;
};

/* A place calls blocked at (`wait_sites`): the call's key as known at entry (an argument, the
 * syscall; 0 for keys found at exit) and the `stacks` id of where its thread left the CPU (< 0:
 * the stack was lost, -errno). */
struct sd_wait_key {
	__u64 key;
	__s64 stack;
};

/* The blocked time summed there, and how many stretches. */
struct sd_wait {
	__u64 ns;
	__u64 count;
};

/* Handed from the exit handler to the bucket step. */
struct sd_event {
	__u64 latency; /* in units */
	__u64 ns;      /* the same latency in nanoseconds, for the exact sum, min and max */
	__u64 key[SD_KEY_WORDS]; /* key[1] for a comm; more for a key of parts (key_words) */
	__u64 err;     /* -retval when it failed, else 0 */
	__u64 slow;    /* reported as a slow call: counted as one once it is in a histogram */
	__u64 blocked_ns;  /* with split_time: of ns, the time asleep ... */
	__u64 runnable_ns; /* ... and waiting for a CPU; the rest was on CPU */
};

/* One per CPU (`cpu_state`): the event in hand and the counters. */
struct sd_cpu {
	struct sd_event event;
	__u64 stats[SD_STAT_COUNT];
};

/* Threads inside the traced call: now, and the most there were at once. */
struct sd_concurrency {
	__u64 now;
	__u64 max;
};

/* Sparse series key: one entry per (key, outcome), or per (key, outcome, CPU) where series are
 * not shared; its value is the series' counters as in the dense array (bucket counters, then
 * SD_SERIES_EXTRA_WORDS). Keyed by CPU, not per-CPU: a key costs memory on the CPUs that saw it
 * only. The hash's key size is 8 bytes and the key's words (2, or key_words): a one-part key
 * hashes no more than it did. */
struct sd_series_key {
	__u32 outcome; /* with split_outcome: the errno (0: ok), else 0 */
	__u32 cpu;     /* 0 where series are shared */
	__u64 key[SD_KEY_WORDS];
};

/* Failed calls per (key, errno), in the `errors_*` hashes, shared by every CPU (atomic adds):
 * only failing calls touch them, and their capacity does not shrink with the CPU count. */
struct sd_error_key {
	__u32 err;
	__u32 unused; /* zero: no padding in a hash key */
	__u64 key[SD_KEY_WORDS]; /* sized as sd_series_key's */
};

#endif
