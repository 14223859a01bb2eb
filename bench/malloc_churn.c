/* malloc_churn.c - malloc-heavy churn for the overhead benchmarks.
 *
 *   malloc_churn [ITERATIONS [THREADS]]      defaults: 1000000 1
 *
 * Each thread runs ITERATIONS steps with its own PRNG.  A step picks one of
 * NSITES "call sites" - a fixed (path, depth) pair - and descends through
 * four distinct non-inlinable functions following the path, so the
 * allocation stacks are 5 to 16 frames deep (counting from the allocating
 * function down to clone) and about NSITES of them are distinct, like a
 * real program with a thousand allocation sites.  At the bottom, the leaf
 * allocates 16..528 bytes (mostly malloc, 1/32 calloc, 1/32 realloc of a
 * live block), writes the first and last byte, and puts the block into a
 * sliding window of WINDOW live blocks, freeing the block it replaces.
 * One block in LEAK_ONE_IN is leaked instead (dropped, never freed).
 *
 * Sizes: every site owns SIZES_PER_SITE sizes drawn uniformly from
 * 16..528 and each allocation uses one of them, so over the run the sizes
 * are uniform in 16..528 while a site, as in real code, allocates only a few
 * distinct sizes.  (With a fresh random size per call, heaptrack 1.4.0's
 * heaptrack_interpret - Debian 12 - loops until std::bad_alloc after about
 * 40 000 distinct (size, stack) pairs, so heaptrack could not be measured.)
 *
 * The walkers are __attribute__((noipa)) (no inlining, cloning, identical
 * code folding or interprocedural propagation) and each does a distinct
 * bit of arithmetic on the callee's result, so none of the calls can be
 * turned into a tail call and the compiler cannot fold the recursion.  The
 * program is built with the normal -O2 -g: no frame pointers are forced.
 *
 * Prints one line with the number of allocation and free calls made by the
 * workload itself and a checksum that depends only on the PRNG streams.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

#define WINDOW 4096u            /* live blocks per thread */
#define NSITES 1024u            /* distinct (path, depth) call sites */
#define MAX_DEPTH 11u           /* walkers below the worker: 1..12 */
#define LEAK_ONE_IN 1000u
#define MIN_SIZE 16u
#define MAX_SIZE 528u

#if defined(__clang__)
#define NOIPA __attribute__((noinline))
#else
#define NOIPA __attribute__((noipa))
#endif

#define SIZES_PER_SITE 4u

struct site {
	uint32_t path;          /* two bits per level choose the next walker */
	uint32_t depth;
	uint32_t size[SIZES_PER_SITE];
};

struct worker {
	struct bench_rng rng;
	const struct site *sites;
	const struct site *cur; /* the site of the current step */
	void **window;
	unsigned long iters;
	unsigned long alloc_calls, free_calls, leaked;
	uint64_t checksum;
	void *volatile sink;    /* the last leaked block goes here, so the
				   compiler cannot drop the allocation */
};

static uint64_t walk_a(struct worker *w, uint32_t depth, uint32_t path);
static uint64_t walk_b(struct worker *w, uint32_t depth, uint32_t path);
static uint64_t walk_c(struct worker *w, uint32_t depth, uint32_t path);
static uint64_t walk_d(struct worker *w, uint32_t depth, uint32_t path);

/* The bottom of every stack: one allocation, maybe one free. */
static NOIPA uint64_t leaf(struct worker *w)
{
	uint64_t x = bench_rng_next(&w->rng);
	size_t size = w->cur->size[x % SIZES_PER_SITE];
	uint32_t slot = (uint32_t)(x >> 32) % WINDOW;
	unsigned kind = (unsigned)(x >> 50) & 31u;
	int leak = bench_rng_below(&w->rng, LEAK_ONE_IN) == 0;
	unsigned char *p;

	if (kind == 0 && w->window[slot] && !leak) {
		p = realloc(w->window[slot], size);
		if (!p)
			abort();
		w->window[slot] = p;
		w->alloc_calls++;
	} else {
		p = kind == 1 ? calloc(1, size) : malloc(size);
		if (!p)
			abort();
		w->alloc_calls++;
		if (leak) {
			w->sink = p;
			w->leaked++;
		} else {
			if (w->window[slot]) {
				free(w->window[slot]);
				w->free_calls++;
			}
			w->window[slot] = p;
		}
	}
	p[0] = (unsigned char)(x >> 8);
	p[size - 1] = (unsigned char)(x >> 16);
	return size + p[0] + p[size - 1];
}

/* Pick the walker for this level; inlined into each walker on purpose, so
 * each has its own call instructions (distinct return addresses). */
static inline uint64_t descend(struct worker *w, uint32_t depth, uint32_t path)
{
	if (depth == 0)
		return leaf(w);
	switch (path & 3u) {
	case 0:
		return walk_a(w, depth - 1, path >> 2);
	case 1:
		return walk_b(w, depth - 1, path >> 2);
	case 2:
		return walk_c(w, depth - 1, path >> 2);
	default:
		return walk_d(w, depth - 1, path >> 2);
	}
}

static NOIPA uint64_t walk_a(struct worker *w, uint32_t depth, uint32_t path)
{
	return descend(w, depth, path) * 3u + depth;
}

static NOIPA uint64_t walk_b(struct worker *w, uint32_t depth, uint32_t path)
{
	return (descend(w, depth, path) ^ 0x5bd1e995u) + path;
}

static NOIPA uint64_t walk_c(struct worker *w, uint32_t depth, uint32_t path)
{
	uint64_t r = descend(w, depth, path);
	return (r << 7 | r >> 57) - depth;
}

static NOIPA uint64_t walk_d(struct worker *w, uint32_t depth, uint32_t path)
{
	return descend(w, depth, path) * 0x9e3779b1u ^ path;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t sum = 0;

	w->window = calloc(WINDOW, sizeof(*w->window));
	if (!w->window)
		abort();
	for (unsigned long i = 0; i < w->iters; i++) {
		const struct site *s =
			&w->sites[bench_rng_below(&w->rng, NSITES)];
		w->cur = s;
		sum += walk_a(w, s->depth, s->path);
	}
	for (uint32_t i = 0; i < WINDOW; i++) {
		if (w->window[i]) {
			free(w->window[i]);
			w->free_calls++;
		}
	}
	free(w->window);
	w->window = NULL;
	w->checksum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long iters = bench_arg(argc, argv, 1, 1000000, "iteration count");
	unsigned long nthreads = bench_arg(argc, argv, 2, 1, "thread count");
	if (nthreads < 1 || nthreads > 256) {
		fprintf(stderr, "%s: threads must be 1..256\n", argv[0]);
		return 2;
	}

	/* The same call sites for every thread and every run. */
	static struct site sites[NSITES];
	struct bench_rng srng;
	bench_rng_seed(&srng, 0x51735);
	for (unsigned i = 0; i < NSITES; i++) {
		sites[i].path = (uint32_t)bench_rng_next(&srng);
		sites[i].depth = (uint32_t)bench_rng_below(&srng, MAX_DEPTH + 1);
		for (unsigned j = 0; j < SIZES_PER_SITE; j++)
			sites[i].size[j] = MIN_SIZE + (uint32_t)bench_rng_below(
				&srng, MAX_SIZE - MIN_SIZE + 1);
	}

	struct worker *ws = calloc(nthreads, sizeof(*ws));
	if (!ws)
		return 1;
	for (unsigned long t = 0; t < nthreads; t++) {
		bench_rng_seed(&ws[t].rng, 1000 + t);
		ws[t].sites = sites;
		ws[t].iters = iters;
	}
	bench_run_threads((unsigned)nthreads, worker_main, ws, sizeof(*ws));

	unsigned long allocs = 0, frees = 0, leaked = 0;
	uint64_t checksum = 0;
	for (unsigned long t = 0; t < nthreads; t++) {
		allocs += ws[t].alloc_calls;
		frees += ws[t].free_calls;
		leaked += ws[t].leaked;
		checksum += ws[t].checksum;
	}
	free(ws);
	printf("malloc_churn: threads=%lu iters=%lu alloc_calls=%lu free_calls=%lu leaked=%lu checksum=%016llx\n",
	       nthreads, iters, allocs, frees, leaked,
	       (unsigned long long)checksum);
	return 0;
}
