/* recorder.h - the recorder's state: one global, one TLS block per thread,
 * the real libc functions, and the record_* entry points used by hooks.
 *
 * Reentrancy is guarded in one place, shim_enter():
 *   depth 0 -> level 0: record into the thread's normal stream;
 *   depth 1 -> level 1: a signal handler interrupted this thread inside
 *              the shim; record into the thread's second stream (nest 1);
 *   depth 2+ -> counted, reported later in a LOST event;
 *   internal -> the shim's own calls (dlsym, ...): never recorded.
 */
#ifndef SHIM_RECORDER_H
#define SHIM_RECORDER_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>

#include "shim.h"
#include "stack_cache.h"

struct shim_thread {
	uint32_t depth;         /* hooks currently active on this thread */
	int *errno_at;          /* this thread's errno (shim_errno) */
	uint32_t internal;      /* > 0: calls made by the shim itself */
	uint32_t tid;
	uint32_t parent_tid;    /* set by the pthread_create trampoline */
	uint8_t started;        /* level 0 set up, THREAD emitted */
	uint8_t started1;       /* level 1 stream set up */
	uint64_t mod_seq;       /* stream 0 seq at the last module check */
	void *last_block;       /* last block allocated at level 0 ... */
	uint32_t last_stack;    /* ... and its stack (reused by RC_NEW) */
	const void *last_rc_free; /* object of this stream's last event, when
				   that was its RC_FREE (see shim_rec_free) */
	uint32_t lost2[RCP_EV__COUNT];  /* events lost at level 2+ */
	uint32_t nlost2;
	struct shim_stream st[2];
	/* stack_cache.c: this thread's stack and its cache of call sites */
	uintptr_t stack_lo, stack_hi;   /* 0, 0: the cache is not used */
	/* The thread's stack, [stk_lo, stk_hi) (0, 0: unknown), whether the
	 * cache is used or not: a backtrace is taken only with
	 * SHIM_CAPTURE_ROOM bytes of it left (shim_capture_stack_n). */
	uintptr_t stk_lo, stk_hi;
	int32_t sc_credit;
	struct shim_sc *sc;
};

extern __thread struct shim_thread shim_tls;

/* Stack a backtrace needs below the hook that takes it: the stack
 * cache's fill (~4 KB), our unwinder's and libunwind's frames. */
#define SHIM_CAPTURE_ROOM (16u * 1024)

struct shim_real {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execvp)(const char *, char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	void (*exit)(int) __attribute__((noreturn));
	void (*_exit)(int) __attribute__((noreturn));
	void (*_Exit)(int) __attribute__((noreturn));
	void (*quick_exit)(int) __attribute__((noreturn));
	pid_t (*fork)(void);
	int (*pthread_create)(pthread_t *, const pthread_attr_t *,
			      void *(*)(void *), void *);
	int (*libc_start_main)(int (*)(int, char **, char **), int, char **,
			       void (*)(void), void (*)(void), void (*)(void),
			       void *);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	sighandler_t (*signal)(int, sighandler_t);
	int (*siginterrupt)(int, int);
	int (*sigprocmask)(int, const sigset_t *, sigset_t *);
};
extern struct shim_real shim_real;

struct shim_global {
	int on;                         /* relaxed: recording */
	int pid;                        /* the process the ring belongs to */
	uint32_t depth;                 /* RCPROF_DEPTH */
	uint32_t release_depth;         /* RCPROF_RELEASE_DEPTH, <= depth */
	int free_stacks;                /* RCPROF_FREE_STACKS: frees take one */
	uint64_t ring_bytes;            /* RCPROF_RING_KB * 1024 */
	uint64_t start_ts;
	uint32_t exec_index;
	struct shim_ring ring;
	struct shim_intern stacks, strings;
	struct shim_addrset suspect_objs;
	uint32_t nsuspect;              /* published with release */
	char suspects[64][128];
	int ring_unlinked;
	/* Atomic: 1 once a seccomp filter forbids what a forked child needs
	 * to record (hook_seccomp.c); children then do not record. */
	int no_fork_recording;
	int exit_how, exit_status;      /* set by exit() and main's return */
	uint64_t fork_ts;               /* taken in the atfork prepare handler */
	uint32_t fork_tid;
	uint64_t dl_scanned;            /* dl_gen seen by the last scan */
	pthread_key_t key;              /* its destructor seals a dying
					   thread's chunks */
	int key_ok;
	char pattern[SHIM_PATH_MAX];    /* RCPROF_OUT, made absolute */
	char dump_path[SHIM_PATH_MAX];
	char ring_path[SHIM_PATH_MAX];
	char exe[SHIM_PATH_MAX];
};
extern struct shim_global shim_g;
/* dlopen/dlmopen/dlclose calls so far (atomic; the trampolines in
 * hook_dl.c increment it by name). */
extern uint64_t shim_dl_gen;

/* Returns the level to record at, or -1 (do not record).  Always pair
 * with shim_leave. */
static inline int shim_enter(struct shim_thread *t)
{
	uint32_t d = t->depth++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (shim_unlikely(!atomic_load_relaxed(&shim_g.on) || t->internal))
		return -1;
	return shim_likely(d == 0) ? 0 : (d == 1 ? 1 : 2);
}

/* This thread's errno.  The hooks keep errno as the real call left it
 * around every recording step; through errno itself each access is a
 * call of __errno_location, six per malloc and free. */
static inline int *shim_errno(struct shim_thread *t)
{
	if (shim_unlikely(!t->errno_at))
		t->errno_at = &errno;
	return t->errno_at;
}

static inline void shim_leave(struct shim_thread *t)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t->depth--;
}

/* The common case of a hook, checked at once: no hook active on this
 * thread (level 0), recording on, and stream 0 ready for an event of at
 * most maxlen bytes - started, no lost events to report, no module
 * rescan due, room in its chunk, a commit without work of its own.
 * Returns 1 with the guard entered at level 0 (leave with shim_leave):
 * stream 0 is what stream_for would answer.  shim_ev_begin and
 * shim_ev_commit check again (a signal handler may have recorded at
 * level 0 between this check and the guard).  0: nothing changed; take
 * the general path, shim_enter. */
static inline int shim_fast_enter(struct shim_thread *t, size_t maxlen)
{
	struct shim_stream *s = &t->st[0];
	if (shim_likely(t->depth == 0 && t->started && !t->internal &&
			!(t->nlost2 | s->nlost | t->st[1].nlost) &&
			s->slot && s->pos + maxlen <= s->cap &&
			!(s->direct | s->flush_each) && s->row_excl &&
			atomic_load_relaxed(&shim_g.on) &&
			!atomic_load_relaxed(&shim_g.ring.finalized) &&
			atomic_load_relaxed(&shim_dl_gen) ==
			atomic_load_relaxed(&shim_g.dl_scanned))) {
		t->depth = 1;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		return 1;
	}
	return 0;
}

/* core.c: life cycle */
int shim_start(void);
void shim_finish(int how, int status, int in_signal);
void shim_exec_failed(void);
void shim_fork_prepare(void);
void shim_fork_child(void);
void shim_fork_child_unrecorded(void);
int shim_is_suspect_type(const char *type);
void shim_suspect(const char *type);

/* record.c: one function per event; lvl from shim_enter (>= 0). */
/* The stack id of an allocation (or of a free, with RCPROF_FREE_STACKS),
 * taken before the real allocator runs (0 at level 2 and up); errno may
 * change. */
uint32_t shim_heap_call_stack(struct shim_thread *t, int lvl);
/* The same in two halves around the real allocator, which then overlaps
 * the stack cache's last load (shim_sc_begin).  At level 0 the hook
 * captures c->regs in its own frame (SHIM_CAPTURE_REGS), then begin: 0
 * when this call cannot be split (a thread's first event, no stack
 * cache, no stacks) - use shim_heap_call_stack.  After the real call, end gives the
 * stack id (errno may change); or nothing, if the allocation failed. */
struct shim_heap_capture {
	struct shim_regs regs;
	struct shim_sc_probe probe;
};
int shim_heap_stack_begin(struct shim_thread *t,
			  struct shim_heap_capture *c);
uint32_t shim_heap_stack_end(struct shim_thread *t,
			     struct shim_heap_capture *c);
void shim_rec_alloc(struct shim_thread *t, int lvl, void *p, size_t n,
		    unsigned flavor, uint32_t stack);
/* FREE, or FREE_STACK when stack is not 0. */
void shim_rec_free(struct shim_thread *t, int lvl, void *p, uint32_t stack);
void shim_rec_realloc(struct shim_thread *t, int lvl, void *old,
		      uint64_t ts_before, void *p, size_t n, uint32_t stack);
/* RC_NEW; RC_NEW_BLOCK when own_block: block was allocated for the
 * object without a heap event (shim_block_alloc). */
void shim_rec_rc_new(struct shim_thread *t, int lvl, const void *obj,
		     const void *block, size_t size, const char *type,
		     long count, int from_note, int own_block);
/* RC_RETAIN or RC_RELEASE; ts is the event's stamp when the caller took
 * it (a release, before its decrement), 0 to stamp it now. */
void shim_rec_rc_count(struct shim_thread *t, int lvl, unsigned kind,
		       const void *obj, int64_t count_after, uint32_t depth,
		       uint64_t ts);
/* RC_FREE; RC_FREE_BLOCK when block is given: the object's free, and
 * its block's (about to happen, without a FREE of its own). */
void shim_rec_rc_free(struct shim_thread *t, int lvl, const void *obj,
		      const void *block);
void shim_rec_edge(struct shim_thread *t, int lvl, const void *owner,
		   const void *slot, const void *target);
void shim_rec_string_event(struct shim_thread *t, int lvl, unsigned kind,
			   const char *s);
void shim_rec_u(struct shim_thread *t, int lvl, unsigned kind, uint64_t v);
void shim_rec_modules(struct shim_thread *t, int lvl);

#endif /* SHIM_RECORDER_H */
