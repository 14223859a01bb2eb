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
	uint64_t str;           /* RC_NEW type, SUSPECT, SNAPSHOT, MODULE path */
	int64_t count;          /* RC_NEW initial, RETAIN/RELEASE after */
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

/* Frames of a STACK event: writes up to `max` ips, returns the count. */
size_t rcp_stack_frames(const struct rcp_event *ev, uint64_t *ips, size_t max);
/* Segments of a MODULE event (pairs vaddr, memsz); returns the count. */
size_t rcp_module_segments(const struct rcp_event *ev, uint64_t *segs,
			   size_t max_pairs);

const char *rcp_kind_name(unsigned kind);

#endif /* RCPROF_DECODE_H */
