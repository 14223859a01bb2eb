/* decode.c - decode one event (see decode.h and rcprof_dump.h).
 *
 * All reads go through rcp_get_u64/rcp_get_s64, which stop at `end`; a
 * field that does not fit makes the event "cut" (it was being written when
 * the process died) and it is dropped.  Variable-length parts are walked
 * once here to find the event's end, so later decoding of them cannot
 * overrun.
 */
#include "decode.h"

static const char *const kind_names[RCP_EV__COUNT] = {
	[RCP_EV_MALLOC] = "malloc",
	[RCP_EV_FREE] = "free",
	[RCP_EV_REALLOC_FROM] = "realloc_from",
	[RCP_EV_FREE_STACK] = "free_stack",
	[RCP_EV_REALLOC_TO] = "realloc_to",
	[RCP_EV_RC_NEW] = "rc_new",
	[RCP_EV_RC_RETAIN] = "rc_retain",
	[RCP_EV_RC_RELEASE] = "rc_release",
	[RCP_EV_RC_FREE] = "rc_free",
	[RCP_EV_EDGE] = "edge",
	[RCP_EV_SUSPECT] = "suspect",
	[RCP_EV_SNAPSHOT] = "snapshot",
	[RCP_EV_STACK] = "stack",
	[RCP_EV_STRING] = "string",
	[RCP_EV_MODULE] = "module",
	[RCP_EV_MODULE_UNMAP] = "module_unmap",
	[RCP_EV_THREAD] = "thread",
	[RCP_EV_FORK] = "fork",
	[RCP_EV_SIGNAL] = "signal",
	[RCP_EV_LOST] = "lost",
	[RCP_EV_RC_NEW_BLOCK] = "rc_new_block",
	[RCP_EV_RC_FREE_BLOCK] = "rc_free_block",
};

const char *rcp_kind_name(unsigned kind)
{
	if (kind < RCP_EV__COUNT && kind_names[kind])
		return kind_names[kind];
	return "unknown";
}

#define U(v)  do { if (rcp_get_u64(&p, end, (v))) return RCP_DEC_CUT; } while (0)
#define S(v)  do { if (rcp_get_s64(&p, end, (v))) return RCP_DEC_CUT; } while (0)
#define ADDR(v) do {                                                    \
		int64_t d_;                                             \
		S(&d_);                                                 \
		addr = addr + (uint64_t)d_;                             \
		*(v) = addr;                                            \
	} while (0)

/* Skips n varints; CUT if they don't all fit. */
static int skip_varints(const uint8_t **pp, const uint8_t *end, uint64_t n)
{
	const uint8_t *p = *pp;
	/* Each varint is at least one byte: a count larger than what is left
	 * cannot fit (and must not drive a long loop). */
	if (n > (uint64_t)(end - p))
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t v;
		if (rcp_get_u64(&p, end, &v))
			return -1;
	}
	*pp = p;
	return 0;
}

enum rcp_dec_result rcp_decode(const uint8_t **pp, const uint8_t *end,
			       struct rcp_dec_state *st, struct rcp_event *ev)
{
	const uint8_t *p = *pp;
	uint64_t dts, addr = st->prev_addr, u;

	if (p >= end)
		return RCP_DEC_END;
	ev->kind = *p++;
	if (ev->kind == 0 || ev->kind >= RCP_EV__COUNT)
		return RCP_DEC_UNKNOWN;
	U(&dts);
	ev->ts = st->ts + dts;
	ev->stack = 0;
	ev->addr = 0;

	switch (ev->kind) {
	case RCP_EV_MALLOC:
		ADDR(&ev->addr);
		U(&ev->size);
		U(&ev->stack);
		U(&ev->flavor);
		break;
	case RCP_EV_FREE:
	case RCP_EV_REALLOC_FROM:
	case RCP_EV_RC_FREE:
		ADDR(&ev->addr);
		break;
	case RCP_EV_REALLOC_TO:
		ADDR(&ev->addr);
		U(&ev->size);
		U(&ev->stack);
		break;
	case RCP_EV_FREE_STACK:
		ADDR(&ev->addr);
		U(&ev->stack);
		break;
	case RCP_EV_RC_FREE_BLOCK:
		ADDR(&ev->addr);
		U(&ev->header);
		break;
	case RCP_EV_RC_NEW:
	case RCP_EV_RC_NEW_BLOCK:
		ADDR(&ev->addr);
		U(&ev->size);
		U(&ev->str);
		S(&ev->count);
		U(&ev->stack);
		U(&ev->header);
		break;
	case RCP_EV_RC_RETAIN:
	case RCP_EV_RC_RELEASE:
		ADDR(&ev->addr);
		S(&ev->count);
		U(&ev->stack);
		break;
	case RCP_EV_EDGE:
		ADDR(&ev->addr);
		S(&ev->slot_off);
		U(&u);
		if (u > 1)
			return RCP_DEC_BAD;
		ev->has_target = (uint8_t)u;
		ev->target = 0;
		if (u)
			ADDR(&ev->target);
		break;
	case RCP_EV_SUSPECT:
	case RCP_EV_SNAPSHOT:
		U(&ev->str);
		break;
	case RCP_EV_STACK:
		U(&ev->id);
		U(&ev->n);
		ev->raw = p;
		if (skip_varints(&p, end, ev->n))
			return RCP_DEC_CUT;
		ev->raw_end = p;
		break;
	case RCP_EV_STRING:
		U(&ev->id);
		U(&ev->n);
		if (ev->n > (uint64_t)(end - p))
			return RCP_DEC_CUT;
		ev->raw = p;
		p += ev->n;
		break;
	case RCP_EV_MODULE:
		U(&ev->addr);
		U(&ev->str);
		U(&ev->n);
		if (ev->n > (uint64_t)(end - p))
			return RCP_DEC_CUT;
		ev->raw = p;
		p += ev->n;
		U(&ev->nseg);
		ev->raw2 = p;
		if (ev->nseg > (uint64_t)(end - p) / 2 ||
		    skip_varints(&p, end, ev->nseg * 2))
			return RCP_DEC_CUT;
		ev->raw_end = p;
		break;
	case RCP_EV_MODULE_UNMAP:
		U(&ev->addr);
		break;
	case RCP_EV_THREAD:
	case RCP_EV_FORK:
	case RCP_EV_SIGNAL:
		U(&ev->id);
		break;
	case RCP_EV_LOST:
		U(&ev->id);
		U(&ev->n);
		break;
	default:
		return RCP_DEC_UNKNOWN;
	}
	st->ts = ev->ts;
	if (ev->kind != RCP_EV_MODULE && ev->kind != RCP_EV_MODULE_UNMAP)
		st->prev_addr = addr;
	*pp = p;
	return RCP_DEC_OK;
}

size_t rcp_stack_frames(const struct rcp_event *ev, uint64_t *ips, size_t max)
{
	const uint8_t *p = ev->raw;
	const uint8_t *end = ev->raw_end;
	uint64_t ip = 0;
	size_t k = 0;

	for (uint64_t i = 0; i < ev->n; i++) {
		int64_t d;
		if (rcp_get_s64(&p, end, &d))
			break;
		ip += (uint64_t)d;
		if (k < max)
			ips[k++] = ip;
	}
	return k;
}

size_t rcp_module_segments(const struct rcp_event *ev, uint64_t *segs,
			   size_t max_pairs)
{
	const uint8_t *p = ev->raw2;
	const uint8_t *end = ev->raw_end;
	size_t k = 0;

	for (uint64_t i = 0; i < ev->nseg && k < max_pairs; i++) {
		if (rcp_get_u64(&p, end, &segs[2 * k]) ||
		    rcp_get_u64(&p, end, &segs[2 * k + 1]))
			break;
		k++;
	}
	return k;
}
