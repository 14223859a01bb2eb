/* stack_cache.h - per-thread cache of call-site backtraces (stack_cache.c). */
#ifndef SHIM_STACK_CACHE_H
#define SHIM_STACK_CACHE_H

#include <stdint.h>

struct shim_thread;

/* The registers an unwind starts from: what SHIM_CAPTURE_REGS saw; and
 * who captured them.  point is not read by the unwind: it only keeps
 * apart the capture points of different callers (malloc's hook and
 * calloc's reach the same capture with different frames above it). */
struct shim_regs {
	uint64_t ip, sp, rbp, rbx, r12, r13, r14, r15;
	uint64_t point;
};

/* Fills *r with the current instruction and stack pointer and the
 * callee-saved registers, and point with 0.  Use it in the function that
 * then calls shim_sc_lookup/shim_sc_fill, so the captured frame is still
 * live. */
#define SHIM_CAPTURE_REGS(r)                                          \
	do {                                                          \
	(r)->point = 0;                                               \
	__asm__ volatile("leaq 0(%%rip), %%rax\n\t"                   \
			 "movq %%rax, 0(%0)\n\t"                      \
			 "movq %%rsp, 8(%0)\n\t"                      \
			 "movq %%rbp, 16(%0)\n\t"                     \
			 "movq %%rbx, 24(%0)\n\t"                     \
			 "movq %%r12, 32(%0)\n\t"                     \
			 "movq %%r13, 40(%0)\n\t"                     \
			 "movq %%r14, 48(%0)\n\t"                     \
			 "movq %%r15, 56(%0)\n\t"                     \
			 : : "r"(r) : "rax", "memory");             \
	} while (0)

struct shim_sc_stats {
	uint64_t hits, misses, fills, uncacheable;
	uint64_t shortcut_hits;         /* of hits, without the trie */
	uint64_t compact_hits;          /* of hits, by a compact shortcut */
	uint64_t last_hits;             /* of hits, by a point's last stack */
	uint64_t wrong;                 /* mode 3: hits the unwinder refuted */
};

/* RCPROF_STACK_CACHE: 0 off, 1 on, 2 on and shim_sc_report prints, 3 as
 * 2 and every hit is checked against an unwind (shim_sc_verify). */
void shim_sc_init(int mode);
/* Mode 3: the caller unwinds after every hit as well, records the
 * unwinder's stack, and reports with shim_sc_checked whether the cache
 * agreed.  Tests use it: a second run without the cache can lay out
 * memory differently, and a program like CPython then allocates
 * differently. */
extern int shim_sc_verify;
void shim_sc_checked(struct shim_thread *t, int agreed);
/* One line of hit/miss counts on stderr at exit, in mode 2. */
void shim_sc_report(const struct shim_thread *t);
/* Learns the bounds of the calling thread's stack; without them the
 * thread does not use the cache. */
void shim_sc_thread_start(struct shim_thread *t);
void shim_sc_thread_exit(struct shim_thread *t);
void shim_sc_stats(const struct shim_thread *t, struct shim_sc_stats *st);

/* 1 and *stack when the capture r (for this depth) was unwound before
 * and would unwind the same way again. */
int shim_sc_lookup(struct shim_thread *t, const struct shim_regs *r,
		   uint32_t depth, uint32_t *stack);

/* shim_sc_lookup in two halves, for a caller with other work to do in
 * between (the real allocator): begin hashes the capture and prefetches
 * the line of the table that answers most lookups, whose miss was the
 * largest single cost of a lookup; end reads it.  The frame r was
 * captured in must stay live until end, and nothing may use the cache
 * in between. */
struct sc_root;
enum { SHIM_SC_NONE, SHIM_SC_HIT, SHIM_SC_KEYED };  /* NONE: no answer */
struct shim_sc_probe {
	struct sc_root *root;
	uint64_t key;
	uint32_t check;
	uint32_t stack;         /* SHIM_SC_HIT */
	int state;
};
void shim_sc_begin(struct shim_thread *t, const struct shim_regs *r,
		   uint32_t depth, struct shim_sc_probe *p);
int shim_sc_end(struct shim_thread *t, const struct shim_regs *r,
		struct shim_sc_probe *p, uint32_t *stack);

/* Turns the kept frames into a stack id (interning, emitting STACK). */
typedef uint32_t (*shim_sc_intern_fn)(void *ctx, void **ips, int n);

/* After a miss: when the thread has credit and no other thread is
 * filling, unwinds r with the logging unwinder, interns the frames (at
 * most depth, profiler frames trimmed, into ips) and remembers the site.
 * Returns 1 with *stack set, or 0: unwind with shim_backtrace instead. */
int shim_sc_fill(struct shim_thread *t, const struct shim_regs *r,
		 uint32_t depth, void **ips, shim_sc_intern_fn intern,
		 void *ctx, uint32_t *stack);

#endif
