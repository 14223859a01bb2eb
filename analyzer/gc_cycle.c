/* gc_cycle.c - from groups of garbage to reported cycles: canonical member
 * order, the signature, the culprit release, which collection found it.
 *
 * Canonical order and signature (never addresses, so the same leak gets
 * the same signature across runs, rebuilds and allocation orders)
 *   Each member starts with the colour hash(type hash, alloc site hash),
 *   both from cfg.hasher.  RCO_ROUNDS rounds of colour refinement
 *   (Weisfeiler-Lehman; 2 rounds above RCO_BIG_GROUP members, a cost
 *   bound that depends on the size only) then mix into each colour the
 *   multiset of its outgoing (slot offset, target colour) and incoming
 *   (slot offset, owner colour) edges inside the group - sums of hashes,
 *   so the order edges are met in does not matter.  Members are sorted by
 *   (type hash, site hash, colour, structural rank) where the rank is the
 *   visit order of a breadth-first walk along edges in slot order, started
 *   from the smallest cycle member by (type, site, colour): a ring of
 *   identical nodes comes out in ring order.  The signature hashes the
 *   member count, the (type, site, colour) sequence in that order, the
 *   number of internal edges and of cycle members.  Members with equal
 *   colours are interchangeable for the signature, so ties among them
 *   (broken by the walk's starting point) cannot change it.  Two
 *   different structures collide only where colour refinement cannot
 *   tell them apart (some regular graphs) - acceptable for matching
 *   leaks across runs.
 *
 * The culprit (the release that made the cycle garbage)
 *   For each object rcobj remembers its last release that left the count
 *   > 0 (its "drop"), and whether that release came with an rc_set()/
 *   note_edge() that overwrote or cleared a slot, of which owner.  In a
 *   history where the program only touches objects it can reach, every
 *   release of an object happens while it is alive, and what makes
 *   garbage is always a release (edges only ever add support; a slot
 *   clear is followed by the release of its old value).  So an object
 *   became garbage at the latest of its own last drop and of the moments
 *   its garbage predecessors became garbage (they held it until then).
 *   The members of a strongly connected component become garbage
 *   together; culprits() computes it per component in topological order.
 *   A group (cycle + tail) is garbage when all its members are: its
 *   culprit is the latest among its components.  Slot rewrites by an
 *   owner of the same component are left out: they move support around
 *   inside the component and cannot be what made it garbage (this only
 *   matters if the program rearranged objects that were already garbage,
 *   through undeclared pointers).  Only the last drop per object is
 *   needed.  Example: a = new; b = new; set(a.next, b); set(b.next, a);
 *   release(b) - b still held by a; release(a) - the culprit.  A ring R2
 *   held by a ring R1 gets R1's culprit if R1 went last.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gc_scc.h"

#define RCO_ROUNDS 4
#define RCO_BIG_GROUP 65536
#define UNSET UINT32_MAX

/* One member during canonicalisation. */
struct key {
	uint64_t th, sh;        /* type and site hashes */
	uint64_t col;           /* refined colour */
	uint32_t rank;          /* structural rank */
	uint32_t pos;           /* position in the group (topological) */
};

/* Scratch sized for the largest group, reused from group to group.  The
 * group's internal edges are copied once into a compact adjacency (CSR)
 * so the refinement rounds and the walk run over small arrays instead of
 * chasing the pool. */
struct scratch {
	const struct rco_groups *g;
	uint32_t *pos;          /* local id -> position in the current group */
	struct key *key;        /* by position, then sorted */
	uint64_t *col, *ncol, *insum;   /* by position */
	uint32_t *rank;         /* by position */
	uint32_t *queue;
	struct rcobj_member *mem;       /* by position */
	uint32_t *adj_start;    /* by position, m + 1 */
	uint32_t *adj_t;        /* internal edges: target position ... */
	int64_t *adj_off;       /* ... and slot offset */
	size_t capedges;
};

static void scratch_free(struct scratch *s)
{
	free(s->pos);
	free(s->key);
	free(s->col);
	free(s->ncol);
	free(s->insum);
	free(s->rank);
	free(s->queue);
	free(s->mem);
	free(s->adj_start);
	free(s->adj_t);
	free(s->adj_off);
}

static int scratch_alloc(struct scratch *s, size_t n)
{
	size_t c = n ? n : 1;
	s->pos = malloc(c * sizeof(*s->pos));
	s->key = malloc(c * sizeof(*s->key));
	s->col = malloc(c * sizeof(*s->col));
	s->ncol = malloc(c * sizeof(*s->ncol));
	s->insum = malloc(c * sizeof(*s->insum));
	s->rank = malloc(c * sizeof(*s->rank));
	s->queue = malloc(c * sizeof(*s->queue));
	s->mem = malloc(c * sizeof(*s->mem));
	s->adj_start = malloc((c + 1) * sizeof(*s->adj_start));
	if (!s->pos || !s->key || !s->col || !s->ncol || !s->insum ||
	    !s->rank || !s->queue || !s->mem || !s->adj_start)
		return -ENOMEM;
	return 0;
}

/* Copy the edges inside the group (mem[0..m)) into the scratch CSR,
 * with targets as positions in the group. */
static int build_adjacency(struct scratch *s, uint32_t gi, const uint32_t *mem,
			   size_t m)
{
	const struct rco_groups *g = s->g;
	size_t ne = 0;
	for (size_t j = 0; j < m; j++) {
		uint32_t v = mem[j];
		uint32_t deg = g->adj_start[v + 1] - g->adj_start[v];
		s->adj_start[j] = (uint32_t)ne;
		if (ne + deg > s->capedges) {
			size_t ncap = s->capedges ? s->capedges : 256;
			while (ncap < ne + deg)
				ncap *= 2;
			uint32_t *t = realloc(s->adj_t, ncap * sizeof(*t));
			if (!t)
				return -ENOMEM;
			s->adj_t = t;
			int64_t *off = realloc(s->adj_off, ncap * sizeof(*off));
			if (!off)
				return -ENOMEM;
			s->adj_off = off;
			s->capedges = ncap;
		}
		for (uint32_t e = g->adj_start[v]; e < g->adj_start[v + 1]; e++) {
			uint32_t w = g->adj[e];
			if (g->group[w] != gi)
				continue;
			s->adj_t[ne] = s->pos[w];
			s->adj_off[ne] = g->adj_off[e];
			ne++;
		}
	}
	s->adj_start[m] = (uint32_t)ne;
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	if (x->th != y->th)
		return x->th < y->th ? -1 : 1;
	if (x->sh != y->sh)
		return x->sh < y->sh ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return (x->rank > y->rank) - (x->rank < y->rank);
}

static void refine(struct scratch *s, size_t m)
{
	/* Fewer rounds for huge groups (a cost bound; the rule depends on
	 * the size only, so equal structures still get equal colours). */
	int rounds = m > RCO_BIG_GROUP ? 2 : RCO_ROUNDS;
	for (int round = 0; round < rounds; round++) {
		memset(s->insum, 0, m * sizeof(s->insum[0]));
		for (size_t j = 0; j < m; j++) {
			uint64_t out = 0;
			for (uint32_t e = s->adj_start[j]; e < s->adj_start[j + 1]; e++) {
				uint64_t off = (uint64_t)s->adj_off[e];
				uint32_t t = s->adj_t[e];
				out += rco_hash2(off, s->col[t]);
				s->insum[t] += rco_hash2(~off, s->col[j]);
			}
			s->ncol[j] = out;
		}
		for (size_t j = 0; j < m; j++)
			s->ncol[j] = rco_hash2(rco_hash2(s->col[j], s->ncol[j]),
					       s->insum[j]);
		uint64_t *t = s->col;
		s->col = s->ncol;
		s->ncol = t;
	}
}

static int key_less(const struct key *x, const struct key *y)
{
	return cmp_key(x, y) < 0;
}

/* Canonical order: a breadth-first walk along edges in slot order ranks
 * the members, started from the smallest cycle member by (type, site,
 * colour, topological position): every member of a group is reachable
 * from its cycle through the group's own edges (gc_scc.c), so one walk
 * ranks them all.  Then sort by (type, site, colour, rank).  Leaves
 * s->key sorted. */
static void canonical_order(struct scratch *s, const uint8_t *cyclic,
			    const uint32_t *mem, size_t m)
{
	size_t root = m;
	for (size_t j = 0; j < m; j++) {
		s->key[j].col = s->col[j];
		s->key[j].rank = (uint32_t)j;
		s->key[j].pos = (uint32_t)j;
		s->rank[j] = UNSET;
		if (cyclic[mem[j]] && (root == m || key_less(&s->key[j], &s->key[root])))
			root = j;
	}
	uint32_t next = 0;
	for (size_t i = 0; i <= m; i++) {
		/* the walk from the root; the others only if the proof above
		 * were wrong (position order then) */
		size_t start = i == 0 ? (root < m ? root : 0) : i - 1;
		if (start >= m || s->rank[start] != UNSET)
			continue;
		size_t qh = 0, qt = 0;
		s->rank[start] = next++;
		s->queue[qt++] = (uint32_t)start;
		while (qh < qt) {
			uint32_t x = s->queue[qh++];
			for (uint32_t e = s->adj_start[x]; e < s->adj_start[x + 1]; e++) {
				uint32_t t = s->adj_t[e];
				if (s->rank[t] != UNSET)
					continue;
				s->rank[t] = next++;
				s->queue[qt++] = t;
			}
		}
	}
	for (size_t i = 0; i < m; i++)
		s->key[i].rank = s->rank[i];
	qsort(s->key, m, sizeof(s->key[0]), cmp_key);
}

static int build_cycle(struct rcobj *r, struct scratch *s, uint32_t gi,
		       struct rcobj_cycle *c)
{
	const struct rco_groups *g = s->g;
	const uint32_t *mem = &g->order[g->start[gi]];
	size_t m = g->start[gi + 1] - g->start[gi];
	size_t ncyclic = 0;
	uint64_t found_coll = 0;
	int all_found = m > 0;
	c->bytes = 0;
	/* One pass over the pool (by position): hashes, colours and the
	 * reported fields, so that the canonical permutation below reads
	 * small arrays instead of pool entries. */
	for (size_t j = 0; j < m; j++) {
		const struct rco_obj *o = &r->pool[g->node[mem[j]]];
		s->pos[mem[j]] = (uint32_t)j;
		s->key[j].th = rco_type_hash(r, o->type);
		s->key[j].sh = rco_stack_hash(r, o->alloc_stack);
		s->col[j] = rco_hash2(s->key[j].th, s->key[j].sh);
		s->mem[j] = (struct rcobj_member){
			.addr = o->addr, .type = o->type,
			.alloc_stack = o->alloc_stack, .size = o->size,
			.refcount = o->count, .in_cycle = g->cyclic[mem[j]] };
		ncyclic += g->cyclic[mem[j]];
		c->bytes += o->size;
		if (!o->find) {
			all_found = 0;
		} else {
			const struct rco_find *f = &r->finds[o->find - 1];
			if (f->collection > found_coll) {
				found_coll = f->collection;
				c->found_gen = f->gen;
				c->found_ts = f->ts;
				c->found_collection = f->collection;
			}
		}
	}
	if (!all_found) {
		c->found_gen = -1;
		c->found_ts = 0;
		c->found_collection = 0;
	}
	int err = build_adjacency(s, gi, mem, m);
	if (err)
		return err;
	refine(s, m);
	canonical_order(s, g->cyclic, mem, m);

	size_t nedges = s->adj_start[m];
	c->members = malloc((m ? m : 1) * sizeof(*c->members));
	c->edges = malloc((nedges ? nedges : 1) * sizeof(*c->edges));
	if (!c->members || !c->edges)
		return -ENOMEM;
	c->nmembers = m;
	c->nedges = nedges;

	uint64_t h = rco_hash2(0xcbf29ce484222325ull, m);
	size_t ne = 0;
	for (size_t k = 0; k < m; k++) {
		const struct key *ky = &s->key[k];
		uint32_t j = ky->pos;
		h = rco_hash2(rco_hash2(rco_hash2(h, ky->th), ky->sh), ky->col);
		c->members[k] = s->mem[j];
		for (uint32_t e = s->adj_start[j]; e < s->adj_start[j + 1]; e++)
			c->edges[ne++] = (struct rcobj_edge){
				.owner = s->mem[j].addr, .slot_off = s->adj_off[e],
				.target = s->mem[s->adj_t[e]].addr };
	}
	c->signature = rco_hash2(rco_hash2(h, nedges), ncyclic);
	return 0;
}

/* The witness (local id whose drop it is) with the later drop. */
static uint32_t later(const struct rcobj *r, const struct rco_groups *g,
		      uint32_t cur, uint32_t cand)
{
	if (cand == UNSET)
		return cur;
	if (cur == UNSET)
		return cand;
	return r->pool[g->node[cand]].drop.at.seq >
	       r->pool[g->node[cur]].drop.at.seq ? cand : cur;
}

/* When did each component become garbage, and by which drop?  Visit the
 * components in topological order: a component's time is the latest of
 * its members' drops (except slot rewrites by an owner of the same
 * component) and of the times of the components with an edge into it,
 * which come earlier in that order.  A group is garbage once all its
 * members are: its culprit is the latest time among its components. */
static int culprits(struct rcobj *r, const struct rco_groups *g,
		    struct rcobj_cycle *cyc)
{
	size_t n = g->n;
	uint32_t *best = malloc((g->nscc ? g->nscc : 1) * sizeof(*best));
	uint32_t *gbest = malloc((g->ngroups ? g->ngroups : 1) * sizeof(*gbest));
	if (!best || !gbest) {
		free(best);
		free(gbest);
		return -ENOMEM;
	}
	for (size_t c = 0; c < g->nscc; c++)
		best[c] = UNSET;
	for (size_t i = 0, j; i < n; i = j) {
		uint32_t c = g->comp[g->topo[i]];
		for (j = i; j < n && g->comp[g->topo[j]] == c; j++) {
			uint32_t v = g->topo[j];
			const struct rco_obj *o = &r->pool[g->node[v]];
			if (!(o->flags & RCO_F_DROP))
				continue;
			if ((o->flags & RCO_F_DROP_EDGE) && o->drop.owner != RCO_NIL) {
				const struct rco_obj *ow = &r->pool[o->drop.owner];
				if (ow->gen != RCO_GEN_FREE &&
				    ow->tag == o->drop.owner_tag &&
				    (ow->flags & RCO_F_GARBAGE) &&
				    g->comp[ow->gc_refs] == c)
					continue;       /* internal rearrangement */
			}
			best[c] = later(r, g, best[c], v);
		}
		if (best[c] == UNSET)
			continue;
		for (size_t k = i; k < j; k++) {
			uint32_t v = g->topo[k];
			for (uint32_t e = g->adj_start[v]; e < g->adj_start[v + 1]; e++) {
				uint32_t w = g->adj[e];
				if (g->comp[w] != c)
					best[g->comp[w]] = later(r, g, best[g->comp[w]],
								 best[c]);
			}
		}
	}
	for (size_t gi = 0; gi < g->ngroups; gi++)
		gbest[gi] = UNSET;
	for (size_t v = 0; v < n; v++)
		gbest[g->group[v]] = later(r, g, gbest[g->group[v]],
					   best[g->comp[v]]);
	for (size_t gi = 0; gi < g->ngroups; gi++) {
		struct rcobj_cycle *c = &cyc[gi];
		c->has_culprit = gbest[gi] != UNSET;
		if (!c->has_culprit)
			continue;
		const struct rco_obj *o = &r->pool[g->node[gbest[gi]]];
		c->culprit = o->drop.at;
		c->culprit_obj = o->addr;
		c->culprit_is_edge_clear = !!(o->flags & RCO_F_DROP_EDGE);
	}
	free(best);
	free(gbest);
	return 0;
}

static int cmp_cycle(const void *a, const void *b)
{
	const struct rcobj_cycle *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->nmembers != y->nmembers)
		return x->nmembers > y->nmembers ? -1 : 1;
	if (x->signature != y->signature)
		return x->signature < y->signature ? -1 : 1;
	uint64_t ax = x->nmembers ? x->members[0].addr : 0;
	uint64_t ay = y->nmembers ? y->members[0].addr : 0;
	return (ax > ay) - (ax < ay);
}

int rco_cycles_from_groups(struct rcobj *r, const struct rco_groups *g)
{
	struct scratch s = { .g = g };
	int err = scratch_alloc(&s, g->n);
	struct rcobj_cycle *cyc = NULL;
	if (err)
		goto out;
	cyc = calloc(g->ngroups ? g->ngroups : 1, sizeof(*cyc));
	if (!cyc) {
		err = -ENOMEM;
		goto out;
	}
	r->res.cycles = cyc;
	r->res.ncycles = g->ngroups;
	for (uint32_t gi = 0; gi < g->ngroups; gi++)
		if ((err = build_cycle(r, &s, gi, &cyc[gi])))
			goto out;
	if ((err = culprits(r, g, cyc)))
		goto out;
	if (g->ngroups)
		qsort(cyc, g->ngroups, sizeof(*cyc), cmp_cycle);
out:
	scratch_free(&s);
	return err;
}

void rco_cycles_free(struct rcobj *r)
{
	for (size_t i = 0; i < r->res.ncycles; i++) {
		free(r->res.cycles[i].members);
		free(r->res.cycles[i].edges);
	}
	free(r->res.cycles);
	r->res.cycles = NULL;
	r->res.ncycles = 0;
}
