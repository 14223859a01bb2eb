/* graph_gen.c - build a large random object graph, to time the analyzer.
 *
 *   graph_gen [OBJECTS [GARBAGE_PERMILLE [KEEP]]]   defaults: 1000000 100 0
 *
 * Creates OBJECTS objects with rc_new, in one thread.  Each object is live
 * or, with probability GARBAGE_PERMILLE/1000, garbage:
 *
 *   live     two edges (rc_set) to random earlier live objects, so the live
 *            objects form a DAG; the program holds one reference to each
 *            until the end, then (unless KEEP is 1) releases them newest
 *            first, which frees every live object (each one is freed the
 *            moment its last reference goes, its parents being gone).
 *   garbage  gathered into groups of 1..16 ring members (a->next member),
 *            with random extra edges inside the group (b), and in one group
 *            of four a "tail": an object only the ring refers to.  Once a
 *            group is wired the program drops its references: the group is
 *            one garbage cycle (one strongly connected component that
 *            nothing outside refers to), and its tail is garbage too.
 *
 * Prints what the analyzer should find: the number of objects, cycles
 * (= groups) and garbage objects (ring members + tails), and with KEEP=1
 * the live objects left unreleased.  Deterministic for given arguments.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "rcprof.h"

#define MAX_RING 16u

struct gnode {
	struct gnode *a;
	struct gnode *b;
	uint64_t id;
};

static void gnode_dtor(void *obj)
{
	struct gnode *n = obj;
	rc_release(n->a);
	rc_release(n->b);
}

struct garbage_group {
	struct gnode *m[MAX_RING + 1];
	unsigned n;             /* gathered so far */
	unsigned ring;          /* planned ring members */
	int tail;               /* planned tail (the last one gathered) */
};

struct stats {
	unsigned long live, garbage, cycles, edges;
};

/* Wire the gathered group (ring, extra edges, tail) and drop our refs. */
static void group_close(struct garbage_group *g, struct bench_rng *rng,
			struct stats *st)
{
	unsigned r = g->n, tail = 0;
	if (g->tail && g->n == g->ring + 1) {
		r = g->ring;
		tail = 1;
	}
	for (unsigned j = 0; j < r; j++) {
		rc_set(g->m[j], &g->m[j]->a, g->m[(j + 1) % r]);
		st->edges++;
		if (j == 0 && tail) {
			rc_set(g->m[0], &g->m[0]->b, g->m[r]);
			st->edges++;
		} else if (r > 1 && (bench_rng_next(rng) & 1)) {
			unsigned k = (unsigned)bench_rng_below(rng, r);
			rc_set(g->m[j], &g->m[j]->b, g->m[k]);
			st->edges++;
		}
	}
	for (unsigned j = 0; j < g->n; j++)
		rc_release(g->m[j]);
	st->cycles++;
	g->n = 0;
}

static void group_plan(struct garbage_group *g, struct bench_rng *rng)
{
	g->n = 0;
	g->ring = 1 + (unsigned)bench_rng_below(rng, MAX_RING);
	g->tail = bench_rng_below(rng, 4) == 0;
}

int main(int argc, char **argv)
{
	unsigned long n = bench_arg(argc, argv, 1, 1000000, "object count");
	unsigned long permille = bench_arg(argc, argv, 2, 100, "garbage per mille");
	unsigned long keep = bench_arg(argc, argv, 3, 0, "keep flag");
	if (permille > 1000) {
		fprintf(stderr, "%s: garbage per mille must be 0..1000\n", argv[0]);
		return 2;
	}

	struct gnode **live = malloc((n ? n : 1) * sizeof(*live));
	if (!live)
		return 1;
	struct bench_rng rng;
	bench_rng_seed(&rng, 0x6a7a);
	struct garbage_group g;
	group_plan(&g, &rng);
	struct stats st = { 0, 0, 0, 0 };

	for (unsigned long i = 0; i < n; i++) {
		struct gnode *o = rc_new(sizeof(*o), "gnode", gnode_dtor);
		if (!o)
			abort();
		o->id = i;
		if (bench_rng_below(&rng, 1000) < permille) {
			st.garbage++;
			g.m[g.n++] = o;
			if (g.n == g.ring + (unsigned)g.tail) {
				group_close(&g, &rng, &st);
				group_plan(&g, &rng);
			}
			continue;
		}
		if (st.live) {
			struct gnode *t1 = live[bench_rng_below(&rng, st.live)];
			struct gnode *t2 = live[bench_rng_below(&rng, st.live)];
			rc_set(o, &o->a, t1);
			rc_set(o, &o->b, t2);
			st.edges += 2;
		}
		live[st.live++] = o;
	}
	if (g.n) {
		g.tail = 0;     /* a short last group is a plain ring */
		group_close(&g, &rng, &st);
	}

	printf("graph_gen: objects=%lu live=%lu garbage_objects=%lu cycles=%lu edges=%lu unreleased=%lu\n",
	       n, st.live, st.garbage, st.cycles, st.edges, keep ? st.live : 0);
	fflush(stdout);
	if (!keep) {
		for (unsigned long i = st.live; i-- > 0;)
			rc_release(live[i]);
	}
	free(live);
	return 0;
}
