/* rcobj.c - replay of refcounted objects: the event handlers, the object
 * pool and address table, misuse detection and its quarantine.
 *
 * Invariants
 *   - r->live maps the address of every live (not freed) object to its
 *     pool index; a pool entry is live iff gen != RCO_GEN_FREE.
 *   - An object's count is replayed: +1 per retain, -1 per release, from
 *     the count it was created with.  Threads' events may sort slightly
 *     out of order (rcobj_skew.c), and a sum does not depend on the
 *     order, where "the count_after of the last event" does: a release
 *     stamped before another thread's retain would leave the count one
 *     too high.  Each event's recorded count_after still decides what
 *     that event means (below zero, a drop above zero).  Once events were
 *     lost (rcobj_on_lost) the sum is off, and count_after is kept
 *     instead.  Only the free event frees; count 0 does not.
 *   - Memory follows live objects: a free releases the entry, its slots and
 *     its suspect history; only RCO_QUARANTINE recent frees are kept (to
 *     name the earlier free in "release of a freed object" reports).
 *   - Each generational collection runs before the allocation that
 *     triggers it is tracked (CPython: _PyObject_GC_Alloc).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rcobj_int.h"
#include "rcprof_dump.h"
#include "util.h"

static const struct rcp_where no_where;

static struct rcp_where where_of(const struct rcp_where *w)
{
	return w ? *w : no_where;
}

struct rcobj *rcobj_create(const struct rcobj_config *cfg)
{
	struct rcobj *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->unsure_from = UINT64_MAX;
	if (cfg)
		r->cfg = *cfg;
	/* A zeroed config means "CPython's defaults".  To never collect
	 * before the end, pass thresholds[0] = UINT_MAX. */
	if (!r->cfg.thresholds[0] && !r->cfg.thresholds[1] &&
	    !r->cfg.thresholds[2]) {
		r->cfg.thresholds[0] = 700;
		r->cfg.thresholds[1] = 10;
		r->cfg.thresholds[2] = 10;
	}
	r->free_head = RCO_NIL;
	r->susp_free = RCO_NIL;
	for (int i = 0; i < RCO_NLISTS; i++)
		r->lists[i] = (struct rco_list){ RCO_NIL, RCO_NIL, 0 };
	return r;
}

void rcobj_destroy(struct rcobj *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < r->npool; i++)
		free(r->pool[i].edges);
	free(r->pool);
	rco_susp_free_all(r);
	rco_map_free(&r->live);
	rco_map_free(&r->qmap);
	rco_map_free(&r->pend_by_tid);
	rco_map_free(&r->foreign);
	rco_map_free(&r->suspect_types);
	rco_map_free(&r->type_hash_memo);
	rco_map_free(&r->stack_hash_memo);
	free(r->quarantine);
	free(r->pend);
	free(r->finds);
	free(r->stk);
	free(r->errors);
	free(r->defer);
	rco_cycles_free(r);
	free(r->res.unreleased);
	free(r->res.suspect_sites);
	free(r);
}

/* ---- misuse -------------------------------------------------------------- */

static void add_error(struct rcobj *r, enum rcp_error_kind kind, uint64_t addr,
		      uint32_t type, const struct rcp_where *at,
		      const struct rco_qent *earlier)
{
	struct rcp_error e = { .kind = kind, .addr = addr, .type = type,
			       .at = *at };
	if (earlier) {
		e.earlier = earlier->at;
		e.has_earlier = 1;
		if (!type)
			e.type = earlier->type;
	}
	rco_add_error(r, &e);
}

const struct rco_qent *rco_q_lookup(const struct rcobj *r, uint64_t addr)
{
	const uint64_t *pos = rco_map_get(&r->qmap, addr);
	if (!pos || r->quarantine[*pos].addr != addr)
		return NULL;
	return &r->quarantine[*pos];
}

static void q_forget(struct rcobj *r, uint64_t addr)
{
	const uint64_t *pos = rco_map_get(&r->qmap, addr);
	if (!pos)
		return;
	r->quarantine[*pos].addr = 0;
	rco_map_del(&r->qmap, addr);
}

static void q_add(struct rcobj *r, uint64_t addr, uint32_t type,
		  const struct rcp_where *at)
{
	/* The ring grows until it holds RCO_QUARANTINE frees (small runs
	 * stay small); it wraps only once full size, so positions handed
	 * out before a growth stay valid. */
	if (r->qnext == r->qcap && r->qcap < RCO_QUARANTINE) {
		uint32_t ncap = r->qcap ? r->qcap * 2 : 256;
		struct rco_qent *nq = realloc(r->quarantine, ncap * sizeof(*nq));
		if (!nq) {
			r->oom = 1;
			return;
		}
		memset(nq + r->qcap, 0, (ncap - r->qcap) * sizeof(*nq));
		r->quarantine = nq;
		r->qcap = ncap;
	}
	uint32_t pos = r->qnext++ % r->qcap;
	struct rco_qent *q = &r->quarantine[pos];
	if (q->addr) {
		const uint64_t *old = rco_map_get(&r->qmap, q->addr);
		if (old && *old == pos)
			rco_map_del(&r->qmap, q->addr);
	}
	/* Drop the entry of an earlier free of the same address first, so
	 * that the map and the ring agree. */
	q_forget(r, addr);
	if (rco_map_put(&r->qmap, addr, pos)) {
		r->oom = 1;
		q->addr = 0;
		return;
	}
	*q = (struct rco_qent){ .addr = addr, .type = type, .at = *at };
}

/* ---- the pool ------------------------------------------------------------ */

static int find_live(const struct rcobj *r, uint64_t addr, uint32_t *idx)
{
	const uint64_t *v = rco_map_get(&r->live, addr);
	if (!v)
		return 0;
	*idx = (uint32_t)*v;
	return 1;
}

static int obj_alloc(struct rcobj *r, uint32_t *out)
{
	uint32_t idx;
	if (r->free_head != RCO_NIL) {
		idx = r->free_head;
		r->free_head = r->pool[idx].next;
	} else {
		if (r->npool == RCO_NIL)
			return -ENOMEM;
		if (r->npool == r->cappool) {
			uint32_t ncap = r->cappool ? r->cappool * 2 : 1024;
			if (ncap < r->cappool || ncap > RCO_NIL)
				ncap = RCO_NIL;
			struct rco_obj *p = realloc(r->pool, (size_t)ncap * sizeof(*p));
			if (!p)
				return -ENOMEM;
			/* the pool is read at random too (by index from the
			 * address table); the new tail is not touched yet */
			rcp_advise_huge(p, (size_t)ncap * sizeof(*p));
			r->pool = p;
			r->cappool = ncap;
		}
		idx = r->npool++;
		r->pool[idx].tag = 0;
	}
	struct rco_obj *o = &r->pool[idx];
	uint32_t tag = o->tag;
	memset(o, 0, sizeof(*o));
	o->tag = tag;
	o->prev = o->next = RCO_NIL;
	*out = idx;
	return 0;
}

static struct rco_pending *pending_of(struct rcobj *r, uint32_t tid, int create)
{
	uint64_t *v = rco_map_get(&r->pend_by_tid, tid);
	if (v)
		return &r->pend[*v];
	if (!create)
		return NULL;
	if (r->npend == r->cappend) {
		size_t ncap = r->cappend ? r->cappend * 2 : 8;
		struct rco_pending *p = realloc(r->pend, ncap * sizeof(*p));
		if (!p)
			return NULL;
		r->pend = p;
		r->cappend = ncap;
	}
	if (rco_map_put(&r->pend_by_tid, tid, r->npend))
		return NULL;
	struct rco_pending *p = &r->pend[r->npend++];
	memset(p, 0, sizeof(*p));
	return p;
}

/* Forget an object: its slots (edges from it), its history, its address.
 * Edges *to* it dangle and are recognised by the tag. */
static void obj_free(struct rcobj *r, uint32_t idx, const struct rcp_where *at,
		     int quarantine)
{
	struct rco_obj *o = &r->pool[idx];
	if (o->gen == RCO_GEN_FOUND)
		rco_gc_unmark_found(r, idx);
	rco_list_unlink(r, &r->lists[o->gen], idx);
	free(o->edges);
	o->edges = NULL;
	o->nedges = o->capedges = 0;
	if (o->susp)
		rco_susp_drop(r, idx);
	rco_map_del(&r->live, o->addr);
	if (quarantine)
		q_add(r, o->addr, o->type, at);
	o->tag++;
	o->gen = RCO_GEN_FREE;
	o->flags = 0;
	o->next = r->free_head;     /* addr stays: dangling-edge reports */
	r->free_head = idx;
	rco_gc_on_dealloc(r);
}

/* ---- events -------------------------------------------------------------- */

void rcobj_on_new(struct rcobj *r, uint64_t obj, uint64_t size, uint32_t type,
		  int64_t count, const struct rcp_where *w)
{
	if (!r || r->finished || !obj)
		return;
	struct rcp_where at = where_of(w);
	uint32_t idx;
	/* Still live at that address: its free was lost (LOST events). */
	if (find_live(r, obj, &idx))
		obj_free(r, idx, &at, 0);
	q_forget(r, obj);
	rco_gc_on_alloc(r, &at);
	if (obj_alloc(r, &idx)) {
		r->oom = 1;
		return;
	}
	struct rco_obj *o = &r->pool[idx];
	o->addr = obj;
	o->size = size;
	o->type = type;
	o->alloc_stack = at.stack;
	o->count = count == RCP_COUNT_UNKNOWN ? 1 : count;
	if (rco_map_put(&r->live, obj, idx)) {
		r->oom = 1;
		o->gen = RCO_GEN_FREE;
		o->next = r->free_head;
		r->free_head = idx;
		return;
	}
	o->gen = 0;
	rco_list_append(r, &r->lists[0], idx);
	r->created++;
	if (r->suspect_types.n && rco_map_get(&r->suspect_types, type))
		rco_susp_on_new(r, idx, at.stack);
	if (r->ndefer)
		rco_defer_on_new(r, obj, &at);
}

void rcobj_on_retain(struct rcobj *r, uint64_t obj, int64_t count_after,
		     const struct rcp_where *w)
{
	if (!r || r->finished)
		return;
	struct rcp_where at = where_of(w);
	uint32_t idx;
	if (!find_live(r, obj, &idx)) {
		rco_not_live(r, RCO_OP_RETAIN, obj, count_after, &at);
		return;
	}
	if (r->pool[idx].gen == RCO_GEN_FOUND)
		rco_gc_unmark_found(r, idx);
	struct rco_obj *o = &r->pool[idx];
	o->count = count_after != RCP_COUNT_UNKNOWN && r->counts_recorded ?
		   count_after : o->count + 1;
	if (o->susp)
		rco_susp_on_retain(r, idx, at.stack);
}

/* A release with a backtrace dropped object idx's count to 0: kept until
 * the free (the oldest goes when destructors nest too deep). */
static void zero_push(struct rcobj *r, uint32_t idx, const struct rcp_where *at)
{
	struct rco_pending *p = pending_of(r, at->tid, 1);
	if (!p)
		return;
	if (p->nzero == RCO_ZERO_NEST) {
		memmove(p->zero, p->zero + 1, sizeof(p->zero[0]) * (RCO_ZERO_NEST - 1));
		p->nzero--;
	}
	p->zero[p->nzero++] = (struct rco_zero){ .idx = idx,
						 .tag = r->pool[idx].tag,
						 .at = *at };
}

/* The free of obj at *at: when the free has no backtrace of its own (an
 * RC_FREE never has one), the thread's release that dropped the count to
 * 0, if it kept a backtrace: the call that freed the object. */
static struct rcp_where freed_where(struct rcobj *r, uint32_t idx,
				    const struct rcp_where *at)
{
	struct rco_pending *p = pending_of(r, at->tid, 0);
	if (!p)
		return *at;
	for (uint32_t i = p->nzero; i-- > 0;) {
		if (p->zero[i].idx != idx || p->zero[i].tag != r->pool[idx].tag)
			continue;
		struct rcp_where w = at->stack ? *at : p->zero[i].at;
		memmove(p->zero + i, p->zero + i + 1,
			sizeof(p->zero[0]) * (p->nzero - i - 1));
		p->nzero--;
		return w;
	}
	return *at;
}

void rcobj_on_release(struct rcobj *r, uint64_t obj, int64_t count_after,
		      const struct rcp_where *w)
{
	if (!r || r->finished)
		return;
	struct rcp_where at = where_of(w);
	struct rco_pending *p = pending_of(r, at.tid, 0);
	uint32_t idx;
	if (!find_live(r, obj, &idx)) {
		rco_not_live(r, RCO_OP_RELEASE, obj, count_after, &at);
		if (p)
			p->valid = 0;
		return;
	}
	if (r->pool[idx].gen == RCO_GEN_FOUND)
		rco_gc_unmark_found(r, idx);
	struct rco_obj *o = &r->pool[idx];
	/* What the program saw decides about this release (misuse, a drop
	 * that may orphan a cycle); the replayed count is the one kept (see
	 * the top of the file). */
	int64_t after = count_after != RCP_COUNT_UNKNOWN ? count_after
							 : o->count - 1;
	if (after < 0)
		add_error(r, RCP_ERR_NEGATIVE_COUNT, obj, o->type, &at, NULL);
	o->count = r->counts_recorded ? after : o->count - 1;
	/* rc_set reported the slot overwrite just before this release, on
	 * this thread: the reference dropped is that slot's. */
	int paired = p && p->valid && p->target == idx && p->target_tag == o->tag;
	if (after > 0) {
		o->flags |= RCO_F_DROP;
		if (paired) {
			o->flags |= RCO_F_DROP_EDGE;
			o->drop = (struct rco_drop){ .at = p->at, .owner = p->owner,
						     .owner_tag = p->owner_tag };
		} else {
			o->flags &= (uint8_t)~RCO_F_DROP_EDGE;
			o->drop = (struct rco_drop){ .at = at, .owner = RCO_NIL };
		}
	}
	if (paired)
		p->valid = 0;
	if (after == 0 && at.stack)
		zero_push(r, idx, &at);
	if (o->susp)
		rco_susp_on_release(r, idx);
}

void rcobj_on_free(struct rcobj *r, uint64_t obj, const struct rcp_where *w)
{
	if (!r || r->finished)
		return;
	struct rcp_where at = where_of(w);
	uint32_t idx;
	if (!find_live(r, obj, &idx)) {
		rco_not_live(r, RCO_OP_FREE, obj, 0, &at);
		return;
	}
	struct rcp_where freed = freed_where(r, idx, &at);
	obj_free(r, idx, &freed, 1);
}

void rcobj_set_unsure_from(struct rcobj *r, uint64_t ts)
{
	if (r && ts < r->unsure_from)
		r->unsure_from = ts;
}

void rcobj_on_lost(struct rcobj *r)
{
	if (r)
		r->counts_recorded = 1;
}

/* Drop foreign slots whose target was freed (their owner may be long
 * gone: plain frees are not rcobj's events). */
static void foreign_sweep(struct rcobj *r)
{
	size_t n = 0;
	uint64_t *dead = malloc(r->foreign.n * sizeof(*dead) + 1);
	if (!dead)
		return;
	for (size_t i = 0; i < r->foreign.cap; i++) {
		const struct rco_map_cell *c = &r->foreign.cells[i];
		if (!c->key)
			continue;
		struct rco_edge e = { .target = (uint32_t)c->val,
				      .tag = (uint32_t)(c->val >> 32) };
		if (!rco_edge_valid(r, &e))
			dead[n++] = c->key;
	}
	for (size_t i = 0; i < n; i++)
		rco_map_del(&r->foreign, dead[i]);
	free(dead);
}

/* The slots of untracked owners are not edges of the graph, but knowing
 * what they held lets the release that follows a clear be recognised as
 * "rc_set(&global->x, NULL)" - a frequent culprit. */
static void foreign_slot(struct rcobj *r, uint64_t slot, uint32_t ti,
			 const struct rcp_where *at, struct rco_pending *p)
{
	uint64_t *v = rco_map_get(&r->foreign, slot);
	if (v) {
		struct rco_edge e = { .target = (uint32_t)*v,
				      .tag = (uint32_t)(*v >> 32) };
		if (p && rco_edge_valid(r, &e))
			*p = (struct rco_pending){ .target = e.target,
						   .target_tag = e.tag,
						   .owner = RCO_NIL, .at = *at,
						   .valid = 1 };
	}
	if (ti == RCO_NIL) {
		if (v)
			rco_map_del(&r->foreign, slot);
		return;
	}
	if (!v && r->foreign.n >= RCO_MAX_FOREIGN) {
		foreign_sweep(r);
		if (r->foreign.n >= RCO_MAX_FOREIGN)
			return;         /* only the culprit's flavour suffers */
	}
	if (rco_map_put(&r->foreign, slot,
			ti | (uint64_t)r->pool[ti].tag << 32))
		r->oom = 1;
}

void rcobj_on_edge(struct rcobj *r, uint64_t owner, int64_t slot_off,
		   uint64_t target, const struct rcp_where *w)
{
	if (!r || r->finished)
		return;
	struct rcp_where at = where_of(w);
	struct rco_pending *p = pending_of(r, at.tid, 1);
	if (!p)
		r->oom = 1;
	else
		p->valid = 0;
	uint32_t oi, ti = RCO_NIL;
	if (target && !find_live(r, target, &ti)) {
		const struct rco_qent *q = rco_q_lookup(r, target);
		if (q)
			add_error(r, RCP_ERR_EDGE_FREED, target, q->type, &at, q);
		ti = RCO_NIL;   /* not an edge of the graph */
	}
	/* The program touched it: a found object was not garbage after all
	 * (impossible unless references were undeclared - be robust). */
	if (ti != RCO_NIL && r->pool[ti].gen == RCO_GEN_FOUND)
		rco_gc_unmark_found(r, ti);
	if (!find_live(r, owner, &oi)) {
		/* A slot of something that is not a tracked object (a static
		 * or plain heap struct): its references count as outside
		 * references, which they already are.  A freed one is misuse. */
		const struct rco_qent *q = rco_q_lookup(r, owner);
		if (q)
			add_error(r, RCP_ERR_EDGE_FREED, owner, q->type, &at, q);
		else
			foreign_slot(r, owner + (uint64_t)slot_off, ti, &at, p);
		return;
	}
	if (r->pool[oi].gen == RCO_GEN_FOUND)
		rco_gc_unmark_found(r, oi);

	struct rco_obj *o = &r->pool[oi];
	struct rco_edge *e = rco_slot_find(o, slot_off);
	if (e && rco_edge_valid(r, e)) {
		if (p)
			*p = (struct rco_pending){ .target = e->target,
						   .target_tag = e->tag,
						   .owner = oi, .owner_tag = o->tag,
						   .at = at, .valid = 1 };
	} else if (e) {
		/* The slot still names an object freed meanwhile: the program
		 * now drops a reference to freed memory. */
		const struct rco_obj *dead = &r->pool[e->target];
		if (dead->gen == RCO_GEN_FREE) {
			const struct rco_qent *q = rco_q_lookup(r, dead->addr);
			add_error(r, RCP_ERR_EDGE_FREED, dead->addr,
				  q ? q->type : dead->type, &at, q);
		}
	}
	if (ti == RCO_NIL)
		rco_slot_clear(o, slot_off);
	else if (rco_slot_set(o, slot_off, ti, r->pool[ti].tag))
		r->oom = 1;
}

void rcobj_on_suspect(struct rcobj *r, uint32_t type)
{
	if (!r || r->finished)
		return;
	if (rco_map_put(&r->suspect_types, type, 1))
		r->oom = 1;
}

void rcobj_on_snapshot(struct rcobj *r, uint32_t label, const struct rcp_where *w)
{
	/* Snapshots are labels for the report side; the collector has no
	 * use for them. */
	(void)r;
	(void)label;
	(void)w;
}

void rcobj_prefetch(const struct rcobj *r, uint64_t obj, int quarantine)
{
	rco_map_prefetch(&r->live, obj);
	if (quarantine)
		rco_map_prefetch(&r->qmap, obj);
}

void rcobj_prefetch_obj(const struct rcobj *r, uint64_t obj)
{
	uint32_t idx;
	if (!find_live(r, obj, &idx))
		return;
	/* count, gen, flags and drop are spread over the whole entry, which
	 * straddles two or three cache lines: touch its first, middle and
	 * last byte (a repeated line costs next to nothing) */
	const char *o = (const char *)&r->pool[idx];
	__builtin_prefetch(o, 1);
	__builtin_prefetch(o + sizeof(struct rco_obj) / 2, 1);
	__builtin_prefetch(o + sizeof(struct rco_obj) - 1, 1);
}

int rcobj_is_live(const struct rcobj *r, uint64_t obj)
{
	uint32_t idx;
	return r && find_live(r, obj, &idx);
}
