/* hook_rc.c - reference-count events.
 *
 * librc.so reports through the observer we define (rcprof_observer.h);
 * programs with their own counting call the rcprof_note_* hooks, which we
 * interpose (librc's versions are no-ops).  Stack policy:
 *   RC_NEW                        always (RCPROF_DEPTH frames);
 *   retain                        objects of suspect types only (full);
 *   release                       suspect types (full), and every release
 *                                 that leaves the count above zero or
 *                                 unknown - candidates for "the release
 *                                 that made a cycle garbage" - with
 *                                 RCPROF_RELEASE_DEPTH frames (default 16:
 *                                 the analyzer names such a release by its
 *                                 innermost frames, and walking 64 frames
 *                                 for every one of them was the largest
 *                                 cost of refcount-heavy programs); none
 *                                 when it hits 0 (RC_FREE follows).
 * note_retain does not know the type: objects announced by note_new with a
 * suspect type are kept in an address set while any type is suspect.
 */
#include <errno.h>

#include "hooks.h"
#include "record_body.h"
#include "rcprof.h"
#include "rcprof_observer.h"

/* body, recorded at level lvl of thread t (both in scope) with errno
 * kept; RC_HOOK_ON when the caller already has t. */
#define RC_HOOK_ON(t, body)                            \
	do {                                           \
		int lvl = shim_enter(t);               \
		if (lvl >= 0) {                        \
			int *ep_ = shim_errno(t);      \
			int e_ = *ep_;                 \
			body;                          \
			*ep_ = e_;                     \
		}                                      \
		shim_leave(t);                         \
	} while (0)
#define RC_HOOK(body)                                  \
	do {                                           \
		struct shim_thread *t = &shim_tls;     \
		RC_HOOK_ON(t, body);                   \
	} while (0)

static int suspect(const char *type)
{
	return atomic_load_relaxed(&shim_g.nsuspect) && shim_is_suspect_type(type);
}

/* An object announced by note_new with a suspect type. */
static int suspect_obj(const void *obj)
{
	return atomic_load_relaxed(&shim_g.nsuspect) &&
	       shim_addrset_has(&shim_g.suspect_objs, (uintptr_t)obj);
}

static void obs_new(void *obj, void *block, size_t size, const char *type,
		    long count, void *caller)
{
	(void)caller;
	RC_HOOK(shim_rec_rc_new(t, lvl, obj, block, size, type, count, 0, 0));
}

/* librc's blocks (rcprof_observer.h): allocated and freed without heap
 * events of their own; RC_NEW_BLOCK and RC_FREE_BLOCK stand for them. */
static void *obs_block_alloc(size_t n)
{
	return shim_block_alloc(n);
}

static void obs_new_block(void *obj, void *block, size_t size,
			  const char *type, long count, void *caller)
{
	(void)caller;
	RC_HOOK(shim_rec_rc_new(t, lvl, obj, block, size, type, count, 0, 1));
}

/* The free's rule (hook_malloc.c): recorded before the block is
 * released, inside the same guard. */
static void obs_block_free(void *obj, void *block, void *caller)
{
	(void)caller;
	struct shim_thread *t = &shim_tls;
	if (shim_fast_enter(t, SHIM_RC_FREE_MAX)) {
		shim_body_rc_free(t, 0, &t->st[0], obj, block);
		shim_block_free(block);
		shim_leave(t);
		return;
	}
	int lvl = shim_enter(t);
	if (lvl >= 0) {
		int *ep = shim_errno(t), e = *ep;
		shim_rec_rc_free(t, lvl, obj, block);
		*ep = e;
	}
	shim_block_free(block);
	shim_leave(t);
}

static void obs_retain(void *obj, long count_after, const char *type,
		       void *caller)
{
	(void)caller;
	struct shim_thread *t = &shim_tls;
	uint32_t depth = suspect(type) ? shim_g.depth : 0;
	if (!depth && shim_fast_enter(t, SHIM_RC_COUNT_MAX)) {
		shim_body_rc_count(t, 0, &t->st[0], RCP_EV_RC_RETAIN, obj,
				   count_after, 0, 0, NULL);
		shim_leave(t);
		return;
	}
	RC_HOOK_ON(t, shim_rec_rc_count(t, lvl, RCP_EV_RC_RETAIN, obj,
					count_after, depth, 0));
}

static uint32_t release_depth(const char *type, long count_after)
{
	return suspect(type) ? shim_g.depth :
	       count_after != 0 ? shim_g.release_depth :
	       shim_g.free_stacks ? shim_g.depth : 0;
}

static void obs_release(void *obj, long count_after, const char *type,
			void *caller)
{
	(void)caller;
	RC_HOOK(shim_rec_rc_count(t, lvl, RCP_EV_RC_RELEASE, obj, count_after,
				  release_depth(type, count_after), 0));
}

/* The stamp librc takes before a release's decrement (see
 * rcprof_observer.h): a pure clock read, safe outside the hook guard. */
static uint64_t obs_stamp(void)
{
	return shim_now_rc();
}

static void obs_release_at(void *obj, long count_after, const char *type,
			   void *caller, uint64_t stamp)
{
	(void)caller;
	struct shim_thread *t = &shim_tls;
	uint32_t depth = release_depth(type, count_after);
	if (shim_fast_enter(t, SHIM_RC_COUNT_MAX)) {
		/* errno: the stack capture may change it */
		int *ep = shim_errno(t), e = *ep;
		shim_body_rc_count(t, 0, &t->st[0], RCP_EV_RC_RELEASE, obj,
				   count_after, depth, stamp,
				   __builtin_return_address(0));
		*ep = e;
		shim_leave(t);
		return;
	}
	RC_HOOK_ON(t, shim_rec_rc_count(t, lvl, RCP_EV_RC_RELEASE, obj,
					count_after, depth, stamp));
}

static void obs_free(void *obj, void *caller)
{
	(void)caller;
	RC_HOOK(shim_rec_rc_free(t, lvl, obj, NULL));
}

static void obs_edge(void *owner, void *slot, void *target, void *caller)
{
	(void)caller;
	struct shim_thread *t = &shim_tls;
	if (shim_fast_enter(t, SHIM_EDGE_MAX)) {
		shim_body_edge(t, 0, &t->st[0], owner, slot, target);
		shim_leave(t);
		return;
	}
	RC_HOOK_ON(t, shim_rec_edge(t, lvl, owner, slot, target));
}

SHIM_EXPORT const struct rcprof_observer rcprof__observer = {
	.version = RCPROF_OBSERVER_VERSION,
	.size = sizeof(struct rcprof_observer),
	.on_new = obs_new,
	.on_retain = obs_retain,
	.on_release = obs_release,
	.on_free = obs_free,
	.on_edge = obs_edge,
	.stamp = obs_stamp,
	.on_release_at = obs_release_at,
	.block_alloc = obs_block_alloc,
	.on_new_block = obs_new_block,
	.block_free = obs_block_free,
};

SHIM_EXPORT void rcprof_note_new(const void *obj, size_t size,
				 const char *type, long refcount)
{
	RC_HOOK(shim_rec_rc_new(t, lvl, obj, NULL, size, type, refcount, 1, 0));
}

SHIM_EXPORT void rcprof_note_retain(const void *obj)
{
	RC_HOOK(shim_rec_rc_count(t, lvl, RCP_EV_RC_RETAIN, obj,
				  RCP_COUNT_UNKNOWN,
				  suspect_obj(obj) ? shim_g.depth : 0, 0));
}

SHIM_EXPORT void rcprof_note_release(const void *obj)
{
	RC_HOOK(shim_rec_rc_count(t, lvl, RCP_EV_RC_RELEASE, obj,
				  RCP_COUNT_UNKNOWN,
				  suspect_obj(obj) ? shim_g.depth :
				  shim_g.release_depth, 0));
}

SHIM_EXPORT void rcprof_note_free(const void *obj)
{
	RC_HOOK({
		if (atomic_load_relaxed(&shim_g.nsuspect))
			shim_addrset_del(&shim_g.suspect_objs, (uintptr_t)obj);
		shim_rec_rc_free(t, lvl, obj, NULL);
	});
}

SHIM_EXPORT void rcprof_note_edge(const void *owner, const void *slot,
				  const void *target)
{
	RC_HOOK(shim_rec_edge(t, lvl, owner, slot, target));
}

SHIM_EXPORT void rcprof_suspect(const char *type)
{
	int e = errno;
	shim_suspect(type);
	errno = e;
}

SHIM_EXPORT void rcprof_snapshot(const char *label)
{
	RC_HOOK(shim_rec_string_event(t, lvl, RCP_EV_SNAPSHOT, label));
}
