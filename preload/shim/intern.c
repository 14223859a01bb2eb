/* intern.c - lock-free deduplication of stacks and strings.
 *
 * A table is an open-addressing array of 64-bit keys (a hash of the stack's
 * instruction pointers, or of a string's bytes) in an anonymous private
 * mapping, so a forked child inherits it copy-on-write and keeps the ids
 * its parent's dump defines.  Insertion is a CAS of an empty slot to the
 * key; the winner's call returns is_new = 1 and emits the definition (a
 * STACK or STRING event) into its own stream; id = slot index + 1.  Keys
 * are never removed.  Distinct stacks with the same 64-bit hash share an
 * id (probability ~ n^2 / 2^65).  When the table is 7/8 full, new keys get
 * ids past the table (cap + 1 + n) and are defined at every use: stacks
 * are never dropped, they only stop being deduplicated.  Overflow ids
 * are > cap, table ids <= cap.
 *
 * Everything is async-signal-safe: a signal handler may intern while the
 * thread it interrupted is in the middle of an insertion.
 */
#include <errno.h>
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

int shim_intern_init(struct shim_intern *t, unsigned cap_log2)
{
	size_t cap = (size_t)1 << cap_log2;
	void *m = mmap(NULL, cap * 2 * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return -errno;
	t->keys = m;
	t->cap = (uint32_t)cap;
	t->limit = (uint32_t)(cap - cap / 8);
	t->used = 0;
	t->overflow = 0;
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

uint32_t shim_intern_get(struct shim_intern *t, uint64_t key, int *is_new)
{
	*is_new = 0;
	if (key == 0)
		key = 1;
	uint32_t mask = t->cap - 1;
	uint32_t i = (uint32_t)key & mask;
	for (uint32_t probes = 0; probes < t->cap; probes++, i = (i + 1) & mask) {
		uint64_t *e = &t->keys[2 * (size_t)i];
		uint64_t k = atomic_load_acquire(&e[0]);
		if (k == 0) {
			if (atomic_load_relaxed(&t->used) >= t->limit)
				break;
			if (!atomic_cas_acq_rel(&e[0], &k, key)) {
				if (k != key)
					continue;       /* lost to another key */
			} else {
				/* ids 1..limit: used only counts winners */
				uint32_t id = atomic_add_relaxed(&t->used, 1) + 1;
				/* pairs with the acquire load of e[1] below */
				atomic_store_release(&e[1], (uint64_t)id);
				*is_new = 1;
				return id;
			}
		}
		if (k == key) {
			/* The winner stores the id right after its CAS; wait a
			 * little for it.  Waiting forever could deadlock (we may
			 * be a signal handler that interrupted the winner), so
			 * after the spin the key gets an overflow id and is
			 * defined once more: a duplicate definition, never a
			 * lost one. */
			uint64_t id = atomic_load_acquire(&e[1]);
			for (int spin = 0; !id && spin < 1024; spin++) {
				__builtin_ia32_pause();
				id = atomic_load_acquire(&e[1]);
			}
			return id ? (uint32_t)id : overflow_id(t, is_new);
		}
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
