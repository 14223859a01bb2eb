/* unwind.c - backtraces with libunwind.
 *
 * unw_backtrace walks the caller's stack with libunwind's per-thread
 * cache (UNW_CACHE_PER_THREAD: no locks, no malloc on the fast path).  The
 * leading frames that belong to the profiler itself, or to librc.so (whose
 * rc_new/rc_release called us), are skipped so frame 0 is the innermost
 * application frame; the profiler's wrappers of main and of thread start
 * functions are removed further out as well.  Addresses are return addresses (as unw_backtrace
 * gives them); the analyzer symbolizes them offline.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <pthread.h>

#include "shim.h"

#define SKIP_RANGES 4

/* [lo, hi) of each skipped object; published by storing hi last. */
static uintptr_t skip_lo[SKIP_RANGES], skip_hi[SKIP_RANGES];

void shim_unwind_init(void)
{
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

void shim_unwind_skip_range(unsigned which, uintptr_t lo, uintptr_t hi)
{
	if (which >= SKIP_RANGES)
		return;
	atomic_store_relaxed(&skip_hi[which], 0);
	atomic_store_relaxed(&skip_lo[which], lo);
	atomic_store_release(&skip_hi[which], hi);   /* pairs with in_skip */
}

int shim_trim_frames(void *const *buf, int n, void **ips, int max)
{
	_Static_assert(SKIP_RANGES == 4, "the skip test below has 4 terms");
	uintptr_t lo[SKIP_RANGES], hi[SKIP_RANGES];
	for (int i = 0; i < SKIP_RANGES; i++) {
		hi[i] = atomic_load_acquire(&skip_hi[i]);
		lo[i] = atomic_load_relaxed(&skip_lo[i]);
		if (!hi[i])
			lo[i] = 0;      /* empty range: hi - lo = 0 */
	}
	int skip = 0;
	for (; skip < n; skip++) {
		uintptr_t ip = (uintptr_t)buf[skip];
		/* unsigned wrap: one compare per range */
		if (ip - lo[0] >= hi[0] - lo[0] && ip - lo[1] >= hi[1] - lo[1] &&
		    ip - lo[2] >= hi[2] - lo[2] && ip - lo[3] >= hi[3] - lo[3])
			break;
	}
	if (skip == n)          /* nothing outside: keep what we have */
		skip = 0;
	/* Further out, only the profiler's own frames go (the main and
	 * thread-start wrappers); librc frames there are real callers. */
	int out = 0;
	for (int i = skip; i < n && out < max; i++) {
		uintptr_t ip = (uintptr_t)buf[i];
		if (ip - lo[0] >= hi[0] - lo[0])
			ips[out++] = buf[i];
	}
	return out;
}

int shim_backtrace(void **ips, int max)
{
	void *buf[SHIM_DEPTH_MAX + 8];
	if (max > SHIM_DEPTH_MAX)
		max = SHIM_DEPTH_MAX;
	if (max <= 0)
		return 0;
	/* libunwind checks addresses with write(2) and read(2) on a pipe, or
	 * msync(2): cancellation points, which a malloc of the program is
	 * not.  A thread cancelled there would die inside libunwind (and
	 * inside the hook that called it). */
	int cancel_state;
	int changed = pthread_setcancelstate(PTHREAD_CANCEL_DISABLE,
					     &cancel_state) == 0;
	int n = unw_backtrace(buf, max + 8);
	if (changed)
		pthread_setcancelstate(cancel_state, NULL);
	return shim_trim_frames(buf, n, ips, max);
}
