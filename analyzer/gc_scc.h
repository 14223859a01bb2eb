/* gc_scc.h - grouping the garbage of the final pass into cycles.
 *
 * The garbage subgraph (garbage objects, edges between them) is split into
 * strongly connected components; each component with an edge cycle (two
 * members or more, or a self edge) is a cycle.  Every other garbage object
 * (a trivial component) hangs off cycles: it is assigned to a group, the
 * "tail" of one cycle (see gc_scc.c for the rule and for the proof that
 * such an object always has a cycle upstream).
 *
 * Local ids: garbage objects are numbered 0..n-1 in the order of the
 * final pass; while grouping runs, pool[idx].gc_refs holds the local id
 * of a garbage object (RCO_F_GARBAGE says which objects have one).
 */
#ifndef RCPROF_GC_SCC_H
#define RCPROF_GC_SCC_H

#include <stddef.h>
#include <stdint.h>

#include "rcobj_int.h"

struct rco_groups {
	size_t n;               /* garbage objects */
	uint32_t *node;         /* local id -> pool index */
	/* The garbage subgraph as compact adjacency (CSR), built once so
	 * that the passes below don't chase pool entries: the edges of v
	 * are adj[adj_start[v] .. adj_start[v + 1]) (local target ids, in
	 * slot order) with their slot offsets in adj_off. */
	uint32_t *adj_start;
	uint32_t *adj;
	int64_t *adj_off;
	uint32_t *group;        /* local id -> group, numbered in topological
				   order of the cycles (upstream first) */
	uint8_t *cyclic;        /* local id -> member of a cycle SCC */
	size_t nscc;
	uint32_t *comp;         /* local id -> strongly connected component */
	uint32_t *topo;         /* local ids in topological order of their
				   components (upstream first; the members
				   of a component are contiguous) */
	size_t ngroups;
	uint32_t *start;        /* members of group g: order[start[g] ..
				   start[g + 1]) */
	uint32_t *order;        /* local ids by group */
};

/* The local id of an edge's target when it is a garbage object, else -1. */
static inline int64_t rco_garbage_target(const struct rcobj *r,
					 const struct rco_edge *e)
{
	const struct rco_obj *t = &r->pool[e->target];
	if (t->tag != e->tag || t->gen == RCO_GEN_FREE ||
	    !(t->flags & RCO_F_GARBAGE))
		return -1;
	return t->gc_refs;
}

int rco_scc_group(struct rcobj *r, const uint32_t *garbage, size_t n,
		  struct rco_groups *out);
void rco_groups_free(struct rco_groups *g);

/* gc_cycle.c: one struct rcobj_cycle per group, into r->res.cycles. */
int rco_cycles_from_groups(struct rcobj *r, const struct rco_groups *g);

#endif /* RCPROF_GC_SCC_H */
