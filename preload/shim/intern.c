/* intern.c - lock-free deduplication of stacks and strings.
 *
 * A table is an open-addressing array of 64-bit keys (a hash of the stack's
 * instruction pointers, or of a string's bytes) in an anonymous private
 * mapping, so a forked child inherits it copy-on-write and keeps the ids
 * its parent's dump defines.  Insertion is a CAS of an empty slot to the
 * key; the winner's call returns is_new = 1 and emits the definition (a
 * STACK or STRING event) into its own stream; ids are handed out in
 * order (1, 2, ...).  Keys are never removed.  Distinct stacks with the
 * same 64-bit hash share an id (probability ~ n^2 / 2^65).
 *
 * Levels.  The table is SHIM_INTERN_LEVELS arrays, each twice the size
 * of the one before; new keys go to the current level until it is 7/8
 * full, then to the next, and a lookup probes the levels from the
 * smallest up.  Why: a new key lands on a random slot, and one table
 * sized for a million stacks (16 MiB) made nearly every new stack of a
 * program with a few thousand fault in a page of its own - ~8 us each on
 * the bench VM, a quarter of the time the first unwinds of the malloc
 * churn bench took.  The first level is 1/256 of the table: the few
 * thousand stacks of most programs fit in 64 KiB.  A lookup of a key the
 * table holds costs one probe sequence per level below the key's; the
 * stack cache answers most call sites without one.
 *
 * When every level is 7/8 full, new keys get ids past the table
 * (cap + 1 + n) and are defined at every use: stacks are never dropped,
 * they only stop being deduplicated.  Overflow ids are > cap, table ids
 * <= cap.  A key whose insertion races with the switch to the next level
 * can be stored in both (a second id for the same stack, defined once
 * more): never a lost definition.
 *
 * Everything is async-signal-safe: a signal handler may intern while the
 * thread it interrupted is in the middle of an insertion.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "shim.h"

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

uint64_t shim_hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ n;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return mix64(h);
}

uint64_t shim_hash_ips(void *const *ips, int n)
{
	/* One multiply per frame (this runs on every allocation), a full
	 * mix at the end. */
	uint64_t h = 0x9e3779b97f4a7c15ULL * (uint64_t)(n + 1);
	for (int i = 0; i < n; i++) {
		h = (h ^ (uint64_t)(uintptr_t)ips[i]) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	return mix64(h);
}

static size_t level_start(const struct shim_intern *t, uint32_t l)
{
	return ((size_t)1 << t->base_log2) * (((size_t)1 << l) - 1);
}

int shim_intern_init(struct shim_intern *t, unsigned cap_log2)
{
	memset(t, 0, sizeof(*t));
	t->base_log2 = cap_log2 > SHIM_INTERN_LEVELS ?
		       cap_log2 - SHIM_INTERN_LEVELS : 1;
	size_t cap = level_start(t, SHIM_INTERN_LEVELS);
	void *m = mmap(NULL, cap * 2 * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	t->keys = m;
	t->cap = (uint32_t)cap;
	return 0;
}

void shim_intern_destroy(struct shim_intern *t)
{
	if (t->keys)
		munmap(t->keys, (size_t)t->cap * 2 * sizeof(uint64_t));
	t->keys = NULL;
}

static uint32_t overflow_id(struct shim_intern *t, int *is_new)
{
	*is_new = 1;
	return t->cap + 1 + atomic_add_relaxed(&t->overflow, 1);
}

/* The id stored with a key found at e.  The winner stores it right after
 * its CAS; wait a little for it.  Waiting forever could deadlock (we may
 * be a signal handler that interrupted the winner), so after the spin
 * the key gets an overflow id and is defined once more: a duplicate
 * definition, never a lost one. */
static uint32_t stored_id(struct shim_intern *t, uint64_t *e, int *is_new)
{
	uint64_t id = atomic_load_acquire(&e[1]);
	for (int spin = 0; !id && spin < 1024; spin++) {
		__builtin_ia32_pause();
		id = atomic_load_acquire(&e[1]);
	}
	return id ? (uint32_t)id : overflow_id(t, is_new);
}

enum { FOUND, ABSENT, FULL };

/* Probes level l for key; with insert, claims the empty slot that ends
 * the probe unless the level is full.  FOUND (with *id) or ABSENT (the
 * key is not in this level) or FULL. */
static int probe_level(struct shim_intern *t, uint32_t l, uint64_t key,
		       int insert, uint32_t *id, int *is_new)
{
	uint32_t n = (uint32_t)1 << (t->base_log2 + l);
	uint32_t mask = n - 1, limit = n - n / 8;
	uint64_t *keys = t->keys + 2 * level_start(t, l);
	uint32_t i = (uint32_t)key & mask;
	for (uint32_t probes = 0; probes < n; probes++, i = (i + 1) & mask) {
		uint64_t *e = &keys[2 * (size_t)i];
		uint64_t k = atomic_load_acquire(&e[0]);
		if (k == 0) {
			if (!insert)
				return ABSENT;
			if (atomic_load_relaxed(&t->level_used[l]) >= limit)
				return FULL;
			if (!atomic_cas_acq_rel(&e[0], &k, key)) {
				if (k != key)
					continue;       /* lost to another key */
			} else {
				atomic_add_relaxed(&t->level_used[l], 1);
				/* ids 1..: used only counts winners */
				*id = atomic_add_relaxed(&t->used, 1) + 1;
				/* pairs with the acquire load in stored_id */
				atomic_store_release(&e[1], (uint64_t)*id);
				*is_new = 1;
				return FOUND;
			}
		}
		if (k == key) {
			*id = stored_id(t, e, is_new);
			return FOUND;
		}
	}
	return insert ? FULL : ABSENT;
}

uint32_t shim_intern_get(struct shim_intern *t, uint64_t key, int *is_new)
{
	*is_new = 0;
	if (key == 0)
		key = 1;
	uint32_t top = atomic_load_acquire(&t->level), id;
	for (uint32_t l = 0; l < top; l++)
		if (probe_level(t, l, key, 0, &id, is_new) == FOUND)
			return id;
	for (uint32_t l = top; l < SHIM_INTERN_LEVELS; l++) {
		if (probe_level(t, l, key, 1, &id, is_new) == FOUND)
			return id;
		/* full: new keys go one level up from now on */
		uint32_t cur = l;
		if (l + 1 < SHIM_INTERN_LEVELS)
			atomic_cas_acq_rel(&t->level, &cur, l + 1);
	}
	return overflow_id(t, is_new);
}

/* ---- address set -------------------------------------------------------
 * Live objects of suspect types announced with rcprof_note_new (whose
 * retains carry no type).  0 = empty, 1 = tombstone (reused by inserts;
 * lookups walk over it).  Full table: the object is simply not tracked. */

#define ADDR_EMPTY 0
#define ADDR_TOMB  1
#define ADDR_PROBES 64

int shim_addrset_init(struct shim_addrset *s, unsigned cap_log2)
{
	size_t cap = (size_t)1 << cap_log2;
	void *m = mmap(NULL, cap * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	s->keys = m;
	s->cap = (uint32_t)cap;
	return 0;
}

void shim_addrset_destroy(struct shim_addrset *s)
{
	if (s->keys)
		munmap(s->keys, (size_t)s->cap * sizeof(uint64_t));
	s->keys = NULL;
}

static uint64_t addr_key(uint64_t a)
{
	return a <= ADDR_TOMB ? a + 2 : a;   /* 0 and 1 are reserved */
}

void shim_addrset_add(struct shim_addrset *s, uint64_t a)
{
	if (!s->keys)
		return;
	uint64_t key = addr_key(a);
	uint32_t mask = s->cap - 1;
	uint32_t i = (uint32_t)mix64(key) & mask;
	for (int p = 0; p < ADDR_PROBES; p++, i = (i + 1) & mask) {
		uint64_t k = atomic_load_acquire(&s->keys[i]);
		if (k == key)
			return;
		if (k == ADDR_EMPTY || k == ADDR_TOMB) {
			if (atomic_cas_acq_rel(&s->keys[i], &k, key))
				return;
		}
	}
}

void shim_addrset_del(struct shim_addrset *s, uint64_t a)
{
	if (!s->keys)
		return;
	uint64_t key = addr_key(a);
	uint32_t mask = s->cap - 1;
	uint32_t i = (uint32_t)mix64(key) & mask;
	for (int p = 0; p < ADDR_PROBES; p++, i = (i + 1) & mask) {
		uint64_t k = atomic_load_acquire(&s->keys[i]);
		if (k == ADDR_EMPTY)
			return;
		if (k == key) {
			atomic_cas_acq_rel(&s->keys[i], &k, ADDR_TOMB);
			return;
		}
	}
}

int shim_addrset_has(const struct shim_addrset *s, uint64_t a)
{
	if (!s->keys)
		return 0;
	uint64_t key = addr_key(a);
	uint32_t mask = s->cap - 1;
	uint32_t i = (uint32_t)mix64(key) & mask;
	for (int p = 0; p < ADDR_PROBES; p++, i = (i + 1) & mask) {
		uint64_t k = atomic_load_acquire(&s->keys[i]);
		if (k == ADDR_EMPTY)
			return 0;
		if (k == key)
			return 1;
	}
	return 0;
}
