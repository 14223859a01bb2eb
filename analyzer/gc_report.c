/* gc_report.c - rcobj_finish: the final full pass and the results.
 *
 *   1. rco_gc_full: CPython's pass over every live object; its garbage is
 *      the authoritative answer (the generational collections only say
 *      *when* a cycle would have been found).
 *   2. gc_scc.c groups the garbage into cycles, gc_cycle.c fills them.
 *   3. Live objects that are not garbage are unreleased, grouped by (type,
 *      allocation stack), most objects first.
 *   4. Suspect sites (rcobj_suspect.c), errors, generation statistics.
 * The final pass is not counted in the generation statistics.
 */
#include <errno.h>
#include <stdlib.h>

#include "gc_scc.h"

/* Hashes come from cfg.hasher (symbolized, stable across runs); without a
 * hasher the ids themselves are mixed, which is only stable within one
 * dump.  Memoized: the hasher may symbolize. */
uint64_t rco_type_hash(struct rcobj *r, uint32_t type)
{
	uint64_t *v = rco_map_get(&r->type_hash_memo, type);
	if (v)
		return *v;
	uint64_t h = r->cfg.hasher.string_hash ?
		     r->cfg.hasher.string_hash(r->cfg.hasher.ud, type) :
		     rco_mix64((uint64_t)type + 0x51ed27ull);
	if (rco_map_put(&r->type_hash_memo, type, h))
		r->oom = 1;
	return h;
}

uint64_t rco_stack_hash(struct rcobj *r, uint32_t stack)
{
	uint64_t *v = rco_map_get(&r->stack_hash_memo, stack);
	if (v)
		return *v;
	uint64_t h = r->cfg.hasher.stack_hash ?
		     r->cfg.hasher.stack_hash(r->cfg.hasher.ud, stack) :
		     rco_mix64((uint64_t)stack + 0x57ac4ull);
	if (rco_map_put(&r->stack_hash_memo, stack, h))
		r->oom = 1;
	return h;
}

static int cmp_unreleased(const void *a, const void *b)
{
	const struct rcobj_unreleased *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return (x->alloc_stack > y->alloc_stack) - (x->alloc_stack < y->alloc_stack);
}

static int unreleased(struct rcobj *r)
{
	struct rco_map at = {0};        /* (type, stack) -> index */
	struct rcobj_unreleased *u = NULL;
	size_t n = 0, cap = 0;
	uint64_t total = 0;
	int err = 0;
	for (uint32_t i = 0; i < r->npool; i++) {
		const struct rco_obj *o = &r->pool[i];
		if (o->gen == RCO_GEN_FREE || (o->flags & RCO_F_GARBAGE))
			continue;
		total++;
		uint64_t key = (uint64_t)o->type << 32 | o->alloc_stack;
		uint64_t *v = rco_map_get(&at, key);
		if (!v) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				void *p = realloc(u, ncap * sizeof(*u));
				if (!p) {
					err = -ENOMEM;
					break;
				}
				u = p;
				cap = ncap;
			}
			if ((err = rco_map_put(&at, key, n)))
				break;
			u[n] = (struct rcobj_unreleased){
				.type = o->type, .alloc_stack = o->alloc_stack,
				.example_addr = o->addr };
			v = rco_map_get(&at, key);
			n++;
		}
		u[*v].count++;
		u[*v].bytes += o->size;
	}
	rco_map_free(&at);
	if (err) {
		free(u);
		return err;
	}
	if (n)
		qsort(u, n, sizeof(*u), cmp_unreleased);
	r->res.unreleased = u;
	r->res.nunreleased = n;
	r->res.unreleased_objects = total;
	return 0;
}

const struct rcobj_results *rcobj_finish(struct rcobj *r)
{
	if (!r)
		return NULL;
	if (r->finished)
		return r->oom == 2 ? NULL : &r->res;
	r->finished = 1;
	rco_defer_finish(r);

	uint32_t *garbage = NULL;
	size_t ngarbage = 0;
	struct rco_groups g = {0};
	int err = rco_gc_full(r, &garbage, &ngarbage);
	if (!err)
		err = rco_scc_group(r, garbage, ngarbage, &g);
	if (!err)
		err = rco_cycles_from_groups(r, &g);
	rco_groups_free(&g);
	free(garbage);
	if (!err)
		err = unreleased(r);
	if (!err)
		err = rco_susp_report(r);
	if (err) {
		r->oom = 2;     /* no results */
		return NULL;
	}

	struct rcobj_results *res = &r->res;
	res->rc_objects = r->created;
	res->garbage_objects = ngarbage;
	res->live_at_end = r->live.n;
	res->nerrors = r->nerrors;
	res->errors = r->errors;
	for (int i = 0; i < 3; i++)
		res->gens[i] = r->gstats[i];
	res->collections = r->ncollections;
	res->suspect_objects = r->suspect_objects;
	res->suspect_events = r->suspect_events;
	res->errors_dropped = r->errors_dropped;
	res->errors_unsure = r->errors_unsure;
	res->reordered = r->reordered;
	res->incomplete = r->oom != 0;
	return res;
}
