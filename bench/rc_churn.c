/* rc_churn.c - refcount-heavy churn with the rc API (link -lrc).
 *
 *   rc_churn [ITERATIONS [THREADS]]          defaults: 200000 1
 *
 * Each thread runs ITERATIONS steps with its own PRNG.  A step:
 *   1. builds a small graph: 2..8 objects from rc_new, chained by rc_set
 *      (`next`), plus forward `other` edges, so the graph is acyclic;
 *   2. drops the local references of all but the root (the graph owns them);
 *   3. passes the root around: an iterator walks the chain, retaining the
 *      node it stands on and releasing the one it leaves, through a few
 *      non-inlinable helpers;
 *   4. keeps the root in a per-thread cache of CACHE slots (rc_retain the
 *      new one, rc_release the one it replaces), so graphs die late and in
 *      a mixed order;
 *   5. one step in LEAK_ONE_IN closes a cycle before dropping the root:
 *      half of them a self-loop on the last node, half the last node
 *      pointing back at the root.  Those are leaked garbage cycles;
 *   6. releases the root.
 * Destructors release the two fields, the usual pattern.
 *
 * Run natively it measures plain librc; under LD_PRELOAD=librcprof.so it
 * measures the recorder.  Prints the operation counts and a checksum that
 * depends only on the PRNG streams.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "rcprof.h"

#define CACHE 256u
#define MAX_NODES 8u
#define LEAK_ONE_IN 1000u

#if defined(__clang__)
#define NOIPA __attribute__((noinline))
#else
#define NOIPA __attribute__((noipa))
#endif

struct node {
	struct node *next;      /* counted, declared with rc_set */
	struct node *other;     /* counted, declared with rc_set */
	uint64_t payload;
};

struct worker {
	struct bench_rng rng;
	struct node **cache;
	unsigned long iters;
	unsigned long news, retains, releases, sets, cycles;
	uint64_t checksum;
};

static void node_dtor(void *obj)
{
	struct node *n = obj;
	rc_release(n->next);
	rc_release(n->other);
}

/* An iterator over the `next` chain that holds a reference to the node it
 * stands on, as code that may drop the graph meanwhile must. */
static NOIPA uint64_t walk_chain(struct worker *w, struct node *n)
{
	uint64_t sum = 0;
	struct node *cur = rc_retain(n);
	w->retains++;
	while (cur) {
		sum = sum * 31u + cur->payload;
		struct node *nx = rc_retain(cur->next);
		if (nx)
			w->retains++;
		rc_release(cur);
		w->releases++;
		cur = nx;
	}
	return sum;
}

static NOIPA uint64_t inspect(struct worker *w, struct node *n)
{
	rc_retain(n);
	w->retains++;
	uint64_t r = walk_chain(w, n) ^ (uint64_t)rc_refcount(n);
	rc_release(n);
	w->releases++;
	return r;
}

static NOIPA uint64_t hand_over(struct worker *w, struct node *n)
{
	return inspect(w, n) + 1;
}

static NOIPA void cache_put(struct worker *w, struct node *n)
{
	uint32_t slot = (uint32_t)bench_rng_below(&w->rng, CACHE);
	struct node *old = w->cache[slot];
	w->cache[slot] = rc_retain(n);
	w->retains++;
	if (old) {
		rc_release(old);
		w->releases++;
	}
}

static NOIPA struct node *build(struct worker *w, unsigned k)
{
	struct node *n[MAX_NODES];

	for (unsigned i = 0; i < k; i++) {
		n[i] = rc_new(sizeof(struct node), i ? "node" : "graph",
			      node_dtor);
		if (!n[i])
			abort();
		n[i]->payload = bench_rng_next(&w->rng) >> 8;
		w->news++;
	}
	for (unsigned i = 0; i + 1 < k; i++) {
		rc_set(n[i], &n[i]->next, n[i + 1]);
		w->sets++;
		if (i + 2 < k && (bench_rng_next(&w->rng) & 1)) {
			unsigned j = i + 2 + (unsigned)bench_rng_below(&w->rng, k - i - 2);
			rc_set(n[i], &n[i]->other, n[j]);
			w->sets++;
		}
	}
	/* Occasionally leak: close a cycle (the last node has no `other`). */
	if (bench_rng_below(&w->rng, LEAK_ONE_IN) == 0) {
		struct node *to = (bench_rng_next(&w->rng) & 1) ? n[k - 1] : n[0];
		rc_set(n[k - 1], &n[k - 1]->other, to);
		w->sets++;
		w->cycles++;
	}
	for (unsigned i = 1; i < k; i++) {
		rc_release(n[i]);
		w->releases++;
	}
	return n[0];
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t sum = 0;

	w->cache = calloc(CACHE, sizeof(*w->cache));
	if (!w->cache)
		abort();
	for (unsigned long i = 0; i < w->iters; i++) {
		unsigned k = 2 + (unsigned)bench_rng_below(&w->rng, MAX_NODES - 1);
		struct node *root = build(w, k);
		sum += hand_over(w, root) + k;
		if (bench_rng_next(&w->rng) & 1)
			cache_put(w, root);
		rc_release(root);
		w->releases++;
	}
	for (uint32_t i = 0; i < CACHE; i++) {
		if (w->cache[i]) {
			rc_release(w->cache[i]);
			w->releases++;
		}
	}
	free(w->cache);
	w->checksum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long iters = bench_arg(argc, argv, 1, 200000, "iteration count");
	unsigned long nthreads = bench_arg(argc, argv, 2, 1, "thread count");
	if (nthreads < 1 || nthreads > 256) {
		fprintf(stderr, "%s: threads must be 1..256\n", argv[0]);
		return 2;
	}
	struct worker *ws = calloc(nthreads, sizeof(*ws));
	if (!ws)
		return 1;
	for (unsigned long t = 0; t < nthreads; t++) {
		bench_rng_seed(&ws[t].rng, 2000 + t);
		ws[t].iters = iters;
	}
	bench_run_threads((unsigned)nthreads, worker_main, ws, sizeof(*ws));

	unsigned long news = 0, retains = 0, releases = 0, sets = 0, cycles = 0;
	uint64_t checksum = 0;
	for (unsigned long t = 0; t < nthreads; t++) {
		news += ws[t].news;
		retains += ws[t].retains;
		releases += ws[t].releases;
		sets += ws[t].sets;
		cycles += ws[t].cycles;
		checksum += ws[t].checksum;
	}
	free(ws);
	/* Counts are the calls this program made; rc_set and the destructors
	 * retain and release further inside librc. */
	printf("rc_churn: threads=%lu iters=%lu rc_new=%lu rc_retain=%lu rc_release=%lu rc_set=%lu leaked_cycles=%lu checksum=%016llx\n",
	       nthreads, iters, news, retains, releases, sets, cycles,
	       (unsigned long long)checksum);
	return 0;
}
