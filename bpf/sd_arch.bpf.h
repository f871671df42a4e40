/* SPDX-License-Identifier: GPL-2.0 */
/* What differs by architecture: the slice of struct pt_regs the syscall and kprobe hooks read,
 * and where in it a syscall's arguments and number, a function's arguments and its return value
 * are. */
#ifndef SD_ARCH_BPF_H
#define SD_ARCH_BPF_H

/* On x86_64 and arm64 the kernel's layout is the uapi one (asm/ptrace.h, user_pt_regs), so fixed
 * offsets are right on every kernel, and the object needs no CO-RE: loading it then does not make
 * libbpf parse the kernel's 5 MB BTF (startup time and memory). */
#if defined(__TARGET_ARCH_x86)
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax;
};

/* where syscall argument n lives: the syscall ABI passes the 4th in r10, not cx */
#define SD_SYSCALL_ARG_PTR(r, n)                                                       \
	((n) == 0 ? &(r)->di : (n) == 1 ? &(r)->si : (n) == 2 ? &(r)->dx :              \
	 (n) == 3 ? &(r)->r10 : (n) == 4 ? &(r)->r8 : &(r)->r9)
/* function argument n (the C ABI) and return value, for kprobes */
#define SD_FUNC_ARG(r, n)                                                              \
	((n) == 0 ? (r)->di : (n) == 1 ? (r)->si : (n) == 2 ? (r)->dx :                 \
	 (n) == 3 ? (r)->cx : (n) == 4 ? (r)->r8 : (r)->r9)
#define SD_FUNC_RET(r) ((r)->ax)
/* where a syscall exit finds the number of the syscall */
#define SD_SYSCALL_NR_PTR(r) (&(r)->orig_ax)
#elif defined(__TARGET_ARCH_arm64)
struct pt_regs {
	unsigned long regs[31];
	unsigned long sp, pc, pstate, orig_x0;
	int syscallno;
};
#define SD_SYSCALL_ARG_PTR(r, n) (&(r)->regs[(n)])
#define SD_FUNC_ARG(r, n) ((r)->regs[(n)])
#define SD_FUNC_RET(r) ((r)->regs[0])
#define SD_SYSCALL_NR_PTR(r) (&(r)->syscallno)
#else
#error "define __TARGET_ARCH_x86 or __TARGET_ARCH_arm64"
#endif

#endif
