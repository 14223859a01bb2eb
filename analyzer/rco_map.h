/* rco_map.h - an open-addressing uint64 -> uint64 hash map for rcobj.
 *
 * Why not uthash: rcobj keeps one entry per live object (millions), looked
 * up on every event.  uthash costs a malloc and a 56-byte UT_hash_handle per
 * entry and a pointer chase per probe; this map stores 16-byte (key, value)
 * pairs in one array, probes linearly (one or two cache lines) and deletes
 * by backward shifting, so it never accumulates tombstones however many
 * objects come and go.
 *
 * Invariants
 *   - cap is a power of two, n <= cap * 7/10 (grown before it would exceed).
 *   - key 0 marks an empty cell; the key 0 itself lives in has_zero/zero_val.
 *   - Every key sits in the probe run that starts at its home cell, with
 *     no empty cell between home and the key (backward-shift delete keeps
 *     this true).
 */
#ifndef RCPROF_RCO_MAP_H
#define RCPROF_RCO_MAP_H

#include <stddef.h>
#include <stdint.h>

struct rco_map_cell {
	uint64_t key;
	uint64_t val;
};

struct rco_map {
	struct rco_map_cell *cells;
	size_t cap;             /* 0 before the first put */
	size_t n;               /* keys stored, the zero key included */
	int has_zero;
	uint64_t zero_val;
};

/* splitmix64's finalizer: a bijective mixer with full avalanche. */
static inline uint64_t rco_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* Order-dependent combination of two hashes. */
static inline uint64_t rco_hash2(uint64_t h, uint64_t v)
{
	return rco_mix64(h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2)));
}

/* Hint: key will be looked up soon; pulls its home cell into the cache.
 * always_inline: GCC takes a function whose only effect is a prefetch for
 * a pure one and deletes calls to it (the call has no result to use), so
 * an inline function that was not inlined early prefetched nothing. */
static inline __attribute__((always_inline))
void rco_map_prefetch(const struct rco_map *m, uint64_t key)
{
	if (m->cap)
		__builtin_prefetch(&m->cells[rco_mix64(key) & (m->cap - 1)]);
}

void rco_map_free(struct rco_map *m);
/* The value of key, or NULL.  The pointer is valid until the next put/del. */
uint64_t *rco_map_get(const struct rco_map *m, uint64_t key);
/* Insert or overwrite.  0 or -ENOMEM. */
int rco_map_put(struct rco_map *m, uint64_t key, uint64_t val);
/* 1 when key was there and is gone, 0 when it was absent. */
int rco_map_del(struct rco_map *m, uint64_t key);

#endif /* RCPROF_RCO_MAP_H */
