/* shim_readback.h - read a dump written by the shim back, for the shim's
 * unit tests and the ring stress program (a deliberately small reader,
 * independent of the analyzer's).  Header-only; everything static. */
#ifndef SHIM_READBACK_H
#define SHIM_READBACK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcprof_dump.h"

struct rb_chunk {
	uint32_t tid;
	uint16_t nest, flags;
	uint64_t seq, base_ts;
	uint32_t used;
	const uint8_t *data;
};

struct rb_dump {
	uint8_t *buf;
	size_t len;
	struct rb_chunk *chunks;
	size_t nchunks;
	size_t nrecords[8];         /* by record type */
	struct rcp_rec_end end;     /* the last END record */
	int bad;                    /* a record did not fit */
};

__attribute__((unused))
static int rb_load(const char *path, struct rb_dump *d)
{
	memset(d, 0, sizeof(*d));
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d->buf = malloc((size_t)n + 1);
	d->len = fread(d->buf, 1, (size_t)n, f);
	fclose(f);
	if (d->len < sizeof(struct rcp_file_header) ||
	    memcmp(d->buf, RCP_DUMP_MAGIC, 8) != 0)
		return -1;
	size_t p = sizeof(struct rcp_file_header);
	while (p + sizeof(struct rcp_record_header) <= d->len) {
		struct rcp_record_header h;
		memcpy(&h, d->buf + p, sizeof(h));
		size_t padded = (h.length + 7u) & ~(size_t)7;
		if (p + sizeof(h) + padded > d->len) {
			d->bad = 1;
			break;
		}
		const uint8_t *pl = d->buf + p + sizeof(h);
		if (h.type < 8)
			d->nrecords[h.type]++;
		if (h.type == RCP_REC_CHUNK) {
			struct rcp_rec_chunk c;
			memcpy(&c, pl, sizeof(c));
			d->chunks = realloc(d->chunks, (d->nchunks + 1) * sizeof(*d->chunks));
			struct rb_chunk *k = &d->chunks[d->nchunks++];
			k->tid = c.tid;
			k->nest = c.nest;
			k->flags = c.flags;
			k->seq = c.seq;
			k->base_ts = c.base_ts;
			k->used = c.used;
			k->data = pl + sizeof(c);
		} else if (h.type == RCP_REC_END) {
			memcpy(&d->end, pl, sizeof(d->end));
		}
		p += sizeof(h) + padded;
	}
	return 0;
}

__attribute__((unused))
static void rb_free(struct rb_dump *d)
{
	free(d->buf);
	free(d->chunks);
	memset(d, 0, sizeof(*d));
}

/* The longest copy of chunk (tid, nest, seq), or NULL. */
__attribute__((unused))
static const struct rb_chunk *rb_find(const struct rb_dump *d, uint32_t tid,
				      uint16_t nest, uint64_t seq)
{
	const struct rb_chunk *best = NULL;
	for (size_t i = 0; i < d->nchunks; i++) {
		const struct rb_chunk *k = &d->chunks[i];
		if (k->tid == tid && k->nest == nest && k->seq == seq &&
		    (!best || k->used > best->used))
			best = k;
	}
	return best;
}

/* An rb_walk_values callback checking that the values of a stream are
 * 0, 1, 2, ... with timestamps that never go back; counts violations. */
struct rb_expect {
	uint64_t next;
	uint64_t last_ts;
	long bad;
};

__attribute__((unused))
static void rb_check_next(void *ctx, uint64_t ts, uint64_t v)
{
	struct rb_expect *e = ctx;
	if (v != e->next || ts < e->last_ts)
		e->bad++;
	e->next++;
	e->last_ts = ts;
}

/* Walk SNAPSHOT-kind test events (kind, dts, u value) of one stream in
 * seq order; calls fn for each value; returns the number of events, or -1
 * on a malformed event.  Stops at the first missing seq. */
__attribute__((unused))
static long rb_walk_values(const struct rb_dump *d, uint32_t tid, uint16_t nest,
			   void (*fn)(void *ctx, uint64_t ts, uint64_t v),
			   void *ctx)
{
	long n = 0;
	for (uint64_t seq = 0;; seq++) {
		const struct rb_chunk *k = rb_find(d, tid, nest, seq);
		if (!k)
			return n;
		const uint8_t *p = k->data, *end = k->data + k->used;
		uint64_t ts = k->base_ts;
		while (p < end) {
			uint64_t dts, v;
			if (*p++ != RCP_EV_SNAPSHOT)
				return -1;
			if (rcp_get_u64(&p, end, &dts) || rcp_get_u64(&p, end, &v))
				return -1;
			ts += dts;
			if (fn)
				fn(ctx, ts, v);
			n++;
		}
	}
}

#endif
