/* bench.h - small helpers shared by the bench workloads (header only).
 *
 * Every workload is deterministic for given arguments: each thread owns a
 * PRNG seeded from its index, and the checksum a workload prints depends
 * only on the PRNG stream, never on addresses.  bench/run.sh compares the
 * checksums of a program run natively and under each tool, so a tool that
 * changed what the program computes is caught.
 */
#ifndef RCPROF_BENCH_H
#define RCPROF_BENCH_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64 to seed, xorshift64* to draw: fast, no libc, no locks. */
struct bench_rng {
	uint64_t s;
};

static inline void bench_rng_seed(struct bench_rng *r, uint64_t seed)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	r->s = (z ^ (z >> 31)) | 1;
}

static inline uint64_t bench_rng_next(struct bench_rng *r)
{
	uint64_t x = r->s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform-enough integer in [0, n). */
static inline uint64_t bench_rng_below(struct bench_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)bench_rng_next(r) * n) >> 64);
}

/* Parse a non-negative count argument; exits with status 2 on garbage. */
static inline unsigned long bench_arg(int argc, char **argv, int i,
				      unsigned long dflt, const char *what)
{
	if (argc <= i)
		return dflt;
	char *end;
	errno = 0;
	unsigned long v = strtoul(argv[i], &end, 0);
	if (errno || end == argv[i] || *end || argv[i][0] == '-') {
		fprintf(stderr, "%s: bad %s '%s'\n", argv[0], what, argv[i]);
		exit(2);
	}
	return v;
}

/* Run fn(arg_i) on `n` threads (all of them created with pthread_create,
 * also when n == 1, so 1- and 2-thread runs differ only in the count) and
 * join them.  args points to n objects of `size` bytes.  With
 * BENCH_ON_MAIN=1 in the environment a 1-thread run calls fn on the main
 * thread instead: a single-threaded process, whose events the recorder
 * stamps from a counter (README, "Single-threaded stamps"). */
static inline void bench_run_threads(unsigned n, void *(*fn)(void *),
				     void *args, size_t size)
{
	const char *on_main = getenv("BENCH_ON_MAIN");
	if (n == 1 && on_main && strcmp(on_main, "1") == 0) {
		fn(args);
		return;
	}
	pthread_t *tids = calloc(n, sizeof(*tids));
	if (!tids) {
		perror("calloc");
		exit(1);
	}
	for (unsigned i = 0; i < n; i++) {
		int err = pthread_create(&tids[i], NULL, fn,
					 (char *)args + i * size);
		if (err) {
			fprintf(stderr, "pthread_create: %s\n", strerror(err));
			exit(1);
		}
	}
	for (unsigned i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	free(tids);
}

#endif /* RCPROF_BENCH_H */
