/* record_body.h - the encoding of the most frequent events, shared by
 * record.c's shim_rec_* functions and the fast paths of librc's observer
 * hooks (hook_rc.c): retains, releases, object frees and edges.
 *
 * A shim_body_* function writes one event into stream s at level lvl:
 * the caller has entered the hook guard and found the stream (stream_for,
 * or shim_fast_enter for stream 0).  A refcount operation is a single
 * atomic instruction of the program's own, so for librc's retains,
 * releases, edges and object frees the hook, its checks and the event
 * are one function: the general path's second call and repeated checks
 * cost 2-6 ns an operation (make bench-ops).  The same shortcut for
 * malloc and free measured no gain (their stack lookup dominates), so
 * their encoders stay in record.c.  The bodies leave errno alone except where they capture
 * a stack (libunwind may set it): the stream's slow paths, the only
 * ones that make system calls, keep it themselves.
 */
#ifndef SHIM_RECORD_BODY_H
#define SHIM_RECORD_BODY_H

#include "recorder.h"

/* Most bytes an event below takes, kind and stamp included. */
#define SHIM_RC_COUNT_MAX 48
#define SHIM_RC_FREE_MAX  48
#define SHIM_EDGE_MAX     64

/* The stack id of the current call site, at most depth frames (see
 * record.c).  point names the hook that asks: a return address in it. */
uint32_t shim_capture_stack_n(struct shim_thread *t, int lvl,
			      struct shim_stream *s, uint32_t depth,
			      const void *point);
/* A new chunk was started at level 0: rescan the modules if the loader
 * changed them without us noticing. */
void shim_module_housekeeping(struct shim_thread *t);

/* After a level-0 event: when a new chunk was started, look (cheaply)
 * whether the loader added or removed objects without us noticing. */
static inline void shim_after_event(struct shim_thread *t, int lvl,
				    struct shim_stream *s)
{
	if (lvl == 0 && shim_unlikely(s->seq != t->mod_seq))
		shim_module_housekeeping(t);
}

/* RC_RETAIN or RC_RELEASE; ts 0: stamp it now.  A stack of depth frames
 * (0: none) is captured from point (see shim_capture_stack_n); errno may
 * change then. */
static inline __attribute__((always_inline)) void
shim_body_rc_count(struct shim_thread *t, int lvl, struct shim_stream *s,
		   unsigned kind, const void *obj, int64_t count_after,
		   uint32_t depth, uint64_t ts, const void *point)
{
	uint32_t stack = depth ? shim_capture_stack_n(t, lvl, s, depth,
						      point) : 0;
	struct shim_ring *r = &shim_g.ring;
	uint8_t *w = shim_ev_begin(r, s, kind, ts ? ts : shim_now_rc(),
				   SHIM_RC_COUNT_MAX);
	w = shim_put_addr(s, w, (uintptr_t)obj);
	w = shim_put_s(w, count_after);
	w = shim_put_u(w, stack);
	shim_ev_commit(r, s, w);
	shim_after_event(t, lvl, s);
}

/* RC_FREE; RC_FREE_BLOCK when block is given.  Stamped as a FREE is,
 * before the block is released. */
static inline __attribute__((always_inline)) void
shim_body_rc_free(struct shim_thread *t, int lvl, struct shim_stream *s,
		  const void *obj, const void *block)
{
	unsigned kind = block ? RCP_EV_RC_FREE_BLOCK : RCP_EV_RC_FREE;
	struct shim_ring *r = &shim_g.ring;
	uint8_t *w = shim_ev_begin(r, s, kind, shim_now_rc(),
				   SHIM_RC_FREE_MAX);
	w = shim_put_addr(s, w, (uintptr_t)obj);
	if (block)
		w = shim_put_u(w, (uint64_t)((uintptr_t)obj - (uintptr_t)block));
	shim_ev_commit(r, s, w);
	/* a free of the block follows an RC_FREE (see shim_rec_free) */
	if (lvl == 0 && !block)
		t->last_rc_free = obj;
	shim_after_event(t, lvl, s);
}

static inline __attribute__((always_inline)) void
shim_body_edge(struct shim_thread *t, int lvl, struct shim_stream *s,
	       const void *owner, const void *slot, const void *target)
{
	struct shim_ring *r = &shim_g.ring;
	uint8_t *w = shim_ev_begin(r, s, RCP_EV_EDGE, shim_now(),
				   SHIM_EDGE_MAX);
	w = shim_put_addr(s, w, (uintptr_t)owner);
	w = shim_put_s(w, (int64_t)((uintptr_t)slot - (uintptr_t)owner));
	*w++ = target ? 1 : 0;
	if (target)
		w = shim_put_addr(s, w, (uintptr_t)target);
	shim_ev_commit(r, s, w);
	shim_after_event(t, lvl, s);
}

#endif /* SHIM_RECORD_BODY_H */
