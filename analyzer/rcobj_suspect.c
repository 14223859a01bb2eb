/* rcobj_suspect.c - suspect types: which call sites took references that
 * were never given back.
 *
 * For every object of a suspect type, retains are paired with releases
 * LIFO: a release matches the most recent unmatched retain of that object
 * (the creation counts as the first retain).  The pairing is done online:
 * the object keeps the stack ids of its unmatched retains as a stack, a
 * retain pushes, a release pops.  That is exactly the outcome of pairing
 * the full history at the end, in memory proportional to the references
 * an object holds rather than to its history.  A release with nothing to
 * pop (references taken before the type became suspect) matches nothing.
 *
 * At the end, the objects still alive (unreleased or garbage) report
 * their unmatched retains, aggregated by (type, stack).  Objects created
 * before their type was declared suspect have no history.
 */
#include <errno.h>
#include <stdlib.h>

#include "rcobj_int.h"

static int susp_push(struct rco_susp *s, uint32_t stack)
{
	if (s->n == s->cap) {
		uint32_t ncap = s->cap ? s->cap * 2 : 4;
		if (ncap < s->cap)
			return -ENOMEM;
		uint32_t *p = realloc(s->stacks, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->stacks = p;
		s->cap = ncap;
	}
	s->stacks[s->n++] = stack;
	return 0;
}

void rco_susp_on_new(struct rcobj *r, uint32_t idx, uint32_t stack)
{
	uint32_t slot;
	if (r->susp_free != RCO_NIL) {
		slot = r->susp_free;
		r->susp_free = r->susp[slot].next_free;
	} else {
		if (r->nsusp == r->capsusp) {
			uint32_t ncap = r->capsusp ? r->capsusp * 2 : 64;
			struct rco_susp *p = ncap > r->capsusp ?
				realloc(r->susp, ncap * sizeof(*p)) : NULL;
			if (!p) {
				r->oom = 1;
				return;
			}
			r->susp = p;
			r->capsusp = ncap;
		}
		slot = r->nsusp++;
	}
	r->susp[slot] = (struct rco_susp){ .next_free = RCO_NIL };
	r->pool[idx].susp = slot + 1;
	r->suspect_objects++;
	rco_susp_on_retain(r, idx, stack);
}

void rco_susp_on_retain(struct rcobj *r, uint32_t idx, uint32_t stack)
{
	r->suspect_events++;
	if (susp_push(&r->susp[r->pool[idx].susp - 1], stack))
		r->oom = 1;
}

void rco_susp_on_release(struct rcobj *r, uint32_t idx)
{
	struct rco_susp *s = &r->susp[r->pool[idx].susp - 1];
	r->suspect_events++;
	if (s->n)
		s->n--;
}

void rco_susp_drop(struct rcobj *r, uint32_t idx)
{
	uint32_t slot = r->pool[idx].susp - 1;
	free(r->susp[slot].stacks);
	r->susp[slot] = (struct rco_susp){ .next_free = r->susp_free };
	r->susp_free = slot;
	r->pool[idx].susp = 0;
}

void rco_susp_free_all(struct rcobj *r)
{
	for (uint32_t i = 0; i < r->nsusp; i++)
		free(r->susp[i].stacks);
	free(r->susp);
	r->susp = NULL;
	r->nsusp = r->capsusp = 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static int cmp_site(const void *a, const void *b)
{
	const struct rcobj_suspect_site *x = a, *y = b;
	if (x->unmatched != y->unmatched)
		return x->unmatched > y->unmatched ? -1 : 1;
	if (x->objects != y->objects)
		return x->objects > y->objects ? -1 : 1;
	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return (x->stack > y->stack) - (x->stack < y->stack);
}

/* Fill res.suspect_sites from the live suspect objects. */
int rco_susp_report(struct rcobj *r)
{
	struct rco_map at = {0};        /* (type, stack) -> site index */
	struct rcobj_suspect_site *sites = NULL;
	size_t n = 0, cap = 0;
	int err = 0;
	for (uint32_t i = 0; i < r->npool && !err; i++) {
		struct rco_obj *o = &r->pool[i];
		if (o->gen == RCO_GEN_FREE || !o->susp)
			continue;
		struct rco_susp *s = &r->susp[o->susp - 1];
		/* Sorted, so equal stacks are adjacent: count the object once
		 * per site. */
		qsort(s->stacks, s->n, sizeof(s->stacks[0]), cmp_u32);
		for (uint32_t k = 0; k < s->n; k++) {
			uint64_t key = (uint64_t)o->type << 32 | s->stacks[k];
			uint64_t *v = rco_map_get(&at, key);
			if (!v) {
				if (n == cap) {
					size_t ncap = cap ? cap * 2 : 16;
					void *p = realloc(sites, ncap * sizeof(*sites));
					if (!p) {
						err = -ENOMEM;
						break;
					}
					sites = p;
					cap = ncap;
				}
				if ((err = rco_map_put(&at, key, n)))
					break;
				sites[n] = (struct rcobj_suspect_site){
					.type = o->type, .stack = s->stacks[k] };
				v = rco_map_get(&at, key);
				n++;
			}
			struct rcobj_suspect_site *site = &sites[*v];
			site->unmatched++;
			if (k == 0 || s->stacks[k - 1] != s->stacks[k])
				site->objects++;
		}
	}
	rco_map_free(&at);
	if (err) {
		free(sites);
		return err;
	}
	if (n)
		qsort(sites, n, sizeof(*sites), cmp_site);
	r->res.suspect_sites = sites;
	r->res.nsuspect_sites = n;
	return 0;
}
