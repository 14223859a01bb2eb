/* rcobj_skew.c - refcount misuse reports that survive the threads' clock
 * skew.
 *
 * Events of different threads are merged by their stamps, and a stamp may
 * sort an event slightly before one it depends on (see RCO_SKEW_NS):
 *   - thread B's first retain or release of an object that thread A has
 *     just created and handed over can sort before A's creation.  At that
 *     moment the address holds nothing, or an object freed earlier, and
 *     the event would be reported as misuse.  It is held instead: when
 *     another thread creates an object at that address within the skew,
 *     it is replayed on that object; otherwise it is reported once the
 *     skew has passed (or at the end).
 *   - thread A's release that left the count above zero can sort after B's
 *     last release and the free that followed it.  A release or retain of
 *     another thread, with a plausible recorded count (or none, from
 *     rcprof_note_*), within the skew after the free, is such a late event
 *     and is dropped.
 * Events of one thread keep their order in the dump (one stream), so
 * neither applies between them: those are reported as before.
 *
 * Errors are reported in event order at the end: held ones are appended
 * late, so rco_defer_finish sorts them, then drops repeats (one misuse,
 * one report: rc_set() on a freed object shows up as a retain, an edge
 * and a release of the same freed address by the same thread, a few
 * events apart).
 */
#include <stdlib.h>
#include <string.h>

#include "rcobj_int.h"
#include "rcprof_dump.h"

/* Counts a live object's count can have (a count read from freed memory
 * is usually a pointer the allocator left there). */
#define PLAUSIBLE_COUNT ((int64_t)1 << 31)

void rco_add_error(struct rcobj *r, const struct rcp_error *e)
{
	if (e->at.ts > r->unsure_from) {
		r->errors_unsure++;
		return;
	}
	if (r->nerrors >= RCO_MAX_ERRORS) {
		r->errors_dropped++;
		return;
	}
	if (r->nerrors == r->caperrors) {
		size_t ncap = r->caperrors ? r->caperrors * 2 : 16;
		struct rcp_error *ne = realloc(r->errors, ncap * sizeof(*ne));
		if (!ne) {
			r->oom = 1;
			r->errors_dropped++;
			return;
		}
		r->errors = ne;
		r->caperrors = ncap;
	}
	r->errors[r->nerrors++] = *e;
}

/* A retain or release of another thread that happened before the free at
 * q but was stamped after it.  A count the program did not report
 * (rcprof_note_*) gets the benefit of the doubt: a program that notes a
 * release just after its own decrement races with the thread that frees
 * the object, whatever the recorder does. */
static int late_event(enum rco_op op, int64_t count, const struct rcp_where *at,
		      const struct rco_qent *q)
{
	if (q->at.tid == at->tid || at->ts - q->at.ts > RCO_SKEW_NS ||
	    op == RCO_OP_FREE)
		return 0;
	if (count == RCP_COUNT_UNKNOWN)
		return 1;
	if (count >= PLAUSIBLE_COUNT)
		return 0;
	return (op == RCO_OP_RELEASE && count >= 1) ||
	       (op == RCO_OP_RETAIN && count >= 2);
}

static int hold(struct rcobj *r, const struct rco_defer *d)
{
	if (r->ndefer == RCO_DEFER_MAX)
		return 0;
	if (r->ndefer == r->capdefer) {
		uint32_t ncap = r->capdefer ? r->capdefer * 2 : 16;
		struct rco_defer *nd = realloc(r->defer, ncap * sizeof(*nd));
		if (!nd)
			return 0;
		r->defer = nd;
		r->capdefer = ncap;
	}
	r->defer[r->ndefer++] = *d;
	return 1;
}

void rco_not_live(struct rcobj *r, enum rco_op op, uint64_t addr,
		  int64_t count, const struct rcp_where *at)
{
	static const enum rcp_error_kind freed_kind[] = {
		[RCO_OP_RETAIN] = RCP_ERR_RETAIN_FREED,
		[RCO_OP_RELEASE] = RCP_ERR_RELEASE_FREED,
		[RCO_OP_FREE] = RCP_ERR_RC_DOUBLE_FREE,
	};
	const struct rco_qent *q = rco_q_lookup(r, addr);
	struct rco_defer d = { .op = op, .count = count,
			       .err = { .addr = addr, .at = *at } };
	if (q) {
		if (at->ts >= q->at.ts && late_event(op, count, at, q)) {
			r->reordered++;
			return;
		}
		d.err.kind = freed_kind[op];
		d.err.type = q->type;
		d.err.earlier = q->at;
		d.err.has_earlier = 1;
	} else if (r->cfg.tolerate_unknown) {
		return;
	} else {
		d.err.kind = RCP_ERR_UNKNOWN_OBJECT;
	}
	if (r->redo || !hold(r, &d))
		rco_add_error(r, &d.err);
}

static void redo(struct rcobj *r, const struct rco_defer *d)
{
	r->redo = 1;
	switch (d->op) {
	case RCO_OP_RETAIN:
		rcobj_on_retain(r, d->err.addr, d->count, &d->err.at);
		break;
	case RCO_OP_RELEASE:
		rcobj_on_release(r, d->err.addr, d->count, &d->err.at);
		break;
	case RCO_OP_FREE:
		rcobj_on_free(r, d->err.addr, &d->err.at);
		break;
	}
	r->redo = 0;
}

void rco_defer_on_new(struct rcobj *r, uint64_t addr, const struct rcp_where *at)
{
	if (r->redo)
		return;
	/* Copy out what is replayed first: replaying can hold nothing (redo
	 * is set), but it can report, which only appends to r->errors. */
	uint32_t keep = 0, nredo = 0;
	struct rco_defer mine[16];
	for (uint32_t i = 0; i < r->ndefer; i++) {
		struct rco_defer *d = &r->defer[i];
		if (d->err.at.ts + RCO_SKEW_NS < at->ts) {
			rco_add_error(r, &d->err);      /* waited long enough */
		} else if (d->err.addr == addr && d->err.at.tid != at->tid &&
			   nredo < sizeof(mine) / sizeof(mine[0])) {
			mine[nredo++] = *d;
		} else {
			r->defer[keep++] = *d;
		}
	}
	r->ndefer = keep;
	r->reordered += nredo;
	for (uint32_t i = 0; i < nredo; i++)
		redo(r, &mine[i]);
}

struct order {
	uint64_t seq;
	size_t idx;
};

static int by_seq(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	/* one event, several errors (an edge on and to freed objects):
	 * the order they were found in */
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Stable sort of the errors by event. */
static void sort_errors(struct rcobj *r)
{
	size_t n = r->nerrors;
	int sorted = 1;
	for (size_t i = 1; i < n && sorted; i++)
		sorted = r->errors[i - 1].at.seq <= r->errors[i].at.seq;
	if (sorted)
		return;
	struct order *o = malloc(n * sizeof(*o));
	struct rcp_error *e = malloc(n * sizeof(*e));
	if (!o || !e) {
		r->oom = 1;     /* reported out of order, but reported */
		free(o);
		free(e);
		return;
	}
	for (size_t i = 0; i < n; i++)
		o[i] = (struct order){ r->errors[i].at.seq, i };
	qsort(o, n, sizeof(*o), by_seq);
	for (size_t i = 0; i < n; i++)
		e[i] = r->errors[o[i].idx];
	free(o);
	free(r->errors);
	r->errors = e;
	r->caperrors = n;
}

static int is_freed_kind(enum rcp_error_kind k)
{
	return k == RCP_ERR_RELEASE_FREED || k == RCP_ERR_RETAIN_FREED ||
	       k == RCP_ERR_EDGE_FREED;
}

void rco_defer_finish(struct rcobj *r)
{
	for (uint32_t i = 0; i < r->ndefer; i++)
		rco_add_error(r, &r->defer[i].err);
	r->ndefer = 0;
	free(r->defer);
	r->defer = NULL;
	r->capdefer = 0;
	sort_errors(r);
	size_t n = 0;
	for (size_t i = 0; i < r->nerrors; i++) {
		const struct rcp_error *e = &r->errors[i];
		if (n && is_freed_kind(e->kind)) {
			const struct rcp_error *last = &r->errors[n - 1];
			if (is_freed_kind(last->kind) && last->addr == e->addr &&
			    last->at.tid == e->at.tid &&
			    e->at.seq - last->at.seq <= 4)
				continue;
		}
		r->errors[n++] = *e;
	}
	r->nerrors = n;
}
