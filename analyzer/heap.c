/* heap.c - plain heap replay (see heap.h).
 *
 * Invariants
 *   - tab holds every live block exactly once, and every FREED address
 *     whose free is still in the ring (its qidx names that ring slot);
 *     used <= cap / 2.
 *   - It may also hold stale FREED entries: the ring slot they name was
 *     overwritten by a later free (ring[qidx].addr != addr), so their free
 *     has been forgotten and they count as absent.  Dropping them when
 *     they go stale would cost a table lookup per free (the slot only
 *     names the address); instead they are swept when the table fills.
 *   - The ring holds the last qn frees, the oldest at slot qnext once it
 *     is full.  A FREED entry owns its slot: a later free of the same
 *     address needs an allocation in between, which makes the entry live
 *     again, and its next free moves qidx to the new slot.
 *   - An allocation at an address still live means the old block was freed
 *     unseen (e.g. by a path the shim does not observe), or that its free
 *     by another thread is about to come, stamped a little late (see
 *     RCP_HEAP_SKEW_NS): the new block replaces it without an error, and
 *     is marked REPLACED while recent[] remembers when and by whom.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "heap.h"
#include "util.h"

/* Big tables are mmap'ed with transparent huge pages: lookups are random
 * by design (hashed addresses), and with 4 KiB pages nearly every one
 * missed the TLB as well as the cache. */
#define HUGE_TABLE (2u << 20)

static struct rcp_block *table_alloc(size_t cap)
{
	size_t bytes = cap * sizeof(struct rcp_block);
	if (bytes < HUGE_TABLE)
		return calloc(cap, sizeof(struct rcp_block));
	return rcp_map_huge(bytes);
}

static void table_free(struct rcp_block *t, size_t cap)
{
	size_t bytes = cap * sizeof(struct rcp_block);
	if (bytes < HUGE_TABLE)
		free(t);
	else
		rcp_unmap_huge(t, bytes);
}

int rcp_heap_init(struct rcp_heap *h)
{
	memset(h, 0, sizeof(*h));
	h->unsure_from = UINT64_MAX;
	h->cap = 1024;
	h->tab = table_alloc(h->cap);
	if (!h->tab)
		return -ENOMEM;
	return 0;
}

void rcp_heap_free_all(struct rcp_heap *h)
{
	table_free(h->tab, h->cap);
	table_free(h->spare, h->cap);
	if (h->ring_huge)
		rcp_unmap_huge(h->ring, RCP_QUARANTINE * sizeof(*h->ring));
	else
		free(h->ring);
	free(h->errors);
	memset(h, 0, sizeof(*h));
}

/* Why a quarter: the table of a long replay holds the remembered frees
 * of the ring (RCP_QUARANTINE of them once it is full) besides the live
 * blocks, and grown on demand it stayed up to half full of them, where
 * probes often run past their first slot; sized up front it also skips
 * the rebuilds of every size on the way.  A report of the malloc churn
 * bench's dump (2 M frees) took 100-114 ms instead of 116-136 ms
 * (minimum and median of 40 alternating runs pinned to one CPU), for
 * about 1 % fewer instructions: the gain is in memory stalls and page
 * faults, not in work.  The cost is a fixed 6 MiB (RCP_QUARANTINE * 4
 * slots of 24 bytes) for dumps that have that many frees. */
int rcp_heap_reserve(struct rcp_heap *h, uint64_t frees)
{
	if (frees < RCP_QUARANTINE || h->used != 0 || h->ring)
		return 0;
	size_t cap = 4 * (size_t)RCP_QUARANTINE;
	if (cap > h->cap) {
		struct rcp_block *t = table_alloc(cap);
		if (!t)
			return -ENOMEM;
		table_free(h->tab, h->cap);
		table_free(h->spare, h->cap);
		h->spare = NULL;
		h->tab = t;
		h->cap = cap;
	}
	/* all of it will be written: one fault instead of 512 */
	h->ring = rcp_map_huge(RCP_QUARANTINE * sizeof(*h->ring));
	h->ring_huge = h->ring != NULL;
	return 0;
}

static size_t slot_of(const struct rcp_heap *h, uint64_t addr, size_t cap)
{
	return (size_t)rcp_heap_hash(h, addr) & (cap - 1);
}

/* The entry for addr (live or FREED), or NULL; addr != 0. */
static struct rcp_block *lookup(const struct rcp_heap *h, uint64_t addr)
{
	struct rcp_block *b = rcp_heap_probe(h, addr, rcp_heap_hash(h, addr));
	return b->addr ? b : NULL;
}

const struct rcp_block *rcp_heap_find(const struct rcp_heap *h, uint64_t addr)
{
	const struct rcp_block *b = addr ? lookup(h, addr) : NULL;
	return b && !(b->flags & RCP_BLOCK_FREED) ? b : NULL;
}

/* Backward-shift deletion: no tombstones, probe chains stay short. */
static void delete_at(struct rcp_heap *h, struct rcp_block *b)
{
	size_t mask = h->cap - 1;
	size_t i = (size_t)(b - h->tab), j = i;

	for (;;) {
		j = (j + 1) & mask;
		if (h->tab[j].addr == 0)
			break;
		size_t home = slot_of(h, h->tab[j].addr, h->cap);
		/* move j to i when its home is not in (i, j] (cyclically) */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			h->tab[i] = h->tab[j];
			i = j;
		}
	}
	h->tab[i].addr = 0;
	h->used--;
}

/* A FREED entry whose free is still remembered. */
static int freed_known(const struct rcp_heap *h, const struct rcp_block *b)
{
	return h->ring && h->ring[b->qidx].addr == b->addr;
}

static int kept(const struct rcp_heap *h, const struct rcp_block *b)
{
	return b->addr && (!(b->flags & RCP_BLOCK_FREED) || freed_known(h, b));
}

/* How far ahead the sweep prefetches the ring slots of FREED entries:
 * the slots are in free order, not table order, and a miss per entry made
 * the sweep a visible part of a replay. */
#define SWEEP_AHEAD 16

static inline void prefetch_slot(const struct rcp_heap *h, size_t k)
{
	if (h->ring && k + SWEEP_AHEAD < h->cap)
		__builtin_prefetch(&h->ring[h->tab[k + SWEEP_AHEAD].qidx]);
}

/* The table is half full: rebuilds it without the stale entries, twice
 * as large unless it is then at most 3/8 full (the sweep, O(cap), then
 * comes again after cap/8 new addresses at the earliest), so the table
 * stays proportional to the live blocks and the remembered frees.
 *
 * A rebuild at the same size - every sweep of a heap whose live blocks
 * stay about the same - goes into the previous table, kept as the spare:
 * a fresh table's first writes each fault in a zero page, and those
 * faults cost more than the sweep itself. */
static int grow(struct rcp_heap *h)
{
	size_t keep = 0;
	for (size_t k = 0; k < h->cap; k++) {
		prefetch_slot(h, k);
		keep += (size_t)kept(h, &h->tab[k]);
	}
	size_t ncap = 8 * (keep + 1) <= 3 * h->cap ? h->cap : h->cap * 2;
	struct rcp_block *nt;
	if (ncap == h->cap && h->spare) {
		nt = h->spare;
		h->spare = NULL;
		memset(nt, 0, ncap * sizeof(*nt));
	} else {
		nt = table_alloc(ncap);
	}
	if (!nt)
		return -ENOMEM;
	for (size_t k = 0; k < h->cap; k++) {
		prefetch_slot(h, k);
		if (!kept(h, &h->tab[k]))
			continue;
		size_t i = slot_of(h, h->tab[k].addr, ncap);
		while (nt[i].addr)
			i = (i + 1) & (ncap - 1);
		nt[i] = h->tab[k];
	}
	if (ncap == h->cap) {
		h->spare = h->tab;
	} else {
		table_free(h->tab, h->cap);
		table_free(h->spare, h->cap);
		h->spare = NULL;
	}
	h->tab = nt;
	h->cap = ncap;
	h->used = keep;
	return 0;
}

/* Puts b (just freed) into the ring, over the oldest free when full. */
static void quarantine(struct rcp_heap *h, struct rcp_block *b,
		       const struct rcp_where *w)
{
	if (!h->ring) {
		/* allocated on the first free: most tiny dumps never need it */
		h->ring = calloc(RCP_QUARANTINE, sizeof(*h->ring));
		if (!h->ring) {
			/* no quarantine: double frees will look invalid */
			delete_at(h, b);
			return;
		}
	}
	rcp_heap_ring_put(h, b, b->addr, w);
}

/* ---- events -------------------------------------------------------------- */

static void add_error(struct rcp_heap *h, enum rcp_error_kind kind,
		      uint64_t addr, const struct rcp_where *w,
		      const struct rcp_where *earlier)
{
	if (w->ts > h->unsure_from) {
		h->nunsure++;
		return;
	}
	h->nerrors++;
	if (h->nerr_kept >= RCP_ERRORS_KEEP ||
	    rcp_grow(&h->errors, &h->cap_err, h->nerr_kept, sizeof(*h->errors)))
		return;
	struct rcp_error *e = &h->errors[h->nerr_kept++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->addr = addr;
	e->at = *w;
	if (earlier) {
		e->earlier = *earlier;
		e->has_earlier = 1;
	}
}

int rcp_heap_insert_slow(struct rcp_heap *h, uint64_t addr, uint64_t hash,
			 uint64_t size, uint32_t stack)
{
	if (addr == 0)
		return 0;               /* failed allocation */
	if (2 * (h->used + 1) > h->cap) {
		int rc = grow(h);
		if (rc)
			return rc;
	}
	/* the slot moved if the table grew: the probe ends elsewhere */
	struct rcp_block *b = rcp_heap_probe(h, addr, hash);
	h->used++;
	h->n++;
	rcp_block_set(b, addr, size, stack);
	return 0;
}

void rcp_heap_replace(struct rcp_heap *h, struct rcp_block *b, uint64_t addr,
		      uint64_t size, const struct rcp_where *w)
{
	h->replaced++;
	rcp_block_set(b, addr, size, w->stack);
	b->flags = RCP_BLOCK_REPLACED;
	struct rcp_replacement *r = &h->recent[h->recent_next];
	h->recent_next = (h->recent_next + 1) % RCP_HEAP_RECENT;
	*r = (struct rcp_replacement){ .addr = addr, .ts = w->ts, .tid = w->tid };
}

/* Is the free at w of the REPLACED block b (live, or freed since) the
 * late free of the block it replaced?  Another thread's, within the skew
 * after the replacing allocation.  The replacing thread's own free keeps
 * the mark (the late free may still come after it); another thread's
 * uses it up: a replacement has one late free at most. */
static int late_free(struct rcp_heap *h, struct rcp_block *b, uint64_t addr,
		     const struct rcp_where *w)
{
	for (unsigned i = 1; i <= RCP_HEAP_RECENT; i++) {   /* newest first */
		struct rcp_replacement *r =
			&h->recent[(h->recent_next + RCP_HEAP_RECENT - i) %
				   RCP_HEAP_RECENT];
		if (r->addr != addr)
			continue;
		if (r->tid == w->tid)
			return 0;
		r->addr = 0;
		b->flags &= (uint16_t)~RCP_BLOCK_REPLACED;
		return w->ts >= r->ts && w->ts - r->ts <= RCP_HEAP_SKEW_NS;
	}
	b->flags &= (uint16_t)~RCP_BLOCK_REPLACED;     /* forgotten */
	return 0;
}

void rcp_heap_release_slow(struct rcp_heap *h, struct rcp_block *b,
			   uint64_t addr, const struct rcp_where *w)
{
	if (b->addr && (b->flags & RCP_BLOCK_REPLACED) &&
	    late_free(h, b, addr, w)) {
		h->reordered++;
		return;
	}
	if (b->addr && !(b->flags & RCP_BLOCK_FREED)) {
		h->n--;                 /* perhaps the first free: the ring is made */
		quarantine(h, b, w);
	} else if (b->addr && freed_known(h, b)) {
		add_error(h, RCP_ERR_DOUBLE_FREE, addr, w, &h->ring[b->qidx].at);
	} else if (!h->tolerate_invalid) {
		add_error(h, RCP_ERR_INVALID_FREE, addr, w, NULL);
	}
}

int rcp_heap_long_probe(struct rcp_heap *h)
{
	if (h->scatter || ++h->long_probes < RCP_LONG_PROBES_MAX)
		return 0;
	h->scatter = 1;
	if (grow(h) == 0)       /* rebuilt at the same size, rehashed */
		return 0;
	h->scatter = 0;         /* the table is untouched: keep going */
	return -ENOMEM;
}

int rcp_heap_alloc(struct rcp_heap *h, uint64_t addr, uint64_t size,
		   const struct rcp_where *w)
{
	return rcp_heap_alloc_hashed(h, addr, rcp_heap_hash(h, addr), size, w);
}

void rcp_heap_release(struct rcp_heap *h, uint64_t addr,
		      const struct rcp_where *w)
{
	rcp_heap_release_hashed(h, addr, rcp_heap_hash(h, addr), w);
}

void rcp_heap_mark_rc(struct rcp_heap *h, uint64_t block)
{
	if (block == 0)
		return;
	struct rcp_block *b = lookup(h, block);
	if (b && !(b->flags & RCP_BLOCK_FREED))
		b->flags |= RCP_BLOCK_RC;
}
