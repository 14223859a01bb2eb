/* rcobj_edges.c - the slots of an object: its declared edges.
 *
 * Each object keeps its edges in one array sorted by slot offset, at most
 * one edge per slot.  Why a sorted array rather than a hash per object:
 * most objects have a handful of slots, where a binary search over a
 * contiguous array beats any hash; the order is by slot, so traversals see
 * edges in a layout order that does not depend on addresses (the cycle
 * signature relies on that); and objects filled slot by slot in address
 * order (arrays, structs) append at the end in O(1).
 *
 * Dangling edges (to a freed target, see `tag` in rcobj_int.h) stay in the
 * array until their slot is overwritten or cleared or the owner is freed;
 * every reader checks rco_edge_valid().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rcobj_int.h"

/* Index of the first edge whose slot_off >= off. */
static uint32_t lower_bound(const struct rco_obj *o, int64_t off)
{
	uint32_t lo = 0, hi = o->nedges;
	/* Fast path: appending past the last slot. */
	if (hi && o->edges[hi - 1].slot_off < off)
		return hi;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (o->edges[mid].slot_off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct rco_edge *rco_slot_find(struct rco_obj *o, int64_t slot_off)
{
	uint32_t i = lower_bound(o, slot_off);
	if (i < o->nedges && o->edges[i].slot_off == slot_off)
		return &o->edges[i];
	return NULL;
}

int rco_slot_set(struct rco_obj *o, int64_t slot_off, uint32_t target,
		 uint32_t tag)
{
	uint32_t i = lower_bound(o, slot_off);
	if (i < o->nedges && o->edges[i].slot_off == slot_off) {
		o->edges[i].target = target;
		o->edges[i].tag = tag;
		return 0;
	}
	if (o->nedges == o->capedges) {
		uint32_t ncap = o->capedges ? o->capedges * 2 : 2;
		if (ncap < o->capedges)
			return -ENOMEM;
		struct rco_edge *e = realloc(o->edges, ncap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		o->edges = e;
		o->capedges = ncap;
	}
	memmove(&o->edges[i + 1], &o->edges[i],
		(o->nedges - i) * sizeof(o->edges[0]));
	o->edges[i] = (struct rco_edge){ .slot_off = slot_off, .target = target,
					 .tag = tag };
	o->nedges++;
	return 0;
}

void rco_slot_clear(struct rco_obj *o, int64_t slot_off)
{
	uint32_t i = lower_bound(o, slot_off);
	if (i >= o->nedges || o->edges[i].slot_off != slot_off)
		return;
	memmove(&o->edges[i], &o->edges[i + 1],
		(o->nedges - i - 1) * sizeof(o->edges[0]));
	o->nedges--;
	/* Give memory back when a big object empties (memory follows live
	 * edges, not history). */
	if (o->nedges == 0) {
		free(o->edges);
		o->edges = NULL;
		o->capedges = 0;
	}
}
