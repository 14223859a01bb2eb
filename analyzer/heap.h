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
#define RCP_BLOCK_REPLACED 4u   /* allocated over a live block (recent[]) */

/* Clock skew of heap events between threads.  The recorder stamps an
 * allocation with a plain RDTSC after the real call returned, which may
 * read the counter a few hundred cycles before the load that found the
 * block completed; so when another thread freed that block just before,
 * its free can sort after the allocation.  The replay then sees an
 * allocation over a live block, and that block's free a moment later:
 * a free of another thread within RCP_HEAP_SKEW_NS after an allocation
 * that replaced a live block belonged before it, and is absorbed. */
#define RCP_HEAP_SKEW_NS 10000u
#define RCP_HEAP_RECENT 64u     /* replacements remembered (a ring) */

struct rcp_replacement {
	uint64_t addr;          /* 0: unused */
	uint64_t ts;
	uint32_t tid;
};

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
	struct rcp_block *spare;        /* NULL, or a table of cap slots */
	size_t n;                       /* live blocks */
	size_t used;                    /* live + FREED slots, <= cap / 2 */
	struct rcp_qent *ring;          /* RCP_QUARANTINE entries, lazily */
	int ring_huge;                  /* ring is rcp_map_huge memory */
	size_t qnext;                   /* the slot the next free goes to */
	size_t qn;                      /* frees in the ring */
	int tolerate_invalid;           /* history incomplete: no INVALID_FREE */
	/* The last REALLOC_FROM's ring slot and thread (rcp_heap_realloc_from) */
	size_t rfrom_slot;
	uint32_t rfrom_tid;
	int rfrom_valid;
	uint64_t replaced;              /* allocations over a live block */
	uint64_t reordered;             /* late frees absorbed (see above) */
	struct rcp_replacement recent[RCP_HEAP_RECENT];
	uint32_t recent_next;
	int scatter;                    /* rcp_heap_hash: scattering mode */
	uint32_t long_probes;           /* insertions that probed far */
	uint64_t nerrors;               /* all errors */
	size_t nerr_kept, cap_err;
	struct rcp_error *errors;
	/* Errors after this time are not reported but counted in nunsure:
	 * events are missing from there on (a gap in the dump), and a free or
	 * allocation among them may explain the error. */
	uint64_t unsure_from;
	uint64_t nunsure;
};

int rcp_heap_init(struct rcp_heap *h);
/* The replay will see about `frees` frees (the dump's own count): when
 * they are enough to fill the quarantine, the table is made large enough
 * now for the frees it will remember, at most a quarter full, and the
 * ring is put in one huge page.  Called before the first event; without
 * it the table starts small and grows.  0 or -ENOMEM. */
int rcp_heap_reserve(struct rcp_heap *h, uint64_t frees);
void rcp_heap_free_all(struct rcp_heap *h);
/* MALLOC / REALLOC_TO at w (its ts, tid and stack).  0 or -ENOMEM. */
int rcp_heap_alloc(struct rcp_heap *h, uint64_t addr, uint64_t size,
		   const struct rcp_where *w);
/* FREE / REALLOC_FROM; records double/invalid frees. */
void rcp_heap_release(struct rcp_heap *h, uint64_t addr,
		      const struct rcp_where *w);

/* An address's hash: where its probe sequence starts in any table size.
 * The replay hashes each address once, for its prefetch and its event
 * (rcp_heap_alloc_hashed, rcp_heap_release_hashed): rcp_heap_hash, which
 * is the local hash below unless the table switched to the scattering one.
 *
 * Within a 4 MiB region it keeps the address order: the 16-byte granule
 * number, so neighbouring blocks have neighbouring slots.  An allocator
 * hands out again what was freed lately, near what it handed out lately,
 * and the replay's table accesses then have the program's own locality:
 * with a scattering hash every event of a heap-heavy dump touched a
 * random cache line of a table larger than L2, and the replay waited on
 * memory (the bench's malloc churn: 16 % fewer samples in the replay
 * loop than with a multiplicative hash).  The region number is scattered
 * (one multiply, folded) and xor-ed in, so blocks of different arenas,
 * mmap'ed blocks at the same page offset and tables smaller than a
 * region's granules still spread over the table. */
static inline uint64_t rcp_heap_hash_local(uint64_t addr)
{
	uint64_t r = (addr >> 22) * 0x9E3779B97F4A7C15ull;
	return (addr >> 4) ^ (r ^ (r >> 32));
}

/* The fallback: every 16-byte granule scattered on its own.  The local
 * hash has one weakness: a region's granules take a contiguous stretch
 * of 2^18 slots, and a table of a few million slots has only a few dozen
 * such stretches.  Depending on where ASLR put a large heap, several of
 * its regions can share one, their 64-byte blocks on the same slots: a
 * solid run of up to hundreds of thousands of slots that every probe
 * walks (the bench's 1 M-object graph took 17 s instead of 2.5 s in one
 * run of four).  When insertions start probing far, the table is rebuilt
 * with this hash for the rest of the replay (rcp_heap_long_probe). */
static inline uint64_t rcp_heap_hash_scatter(uint64_t addr)
{
	uint64_t r = (addr >> 4) * 0x9E3779B97F4A7C15ull;
	return r ^ (r >> 29);
}

static inline uint64_t rcp_heap_hash(const struct rcp_heap *h, uint64_t addr)
{
	return __builtin_expect(h->scatter, 0) ? rcp_heap_hash_scatter(addr) :
						 rcp_heap_hash_local(addr);
}

/* An insertion this many slots past its home counts as a long probe, and
 * this many long probes make the table switch to the scattering hash. */
#define RCP_LONG_PROBE 256u
#define RCP_LONG_PROBES_MAX 64u

/* Hint: the address of this hash will be looked up soon (the replay looks
 * a few events ahead so the cache misses of the table overlap).  Inline:
 * it runs for every heap event, and a call cost more than the hash.
 * Always: GCC deletes calls to a function that only prefetches (it passes
 * for pure), and until it was forced inline this prefetch was never
 * issued. */
static inline __attribute__((always_inline))
void rcp_heap_prefetch_hashed(const struct rcp_heap *h, uint64_t hash)
{
	__builtin_prefetch(&h->tab[hash & (h->cap - 1)]);
}

static inline __attribute__((always_inline))
void rcp_heap_prefetch(const struct rcp_heap *h, uint64_t addr)
{
	rcp_heap_prefetch_hashed(h, rcp_heap_hash(h, addr));
}

/* ---- Inline fast paths ---------------------------------------------------
 *
 * rcp_heap_alloc and rcp_heap_release are these with the hash computed;
 * the replay's heap loop calls them directly so that the common cases (a
 * new block in a table with room, the free of a live block) cost no call.
 * What is rare - a table to grow, the first free, a bad free - is out of
 * line in heap.c. */

/* The entry of addr (live or FREED), or the empty slot that ends its probe
 * sequence, where addr would be inserted.  The table always has empty
 * slots (used <= cap / 2). */
static inline struct rcp_block *rcp_heap_probe(const struct rcp_heap *h,
					       uint64_t addr, uint64_t hash)
{
	size_t mask = h->cap - 1;
	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		struct rcp_block *b = &h->tab[i];
		if (b->addr == addr || b->addr == 0)
			return b;
	}
}

/* The slot b now holds the live block addr. */
static inline void rcp_block_set(struct rcp_block *b, uint64_t addr,
				 uint64_t size, uint32_t stack)
{
	b->addr = addr;
	b->size = size;
	b->stack = stack;
	b->flags = 0;
	b->qidx = 0;
}

/* The live block b (at addr) is freed at w: into the ring (which
 * exists), over the oldest free when full; b stays in the table, FREED,
 * naming its ring slot.  The caller counts it out of h->n. */
static inline void rcp_heap_ring_put(struct rcp_heap *h, struct rcp_block *b,
				     uint64_t addr, const struct rcp_where *w)
{
	size_t k = h->qnext;
	h->qnext = (k + 1) % RCP_QUARANTINE;
	if (h->qn < RCP_QUARANTINE)
		h->qn++;
	h->ring[k].addr = addr;
	h->ring[k].at = *w;
	b->flags = RCP_BLOCK_FREED | (b->flags & RCP_BLOCK_REPLACED);
	b->qidx = (uint16_t)k;
}

/* Out of line: an insertion probed RCP_LONG_PROBE slots or more; 0, or
 * -ENOMEM when the rebuild with the scattering hash failed. */
int rcp_heap_long_probe(struct rcp_heap *h);
/* Out of line: addr is 0, or is new and the table must grow first. */
int rcp_heap_insert_slow(struct rcp_heap *h, uint64_t addr, uint64_t hash,
			 uint64_t size, uint32_t stack);
/* Out of line: the live block b is replaced by the allocation at w. */
void rcp_heap_replace(struct rcp_heap *h, struct rcp_block *b, uint64_t addr,
		      uint64_t size, const struct rcp_where *w);
/* Out of line: the free of addr, whose probe ended at b, that is not the
 * free of a plain live block with the ring in place. */
void rcp_heap_release_slow(struct rcp_heap *h, struct rcp_block *b,
			   uint64_t addr, const struct rcp_where *w);

/* rcp_heap_alloc with hash = rcp_heap_hash(addr). */
static inline int rcp_heap_alloc_hashed(struct rcp_heap *h, uint64_t addr,
					uint64_t hash, uint64_t size,
					const struct rcp_where *w)
{
	uint32_t stack = w->stack;
	if (__builtin_expect(h->scatter, 0))
		hash = rcp_heap_hash_scatter(addr);     /* hashed before the switch */
	struct rcp_block *b = rcp_heap_probe(h, addr, hash);
	int far = 0;            /* a new entry this many slots past its home */
	if (b->addr == 0) {
		/* addr 0 (a failed allocation) ends here too: its probe
		 * stops at the first empty slot */
		if (addr == 0 || 2 * (h->used + 1) > h->cap)
			return rcp_heap_insert_slow(h, addr, hash, size, stack);
		h->used++;
		h->n++;
		far = (((size_t)(b - h->tab) - hash) & (h->cap - 1)) >=
		      RCP_LONG_PROBE;
	} else if (b->flags & RCP_BLOCK_FREED) {
		h->n++;                 /* reused: its ring slot no longer owns it */
	} else {
		rcp_heap_replace(h, b, addr, size, w);
		return 0;
	}
	rcp_block_set(b, addr, size, stack);
	if (__builtin_expect(far, 0))
		return rcp_heap_long_probe(h);
	return 0;
}

/* rcp_heap_release with hash = rcp_heap_hash(addr). */
static inline void rcp_heap_release_hashed(struct rcp_heap *h, uint64_t addr,
					   uint64_t hash,
					   const struct rcp_where *w)
{
	if (addr == 0)
		return;                 /* free(NULL) */
	/* A full ring forgets its oldest free now, before the lookup: a free
	 * of that very address is then no longer a double free. */
	if (h->qn == RCP_QUARANTINE)
		h->ring[h->qnext].addr = 0;
	if (__builtin_expect(h->scatter, 0))
		hash = rcp_heap_hash_scatter(addr);     /* hashed before the switch */
	struct rcp_block *b = rcp_heap_probe(h, addr, hash);
	if (b->addr == 0 || (b->flags & (RCP_BLOCK_FREED | RCP_BLOCK_REPLACED)) ||
	    !h->ring) {
		rcp_heap_release_slow(h, b, addr, w);
		return;
	}
	h->n--;
	rcp_heap_ring_put(h, b, addr, w);
}

/* A realloc that moved a block is REALLOC_FROM (the old block released,
 * recorded without a backtrace) and then, in the same thread, REALLOC_TO
 * with the realloc's backtrace - which is where the old block was freed.
 * After the release of a REALLOC_FROM at w, rcp_heap_realloc_from keeps
 * its ring slot; rcp_heap_realloc_to gives it the backtrace of the
 * REALLOC_TO, so a later double free of the old block names the realloc
 * that freed it.  Another thread's REALLOC_FROM in between makes the first
 * one keep no backtrace. */
static inline void rcp_heap_realloc_from(struct rcp_heap *h, uint64_t addr,
					 const struct rcp_where *w)
{
	h->rfrom_valid = 0;
	if (!h->ring || h->qn == 0)
		return;
	size_t k = (h->qnext + RCP_QUARANTINE - 1) % RCP_QUARANTINE;
	if (h->ring[k].addr == addr && h->ring[k].at.seq == w->seq) {
		h->rfrom_slot = k;
		h->rfrom_tid = w->tid;
		h->rfrom_valid = 1;
	}
}

static inline void rcp_heap_realloc_to(struct rcp_heap *h, uint32_t tid,
				       uint32_t stack)
{
	if (h->rfrom_valid && h->rfrom_tid == tid &&
	    h->ring[h->rfrom_slot].at.stack == 0)
		h->ring[h->rfrom_slot].at.stack = stack;
	h->rfrom_valid = 0;
}

/* RC_NEW: the block at `block` holds a refcounted object. */
void rcp_heap_mark_rc(struct rcp_heap *h, uint64_t block);
const struct rcp_block *rcp_heap_find(const struct rcp_heap *h, uint64_t addr);

/* Visits the live blocks in table order. */
#define rcp_heap_foreach(h, b) \
	for (struct rcp_block *b = (h)->tab; b && b < (h)->tab + (h)->cap; b++) \
		if (b->addr && !(b->flags & RCP_BLOCK_FREED))

#endif /* RCPROF_HEAP_H */
