/* rc.c - librc.so, the plain reference-counting runtime.
 *
 * Objects carry a small header in front of the pointer handed out:
 *
 *     block -> [ struct rc_header ][ object bytes ... ]
 *                                  ^ obj
 *
 * Counts are atomics so objects can be shared between threads.  A release
 * uses acq_rel ordering: the thread that drops the last reference must see
 * every write made by the others before it runs the destructor.
 *
 * When librcprof.so is preloaded, every operation is reported through the
 * observer it defines (see rcprof_observer.h); otherwise `rc_observer` is
 * NULL and the only cost is a predictable branch.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "rcprof.h"
#include "rcprof_observer.h"

/* Weak undefined: NULL unless librcprof.so is loaded. */
extern const struct rcprof_observer rcprof__observer __attribute__((weak));

struct rc_header {
	alignas(16) atomic_long count;
	void (*dtor)(void *obj);
	const char *type;
	size_t size;
};

_Static_assert(sizeof(struct rc_header) % 16 == 0,
	       "header keeps the object 16-byte aligned");

static const struct rcprof_observer *rc_observer(void)
{
	const struct rcprof_observer *o = &rcprof__observer;
	if (o && o->version == RCPROF_OBSERVER_VERSION)
		return o;
	return NULL;
}

static struct rc_header *rc_header_of(const void *obj)
{
	return (struct rc_header *)((uintptr_t)obj - sizeof(struct rc_header));
}

RCPROF_API void *rc_new(size_t size, const char *type, void (*dtor)(void *obj))
{
	if (size > SIZE_MAX - sizeof(struct rc_header)) {
		errno = ENOMEM;
		return NULL;
	}
	const struct rcprof_observer *o = rc_observer();
	int own_blocks = o && RCPROF_OBSERVER_HAS(o, block_free);
	struct rc_header *h = own_blocks ? o->block_alloc(sizeof(*h) + size) :
					   calloc(1, sizeof(*h) + size);
	if (!h)
		return NULL;
	atomic_init(&h->count, 1);
	h->dtor = dtor;
	h->type = type;
	h->size = size;
	void *obj = h + 1;
	if (own_blocks)
		o->on_new_block(obj, h, size, type, 1,
				__builtin_return_address(0));
	else if (o)
		o->on_new(obj, h, size, type, 1, __builtin_return_address(0));
	return obj;
}

static void rc_retain_from(void *obj, void *caller)
{
	struct rc_header *h = rc_header_of(obj);
	long after = atomic_fetch_add_explicit(&h->count, 1,
					       memory_order_relaxed) + 1;
	const struct rcprof_observer *o = rc_observer();
	if (o)
		o->on_retain(obj, after, h->type, caller);
}

static void rc_release_from(void *obj, void *caller)
{
	struct rc_header *h = rc_header_of(obj);
	/* Read before the decrement: once our reference is gone another
	 * thread may free the header. */
	const char *type = h->type;
	const struct rcprof_observer *o = rc_observer();
	uint64_t stamp = 0;
	int stamped = o && RCPROF_OBSERVER_HAS(o, on_release_at);
	if (stamped)
		stamp = o->stamp();     /* before the decrement: see the header */
	long after = atomic_fetch_sub_explicit(&h->count, 1,
					       memory_order_acq_rel) - 1;
	if (stamped)
		o->on_release_at(obj, after, type, caller, stamp);
	else if (o)
		o->on_release(obj, after, type, caller);
	if (after != 0)
		return;
	if (h->dtor)
		h->dtor(obj);
	if (o && RCPROF_OBSERVER_HAS(o, block_free)) {
		o->block_free(obj, h, caller);
		return;
	}
	if (o)
		o->on_free(obj, caller);
	free(h);
}

RCPROF_API void *rc_retain(void *obj)
{
	if (obj)
		rc_retain_from(obj, __builtin_return_address(0));
	return obj;
}

RCPROF_API void rc_release(void *obj)
{
	if (obj)
		rc_release_from(obj, __builtin_return_address(0));
}

RCPROF_API long rc_refcount(const void *obj)
{
	if (!obj)
		return 0;
	return atomic_load_explicit(&rc_header_of(obj)->count,
				    memory_order_relaxed);
}

RCPROF_API void rc_set(void *owner, void *slot, void *value)
{
	void *caller = __builtin_return_address(0);
	void **field = slot;
	/* Retain first: if value is what the slot already holds, releasing the
	 * old pointer first could destroy it. */
	if (value)
		rc_retain_from(value, caller);
	void *old = *field;
	*field = value;
	const struct rcprof_observer *o = rc_observer();
	if (o)
		o->on_edge(owner, slot, value, caller);
	if (old)
		rc_release_from(old, caller);
}

/* The profiler hooks do nothing here; librcprof.so interposes them. */
RCPROF_API void rcprof_note_new(const void *obj, size_t size, const char *type,
				long refcount)
{
	(void)obj; (void)size; (void)type; (void)refcount;
}
RCPROF_API void rcprof_note_retain(const void *obj) { (void)obj; }
RCPROF_API void rcprof_note_release(const void *obj) { (void)obj; }
RCPROF_API void rcprof_note_free(const void *obj) { (void)obj; }
RCPROF_API void rcprof_note_edge(const void *owner, const void *slot,
				 const void *target)
{
	(void)owner; (void)slot; (void)target;
}
RCPROF_API void rcprof_suspect(const char *type) { (void)type; }
RCPROF_API void rcprof_snapshot(const char *label) { (void)label; }
