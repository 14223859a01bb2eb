/* streams.c - group chunks into streams and decode them with cursors.
 *
 * A stream's chunks are decoded in seq order.  Each chunk starts a fresh
 * decoder state (ts = base_ts, prev_addr = 0), so a lost chunk only loses
 * its own events.  A gap in seq is reported; an event cut short at the end
 * of a chunk is dropped (silently for a stream's last chunk: the process
 * was writing it when it died); an unknown kind stops that chunk.
 *
 * A chunk in the DUMP file is read when its stream reaches it, into a
 * buffer that is recycled (see dump_file.h for why it is not mapped):
 * the few buffers in use stay in the cache, however long the dump.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "streams.h"

static int chunk_cmp(const void *a, const void *b)
{
	const struct rcp_chunk_ref *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->nest != y->nest)
		return x->nest < y->nest ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	/* longest copy first; on equal length the DUMP's */
	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	if (x->from_ring != y->from_ring)
		return x->from_ring < y->from_ring ? -1 : 1;
	return 0;
}

/* Buffers are sized for the chunk, in steps of this: a dump's chunks are
 * mostly one size (the ring's slot), so a retired buffer fits the next. */
#define BUF_STEP 4096u

static void retire(struct rcp_streams *ss, struct rcp_stream *s)
{
	if (s->buf) {
		s->buf->next = ss->retired;
		ss->retired = s->buf;
		s->buf = NULL;
	}
}

static struct rcp_chunk_buf *take_buf(struct rcp_streams *ss, size_t need)
{
	for (struct rcp_chunk_buf **pp = &ss->spare; *pp; pp = &(*pp)->next) {
		struct rcp_chunk_buf *b = *pp;
		if (b->cap >= need) {
			*pp = b->next;
			return b;
		}
	}
	size_t cap = (need + BUF_STEP - 1) / BUF_STEP * BUF_STEP;
	struct rcp_chunk_buf *b = malloc(sizeof(*b) + (cap ? cap : BUF_STEP));
	if (b)
		b->cap = cap ? cap : BUF_STEP;
	return b;
}

/* Reads chunk c into a buffer of stream s; returns how many bytes it got
 * (fewer than c->len after a warning, when the file shrank or failed). */
static size_t read_chunk(struct rcp_streams *ss, struct rcp_stream *s,
			 const struct rcp_chunk_ref *c)
{
	s->buf = take_buf(ss, c->len);
	if (!s->buf) {
		rcp_warn(ss->diag, "%s: thread %u chunk %llu: out of memory, %u bytes of events skipped",
			 ss->name, c->tid, (unsigned long long)c->seq, c->len);
		return 0;
	}
	size_t got = 0;
	while (got < c->len) {
		ssize_t r = pread(c->fd, s->buf->bytes + got, c->len - got,
				  (off_t)(c->off + got));
		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		rcp_warn(ss->diag, "%s: thread %u chunk %llu: cannot read: %s, %zu of %u bytes of events read",
			 ss->name, c->tid, (unsigned long long)c->seq,
			 r < 0 ? strerror(errno) : "end of file", got, c->len);
		break;
	}
	return got;
}

static void open_chunk(struct rcp_streams *ss, struct rcp_stream *s)
{
	static const uint8_t none[1];
	const struct rcp_chunk_ref *c = &ss->chunks[s->first + s->cur];

	retire(ss, s);
	if (c->data) {
		s->p = c->data;
		s->end = c->data + c->len;
	} else {
		size_t got = read_chunk(ss, s, c);
		s->p = s->buf ? s->buf->bytes : none;
		s->end = s->p + got;
	}
	s->start = s->p;
	s->st.ts = c->base_ts;
	s->st.prev_addr = 0;
}

/* Stream s loses events after the one it read last. */
static void lost_here(struct rcp_streams *ss, const struct rcp_stream *s)
{
	if (s->st.ts < ss->gap_from_ts)
		ss->gap_from_ts = s->st.ts;
}

void rcp_stream_advance(struct rcp_streams *ss, struct rcp_stream *s)
{
	while (!s->done) {
		const uint8_t *at = s->p;
		enum rcp_dec_result r = rcp_decode(&s->p, s->end, &s->st, &s->ev);

		if (r == RCP_DEC_OK) {
			s->ev.tid = s->tid;
			s->ev.nest = s->nest;
			return;
		}
		const struct rcp_chunk_ref *c = &ss->chunks[s->first + s->cur];
		int last = s->cur + 1 == s->nchunks;
		if (r == RCP_DEC_CUT) {
			ss->cut_events++;
			if (!last) {
				lost_here(ss, s);
				rcp_warn(ss->diag, "%s: thread %u chunk %llu: event cut short at byte %zu of %u, dropped",
					 ss->name, s->tid, (unsigned long long)c->seq,
					 (size_t)(at - s->start), c->len);
			}
		} else if (r == RCP_DEC_UNKNOWN || r == RCP_DEC_BAD) {
			lost_here(ss, s);
			rcp_warn(ss->diag, "%s: thread %u chunk %llu: %s event kind %u at byte %zu, rest of chunk skipped",
				 ss->name, s->tid, (unsigned long long)c->seq,
				 r == RCP_DEC_UNKNOWN ? "unknown" : "damaged",
				 *at, (size_t)(at - s->start));
		}
		if (last) {
			s->done = 1;
			return;
		}
		if (c[1].seq != c->seq + 1)
			lost_here(ss, s);       /* the chunks between are missing */
		s->cur++;
		open_chunk(ss, s);
	}
}

int rcp_streams_build(struct rcp_streams *ss, const struct rcp_dump *d,
		      struct rcp_diag *diag)
{
	size_t cap = 0;
	int rc = 0;

	memset(ss, 0, sizeof(*ss));
	ss->gap_from_ts = UINT64_MAX;
	ss->name = d->path;
	ss->diag = diag;
	if (d->nchunks == 0)
		return 0;
	ss->chunks = malloc(d->nchunks * sizeof(*ss->chunks));
	if (!ss->chunks)
		return -ENOMEM;
	memcpy(ss->chunks, d->chunks, d->nchunks * sizeof(*ss->chunks));
	qsort(ss->chunks, d->nchunks, sizeof(*ss->chunks), chunk_cmp);

	/* keep the first (longest) copy of each (tid, nest, seq) */
	size_t w = 0;
	for (size_t i = 0; i < d->nchunks; i++) {
		const struct rcp_chunk_ref *c = &ss->chunks[i];
		if (w > 0) {
			const struct rcp_chunk_ref *pc = &ss->chunks[w - 1];
			if (pc->tid == c->tid && pc->nest == c->nest && pc->seq == c->seq)
				continue;
		}
		ss->chunks[w++] = *c;
	}
	ss->nchunks = w;

	for (size_t i = 0; i < ss->nchunks; i++) {
		const struct rcp_chunk_ref *c = &ss->chunks[i];
		struct rcp_stream *s = ss->n ? &ss->s[ss->n - 1] : NULL;

		if (!s || s->tid != c->tid || s->nest != c->nest) {
			rc = rcp_grow(&ss->s, &cap, ss->n, sizeof(*ss->s));
			if (rc)
				goto out;
			s = &ss->s[ss->n++];
			memset(s, 0, sizeof(*s));
			s->tid = c->tid;
			s->nest = c->nest;
			s->first = i;
		} else {
			uint64_t prev = ss->chunks[i - 1].seq;
			if (c->seq != prev + 1) {
				ss->gaps += c->seq - prev - 1;
				rcp_warn(diag, "%s: thread %u%s: chunks %llu..%llu missing (lost events)",
					 d->path, c->tid, c->nest ? " (signal)" : "",
					 (unsigned long long)prev + 1,
					 (unsigned long long)c->seq - 1);
			}
		}
		s->nchunks++;
	}
	for (size_t i = 0; i < ss->n; i++) {
		open_chunk(ss, &ss->s[i]);
		rcp_stream_advance(ss, &ss->s[i]);
	}
out:
	if (rc)
		rcp_streams_free(ss);
	return rc;
}

static void free_bufs(struct rcp_chunk_buf *b)
{
	while (b) {
		struct rcp_chunk_buf *next = b->next;
		free(b);
		b = next;
	}
}

void rcp_streams_recycle(struct rcp_streams *ss)
{
	while (ss->retired) {
		struct rcp_chunk_buf *b = ss->retired;
		ss->retired = b->next;
		b->next = ss->spare;
		ss->spare = b;
	}
}

void rcp_streams_free(struct rcp_streams *ss)
{
	for (size_t i = 0; i < ss->n; i++)
		free(ss->s[i].buf);
	free_bufs(ss->retired);
	free_bufs(ss->spare);
	free(ss->chunks);
	free(ss->s);
	memset(ss, 0, sizeof(*ss));
}
