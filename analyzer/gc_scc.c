/* gc_scc.c - strongly connected components of the garbage (Tarjan,
 * iterative: a garbage graph of a million objects must not recurse a
 * million deep) and the assignment of every garbage object to a cycle.
 *
 * Why every garbage object belongs to some cycle
 *   Garbage means gc_refs == 0 after the final pass with count >= 1 (count
 *   <= 0 counts as held), so count = number of declared edges into it from
 *   live objects >= 1: it has an incoming edge.  The owner of that edge is
 *   garbage too (were it reachable from a held object, so would be its
 *   target).  Following incoming edges backwards from a garbage object
 *   therefore never stops, and in a finite graph it must revisit an
 *   object: the walk has entered an edge cycle made of garbage objects.
 *   Hence every garbage object is reachable from a garbage SCC that has an
 *   edge cycle.  In topological order of the SCCs, a trivial SCC always
 *   has a garbage predecessor that comes earlier, which (by induction) has
 *   been assigned already - so the propagation below assigns everyone.
 *
 * Which cycle owns an object in no cycle (in_cycle = 0)
 *   Cycles are numbered in topological order of their SCCs (upstream
 *   first).  A trivial object takes the smallest group number among its
 *   garbage predecessors' groups: it belongs to the cycle it hangs from,
 *   through other tail objects only; when it hangs from several, to the
 *   most upstream one (the first in topological order).  A ring R1 that
 *   points into a ring R2 gives two cycles; R2 and its own tail stay R2's,
 *   and R2's culprit accounts for R1 holding it (gc_cycle.c).  Among
 *   cycles not ordered by reachability, the topological order follows the
 *   final pass order (creation order), not addresses.
 */
#include <errno.h>
#include <stdlib.h>

#include "gc_scc.h"

#define UNSET UINT32_MAX

void rco_groups_free(struct rco_groups *g)
{
	free(g->node);
	free(g->adj_start);
	free(g->adj);
	free(g->adj_off);
	free(g->comp);
	free(g->topo);
	free(g->group);
	free(g->cyclic);
	free(g->start);
	free(g->order);
	*g = (struct rco_groups){0};
}

/* The garbage subgraph as CSR: one pass over the pool. */
static int build_csr(struct rcobj *r, struct rco_groups *g)
{
	size_t ne = 0;
	g->adj_start = malloc((g->n + 1) * sizeof(*g->adj_start));
	if (!g->adj_start)
		return -ENOMEM;
	for (size_t v = 0; v < g->n; v++) {
		const struct rco_obj *o = &r->pool[g->node[v]];
		for (uint32_t k = 0; k < o->nedges; k++)
			ne += rco_garbage_target(r, &o->edges[k]) >= 0;
	}
	if (ne >= UINT32_MAX)
		return -ENOMEM;
	g->adj = malloc((ne ? ne : 1) * sizeof(*g->adj));
	g->adj_off = malloc((ne ? ne : 1) * sizeof(*g->adj_off));
	if (!g->adj || !g->adj_off)
		return -ENOMEM;
	ne = 0;
	for (size_t v = 0; v < g->n; v++) {
		const struct rco_obj *o = &r->pool[g->node[v]];
		g->adj_start[v] = (uint32_t)ne;
		for (uint32_t k = 0; k < o->nedges; k++) {
			int64_t w = rco_garbage_target(r, &o->edges[k]);
			if (w < 0)
				continue;
			g->adj[ne] = (uint32_t)w;
			g->adj_off[ne] = o->edges[k].slot_off;
			ne++;
		}
	}
	g->adj_start[g->n] = (uint32_t)ne;
	return 0;
}

struct frame {
	uint32_t v;
	uint32_t k;             /* next edge of v to look at (in adj) */
};

/* Tarjan: comp[v] = component id, emitted sinks first (reverse
 * topological order).  Returns the number of components. */
static size_t tarjan(const struct rco_groups *g,
		     uint32_t *comp, uint32_t *index, uint32_t *low,
		     uint32_t *stack, struct frame *calls, uint8_t *onstk)
{
	uint32_t counter = 0, nscc = 0;
	size_t sp = 0, cp = 0;
	for (size_t s = 0; s < g->n; s++)
		index[s] = UNSET;
	for (size_t s = 0; s < g->n; s++) {
		if (index[s] != UNSET)
			continue;
		index[s] = low[s] = counter++;
		stack[sp++] = (uint32_t)s;
		onstk[s] = 1;
		calls[cp++] = (struct frame){ (uint32_t)s, g->adj_start[s] };
		while (cp) {
			struct frame *f = &calls[cp - 1];
			uint32_t v = f->v;
			uint32_t end = g->adj_start[v + 1];
			int descended = 0;
			while (f->k < end) {
				uint32_t w = g->adj[f->k++];
				if (index[w] == UNSET) {
					index[w] = low[w] = counter++;
					stack[sp++] = (uint32_t)w;
					onstk[w] = 1;
					calls[cp++] = (struct frame){ w, g->adj_start[w] };
					descended = 1;
					break;
				}
				if (onstk[w] && index[w] < low[v])
					low[v] = index[w];
			}
			if (descended)
				continue;
			if (low[v] == index[v]) {
				uint32_t x;
				do {
					x = stack[--sp];
					onstk[x] = 0;
					comp[x] = nscc;
				} while (x != v);
				nscc++;
			}
			cp--;
			if (cp) {
				uint32_t u = calls[cp - 1].v;
				if (low[v] < low[u])
					low[u] = low[v];
			}
		}
	}
	return nscc;
}

int rco_scc_group(struct rcobj *r, const uint32_t *garbage, size_t n,
		  struct rco_groups *g)
{
	int err = -ENOMEM;
	*g = (struct rco_groups){ .n = n };
	size_t cnt = n ? n : 1;
	uint32_t *comp = g->comp = malloc(cnt * sizeof(*comp));
	uint32_t *index = malloc(cnt * sizeof(*index));
	uint32_t *low = malloc(cnt * sizeof(*low));
	uint32_t *stack = malloc(cnt * sizeof(*stack));
	uint32_t *topo = g->topo = malloc(cnt * sizeof(*topo));
	struct frame *calls = malloc(cnt * sizeof(*calls));
	uint8_t *onstk = calloc(cnt, 1);
	g->node = malloc(cnt * sizeof(*g->node));
	g->group = malloc(cnt * sizeof(*g->group));
	g->cyclic = calloc(cnt, 1);
	g->order = malloc(cnt * sizeof(*g->order));
	if (!comp || !index || !low || !stack || !topo || !calls || !onstk || !g->node ||
	    !g->group || !g->cyclic || !g->order)
		goto out;

	for (size_t i = 0; i < n; i++) {
		g->node[i] = garbage[i];
		r->pool[garbage[i]].gc_refs = (int64_t)i;
	}
	if ((err = build_csr(r, g)))
		goto out;
	err = -ENOMEM;
	size_t nscc = tarjan(g, comp, index, low, stack, calls, onstk);
	g->nscc = nscc;

	/* Cyclic components: size >= 2, or one member with a self edge.
	 * `index` is reused as the component sizes, then as the cycle id of
	 * each component. */
	for (size_t c = 0; c < nscc; c++)
		index[c] = 0;
	for (size_t v = 0; v < n; v++)
		index[comp[v]]++;
	for (size_t v = 0; v < n; v++) {
		if (index[comp[v]] >= 2) {
			g->cyclic[v] = 1;
			continue;
		}
		for (uint32_t e = g->adj_start[v]; e < g->adj_start[v + 1]; e++)
			if (g->adj[e] == v)
				g->cyclic[v] = 1;
	}

	/* Objects in topological order of their components: Tarjan emits
	 * sinks first, so by decreasing component id (a counting sort;
	 * `low` becomes the bucket starts). */
	for (size_t c = 0; c < nscc; c++)
		low[c] = 0;
	for (size_t v = 0; v < n; v++)
		low[nscc - 1 - comp[v]]++;
	uint32_t sum = 0;
	for (size_t c = 0; c < nscc; c++) {
		uint32_t k = low[c];
		low[c] = sum;
		sum += k;
	}
	for (size_t v = 0; v < n; v++)
		topo[low[nscc - 1 - comp[v]]++] = (uint32_t)v;

	/* Assign groups in that order (see the header comment). */
	for (size_t c = 0; c < nscc; c++)
		index[c] = UNSET;
	for (size_t v = 0; v < n; v++)
		g->group[v] = UNSET;
	uint32_t ngroups = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t v = topo[i];
		if (g->cyclic[v]) {
			if (index[comp[v]] == UNSET)
				index[comp[v]] = ngroups++;
			g->group[v] = index[comp[v]];
		} else if (g->group[v] == UNSET) {
			/* Impossible by the proof above; a group of its own
			 * keeps the accounting whole if the proof were wrong. */
			g->group[v] = ngroups++;
		}
		for (uint32_t e = g->adj_start[v]; e < g->adj_start[v + 1]; e++) {
			uint32_t w = g->adj[e];
			if (!g->cyclic[w] && g->group[v] < g->group[w])
				g->group[w] = g->group[v];
		}
	}

	/* Bucket the members by group, keeping topological order inside. */
	g->ngroups = ngroups;
	g->start = calloc((size_t)ngroups + 1, sizeof(*g->start));
	if (!g->start)
		goto out;
	for (size_t v = 0; v < n; v++)
		g->start[g->group[v] + 1]++;
	for (size_t k = 0; k < ngroups; k++)
		g->start[k + 1] += g->start[k];
	for (size_t k = 0; k < ngroups; k++)
		low[k] = g->start[k];
	for (size_t i = 0; i < n; i++) {
		uint32_t v = topo[i];
		g->order[low[g->group[v]]++] = v;
	}
	err = 0;
out:
	free(index);
	free(low);
	free(stack);
	free(calls);
	free(onstk);
	if (err)
		rco_groups_free(g);
	return err;
}
