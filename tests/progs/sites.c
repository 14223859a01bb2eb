/* sites.c - many allocation and release sites that share stack pointers.
 *
 *   sites [STEPS [THREADS]]          defaults: 20000 2
 *
 * For the recorder's stack cache, whose risk is returning the stack of
 * another call chain that reaches malloc with the same stack pointer.
 * Each thread (own PRNG, so the run is deterministic) repeatedly walks
 * down a random path of four walkers with the same frame layout, so
 * chains of equal depth meet the allocator at equal stack pointers, then
 * allocates, sometimes through a frame with a variable-length array (a
 * frame found through %rbp), sometimes from a signal handler (a chain
 * through the kernel's signal frame), sometimes a refcounted object
 * whose releases leave the count above zero (release stacks).  Prints
 * the operation counts and a checksum.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcprof.h"

#if defined(__clang__)
#define NOIPA __attribute__((noinline))
#else
#define NOIPA __attribute__((noipa))
#endif

#define WINDOW 64u

struct worker {
	uint64_t rng;
	void *live[WINDOW];
	unsigned long steps, allocs, rcs;
	uint64_t sum;
};

static uint64_t next(struct worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

static NOIPA void keep(struct worker *w, void *p)
{
	unsigned slot = (unsigned)(next(w) % WINDOW);
	free(w->live[slot]);
	w->live[slot] = p;
	w->allocs++;
}

static NOIPA uint64_t leaf(struct worker *w, unsigned kind)
{
	size_t n = 16 + next(w) % 200;
	if (kind == 0) {
		void *o = rc_new(n, "site", NULL);
		rc_retain(o);
		rc_release(o);          /* count stays 1: a release stack */
		rc_release(o);
		w->rcs++;
		return n;
	}
	unsigned char *p = kind == 1 ? calloc(1, n) : malloc(n);
	if (!p)
		abort();
	p[0] = (unsigned char)n;
	keep(w, p);
	return p[0];
}

static NOIPA uint64_t with_vla(struct worker *w, unsigned words)
{
	volatile uint64_t vla[words + 1];
	vla[words] = words;
	return leaf(w, 2) + vla[words];
}

static uint64_t walk_a(struct worker *w, unsigned depth, unsigned path);
static uint64_t walk_b(struct worker *w, unsigned depth, unsigned path);
static uint64_t walk_c(struct worker *w, unsigned depth, unsigned path);
static uint64_t walk_d(struct worker *w, unsigned depth, unsigned path);

static inline uint64_t descend(struct worker *w, unsigned depth,
			       unsigned path)
{
	if (depth == 0) {
		unsigned k = path & 7;
		return k == 7 ? with_vla(w, 1 + (path >> 3) % 5) :
		       leaf(w, k < 2 ? k : 2);
	}
	switch (path & 3) {
	case 0: return walk_a(w, depth - 1, path >> 2);
	case 1: return walk_b(w, depth - 1, path >> 2);
	case 2: return walk_c(w, depth - 1, path >> 2);
	default: return walk_d(w, depth - 1, path >> 2);
	}
}

static NOIPA uint64_t walk_a(struct worker *w, unsigned depth, unsigned path)
{
	return descend(w, depth, path) + 1;
}

static NOIPA uint64_t walk_b(struct worker *w, unsigned depth, unsigned path)
{
	return descend(w, depth, path) * 3;
}

static NOIPA uint64_t walk_c(struct worker *w, unsigned depth, unsigned path)
{
	return descend(w, depth, path) ^ 5;
}

static NOIPA uint64_t walk_d(struct worker *w, unsigned depth, unsigned path)
{
	return descend(w, depth, path) - 7;
}

static __thread struct worker *current;
static __thread unsigned long handled;

static void on_usr1(int sig)
{
	(void)sig;
	if (current) {          /* allocates inside the handler */
		current->sum += walk_b(current, 2, 0x9);
		handled++;
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	current = w;
	for (unsigned long i = 0; i < w->steps; i++) {
		unsigned path = (unsigned)next(w);
		unsigned depth = (unsigned)(next(w) % 7);
		w->sum += descend(w, depth, path);
		if (i % 997 == 0)
			raise(SIGUSR1);
	}
	for (unsigned i = 0; i < WINDOW; i++)
		free(w->live[i]);
	current = NULL;
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long steps = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : 2;
	if (threads < 1 || threads > 16)
		threads = 2;
	signal(SIGUSR1, on_usr1);
	struct worker w[16];
	pthread_t th[16];
	memset(w, 0, sizeof(w));
	for (unsigned i = 0; i < threads; i++) {
		w[i].rng = 0x9E3779B97F4A7C15ull * (i + 1);
		w[i].steps = steps;
	}
	/* Thread 0 is main itself; one at a time, so the dump's stream
	 * order is the same on every run. */
	work(&w[0]);
	for (unsigned i = 1; i < threads; i++) {
		if (pthread_create(&th[i], NULL, work, &w[i]) != 0)
			return 1;
		pthread_join(th[i], NULL);
	}
	unsigned long allocs = 0, rcs = 0;
	uint64_t sum = 0;
	for (unsigned i = 0; i < threads; i++) {
		allocs += w[i].allocs;
		rcs += w[i].rcs;
		sum = sum * 31 + w[i].sum;
	}
	printf("sites: threads=%u steps=%lu allocs=%lu rc_new=%lu sum=%llx\n",
	       threads, steps, allocs, rcs, (unsigned long long)sum);
	return 0;
}
