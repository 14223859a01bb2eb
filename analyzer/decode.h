/* decode.h - one encoded event (rcprof_dump.h, "Events inside a chunk")
 * into a struct.
 *
 * The decoder never allocates: variable-length parts (STACK frames, STRING
 * bytes, MODULE build id and segments) are returned as pointers into the
 * chunk with their count, already checked to lie inside it; decode them
 * with rcp_stack_frames() / rcp_module_segments().
 */
#ifndef RCPROF_DECODE_H
#define RCPROF_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "rcprof_dump.h"

/* Running state of one chunk. */
struct rcp_dec_state {
	uint64_t ts;
	uint64_t prev_addr;
};

struct rcp_event {
	uint8_t kind;           /* RCP_EV_* */
	uint8_t has_target;     /* EDGE */
	uint32_t tid;
	uint16_t nest;
	uint64_t ts;
	uint64_t addr;          /* block, obj or owner */
	uint64_t size;          /* MALLOC, REALLOC_TO, RC_NEW */
	uint64_t stack;         /* stack id, 0 = none */
	uint64_t flavor;        /* MALLOC */
	int64_t count;          /* RC_NEW initial, RETAIN/RELEASE after */
	/* The fields above are all that the kinds rcp_decode_fast() handles
	 * use: a replay that copies events copies only up to here for them
	 * (RCP_EVENT_FAST_BYTES). */
	uint64_t str;           /* RC_NEW type, SUSPECT, SNAPSHOT, MODULE path */
	uint64_t header;        /* RC_NEW */
	int64_t slot_off;       /* EDGE */
	uint64_t target;        /* EDGE, when has_target */
	/* STACK: id, n frames at `raw`; STRING: id, len bytes at `raw`;
	 * MODULE: base in `addr`, build id (n bytes at `raw`), nseg segments at
	 * `raw2`; THREAD parent_tid, FORK child_pid, SIGNAL signo, LOST kind:
	 * `id`; LOST n: `n`; MODULE_UNMAP base: `addr`. */
	uint64_t id;
	uint64_t n;
	const uint8_t *raw;
	const uint8_t *raw2;
	const uint8_t *raw_end; /* end of the STACK frames / MODULE segments */
	uint64_t nseg;
};

#define RCP_EVENT_FAST_BYTES offsetof(struct rcp_event, str)

enum rcp_dec_result {
	RCP_DEC_OK = 0,
	RCP_DEC_END = 1,        /* no more bytes */
	RCP_DEC_CUT = 2,        /* cut short at the end of the chunk: drop */
	RCP_DEC_UNKNOWN = 3,    /* unknown kind: stop the chunk */
	RCP_DEC_BAD = 4,        /* impossible field value: stop the chunk */
};

/* Decodes the event at *pp; advances *pp on RCP_DEC_OK. */
enum rcp_dec_result rcp_decode(const uint8_t **pp, const uint8_t *end,
			       struct rcp_dec_state *st, struct rcp_event *ev);

/* ---- Fast path --------------------------------------------------------
 *
 * Heap-heavy dumps are nearly all MALLOC/FREE (refcount-heavy ones
 * RETAIN/RELEASE), and the general decoder checks `end` before every byte
 * of every varint.  The longest event decoded here is MALLOC: kind, dts,
 * addr, size, stack, flavor = 1 + 5 * RCP_VARINT_MAX = 51 bytes, so with
 * RCP_DEC_FAST_MIN bytes left no field can run past the chunk and the
 * bounds checks can go.  Results are exactly those of rcp_decode(); a
 * varint longer than 10 bytes still fails (and the caller then lets
 * rcp_decode() report it). */
#define RCP_DEC_FAST_MIN 64

/* LEB128 without bounds checks: the caller guarantees RCP_VARINT_MAX
 * readable bytes.  -1 for a varint longer than that, like rcp_get_u64.
 * The first three bytes are unrolled (the values of heap events - time
 * deltas, address deltas, sizes, stack ids - nearly all fit in three):
 * each adds its byte unmasked and takes the continuation bit of the
 * byte before back out, a few instructions fewer than a loop step. */
static inline int rcp_get_u64_unchecked(const uint8_t **pp, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = p[0];
	if (v < 0x80) {         /* small sizes, stack ids, flavor */
		*pp = p + 1;
		*out = v;
		return 0;
	}
	uint64_t b = p[1];
	v += (b << 7) - 0x80;
	if (b < 0x80) {
		*pp = p + 2;
		*out = v;
		return 0;
	}
	b = p[2];
	v += (b << 14) - (0x80u << 7);
	if (b < 0x80) {
		*pp = p + 3;
		*out = v;
		return 0;
	}
	v -= 0x80u << 14;
	p += 3;
	for (unsigned shift = 21; shift < 70; shift += 7) {
		b = *p++;
		v |= (b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*pp = p;
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* The kinds rcp_decode_fast() handles; they use only the fields of
 * struct rcp_event before RCP_EVENT_FAST_BYTES. */
static inline int rcp_kind_is_fast(unsigned kind)
{
	switch (kind) {
	case RCP_EV_MALLOC:
	case RCP_EV_REALLOC_TO:
	case RCP_EV_FREE:
	case RCP_EV_REALLOC_FROM:
	case RCP_EV_RC_FREE:
	case RCP_EV_RC_RETAIN:
	case RCP_EV_RC_RELEASE:
		return 1;
	}
	return 0;
}

/* The fields of MALLOC and REALLOC_TO after its address: size, stack
 * and, for MALLOC, flavor.  -1 for an overlong varint. */
static inline int rcp_get_alloc_fields(const uint8_t **pp, unsigned kind,
				       uint64_t *size, uint64_t *stack,
				       uint64_t *flavor)
{
	if (rcp_get_u64_unchecked(pp, size) ||
	    rcp_get_u64_unchecked(pp, stack) ||
	    (kind == RCP_EV_MALLOC && rcp_get_u64_unchecked(pp, flavor)))
		return -1;
	return 0;
}

/* Decodes MALLOC, FREE, REALLOC_FROM/TO, RC_RETAIN/RELEASE/FREE at *pp
 * when at least RCP_DEC_FAST_MIN bytes are left; returns 1 (and advances,
 * like rcp_decode with RCP_DEC_OK), or 0 with *pp and *st untouched (ev
 * may hold scratch): use rcp_decode() then. */
static inline int rcp_decode_fast(const uint8_t **pp, const uint8_t *end,
				  struct rcp_dec_state *st, struct rcp_event *ev)
{
	const uint8_t *p = *pp;
	uint64_t dts, d, size, stack = 0, flavor = 0;

	if (end - p < RCP_DEC_FAST_MIN)
		return 0;
	uint8_t kind = *p++;
	if (!rcp_kind_is_fast(kind))
		return 0;
	if (rcp_get_u64_unchecked(&p, &dts) || rcp_get_u64_unchecked(&p, &d))
		return 0;
	if (kind == RCP_EV_MALLOC || kind == RCP_EV_REALLOC_TO) {
		if (rcp_get_alloc_fields(&p, kind, &size, &stack, &flavor))
			return 0;
		ev->size = size;
		if (kind == RCP_EV_MALLOC)
			ev->flavor = flavor;
	} else if (kind == RCP_EV_RC_RETAIN || kind == RCP_EV_RC_RELEASE) {
		uint64_t c;
		if (rcp_get_u64_unchecked(&p, &c) ||
		    rcp_get_u64_unchecked(&p, &stack))
			return 0;
		ev->count = rcp_unzigzag(c);
	}
	ev->kind = kind;
	ev->ts = st->ts + dts;
	ev->addr = st->prev_addr + (uint64_t)rcp_unzigzag(d);
	ev->stack = stack;
	st->ts = ev->ts;
	st->prev_addr = ev->addr;
	*pp = p;
	return 1;
}

/* ---- Heap events alone -------------------------------------------------
 *
 * A replay of a heap-heavy dump runs nearly only MALLOC, FREE and
 * REALLOC_FROM/TO (replay_run.c).  It takes them through this narrower
 * decoder into a small struct: no test for the refcount kinds, and none of
 * the 144-byte struct rcp_event to fill and copy. */
struct rcp_heap_ev {
	uint64_t ts;
	uint64_t addr;
	uint64_t size;          /* MALLOC, REALLOC_TO */
	uint64_t stack;         /* MALLOC, REALLOC_TO; 0 for the others */
	unsigned kind;          /* RCP_EV_MALLOC .. RCP_EV_REALLOC_TO */
};

static inline int rcp_kind_is_heap(unsigned kind)
{
	return kind - RCP_EV_MALLOC <= RCP_EV_REALLOC_TO - RCP_EV_MALLOC;
}

/* rcp_decode_fast() for the heap kinds only, same rules and results: 1
 * and *pp, *st advanced, or 0 with them untouched (any other kind, fewer
 * than RCP_DEC_FAST_MIN bytes left, an overlong varint): rcp_decode()
 * then takes the event. */
static inline int rcp_decode_heap(const uint8_t **pp, const uint8_t *end,
				  struct rcp_dec_state *st, struct rcp_heap_ev *e)
{
	const uint8_t *p = *pp;
	uint64_t dts, d, size = 0, stack = 0, flavor;

	if (end - p < RCP_DEC_FAST_MIN)
		return 0;
	unsigned kind = *p++;
	if (!rcp_kind_is_heap(kind))
		return 0;
	if (rcp_get_u64_unchecked(&p, &dts) || rcp_get_u64_unchecked(&p, &d))
		return 0;
	/* the flavor is not replayed, but a bad one is still bad */
	if ((kind == RCP_EV_MALLOC || kind == RCP_EV_REALLOC_TO) &&
	    rcp_get_alloc_fields(&p, kind, &size, &stack, &flavor))
		return 0;
	e->kind = kind;
	e->ts = st->ts + dts;
	e->addr = st->prev_addr + (uint64_t)rcp_unzigzag(d);
	e->size = size;
	e->stack = stack;
	st->ts = e->ts;
	st->prev_addr = e->addr;
	*pp = p;
	return 1;
}

/* Frames of a STACK event: writes up to `max` ips, returns the count. */
size_t rcp_stack_frames(const struct rcp_event *ev, uint64_t *ips, size_t max);
/* Segments of a MODULE event (pairs vaddr, memsz); returns the count. */
size_t rcp_module_segments(const struct rcp_event *ev, uint64_t *segs,
			   size_t max_pairs);

const char *rcp_kind_name(unsigned kind);

#endif /* RCPROF_DECODE_H */
