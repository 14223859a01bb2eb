/* util.c - diagnostics sink and growable arrays (see util.h). */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

void rcp_diag_init(struct rcp_diag *d, int quiet)
{
	memset(d, 0, sizeof(*d));
	d->quiet = quiet;
}

void rcp_diag_free(struct rcp_diag *d)
{
	for (size_t i = 0; i < d->nkept; i++)
		free(d->kept[i]);
	d->nkept = 0;
	d->nwarnings = 0;
}

void rcp_warn(struct rcp_diag *d, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	d->nwarnings++;
	/* Repeated warnings (a damaged dump can produce thousands) are
	 * counted, and only the first ones are kept and printed. */
	if (d->nkept < RCP_DIAG_KEEP) {
		char *s = strdup(buf);
		if (s)
			d->kept[d->nkept++] = s;
		if (!d->quiet)
			fprintf(stderr, RCP_PREFIX "%s\n", buf);
	} else if (d->nwarnings == RCP_DIAG_KEEP + 1 && !d->quiet) {
		fprintf(stderr, RCP_PREFIX "more warnings not shown\n");
	}
}

int rcp_grow(void *arr, size_t *cap, size_t n, size_t esz)
{
	void **pa = arr;
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	if (ncap > SIZE_MAX / esz)
		return -ENOMEM;
	void *p = realloc(*pa, ncap * esz);
	if (!p)
		return -ENOMEM;
	*pa = p;
	*cap = ncap;
	return 0;
}

const char *rcp_basename(const char *path)
{
	if (!path)
		return "";
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

void rcp_main_heap_huge(void)
{
	const size_t reserve = 64u << 20, block = 96u << 10;
	/* Grow the heap by the reserve at once, and never give it back (a
	 * trim would unmap advised pages; the report is a short process). */
	mallopt(M_TRIM_THRESHOLD, (int)(2 * reserve));
	mallopt(M_TOP_PAD, (int)reserve);
	/* Blocks below the mmap threshold come from the heap: the first one
	 * that does not fit its top makes malloc extend it, by the pad. */
	void *blocks[8], *first = NULL;
	int n = 0;
	const char *brk0 = sbrk(0);
	while (n < 8) {
		blocks[n] = malloc(block);
		if (!blocks[n])
			break;
		if (!first)
			first = blocks[n];
		n++;
		if ((const char *)sbrk(0) - brk0 >= (ptrdiff_t)reserve)
			break;
	}
	/* Only a heap that malloc grows with brk (not a sanitizer's own
	 * allocator): the blocks lie just below the break. */
	uintptr_t hi = (uintptr_t)sbrk(0);
	if (first && hi > (uintptr_t)first && hi - (uintptr_t)first <= 2 * reserve)
		rcp_advise_huge(first, hi - (uintptr_t)first);
	while (n > 0)
		free(blocks[--n]);
}

void rcp_advise_huge(void *p, size_t bytes)
{
	const uintptr_t huge = 2u << 20, page = 4096;
	/* Whole pages around the block: a big malloc block is a mapping of
	 * its own, and advising only part of it would split it in several,
	 * which mremap cannot move: every realloc of the block would then
	 * copy it (glibc falls back to malloc, memcpy, free).  The kernel
	 * uses huge pages only for the 2 MiB-aligned part anyway. */
	uintptr_t lo = (uintptr_t)p & ~(page - 1);
	uintptr_t hi = ((uintptr_t)p + bytes + page - 1) & ~(page - 1);

	if (p && bytes >= huge)
		madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

void *rcp_map_huge(size_t bytes)
{
	const size_t huge = 2u << 20;
	if (bytes == 0 || bytes > SIZE_MAX - huge)
		return NULL;
	uint8_t *m = mmap(NULL, bytes + huge, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	uint8_t *p = (uint8_t *)(((uintptr_t)m + huge - 1) & ~(uintptr_t)(huge - 1));
	/* the unaligned head and the tail past bytes go back */
	if (p > m)
		munmap(m, (size_t)(p - m));
	size_t tail = (size_t)(m + bytes + huge - (p + bytes));
	if (tail)
		munmap(p + bytes, tail);
	madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

void rcp_unmap_huge(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}
