/* hook_malloc.c - the malloc family.
 *
 * Rules (heaptrack's): a free is stamped and recorded BEFORE the block is
 * released, an allocation AFTER the real call returned, so in ts order an
 * address is never handed out again before its previous free.  errno is
 * what the real call left.  Until dlsym has found the real functions,
 * allocations come from a static bump heap; its blocks are never passed
 * to the real free/realloc.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"

/* ---- bootstrap heap ---------------------------------------------------------- */

#define BOOT_SIZE (256 * 1024)
static char boot_heap[BOOT_SIZE] __attribute__((aligned(64)));
static size_t boot_used;        /* atomic */

static int boot_owns(const void *p)
{
	return (const char *)p >= boot_heap && (const char *)p < boot_heap + BOOT_SIZE;
}

static void *boot_alloc(size_t n, size_t align)
{
	if (align < 16)
		align = 16;
	size_t old = atomic_load_relaxed(&boot_used), start, end;
	do {
		start = (old + 16 + align - 1) & ~(align - 1);
		if (n > BOOT_SIZE || start + n > BOOT_SIZE)
			return NULL;
		end = start + n;
	} while (!atomic_cas_relaxed(&boot_used, &old, end));
	memcpy(boot_heap + start - sizeof(size_t), &n, sizeof(n));
	return boot_heap + start;       /* zeroed: never reused */
}

static size_t boot_size(const void *p)
{
	size_t n;
	memcpy(&n, (const char *)p - sizeof(size_t), sizeof(n));
	return n;
}

/* Real function missing: resolve, or use the bootstrap heap while the
 * resolution itself allocates. */
static int need_boot(void *fn)
{
	if (shim_likely(fn != NULL))
		return 0;
	shim_resolve();
	return shim_resolving || !shim_real.malloc;
}

/* The stack of the heap call being made, an allocation or a free (see
 * shim_heap_call_stack), errno kept: a successful allocation leaves errno
 * as it was. */
static inline uint32_t heap_call_stack(struct shim_thread *t, int lvl)
{
	if (lvl < 0)
		return 0;
	int *ep = shim_errno(t), e = *ep;
	uint32_t stack = shim_heap_call_stack(t, lvl);
	*ep = e;
	return stack;
}

/* The first half of an allocation's stack at level 0, split around the
 * real call (shim_heap_stack_begin): the registers are captured here, in
 * the hook's own frame, which stays live until shim_heap_stack_end.  1
 * when split; 0: take heap_call_stack.  errno kept. */
#define heap_stack_begin(t, lvl, c)                                     \
	__extension__({                                                 \
		int split_ = 0;                                         \
		if ((lvl) == 0) {                                       \
			SHIM_CAPTURE_REGS(&(c)->regs);                  \
			int *ep_ = shim_errno(t), e_ = *ep_;            \
			split_ = shim_heap_stack_begin(t, c);           \
			*ep_ = e_;                                      \
		}                                                       \
		split_;                                                 \
	})

/* The stack of a free: only with RCPROF_FREE_STACKS (a double or invalid
 * free then names where both frees were made); errno kept. */
static inline uint32_t free_stack(struct shim_thread *t, int lvl)
{
	return shim_g.free_stacks ? heap_call_stack(t, lvl) : 0;
}

/* Whether p goes to the real free (resolved first): not NULL, not a
 * bootstrap block. */
static inline int reaches_real_free(void *p)
{
	if (!p || shim_unlikely(boot_owns(p)))
		return 0;
	if (shim_unlikely(!shim_real.free)) {
		shim_resolve();
		if (!shim_real.free)
			return 0;       /* cannot happen after dlsym: leak */
	}
	return 1;
}

/* ---- librc's object blocks ------------------------------------------------------ */

/* The real calloc and free, nothing recorded: the object's RC_NEW_BLOCK
 * and RC_FREE_BLOCK stand for them (hook_rc.c).  Before dlsym has found
 * the real functions, the bootstrap heap, as the hooks do. */
void *shim_block_alloc(size_t n)
{
	if (shim_unlikely(need_boot((void *)shim_real.calloc)))
		return boot_alloc(n, 16);
	return shim_real.calloc(1, n);
}

void shim_block_free(void *p)
{
	if (reaches_real_free(p))
		shim_real.free(p);
}

/* ---- the hooks ------------------------------------------------------------------ */

SHIM_EXPORT void *malloc(size_t n)
{
	if (shim_unlikely(need_boot((void *)shim_real.malloc)))
		return boot_alloc(n, 16);
	struct shim_thread *t = &shim_tls;
	int lvl = shim_enter(t);
	struct shim_heap_capture c;
	int split = heap_stack_begin(t, lvl, &c);
	uint32_t stack = split ? 0 : heap_call_stack(t, lvl);
	void *p = shim_real.malloc(n);
	if (lvl >= 0 && p) {
		int *ep = shim_errno(t), e = *ep;
		if (split)
			stack = shim_heap_stack_end(t, &c);
		shim_rec_alloc(t, lvl, p, n, RCP_ALLOC_MALLOC, stack);
		*ep = e;
	}
	shim_leave(t);
	return p;
}

SHIM_EXPORT void free(void *p)
{
	if (!reaches_real_free(p))
		return;
	struct shim_thread *t = &shim_tls;
	int lvl = shim_enter(t);
	if (lvl >= 0) {
		int *ep = shim_errno(t), e = *ep;
		shim_rec_free(t, lvl, p, free_stack(t, lvl));
		*ep = e;
	}
	shim_real.free(p);
	shim_leave(t);
}

SHIM_EXPORT void *calloc(size_t n, size_t size)
{
	if (shim_unlikely(need_boot((void *)shim_real.calloc))) {
		if (size && n > SIZE_MAX / size)
			return NULL;
		return boot_alloc(n * size, 16);
	}
	struct shim_thread *t = &shim_tls;
	int lvl = shim_enter(t);
	struct shim_heap_capture c;
	int split = heap_stack_begin(t, lvl, &c);
	uint32_t stack = split ? 0 : heap_call_stack(t, lvl);
	void *p = shim_real.calloc(n, size);
	if (lvl >= 0 && p) {
		int *ep = shim_errno(t), e = *ep;
		if (split)
			stack = shim_heap_stack_end(t, &c);
		shim_rec_alloc(t, lvl, p, n * size, RCP_ALLOC_CALLOC, stack);
		*ep = e;
	}
	shim_leave(t);
	return p;
}

/* realloc and reallocarray: glibc semantics (realloc(NULL, n) allocates,
 * realloc(p, 0) frees p and returns NULL).  reallocarray is done here on
 * top of the real realloc: glibc's own calls realloc through the PLT,
 * which would enter our realloc hook a second time. */
static void *do_realloc(void *p, size_t n, size_t m, int is_array)
{
	size_t bytes;
	if (is_array && __builtin_mul_overflow(n, m, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	if (!is_array)
		bytes = n;
	if (shim_unlikely(boot_owns(p))) {
		void *q = malloc(bytes);
		if (q) {
			size_t old = boot_size(p);
			memcpy(q, p, old < bytes ? old : bytes);
		}
		return q;
	}
	if (shim_unlikely(need_boot((void *)shim_real.realloc)))
		return p ? NULL : boot_alloc(bytes, 16);
	struct shim_thread *t = &shim_tls;
	int lvl = shim_enter(t);
	void *q;
	if (!p) {
		uint32_t stack = heap_call_stack(t, lvl);
		q = shim_real.realloc(NULL, bytes);
		if (lvl >= 0 && q) {
			int *ep = shim_errno(t), e = *ep;
			shim_rec_alloc(t, lvl, q, bytes, RCP_ALLOC_REALLOC, stack);
			*ep = e;
		}
	} else if (bytes == 0) {
		if (lvl >= 0)
			shim_rec_free(t, lvl, p, free_stack(t, lvl));
		q = shim_real.realloc(p, 0);
		if (lvl >= 0 && q) {    /* a libc that does not free here */
			int *ep = shim_errno(t), e = *ep;
			shim_rec_alloc(t, lvl, q, 0, RCP_ALLOC_REALLOC,
				       heap_call_stack(t, lvl));
			*ep = e;
		}
	} else {
		uint32_t stack = heap_call_stack(t, lvl);
		uint64_t ts = lvl >= 0 ? shim_now_before_release() : 0;
		q = shim_real.realloc(p, bytes);
		if (lvl >= 0 && q) {
			int *ep = shim_errno(t), e = *ep;
			shim_rec_realloc(t, lvl, p, ts, q, bytes, stack);
			*ep = e;
		}
	}
	shim_leave(t);
	return q;
}

SHIM_EXPORT void *realloc(void *p, size_t n)
{
	return do_realloc(p, n, 0, 0);
}

SHIM_EXPORT void *reallocarray(void *p, size_t n, size_t m)
{
	return do_realloc(p, n, m, 1);
}

SHIM_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	if (shim_unlikely(need_boot((void *)shim_real.posix_memalign))) {
		if (align % sizeof(void *) || (align & (align - 1)))
			return EINVAL;
		void *p = boot_alloc(n, align);
		if (!p)
			return ENOMEM;
		*out = p;
		return 0;
	}
	struct shim_thread *t = &shim_tls;
	int lvl = shim_enter(t);
	uint32_t stack = heap_call_stack(t, lvl);
	int rc = shim_real.posix_memalign(out, align, n);
	if (lvl >= 0 && rc == 0) {
		int *ep = shim_errno(t), e = *ep;
		shim_rec_alloc(t, lvl, *out, n, RCP_ALLOC_MEMALIGN, stack);
		*ep = e;
	}
	shim_leave(t);
	return rc;
}

#define ALIGNED_HOOK(name, call, boot_align, size)                          \
	{                                                                   \
		if (shim_unlikely(need_boot((void *)shim_real.name)))        \
			return boot_alloc(size, boot_align);                \
		struct shim_thread *t = &shim_tls;                          \
		int lvl = shim_enter(t);                                    \
		uint32_t stack = heap_call_stack(t, lvl);                       \
		void *p = call;                                             \
		if (lvl >= 0 && p) {                                        \
			int *ep = shim_errno(t), e = *ep;                                      \
			shim_rec_alloc(t, lvl, p, size, RCP_ALLOC_MEMALIGN, \
				       stack);                              \
			*ep = e;                                          \
		}                                                           \
		shim_leave(t);                                              \
		return p;                                                   \
	}

SHIM_EXPORT void *aligned_alloc(size_t align, size_t n)
ALIGNED_HOOK(aligned_alloc, shim_real.aligned_alloc(align, n), align, n)

SHIM_EXPORT void *memalign(size_t align, size_t n)
ALIGNED_HOOK(memalign, shim_real.memalign(align, n), align, n)

SHIM_EXPORT void *valloc(size_t n)
ALIGNED_HOOK(valloc, shim_real.valloc(n), 4096, n)

SHIM_EXPORT void *pvalloc(size_t n)
ALIGNED_HOOK(pvalloc, shim_real.pvalloc(n), 4096, n)

SHIM_EXPORT size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (boot_owns(p))
		return boot_size(p);
	if (!shim_real.malloc_usable_size)
		shim_resolve();
	return shim_real.malloc_usable_size ? shim_real.malloc_usable_size(p) : 0;
}
