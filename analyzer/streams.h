/* streams.h - the chunks of a recording grouped into streams (tid, nest),
 * each decoded lazily by a cursor, and the k-way merge of all streams by ts.
 *
 * Memory is proportional to chunks and streams: a cursor holds one decoded
 * event and its chunk's bytes (a mapping, or a buffer the chunk was read
 * into from the file), never a list of events.
 */
#ifndef RCPROF_STREAMS_H
#define RCPROF_STREAMS_H

#include "decode.h"
#include "dump_file.h"
#include "util.h"

/* A chunk read from the file.  Events handed out point into it (a STRING's
 * bytes, a STACK's frames), so a buffer its stream has left is retired,
 * and reused only after rcp_streams_recycle. */
struct rcp_chunk_buf {
	struct rcp_chunk_buf *next;
	size_t cap;
	uint8_t bytes[];
};

struct rcp_stream {
	uint32_t tid;
	uint16_t nest;
	size_t first, nchunks;      /* in rcp_streams.chunks */
	/* cursor */
	size_t cur;                 /* chunk being decoded, relative to first */
	const uint8_t *start, *p, *end;     /* the chunk's bytes */
	struct rcp_dec_state st;
	struct rcp_event ev;        /* the head event, valid unless done */
	int done;
	struct rcp_chunk_buf *buf;  /* the chunk's bytes, when read */
};

struct rcp_streams {
	const char *name;           /* for warnings */
	struct rcp_diag *diag;
	size_t nchunks;
	struct rcp_chunk_ref *chunks;   /* sorted by (tid, nest, seq), unique */
	size_t n;
	struct rcp_stream *s;           /* sorted by (tid, nest) */
	uint64_t cut_events;            /* events dropped at a chunk's end */
	uint64_t gaps;                  /* chunks missing (seq gaps) */
	/* The time of the last event read before the earliest place where a
	 * stream lost events - missing chunks, a damaged or cut event inside
	 * a chunk - once the replay has got there (UINT64_MAX: none yet).
	 * From then on the lost events may be anywhere. */
	uint64_t gap_from_ts;
	struct rcp_chunk_buf *retired;  /* left by their streams */
	struct rcp_chunk_buf *spare;    /* free for the next chunk read */
};

/* Groups the chunks of d (keeping the longest copy of each chunk) and
 * positions every cursor on its first event.  0 or -ENOMEM. */
int rcp_streams_build(struct rcp_streams *ss, const struct rcp_dump *d,
		      struct rcp_diag *diag);
void rcp_streams_free(struct rcp_streams *ss);
/* No event handed out before is in use any more: the buffers of chunks
 * the streams have left since are reused.  The merge calls it. */
void rcp_streams_recycle(struct rcp_streams *ss);
/* Moves stream s to its next event (s->done when there is none). */
void rcp_stream_advance(struct rcp_streams *ss, struct rcp_stream *s);

/* Same, with the common case inline: a heap or refcount event well inside
 * its chunk is decoded by rcp_decode_fast() without a call; everything
 * else (other kinds, chunk ends, errors) takes rcp_stream_advance(). */
static inline void rcp_stream_next(struct rcp_streams *ss, struct rcp_stream *s)
{
	if (!s->done && rcp_decode_fast(&s->p, s->end, &s->st, &s->ev))
		return;
	rcp_stream_advance(ss, s);
}

/* k-way merge by (ts, stream index); a binary min-heap of stream indexes. */
struct rcp_merge {
	struct rcp_streams *ss;
	uint32_t *heap;
	size_t n;
	int advance_top;            /* the top's event was handed out */
	/* The smaller child of the root (UINT32_MAX when n < 2).  Only the
	 * root changes while one stream keeps winning, so this stays valid
	 * until the next sift: an advanced top that still sorts before it is
	 * still the minimum, and no heap operation is needed. */
	uint32_t second;
};

int rcp_merge_init(struct rcp_merge *m, struct rcp_streams *ss);
/* The next event in ts order, or NULL.  The pointer, and the bytes the
 * event points to, are valid until the next call. */
const struct rcp_event *rcp_merge_next(struct rcp_merge *m);
/* Copies the next events with ts < until to out[], up to max; sets *end
 * when there are no more (the first one not < until is consumed, as by
 * rcp_merge_next).  Returns how many.  The events of the previous call,
 * and the bytes they point to, are not valid any more. */
size_t rcp_merge_fill(struct rcp_merge *m, struct rcp_event *out, size_t max,
		      uint64_t until, int *end);
/* The run of the stream that gave the last event handed out, for a caller
 * that decodes some of its events itself: returns the stream, positioned
 * right after that event, and sets *lim: its next events are also the
 * merge's next ones while their ts < *lim (which is <= until).  A caller
 * that advances s->p and s->st past exactly the events it takes leaves
 * the merge as if it had handed them out.  NULL when there is no such run
 * (nothing handed out, the stream done, the end). */
struct rcp_stream *rcp_merge_run(struct rcp_merge *m, uint64_t until,
				 uint64_t *lim);
/* The ts of the next event without consuming it; 0 when none. */
int rcp_merge_peek_ts(struct rcp_merge *m, uint64_t *ts);
void rcp_merge_free(struct rcp_merge *m);

#endif /* RCPROF_STREAMS_H */
