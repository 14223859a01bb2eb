/* replay_run.c - heap events decoded straight into the heap model.
 *
 * A heap-heavy dump is a few long runs of MALLOC/FREE/REALLOC from one
 * stream (one thread, or one thread's burst between others' events).
 * Through the generic path each event is decoded into a 144-byte struct
 * rcp_event, copied into a batch, read back, dispatched by kind and its
 * address hashed twice (prefetch, lookup).  Here the run's events are
 * decoded into a ring of RUN_AHEAD small records, each address hashed
 * once, its table slot prefetched when it enters the ring and the event
 * replayed when it leaves: the table's cache misses still overlap, and
 * the instructions per event are about halved.
 *
 * Same results as dispatch(): the same heap calls with the same where
 * (ts, seq, tid, stack) in the same order, the same counts, seq, first
 * and last ts.  Anything else - another kind, a chunk's last bytes, an
 * event that is not next in the merge - stops the run before it, with the
 * stream positioned after the last event taken, and rcp_merge_fill
 * carries on from there (its decoder gives the warnings, if any).
 */
#include "replay_run.h"

/* Events are decoded a block ahead of their replay, and each one's table
 * slot prefetched as it is decoded: a slot is needed between one and two
 * blocks later, time enough for a memory round trip (see replay.c's
 * LOOKAHEAD).  Two short loops, decode and replay, rather than one ring:
 * each keeps its state in registers, where the ring's loop spilled. */
#define RUN_BLOCK 16

struct pending {
	struct rcp_heap_ev ev;
	uint64_t hash;          /* rcp_heap_hash(h, ev.addr) */
};

/* Where the run is in its stream. */
struct cursor {
	const uint8_t *p, *end;
	struct rcp_dec_state st;
	uint64_t lim;           /* events at or after it are not next */
};

/* Takes up to RUN_BLOCK events of the run into out[]; fewer when the run
 * ends.  Forced inline, as is replay_block: as calls their prologues and
 * spills were a fifth of the run's instructions. */
static inline __attribute__((always_inline))
size_t take_block(struct cursor *c, const struct rcp_heap *h,
		  struct pending *out)
{
	const uint8_t *p = c->p;
	struct rcp_dec_state st = c->st;
	/* the table does not change while a block is decoded; in locals,
	 * they are not reloaded after every store to out[] */
	const struct rcp_block *tab = h->tab;
	uint64_t mask = h->cap - 1;
	size_t n = 0;

	while (n < RUN_BLOCK) {
		struct pending *e = &out[n];
		const uint8_t *q = p;
		struct rcp_dec_state next = st;
		if (!rcp_decode_heap(&q, c->end, &next, &e->ev) ||
		    e->ev.ts >= c->lim)
			break;
		p = q;
		st = next;
		e->hash = rcp_heap_hash(h, e->ev.addr);
		__builtin_prefetch(&tab[e->hash & mask]);
		n++;
	}
	c->p = p;
	c->st = st;
	return n;
}

/* dispatch() of ev[0..n), the first one event number *seq of the replay;
 * counts them per kind.  0 or the first error (-ENOMEM), which stops. */
static inline __attribute__((always_inline))
int replay_block(struct rcp_heap *h, const struct pending *ev, size_t n,
		 uint32_t tid, uint64_t *seq, uint64_t *kinds)
{
	for (size_t i = 0; i < n; i++) {
		const struct pending *e = &ev[i];
		uint32_t stack = e->ev.stack <= UINT32_MAX ? (uint32_t)e->ev.stack : 0;
		uint64_t sq = (*seq)++;
		kinds[e->ev.kind]++;
		struct rcp_where w = { e->ev.ts, sq, tid, stack };
		if (e->ev.kind == RCP_EV_MALLOC || e->ev.kind == RCP_EV_REALLOC_TO) {
			int rc = rcp_heap_alloc_hashed(h, e->ev.addr, e->hash,
						       e->ev.size, &w);
			if (rc)
				return rc;
			if (e->ev.kind == RCP_EV_REALLOC_TO)
				rcp_heap_realloc_to(h, tid, stack);
		} else {
			rcp_heap_release_hashed(h, e->ev.addr, e->hash, &w);
			if (e->ev.kind == RCP_EV_REALLOC_FROM)
				rcp_heap_realloc_from(h, e->ev.addr, &w);
		}
	}
	return 0;
}

int rcp_replay_run(struct rcp_analysis *a, struct rcp_merge *m,
		   uint64_t until, uint64_t *counts, int own, size_t *ran)
{
	struct pending blk[2][RUN_BLOCK];
	uint64_t kinds[RCP_EV_REALLOC_TO + 1] = { 0 };
	struct rcp_heap *h = &a->heap;
	struct cursor c;
	size_t total = 0;
	int rc = 0;

	*ran = 0;
	struct rcp_stream *s = rcp_merge_run(m, until, &c.lim);
	if (!s)
		return 0;
	c.p = s->p;
	c.end = s->end;
	c.st = s->st;
	uint64_t seq = a->seq;
	size_t n = take_block(&c, h, blk[0]);
	if (n == 0)
		return 0;
	uint64_t first_ts = blk[0][0].ev.ts, last_ts;
	for (unsigned k = 0;; k ^= 1) {
		/* the next block is decoded (and prefetched) before this
		 * one is replayed */
		size_t next = n == RUN_BLOCK ? take_block(&c, h, blk[k ^ 1]) : 0;
		rc = replay_block(h, blk[k], n, s->tid, &seq, kinds);
		total += n;
		last_ts = blk[k][n - 1].ev.ts;
		if (rc || next == 0)
			break;
		n = next;
	}
	s->p = c.p;
	s->st = c.st;
	a->seq = seq;
	for (unsigned k = RCP_EV_MALLOC; k <= RCP_EV_REALLOC_TO; k++)
		counts[k] += kinds[k];
	if (own) {
		if (a->events == 0)
			a->first_ts = first_ts;
		a->last_ts = last_ts;
		a->events += total;
	}
	*ran = total;
	return rc;
}
