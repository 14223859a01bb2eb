/* unwind_logged.h - an unwind that records what it read (unwind_logged.c). */
#ifndef SHIM_UNWIND_LOGGED_H
#define SHIM_UNWIND_LOGGED_H

#include <signal.h>
#include <stdint.h>

#include "stack_cache.h"

#define SHIM_LOG_READS_MAX 160u
/* A read location: a stack offset from the starting sp, or a register
 * (SHIM_LOC_REG | DWARF register number, libunwind's UNW_X86_64_*). */
#define SHIM_LOC_REG    0x80000000u

enum {                          /* DWARF x86-64 register numbers */
	SHIM_REG_RBX = 3, SHIM_REG_RBP = 6, SHIM_REG_RSP = 7,
	SHIM_REG_R12 = 12, SHIM_REG_R13 = 13, SHIM_REG_R14 = 14,
	SHIM_REG_R15 = 15, SHIM_REG_RIP = 16,
};

/* What one unwind read, in order.  Set r, lo and hi (the thread's stack)
 * before shim_logged_unwind; bad says it read something whose changes
 * the stack cache could not see. */
struct shim_unwind_log {
	const struct shim_regs *r;
	uintptr_t lo, hi;
	int bad;
	uint32_t n;
	uint32_t loc[SHIM_LOG_READS_MAX];
	uint64_t val[SHIM_LOG_READS_MAX];
};

/* A register of the capture; caller-saved ones read as 0 (they are dead
 * at a call, and both the logged unwind and a lookup see that 0). */
static inline uint64_t shim_reg_value(const struct shim_regs *r, unsigned reg)
{
	switch (reg) {
	case SHIM_REG_RBX: return r->rbx;
	case SHIM_REG_RBP: return r->rbp;
	case SHIM_REG_RSP: return r->sp;
	case SHIM_REG_R12: return r->r12;
	case SHIM_REG_R13: return r->r13;
	case SHIM_REG_R14: return r->r14;
	case SHIM_REG_R15: return r->r15;
	case SHIM_REG_RIP: return r->ip;
	default:           return 0;
	}
}

/* Sets up the logging address space; 0, or -1 when libunwind cannot. */
int shim_logged_unwind_init(void);
/* Unwinds from l->r, at most max frames into raw, logging every read.
 * Returns the number of frames, or -1 when another thread is unwinding
 * this way (the caller uses the fast unwinder instead of waiting). */
int shim_logged_unwind(struct shim_unwind_log *l, void **raw, int max);
/* 1 when a sigprocmask call from caller is libunwind's own, inside this
 * thread's logged unwind: *old is set and the call needs no system call
 * (see unwind_logged.c). */
int shim_logged_unwind_sigprocmask(const void *caller, sigset_t *old);
/* atfork: no child inherits libunwind's lock taken. */
void shim_logged_unwind_fork_prepare(void);
void shim_logged_unwind_fork_done(void);

#endif
