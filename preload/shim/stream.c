/* stream.c - one thread's stream of events: chunk management and commit.
 *
 * A stream writes into the ring slot it owns.  shim_ev_begin makes sure
 * the event fits (sealing the full chunk and claiming a new one first), so
 * an event never straddles two chunks and the delta state (prev_ts,
 * prev_addr) restarts cleanly with every chunk.  shim_ev_commit publishes
 * the event (P1 in ring.c) and counts it for the END record.
 *
 * When the ring has no slot to give (every slot owned by some thread), the
 * event goes into the stream's private emergency chunk and is written to
 * the dump on its own, as a one-event sealed chunk with the next seq.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "shim.h"

void shim_stream_init(struct shim_stream *s, uint32_t tid, uint16_t nest)
{
	memset(s, 0, offsetof(struct shim_stream, emerg));
	s->tid = tid;
	s->nest = nest;
}

/* Where an event goes when it cannot be recorded at all: written, never
 * read.  Threads may scribble on it at once; its bytes mean nothing. */
static uint64_t discard[SHIM_EMERG_BYTES / 8];

/* s's emergency chunk, mapped on first use; the discard buffer (and
 * s->direct 2: the event is counted as lost) when that fails. */
static struct rcp_ring_slot *emerg_chunk(struct shim_stream *s)
{
	if (!s->emerg) {
		void *m = mmap(NULL, SHIM_EMERG_BYTES, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m != MAP_FAILED)
			s->emerg = m;
	}
	return (struct rcp_ring_slot *)(s->emerg ? s->emerg : discard);
}

void shim_stream_drop_emerg(struct shim_stream *s)
{
	uint64_t *e = s->emerg;
	s->emerg = NULL;
	if (e)
		munmap(e, SHIM_EMERG_BYTES);
}

static int open_chunk(struct shim_ring *r, struct shim_stream *s, uint64_t ts)
{
	if (shim_unlikely(!s->row)) {
		int excl;
		s->row = shim_ring_count_row(r, s->tid, &excl);
		s->row_excl = (uint8_t)excl;
	}
	int idx = shim_ring_claim(r, s->tid, s->nest, s->seq, ts);
	if (idx >= 0) {
		s->slot = shim_ring_slot(r, (uint32_t)idx);
		s->cap = r->slot_size - (uint32_t)sizeof(struct rcp_ring_slot);
		s->direct = 0;
	} else {
		struct rcp_ring_slot *e = emerg_chunk(s);
		memset(e, 0, sizeof(*e));
		e->state = RCP_SLOT_OWNED;
		e->tid = s->tid;
		e->nest = s->nest;
		e->seq = s->seq;
		e->base_ts = ts;
		s->slot = e;
		s->cap = SHIM_EVENT_MAX;
		s->direct = s->emerg ? 1 : 2;
	}
	s->data = (uint8_t *)(s->slot + 1);
	s->pos = 0;
	s->seq++;
	s->prev_ts = ts;
	s->prev_addr = 0;
	return 0;
}

/* The slow paths below may write to the dump or wait: they keep errno,
 * so that the hooks' fast paths need not (record_body.h). */
void shim_stream_next_chunk(struct shim_ring *r, struct shim_stream *s,
			    uint64_t ts)
{
	int e = errno;
	if (s->slot)
		shim_stream_seal(r, s);
	shim_clock_resync();
	open_chunk(r, s, ts);
	errno = e;
}

/* Write the emergency chunk holding one event straight to the dump. */
static void flush_direct(struct shim_ring *r, struct shim_stream *s)
{
	struct rcp_ring_slot *e = s->slot;
	int discarded = s->direct == 2;
	s->slot = NULL;
	s->direct = 0;
	if (discarded || shim_ring_lock(r, 0) != 0) {
		/* No memory for the emergency chunk, or this thread holds the
		 * drain flag (we are a signal handler that interrupted it): the
		 * event is lost, and seq has a gap. */
		s->lost[s->kind]++;
		s->nlost++;
		return;
	}
	int rc = shim_ring_write_chunk_locked(r, e, s->data, s->pos,
					      RCP_CHUNK_SEALED);
	shim_ring_unlock(r);
	shim_ring_try_drain(r);   /* anything sealed while we held the flag */
	if (rc == 0)
		shim_count_event(s);
}

void shim_ev_commit_slow(struct shim_ring *r, struct shim_stream *s)
{
	int e = errno;
	if (shim_unlikely(s->direct)) {
		flush_direct(r, s);
	} else {
		/* P1, as in shim_ev_commit */
		atomic_store_release(&s->slot->committed, (uint64_t)s->pos);
		shim_count_event(s);
		/* Not once the ring is closed (a fatal signal's END): the
		 * event stays in the slot, which nobody drains any more. */
		uint32_t fin = atomic_load_relaxed(&r->finalized);
		if ((s->flush_each && fin != SHIM_RING_CLOSED) ||
		    fin == SHIM_RING_FINAL)
			shim_stream_seal(r, s);
	}
	errno = e;
}

void shim_stream_seal(struct shim_ring *r, struct shim_stream *s)
{
	struct rcp_ring_slot *slot = s->slot;
	if (!slot)
		return;
	s->slot = NULL;
	if (s->direct) {        /* not reached: direct chunks flush at commit */
		s->direct = 0;
		return;
	}
	shim_ring_seal(r, slot);
	shim_ring_try_drain(r);
}
