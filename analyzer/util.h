/* util.h - small helpers shared by the analyzer modules: growable arrays,
 * unaligned little-endian loads, a 64-bit hash, and the diagnostics sink.
 *
 * Every message of rcprof-report starts with "rcprof-report: ".  Warnings
 * about one dump are collected (bounded) so the report can list them, and
 * echoed to stderr unless the sink is quiet (tests, fuzzing).
 */
#ifndef RCPROF_UTIL_H
#define RCPROF_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RCP_PREFIX "rcprof-report: "

/* ---- diagnostics --------------------------------------------------------- */

#define RCP_DIAG_KEEP 64        /* warnings kept for the report */

struct rcp_diag {
	int quiet;              /* don't echo to stderr */
	size_t nwarnings;       /* all warnings, kept or not */
	size_t nkept;
	char *kept[RCP_DIAG_KEEP];
};

void rcp_diag_init(struct rcp_diag *d, int quiet);
void rcp_diag_free(struct rcp_diag *d);
/* Adds a warning; `fmt` is the text after the "rcprof-report: " prefix. */
void rcp_warn(struct rcp_diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- growable arrays ----------------------------------------------------- */

/* Makes room for one more element in *arr (element size `esz`) holding *n
 * elements with capacity *cap.  0 or -ENOMEM. */
int rcp_grow(void *arr, size_t *cap, size_t n, size_t esz);

/* ---- loads ---------------------------------------------------------------- */

static inline uint32_t rcp_load32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* ---- hashing --------------------------------------------------------------- */

/* A strong 64-bit mixer (the splitmix64 finalizer): consecutive heap
 * addresses spread over the whole table. */
static inline uint64_t rcp_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

#define RCP_FNV_INIT 0xcbf29ce484222325ull

/* FNV-1a over bytes, continuing from h (start with RCP_FNV_INIT). */
static inline uint64_t rcp_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

const char *rcp_basename(const char *path);

/* Asks for transparent huge pages for a big, freshly allocated (still
 * untouched) table that is probed at random.
 * With 4 KiB pages nearly every probe of a table of tens of MiB misses
 * the TLB as well as the cache, and the page walk also delays the
 * replay's prefetches.  The machine's THP mode is "madvise", so nothing
 * happens without asking.  A hint: failure is ignored. */
void rcp_advise_huge(void *p, size_t bytes);
/* Transparent huge pages for malloc's main heap (rcprof-report's main):
 * its many small blocks - the stacks, libdw's tables - then cost a page
 * fault per 2 MiB instead of per 4 KiB, which on a VM is several
 * microseconds each.  The heap grows by 64 MiB at once (address space
 * only: a page is allocated when first touched), and that part is
 * advised; growth beyond it falls back to small pages. */
void rcp_main_heap_huge(void);

/* Zeroed anonymous memory starting on a 2 MiB boundary, with transparent
 * huge pages asked for: mmap alone only aligns mappings whose length is a
 * multiple of 2 MiB, and an unaligned one gets no huge page at its ends
 * (none at all below 4 MiB).  NULL on failure.  Free with rcp_unmap_huge
 * and the same length. */
void *rcp_map_huge(size_t bytes);
void rcp_unmap_huge(void *p, size_t bytes);

#endif /* RCPROF_UTIL_H */
