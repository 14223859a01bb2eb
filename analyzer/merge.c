/* merge.c - k-way merge of the streams by ts.
 *
 * A binary min-heap of stream indexes keyed by (head ts, stream index).
 * Each stream is in the heap at most once, so equal ts are ordered by
 * stream, and within a stream by position: the order rcprof_dump.h asks
 * for.  Handing out an event only marks the top; the stream is advanced on
 * the next call so the returned event stays valid until then.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "streams.h"

static inline int before(const struct rcp_streams *ss, uint32_t a, uint32_t b)
{
	uint64_t ta = ss->s[a].ev.ts, tb = ss->s[b].ev.ts;
	return ta < tb || (ta == tb && a < b);
}

static void sift_down(struct rcp_merge *m, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i;
		if (l < m->n && before(m->ss, m->heap[l], m->heap[min]))
			min = l;
		if (r < m->n && before(m->ss, m->heap[r], m->heap[min]))
			min = r;
		if (min == i)
			return;
		uint32_t t = m->heap[i];
		m->heap[i] = m->heap[min];
		m->heap[min] = t;
		i = min;
	}
}

static void find_second(struct rcp_merge *m)
{
	if (m->n < 2)
		m->second = UINT32_MAX;
	else if (m->n > 2 && before(m->ss, m->heap[2], m->heap[1]))
		m->second = m->heap[2];
	else
		m->second = m->heap[1];
}

int rcp_merge_init(struct rcp_merge *m, struct rcp_streams *ss)
{
	memset(m, 0, sizeof(*m));
	m->ss = ss;
	m->second = UINT32_MAX;
	if (ss->n == 0)
		return 0;
	if (ss->n > UINT32_MAX)
		return -E2BIG;
	m->heap = malloc(ss->n * sizeof(*m->heap));
	if (!m->heap)
		return -ENOMEM;
	for (size_t i = 0; i < ss->n; i++)
		if (!ss->s[i].done)
			m->heap[m->n++] = (uint32_t)i;
	for (size_t i = m->n / 2; i-- > 0;)
		sift_down(m, i);
	find_second(m);
	return 0;
}

/* The top stream s (index top) has moved on: restore the heap order. */
static void reheap(struct rcp_merge *m, uint32_t top, const struct rcp_stream *s)
{
	if (!s->done) {
		/* fast path: still before the runner-up, so still the minimum
		 * (one thread, or one thread's burst between others' events) */
		if (m->second == UINT32_MAX || before(m->ss, top, m->second))
			return;
	} else {
		m->heap[0] = m->heap[--m->n];
	}
	if (m->n)
		sift_down(m, 0);
	find_second(m);
}

static void settle(struct rcp_merge *m)
{
	if (!m->advance_top)
		return;
	m->advance_top = 0;
	uint32_t top = m->heap[0];
	struct rcp_stream *s = &m->ss->s[top];
	rcp_stream_next(m->ss, s);
	reheap(m, top, s);
}

const struct rcp_event *rcp_merge_next(struct rcp_merge *m)
{
	rcp_streams_recycle(m->ss);     /* the last event is no longer used */
	settle(m);
	if (m->n == 0)
		return NULL;
	m->advance_top = 1;
	return &m->ss->s[m->heap[0]].ev;
}

static inline void copy_event(struct rcp_event *to, const struct rcp_event *ev)
{
	/* the kinds decoded on the fast path use only the head of the
	 * struct: heap-heavy dumps copy less than half of it */
	if (rcp_kind_is_fast(ev->kind))
		memcpy(to, ev, RCP_EVENT_FAST_BYTES);
	else
		*to = *ev;
}

/* (ts, a) sorts before stream b's head: before() for an event that is not
 * (yet) its stream's head. */
static inline int ts_before(const struct rcp_streams *ss, uint64_t ta,
			    uint32_t a, uint32_t b)
{
	uint64_t tb = ss->s[b].ev.ts;
	return ta < tb || (ta == tb && a < b);
}

size_t rcp_merge_fill(struct rcp_merge *m, struct rcp_event *out, size_t max,
		      uint64_t until, int *end)
{
	size_t n = 0;

	rcp_streams_recycle(m->ss);     /* the last batch was replayed */

	/* Exactly rcp_merge_next() in a loop - the same events, the streams
	 * decoded in the same order (so any warnings come in the same
	 * order) - but the top stream's run goes straight to out[]: its
	 * events are decoded into their place in the batch (no copy of each
	 * through the stream's head), and while they sort before the
	 * runner-up the heap is not looked at.  The event that ends the run
	 * becomes the stream's head again. */
	while (n < max) {
		settle(m);
		if (m->n == 0) {
			*end = 1;
			return n;
		}
		uint32_t top = m->heap[0];
		struct rcp_stream *s = &m->ss->s[top];
		if (s->ev.ts >= until) {
			m->advance_top = 1;
			*end = 1;
			return n;
		}
		copy_event(&out[n++], &s->ev);
		for (;;) {
			if (n == max) {
				/* out[n - 1] was handed out, the stream is
				 * positioned after it: settle() advances */
				m->advance_top = 1;
				return n;
			}
			struct rcp_event *e = &out[n];
			if (s->done || !rcp_decode_fast(&s->p, s->end, &s->st, e)) {
				rcp_stream_advance(m->ss, s);
				break;
			}
			e->tid = s->tid;
			e->nest = s->nest;
			if (e->ts >= until || (m->second != UINT32_MAX &&
					       !ts_before(m->ss, e->ts, top, m->second))) {
				copy_event(&s->ev, e);
				break;
			}
			n++;
		}
		reheap(m, top, s);
	}
	return n;
}

struct rcp_stream *rcp_merge_run(struct rcp_merge *m, uint64_t until,
				 uint64_t *lim)
{
	if (!m->advance_top || m->n == 0)
		return NULL;
	uint32_t top = m->heap[0];
	struct rcp_stream *s = &m->ss->s[top];
	if (s->done)
		return NULL;
	/* before the runner-up's head: an earlier ts, or the same ts from a
	 * stream with a lower index (ts_before).  At ts UINT64_MAX the bound
	 * is one short, which only leaves that event to rcp_merge_fill. */
	*lim = until;
	if (m->second != UINT32_MAX) {
		uint64_t t2 = m->ss->s[m->second].ev.ts;
		if (top < m->second && t2 != UINT64_MAX)
			t2++;
		if (t2 < *lim)
			*lim = t2;
	}
	return s;
}

int rcp_merge_peek_ts(struct rcp_merge *m, uint64_t *ts)
{
	settle(m);
	if (m->n == 0)
		return 0;
	*ts = m->ss->s[m->heap[0]].ev.ts;
	return 1;
}

void rcp_merge_free(struct rcp_merge *m)
{
	free(m->heap);
	memset(m, 0, sizeof(*m));
}
