/* ring.c - the shared slot ring and its cooperative drain.
 *
 * The ring file (<dump>.ring) is struct rcp_ring_header followed by nslots
 * slots of slot_size bytes; each slot is struct rcp_ring_slot and then the
 * encoded events of one chunk.  It is mapped MAP_SHARED, so after kill -9
 * whatever the producers committed is still in the file for the reader.
 *
 * Protocol.  "state" and "committed" are the only fields accessed
 * concurrently; every other slot field is written by exactly one party
 * while it alone owns the slot, and published by one of the stores below.
 *
 *   FREE -> OWNED      producer, shim_ring_claim:
 *                      CAS(state, FREE, OWNED) acq_rel.  Its acquire half
 *                      pairs with the drainer's release store of FREE (D3),
 *                      so the drainer's reads of the old data happen before
 *                      we overwrite it.  Then plain writes of tid, nest, seq,
 *                      base_ts (committed is already 0, see D2).
 *   commit (P1)        producer, shim_ev_commit (shim.h): after writing
 *                      an event's bytes, release store of committed.
 *                      Observed by the acquire load in
 *                      shim_ring_copy_owned_locked (C1) and by a reader of
 *                      the file after the process died.
 *   OWNED -> SEALED(P2) producer, shim_ring_seal: release store of state;
 *                      pairs with the drainer's CAS (D1).  Then
 *                      pending += 1 (seq_cst, P3) and try to drain.
 *   SEALED -> DRAINING (D1) drainer: CAS acq_rel; the acquire half pairs
 *                      with P2, so committed, the header and the data are
 *                      visible.  Then write(2) of the chunk.
 *   DRAINING -> FREE   drainer: committed = 0 (relaxed, D2; ordered by D3),
 *                      release store of state FREE (D3), pending -= 1.
 *
 * The drain flag.  Only the holder of r->drain_flag moves slots out of
 * SEALED and writes to the dump, so records never interleave and a slot
 * seen OWNED by the holder cannot be recycled under it (C1 may copy an
 * owned slot's committed prefix and header without further checks: the
 * owner only appends past `committed`, and the slot cannot become FREE).
 * The flag is taken with an atomic exchange and never waited for in the
 * producer path (shim_ring_try_drain): whoever loses the exchange relies
 * on the holder, which after releasing the flag (seq_cst store, U1)
 * re-reads pending (seq_cst load, U2) and drains again if a producer
 * sealed a slot meanwhile.  P3 and U1/U2 are all seq_cst, so either the
 * sealer's exchange wins the flag, or the holder sees its increment.
 *
 * Slots in use.  Claims look only at slots [0, used_hi) and open the next
 * one (seq_cst CAS of used_hi) when none of those is FREE; drains look no
 * further either.  A slot is claimed only after used_hi covers it, and its
 * seal (P3) comes after that, so a drainer that sees the seal's pending
 * count sees the slot.  The untouched rest of the ring costs nothing: no
 * page of it is ever faulted in.
 *
 * Back-pressure.  A producer that finds no FREE slot drains SEALED slots
 * itself, or waits (sched_yield, then short sleeps) for a DRAINING one.
 * When every slot is OWNED, waiting cannot help: claim returns -1 and the
 * stream writes that one event directly to the dump (stream.c).  Events
 * are never dropped, except when this thread would have to wait for
 * itself (a signal handler that interrupted a drain): then they are
 * counted in a LOST event.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw_syscall.h"
#include "shim.h"

void shim_ring_geometry(uint64_t bytes, uint32_t *nslots, uint32_t *slot_size)
{
	uint64_t slot = bytes / 256;
	if (slot < SHIM_SLOT_MIN)
		slot = SHIM_SLOT_MIN;
	if (slot > (1u << 20))
		slot = 1u << 20;
	slot &= ~(uint64_t)(SHIM_SLOT_MIN - 1);
	uint64_t n = bytes / slot;
	if (n < SHIM_SLOTS_MIN)
		n = SHIM_SLOTS_MIN;
	if (n > 65536)
		n = 65536;
	*nslots = (uint32_t)n;
	*slot_size = (uint32_t)slot;
}

size_t shim_ring_bytes(uint32_t nslots, uint32_t slot_size)
{
	return SHIM_RING_HEADER + (size_t)nslots * slot_size;
}

void shim_ring_init(struct shim_ring *r, void *map, uint32_t nslots,
		    uint32_t slot_size, uint32_t pid, int dump_fd)
{
	memset(r, 0, sizeof(*r));
	r->map = map;
	r->map_len = shim_ring_bytes(nslots, slot_size);
	r->nslots = nslots;
	r->slot_size = slot_size;
	r->fd = dump_fd;
	struct stat st;
	if (dump_fd >= 0 && fstat(dump_fd, &st) == 0) {
		r->dev = st.st_dev;
		r->ino = st.st_ino;
	}
	struct rcp_ring_header *h = map;
	memcpy(h->magic, RCP_RING_MAGIC, 8);
	h->version = RCP_FORMAT_VERSION;
	h->header_size = SHIM_RING_HEADER;
	h->nslots = nslots;
	h->slot_size = slot_size;
	h->pid = pid;
}

void shim_ring_mark_done(struct shim_ring *r, uint32_t done)
{
	if (!r->map)
		return;
	struct rcp_ring_header *h = (struct rcp_ring_header *)(void *)r->map;
	atomic_store_release(&h->done, done);
}

static void backoff(unsigned *spins)
{
	if (++*spins < 64) {
		sched_yield();
	} else {
		/* Not nanosleep(): a cancellation point (see shim_write_full) */
		struct timespec ts = { 0, 50 * 1000 };
		shim_raw_syscall(SYS_nanosleep, (long)&ts, 0, 0, 0, 0, 0);
	}
}

static uint32_t self_tid(void)
{
	return (uint32_t)gettid();
}

/* Slots that may have been claimed: scans look no further.  Acquire:
 * pairs with the seq_cst increment in shim_ring_claim (see used_hi). */
static uint32_t slots_used(struct shim_ring *r)
{
	return atomic_load_acquire(&r->used_hi);
}

int shim_ring_claim(struct shim_ring *r, uint32_t tid, uint16_t nest,
		    uint64_t seq, uint64_t base_ts)
{
	unsigned spins = 0;
	for (;;) {
		uint32_t start = atomic_add_relaxed(&r->hint, 1);
		uint32_t sealed = 0, draining = 0;
		uint32_t hi = slots_used(r);
		for (uint32_t i = 0; i < hi; i++) {
			uint32_t k = (start + i) % hi;
			struct rcp_ring_slot *s = shim_ring_slot(r, k);
			uint32_t st = atomic_load_relaxed(&s->state);
			if (st == RCP_SLOT_FREE) {
				/* acquire pairs with D3 (release FREE) */
				if (atomic_cas_acq_rel(&s->state, &st,
						       RCP_SLOT_OWNED)) {
					s->tid = tid;
					s->nest = nest;
					s->seq = seq;
					s->base_ts = base_ts;
					return (int)k;
				}
			}
			if (st == RCP_SLOT_SEALED)
				sealed++;
			else if (st == RCP_SLOT_DRAINING)
				draining++;
		}
		/* None of the used slots is free: open a new one (its bytes
		 * are the file's zeros, state FREE) and look again.  Seq_cst:
		 * a drainer that sees this slot's seal (P3, U2) sees it. */
		if (hi < r->nslots) {
			atomic_cas_seq_cst(&r->used_hi, &hi, hi + 1);
			continue;
		}
		if (!sealed && !draining)
			return -1;      /* all OWNED: waiting cannot help */
		/* A signal handler that interrupted this thread's own drain
		 * must not wait for it. */
		if (atomic_load_relaxed(&r->drain_flag) &&
		    atomic_load_relaxed(&r->drain_owner) == self_tid())
			return -1;
		if (sealed)
			shim_ring_try_drain(r);
		backoff(&spins);
	}
}

void shim_ring_seal(struct shim_ring *r, struct rcp_ring_slot *s)
{
	/* P2: publishes committed and the data; pairs with D1. */
	atomic_store_release(&s->state, RCP_SLOT_SEALED);
	/* P3: pairs with U2 in shim_ring_try_drain. */
	atomic_add_seq_cst(&r->pending, 1);
}

/* Nonzero while this thread may hold a drain flag: raised before the
 * exchange that takes it, lowered after the store that gives it back (or
 * after failing to take it), so it also covers the instants when the
 * flag is ours but drain_owner does not say so yet.  A signal handler
 * that finds it raised may have interrupted this thread's own drain,
 * which it can neither wait for nor finish: hook_signal.c then defers a
 * terminating signal to the moment the flag is given back. */
__thread int shim_drain_held;
__thread int shim_deferred_sig;
void (*shim_deferred_run)(int sig);

static void hold(void)
{
	shim_drain_held++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static void unhold(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (--shim_drain_held == 0 && shim_unlikely(shim_deferred_sig)) {
		int sig = shim_deferred_sig;
		shim_deferred_sig = 0;
		shim_deferred_run(sig);
	}
}

int shim_ring_lock(struct shim_ring *r, uint64_t timeout_ns)
{
	uint32_t me = self_tid();
	if (atomic_load_relaxed(&r->drain_flag) &&
	    atomic_load_relaxed(&r->drain_owner) == me)
		return -EDEADLK;
	unsigned spins = 0;
	uint64_t t0 = timeout_ns ? shim_now_real() : 0;
	hold();
	while (atomic_exchange_seq_cst(&r->drain_flag, 1) != 0) {
		if (timeout_ns && shim_now_real() - t0 > timeout_ns) {
			unhold();
			return -ETIMEDOUT;
		}
		backoff(&spins);
	}
	atomic_store_relaxed(&r->drain_owner, me);
	return 0;
}

void shim_ring_unlock(struct shim_ring *r)
{
	atomic_store_relaxed(&r->drain_owner, 0);
	/* U1: pairs with the seq_cst exchange of the next holder and with
	 * P3 (see the protocol). */
	atomic_store_seq_cst(&r->drain_flag, 0);
	unhold();
}

void shim_ring_try_drain(struct shim_ring *r)
{
	/* Bounded: pending is only a hint, a stuck count must not spin. */
	for (int round = 0; round < 64; round++) {
		hold();
		if (atomic_exchange_seq_cst(&r->drain_flag, 1) != 0) {
			unhold();
			return;         /* the holder will see our seal (U2) */
		}
		atomic_store_relaxed(&r->drain_owner, self_tid());
		shim_ring_drain_sealed_locked(r);
		shim_ring_unlock(r);
		/* U2: pairs with P3. */
		if (atomic_load_seq_cst(&r->pending) <= 0)
			return;
	}
}

/* Is r->fd still the dump we created?  A program that closes every fd
 * and opens another file under the same number must not get our data. */
static int fd_is_ours(struct shim_ring *r)
{
	struct stat st;
	if (fstat(r->fd, &st) != 0 || st.st_dev != r->dev ||
	    st.st_ino != r->ino) {
		if (!r->broken)
			shim_log("dump file descriptor was closed by the program; "
				 "recording stops", NULL);
		r->broken = 1;
		return 0;
	}
	return 1;
}

int shim_ring_write_record_locked(struct shim_ring *r, uint32_t type,
				  const struct iovec *parts, int nparts)
{
	if (r->broken || !fd_is_ours(r))
		return -EBADF;
	int rc = shim_write_record(r->fd, type, parts, nparts);
	if (rc) {
		shim_log("cannot write the dump: ", shim_strerror(-rc),
			 "; recording stops", NULL);
		r->broken = 1;
	}
	return rc;
}

int shim_ring_write_chunk_locked(struct shim_ring *r,
				 const struct rcp_ring_slot *hdr,
				 const uint8_t *data, uint32_t used,
				 uint16_t flags)
{
	struct rcp_rec_chunk c = {
		.tid = hdr->tid,
		.nest = hdr->nest,
		.flags = flags,
		.seq = hdr->seq,
		.base_ts = hdr->base_ts,
		.used = used,
		.reserved = 0,
	};
	struct iovec parts[2] = { { &c, sizeof(c) }, { (void *)data, used } };
	return shim_ring_write_record_locked(r, RCP_REC_CHUNK, parts, 2);
}

void shim_ring_drain_sealed_locked(struct shim_ring *r)
{
	uint32_t hi = slots_used(r);
	for (uint32_t i = 0; i < hi; i++) {
		struct rcp_ring_slot *s = shim_ring_slot(r, i);
		uint32_t st = RCP_SLOT_SEALED;
		/* D1: acquire pairs with P2. */
		if (!atomic_cas_acq_rel(&s->state, &st, RCP_SLOT_DRAINING))
			continue;
		uint32_t used = (uint32_t)atomic_load_relaxed(&s->committed);
		shim_ring_write_chunk_locked(r, s, (const uint8_t *)(s + 1),
					     used, RCP_CHUNK_SEALED);
		atomic_store_relaxed(&s->committed, 0);          /* D2 */
		/* D3: pairs with the CAS in shim_ring_claim. */
		atomic_store_release(&s->state, RCP_SLOT_FREE);
		atomic_sub_release(&r->pending, 1);
	}
}

void shim_ring_copy_owned_locked(struct shim_ring *r)
{
	uint32_t hi = slots_used(r);
	for (uint32_t i = 0; i < hi; i++) {
		struct rcp_ring_slot *s = shim_ring_slot(r, i);
		if (atomic_load_acquire(&s->state) != RCP_SLOT_OWNED)
			continue;
		/* C1: pairs with P1; the header was written before the
		 * first commit of this owner (0 means: nothing yet). */
		uint32_t used = (uint32_t)atomic_load_acquire(&s->committed);
		if (!used)
			continue;
		shim_ring_write_chunk_locked(r, s, (const uint8_t *)(s + 1),
					     used, 0);
	}
}

uint64_t *shim_ring_count_row(struct shim_ring *r, uint32_t tid,
			      int *exclusive)
{
	uint32_t i = atomic_add_relaxed(&r->rows_used, 1);
	*exclusive = i < SHIM_COUNT_ROWS;
	return *exclusive ? r->rows[i] : r->counts[tid % SHIM_COUNT_SHARDS];
}

void shim_ring_counts(struct shim_ring *r, uint64_t out[32])
{
	uint32_t rows = atomic_load_relaxed(&r->rows_used);
	if (rows > SHIM_COUNT_ROWS)
		rows = SHIM_COUNT_ROWS;
	for (int k = 0; k < 32; k++) {
		out[k] = 0;
		for (int sh = 0; sh < SHIM_COUNT_SHARDS; sh++)
			out[k] += atomic_load_relaxed(&r->counts[sh][k]);
		for (uint32_t i = 0; i < rows; i++)
			out[k] += atomic_load_relaxed(&r->rows[i][k]);
	}
}
