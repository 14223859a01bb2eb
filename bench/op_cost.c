/* op_cost.c - what one operation costs, in ns of thread CPU time.
 *
 *   op_cost [REPS]          default 2000000
 *
 * Times each operation in a tight loop on a worker thread (so that, under
 * the recorder, stamps come from the clock as in the churn workloads) and
 * prints one line per operation: "op_cost OP NS".  The churn workloads
 * give the overall ratios; this one gives a steady per-event figure to
 * compare builds of the recorder with (bench/op_cost.sh runs it natively
 * and under librcprof.so, alternating).  Stacks are one call deep, so
 * the stack cache always hits: the figures are its best case.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"
#include "rcprof.h"

#if defined(__clang__)
#define NOIPA __attribute__((noinline))
#else
#define NOIPA __attribute__((noipa))
#endif

struct pair {
	void *a, *b;
};

static unsigned long reps;
/* Stores the compiler cannot drop: a malloc whose block is never used
 * may be removed with its free. */
static void *volatile sink;

static double thread_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void report(const char *op, double t0, double t1)
{
	printf("op_cost %s %.1f\n", op, (t1 - t0) / (double)reps);
}

static void pair_dtor(void *obj)
{
	struct pair *p = obj;
	rc_release(p->a);
	rc_release(p->b);
}

static NOIPA void retains(void *o)
{
	for (unsigned long i = 0; i < reps; i++)
		rc_retain(o);
}

/* Each leaves the count above zero: a culprit candidate (stack taken). */
static NOIPA void releases(void *o)
{
	for (unsigned long i = 0; i < reps; i++)
		rc_release(o);
}

static NOIPA void new_and_free(void)
{
	for (unsigned long i = 0; i < reps; i++)
		rc_release(rc_new(sizeof(struct pair), "pair", pair_dtor));
}

/* An edge set and cleared: two rc_set, each a retain or a release and
 * an edge. */
static NOIPA void set_and_clear(struct pair *owner, void *target)
{
	for (unsigned long i = 0; i < reps; i++) {
		rc_set(owner, &owner->a, target);
		rc_set(owner, &owner->a, NULL);
	}
}

static NOIPA void malloc_free(void)
{
	for (unsigned long i = 0; i < reps; i++) {
		void *p = malloc(32);
		sink = p;
		free(p);
	}
}

static void *worker(void *arg)
{
	(void)arg;
	struct pair *o = rc_new(sizeof(struct pair), "pair", pair_dtor);
	struct pair *t = rc_new(sizeof(struct pair), "pair", pair_dtor);
	if (!o || !t)
		abort();
	double t0 = thread_ns();
	retains(o);
	double t1 = thread_ns();
	releases(o);
	double t2 = thread_ns();
	report("retain", t0, t1);
	report("release", t1, t2);
	t0 = thread_ns();
	new_and_free();
	t1 = thread_ns();
	report("new+free", t0, t1);
	t0 = thread_ns();
	set_and_clear(o, t);
	t1 = thread_ns();
	report("set+clear", t0, t1);
	t0 = thread_ns();
	malloc_free();
	t1 = thread_ns();
	report("malloc+free", t0, t1);
	rc_release(t);
	rc_release(o);
	return NULL;
}

int main(int argc, char **argv)
{
	reps = bench_arg(argc, argv, 1, 2000000, "repetition count");
	if (reps < 1) {
		fprintf(stderr, "%s: REPS must be at least 1\n", argv[0]);
		return 2;
	}
	int arg = 0;
	bench_run_threads(1, worker, &arg, sizeof(arg));
	return 0;
}
