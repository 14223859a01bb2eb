/* rcprof_observer.h - the private link between librc.so and librcprof.so.
 *
 * Mechanism (documented in README "How the shim observes librc"): librc.so
 * holds a *weak undefined* reference to the data symbol `rcprof__observer`.
 * Without the profiler nothing defines it, the reference resolves to NULL
 * and every librc call pays one predictable branch.  When librcprof.so is
 * preloaded it defines the symbol, the dynamic linker binds librc's
 * reference to it at load time, and librc reports each operation through
 * these callbacks - with what a plain PLT interposer could not see: the
 * count after the operation, the heap block behind the object, and the
 * application's call site.
 *
 * The public rcprof_note_* hooks are separate: exported no-ops in librc.so
 * that librcprof.so interposes through the normal symbol lookup.
 */
#ifndef RCPROF_OBSERVER_H
#define RCPROF_OBSERVER_H

#include <stddef.h>
#include <stdint.h>

#define RCPROF_OBSERVER_VERSION 1u

struct rcprof_observer {
	unsigned version;               /* RCPROF_OBSERVER_VERSION */
	unsigned size;                  /* sizeof(struct rcprof_observer) */
	/* obj was created inside heap block `block` (obj - block bytes of
	 * header precede it) with `count` references. */
	void (*on_new)(void *obj, void *block, size_t size, const char *type,
		       long count, void *caller);
	void (*on_retain)(void *obj, long count_after, const char *type,
			  void *caller);
	/* Called after the decrement; count_after == 0 means the destructor
	 * and on_free follow. */
	void (*on_release)(void *obj, long count_after, const char *type,
			   void *caller);
	/* Called after the destructor ran, before the block is freed. */
	void (*on_free)(void *obj, void *caller);
	/* slot (inside owner) now refers to target (NULL: cleared).  Called
	 * after the retain of the new value and before the release of the
	 * old one. */
	void (*on_edge)(void *owner, void *slot, void *target, void *caller);
	/* Present when size covers them (librc checks; an observer without
	 * them gets on_release).  librc calls stamp() just before the
	 * decrement of a release and reports the release with
	 * on_release_at(..., that stamp) instead of on_release.  A release
	 * stamped after its decrement could be ordered after the free done
	 * by the thread that dropped the last reference (that thread's
	 * decrement, destructor and free can all fit between our decrement
	 * and our stamp); stamped before it, it cannot. */
	uint64_t (*stamp)(void);
	void (*on_release_at)(void *obj, long count_after, const char *type,
			      void *caller, uint64_t stamp);
	/* Present when size covers them (librc checks block_free; an
	 * observer without them gets calloc, on_new, on_free and free).
	 * librc takes an object's block from block_alloc (zeroed, as
	 * calloc(1, n)), reports the object with on_new_block instead of
	 * on_new, and at the end hands the block to block_free (after the
	 * destructor, instead of on_free and free).  The profiler records the
	 * block with the object's own events rather than as a malloc and a
	 * free of their own: two events fewer per object (18 % of the events
	 * of the bench's refcount churn). */
	void *(*block_alloc)(size_t n);
	void (*on_new_block)(void *obj, void *block, size_t size,
			     const char *type, long count, void *caller);
	void (*block_free)(void *obj, void *block, void *caller);
};

/* 1 when observer o has the member `field`. */
#define RCPROF_OBSERVER_HAS(o, field)                                      \
	((o)->size >= offsetof(struct rcprof_observer, field) +            \
			      sizeof((o)->field))

#endif /* RCPROF_OBSERVER_H */
