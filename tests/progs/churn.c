/* churn.c - malloc-heavy loop for the overhead measurement.
 * usage: churn [N]; N malloc/free pairs of mixed sizes through a few
 * call paths, with a small live set. */
#include <stdio.h>
#include <stdlib.h>

static void *slots[256];

static __attribute__((noinline)) void *alloc_a(size_t n) { return malloc(n); }
static __attribute__((noinline)) void *alloc_b(size_t n) { return malloc(n + 16); }
static __attribute__((noinline)) void step(unsigned long i)
{
	unsigned k = (unsigned)(i * 2654435761u) % 256;
	free(slots[k]);
	slots[k] = (i & 1) ? alloc_a(i % 300 + 1) : alloc_b(i % 1000 + 1);
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
	for (unsigned long i = 0; i < n; i++)
		step(i);
	for (int k = 0; k < 256; k++)
		free(slots[k]);
	printf("churn %lu\n", n);
	return 0;
}
