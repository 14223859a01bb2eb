/* gc.c - CPython's cycle detection, replayed offline, and its generations.
 *
 * One pass over a set of objects (a "young" list: the generations being
 * collected, or everything in the final pass) names its garbage in three
 * steps, as CPython's Python/gc.c does:
 *
 *   update_refs       gc_refs = count (minus the edges of found garbage:
 *                     they are no outside references, see found_in).
 *   subtract_refs     for every edge between two objects of the set,
 *                     gc_refs(target) -= 1.  Now gc_refs counts the
 *                     references from outside the set: undeclared ones,
 *                     local variables, older generations.
 *   move_unreachable  objects with gc_refs != 0 are held from outside;
 *                     everything reachable from them through edges is
 *                     alive; what remains is garbage.
 *
 * Conservative by construction (no false positives):
 *   - an undeclared counted reference is never subtracted, so it holds its
 *     object like an outside reference: it can hide a cycle, not invent
 *     one;
 *   - gc_refs < 0 means more declared edges than counted references: the
 *     data is inconsistent (a stale edge, lost events), the true number of
 *     outside references is unknown, so the object counts as held;
 *   - count <= 0 (released to zero but not freed yet: a destructor running
 *     when the process died) also counts as held: it is dying, not leaked.
 *
 * Generations (CPython semantics): gen_count[0] = allocations minus
 * deallocations since the last gen0 collection; when it exceeds
 * threshold[0], the oldest generation g whose count exceeds its threshold
 * is collected together with the younger ones (merged into g); references
 * from older generations are outside references; survivors move to g + 1
 * (gen 2 stays); gen_count[g + 1] counts collections of g, gen_count[0..g]
 * restart at 0.  Found garbage is not freed (the program did not free it):
 * it moves to the found list, out of later collections, until the program
 * touches it again (rco_gc_unmark_found).
 */
#include <errno.h>
#include <stdlib.h>

#include "rcobj_int.h"

/* gc_refs of an object that is held no matter what is subtracted. */
#define RCO_HELD (INT64_MAX / 2)

/* ---- lists --------------------------------------------------------------- */

void rco_list_append(struct rcobj *r, struct rco_list *l, uint32_t idx)
{
	struct rco_obj *o = &r->pool[idx];
	o->prev = l->tail;
	o->next = RCO_NIL;
	if (l->tail != RCO_NIL)
		r->pool[l->tail].next = idx;
	else
		l->head = idx;
	l->tail = idx;
	l->n++;
}

void rco_list_unlink(struct rcobj *r, struct rco_list *l, uint32_t idx)
{
	struct rco_obj *o = &r->pool[idx];
	if (o->prev != RCO_NIL)
		r->pool[o->prev].next = o->next;
	else
		l->head = o->next;
	if (o->next != RCO_NIL)
		r->pool[o->next].prev = o->prev;
	else
		l->tail = o->prev;
	o->prev = o->next = RCO_NIL;
	l->n--;
}

void rco_list_splice(struct rcobj *r, struct rco_list *to, struct rco_list *from)
{
	if (from->head == RCO_NIL)
		return;
	if (to->tail != RCO_NIL) {
		r->pool[to->tail].next = from->head;
		r->pool[from->head].prev = to->tail;
	} else {
		to->head = from->head;
	}
	to->tail = from->tail;
	to->n += from->n;
	*from = (struct rco_list){ RCO_NIL, RCO_NIL, 0 };
}

/* ---- one pass ------------------------------------------------------------ */

struct pass {
	struct rco_list *young;
	uint8_t gen;            /* every object of the set has this gen */
	int use_found_in;       /* generational pass: found edges are internal */
};

/* gc_refs = count (- found_in); marks membership by gen. */
static void update_refs(struct rcobj *r, const struct pass *ps)
{
	for (uint32_t i = ps->young->head; i != RCO_NIL; i = r->pool[i].next) {
		struct rco_obj *o = &r->pool[i];
		o->gen = ps->gen;
		if (o->count <= 0)
			o->gc_refs = RCO_HELD;
		else
			o->gc_refs = o->count -
				     (ps->use_found_in ? (int64_t)o->found_in : 0);
	}
}

/* Subtract each edge between two members of the set from its target.
 * Invariant after: gc_refs = references from outside the set (if the
 * data is consistent; < 0 when it is not). */
static void subtract_refs(struct rcobj *r, const struct pass *ps)
{
	for (uint32_t i = ps->young->head; i != RCO_NIL; i = r->pool[i].next) {
		const struct rco_obj *o = &r->pool[i];
		for (uint32_t k = 0; k < o->nedges; k++) {
			const struct rco_edge *e = &o->edges[k];
			struct rco_obj *t = &r->pool[e->target];
			if (t->gen == ps->gen && t->tag == e->tag)
				t->gc_refs--;
		}
	}
}

/* CPython's move_unreachable.  Walk young in order; an object with
 * gc_refs != 0 is reachable: its referents in the set get gc_refs = 1 (if
 * 0), and those already moved to `unreachable` come back to the tail of
 * young, where the walk will reach them.  An object with gc_refs == 0 moves
 * (tentatively) to `unreachable`.
 * Invariant: when the walk ends, everything left in young is reachable from
 * an object held from outside, and nothing in `unreachable` is. */
static void move_unreachable(struct rcobj *r, const struct pass *ps,
			     struct rco_list *unreachable)
{
	uint32_t i = ps->young->head;
	while (i != RCO_NIL) {
		struct rco_obj *o = &r->pool[i];
		if (o->gc_refs == 0) {
			uint32_t next = o->next;
			rco_list_unlink(r, ps->young, i);
			rco_list_append(r, unreachable, i);
			o->flags |= RCO_F_UNREACH;
			i = next;
			continue;
		}
		for (uint32_t k = 0; k < o->nedges; k++) {
			const struct rco_edge *e = &o->edges[k];
			struct rco_obj *t = &r->pool[e->target];
			if (t->gen != ps->gen || t->tag != e->tag)
				continue;
			if (t->flags & RCO_F_UNREACH) {
				t->flags &= (uint8_t)~RCO_F_UNREACH;
				rco_list_unlink(r, unreachable, e->target);
				rco_list_append(r, ps->young, e->target);
				t->gc_refs = 1;
			} else if (t->gc_refs == 0) {
				t->gc_refs = 1;
			}
		}
		/* Read after the visit: it may have appended behind o. */
		i = r->pool[i].next;
	}
}

/* ---- found garbage ------------------------------------------------------- */

static int stk_reserve(struct rcobj *r, size_t n)
{
	if (n <= r->capstk)
		return 0;
	size_t ncap = r->capstk ? r->capstk : 64;
	while (ncap < n)
		ncap *= 2;
	uint32_t *s = realloc(r->stk, ncap * sizeof(*s));
	if (!s)
		return -ENOMEM;
	r->stk = s;
	r->capstk = ncap;
	return 0;
}

/* The program touched a found object: it was not garbage.  Neither is any
 * found object it reaches.  They go back to gen0 and their edges stop
 * counting in found_in. */
void rco_gc_unmark_found(struct rcobj *r, uint32_t idx)
{
	size_t n = 0;
	if (stk_reserve(r, 1)) {
		r->oom = 1;
		return;
	}
	r->stk[n++] = idx;
	while (n) {
		uint32_t x = r->stk[--n];
		struct rco_obj *o = &r->pool[x];
		if (o->gen != RCO_GEN_FOUND)
			continue;
		rco_list_unlink(r, &r->lists[RCO_GEN_FOUND], x);
		o->gen = 0;
		o->find = 0;
		rco_list_append(r, &r->lists[0], x);
		if (stk_reserve(r, n + o->nedges)) {
			r->oom = 1;     /* found_in stays too high: conservative */
			return;
		}
		for (uint32_t k = 0; k < o->nedges; k++) {
			const struct rco_edge *e = &o->edges[k];
			if (!rco_edge_valid(r, e))
				continue;
			struct rco_obj *t = &r->pool[e->target];
			if (t->found_in)
				t->found_in--;
			if (t->gen == RCO_GEN_FOUND)
				r->stk[n++] = e->target;
		}
	}
}

/* Move the garbage of a generational collection to the found list. */
static void mark_found(struct rcobj *r, struct rco_list *garbage, int gen,
		       const struct rcp_where *w)
{
	if (r->nfinds == r->capfinds) {
		size_t ncap = r->capfinds ? r->capfinds * 2 : 16;
		struct rco_find *f = realloc(r->finds, ncap * sizeof(*f));
		if (!f) {
			/* Can't record it: leave the objects in the young
			 * generation, the final pass will find them. */
			r->oom = 1;
			for (uint32_t i = garbage->head; i != RCO_NIL;
			     i = r->pool[i].next)
				r->pool[i].flags &= (uint8_t)~RCO_F_UNREACH;
			rco_list_splice(r, &r->lists[gen], garbage);
			return;
		}
		r->finds = f;
		r->capfinds = ncap;
	}
	r->finds[r->nfinds++] = (struct rco_find){
		.gen = gen, .collection = r->ncollections, .ts = w->ts };
	uint32_t find = (uint32_t)r->nfinds;
	for (uint32_t i = garbage->head; i != RCO_NIL; i = r->pool[i].next) {
		struct rco_obj *o = &r->pool[i];
		o->flags &= (uint8_t)~RCO_F_UNREACH;
		o->gen = RCO_GEN_FOUND;
		o->find = find;
		for (uint32_t k = 0; k < o->nedges; k++)
			if (rco_edge_valid(r, &o->edges[k]))
				r->pool[o->edges[k].target].found_in++;
	}
	rco_list_splice(r, &r->lists[RCO_GEN_FOUND], garbage);
}

/* Collect generation g (and the younger ones, merged into it). */
static void collect(struct rcobj *r, int g, const struct rcp_where *w)
{
	struct rco_list *young = &r->lists[g];
	for (int i = 0; i < g; i++)
		rco_list_splice(r, young, &r->lists[i]);
	struct pass ps = { .young = young, .gen = (uint8_t)g, .use_found_in = 1 };
	struct rco_list unreachable = { RCO_NIL, RCO_NIL, 0 };
	update_refs(r, &ps);
	subtract_refs(r, &ps);
	move_unreachable(r, &ps, &unreachable);

	r->ncollections++;
	uint64_t n = unreachable.n;
	if (n)
		mark_found(r, &unreachable, g, w);
	if (g < 2) {
		for (uint32_t i = young->head; i != RCO_NIL; i = r->pool[i].next)
			r->pool[i].gen = (uint8_t)(g + 1);
		rco_list_splice(r, &r->lists[g + 1], young);
		r->gen_count[g + 1]++;
	}
	for (int i = 0; i <= g; i++)
		r->gen_count[i] = 0;
	r->gstats[g].collections++;
	r->gstats[g].collected += n;
}

void rco_gc_on_alloc(struct rcobj *r, const struct rcp_where *w)
{
	r->gen_count[0]++;
	if (!r->cfg.thresholds[0] || r->gen_count[0] <= r->cfg.thresholds[0])
		return;
	/* The oldest generation over its threshold (gen0 is). */
	for (int g = 2; g >= 0; g--) {
		if (r->gen_count[g] > r->cfg.thresholds[g]) {
			collect(r, g, w);
			return;
		}
	}
}

void rco_gc_on_dealloc(struct rcobj *r)
{
	if (r->gen_count[0])
		r->gen_count[0]--;
}

/* The final, authoritative pass over every live object, found ones
 * included, with every edge counted (found_in is not used). */
int rco_gc_full(struct rcobj *r, uint32_t **out, size_t *nout)
{
	struct rco_list *all = &r->lists[2];
	rco_list_splice(r, all, &r->lists[0]);
	rco_list_splice(r, all, &r->lists[1]);
	/* Found objects keep obj.find (reported as found_gen) but join the
	 * pass like any other. */
	rco_list_splice(r, all, &r->lists[RCO_GEN_FOUND]);
	struct pass ps = { .young = all, .gen = 2, .use_found_in = 0 };
	struct rco_list unreachable = { RCO_NIL, RCO_NIL, 0 };
	update_refs(r, &ps);
	subtract_refs(r, &ps);
	move_unreachable(r, &ps, &unreachable);

	*out = NULL;
	*nout = 0;
	uint32_t *g = malloc((unreachable.n ? unreachable.n : 1) * sizeof(*g));
	if (!g) {
		rco_list_splice(r, all, &unreachable);
		return -ENOMEM;
	}
	for (uint32_t i = unreachable.head; i != RCO_NIL; i = r->pool[i].next) {
		struct rco_obj *o = &r->pool[i];
		o->flags = (uint8_t)((o->flags & ~RCO_F_UNREACH) | RCO_F_GARBAGE);
	}
	rco_list_splice(r, all, &unreachable);
	/* In pool order: it depends only on the order of allocations and
	 * frees, not on the generations (list order) nor on addresses, so
	 * the grouping is the same whatever the thresholds. */
	size_t n = 0;
	for (uint32_t i = 0; i < r->npool; i++)
		if (r->pool[i].gen != RCO_GEN_FREE &&
		    (r->pool[i].flags & RCO_F_GARBAGE))
			g[n++] = i;
	*out = g;
	*nout = n;
	return 0;
}
