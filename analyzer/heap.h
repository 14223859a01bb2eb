/* heap.h - replay of plain heap blocks.
 *
 * Live blocks are kept in an open-addressing table (linear probing,
 * backward-shift deletion) with the block stored inline: no malloc per
 * event, one cache line per lookup.  uthash would cost a malloc and a
 * pointer chase per block, too slow for the 30 M events/s target.
 *
 * Freed addresses go to a bounded quarantine: the block stays in the same
 * table marked FREED, and a ring of the last RCP_QUARANTINE frees (address
 * and where it was freed) overwrites the oldest.  A second free of a FREED
 * address whose free is still in the ring is a double free with the first
 * free's stack.  An entry whose free the ring forgot is not looked up and
 * deleted then (a second probe sequence per free): it is recognised as
 * stale by its ring slot and swept when the table fills, so memory stays
 * bounded whatever the number of events, and every event costs one probe
 * sequence in one table (a separate quarantine index cost two more cache
 * misses per event).
 */
#ifndef RCPROF_HEAP_H
#define RCPROF_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "rcobj.h"
#include "util.h"

#ifndef RCP_QUARANTINE
#define RCP_QUARANTINE (1u << 16)
#endif
#define RCP_ERRORS_KEEP 10000   /* errors kept in detail; all are counted */

#define RCP_BLOCK_RC 1u         /* holds a refcounted object */
#define RCP_BLOCK_FREED 2u      /* freed, kept while in the quarantine ring */

struct rcp_block {
	uint64_t addr;          /* 0 = empty slot */
	uint64_t size;
	uint32_t stack;
	uint16_t flags;
	uint16_t qidx;          /* FREED: its ring slot */
};

_Static_assert(RCP_QUARANTINE <= 65536, "rcp_block.qidx is 16 bits");

struct rcp_qent {
	uint64_t addr;
	struct rcp_where at;
};

struct rcp_heap {
	struct rcp_block *tab;
	size_t cap;                     /* a power of two */
	size_t n;                       /* live blocks */
	size_t used;                    /* live + FREED slots, <= cap / 2 */
	struct rcp_qent *ring;          /* RCP_QUARANTINE entries, lazily */
	size_t qnext;                   /* the slot the next free goes to */
	size_t qn;                      /* frees in the ring */
	int tolerate_invalid;           /* history incomplete: no INVALID_FREE */
	uint64_t replaced;              /* allocations over a live block */
	uint64_t nerrors;               /* all errors */
	size_t nerr_kept, cap_err;
	struct rcp_error *errors;
};

int rcp_heap_init(struct rcp_heap *h);
void rcp_heap_free_all(struct rcp_heap *h);
/* MALLOC / REALLOC_TO.  0 or -ENOMEM. */
int rcp_heap_alloc(struct rcp_heap *h, uint64_t addr, uint64_t size,
		   const struct rcp_where *w);
/* FREE / REALLOC_FROM; records double/invalid frees. */
void rcp_heap_release(struct rcp_heap *h, uint64_t addr,
		      const struct rcp_where *w);
/* Hint: addr will be looked up soon (the replay looks a few events
 * ahead so the cache misses of the table overlap).  Inline: it runs for
 * every heap event, and a call cost more than the hash.  Always: GCC
 * deletes calls to a function that only prefetches (it passes for pure),
 * and until it was forced inline this prefetch was never issued. */
static inline __attribute__((always_inline))
void rcp_heap_prefetch(const struct rcp_heap *h, uint64_t addr)
{
	__builtin_prefetch(&h->tab[rcp_mix64(addr) & (h->cap - 1)]);
}
/* RC_NEW: the block at `block` holds a refcounted object. */
void rcp_heap_mark_rc(struct rcp_heap *h, uint64_t block);
const struct rcp_block *rcp_heap_find(const struct rcp_heap *h, uint64_t addr);

/* Visits the live blocks in table order. */
#define rcp_heap_foreach(h, b) \
	for (struct rcp_block *b = (h)->tab; b && b < (h)->tab + (h)->cap; b++) \
		if (b->addr && !(b->flags & RCP_BLOCK_FREED))

#endif /* RCPROF_HEAP_H */
