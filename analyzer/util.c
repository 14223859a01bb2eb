/* util.c - diagnostics sink and growable arrays (see util.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

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
