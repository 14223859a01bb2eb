/* threads.c - N threads churn refcounted objects and heap blocks.
 * usage: threads [NTHREADS [ITERS]]; prints the operations done. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "rcprof.h"

struct node {
	struct node *next;
	int v;
};

static long iters = 2000;

static void *work(void *arg)
{
	long id = (long)arg;
	struct node *keep = NULL;
	for (long i = 0; i < iters; i++) {
		struct node *n = rc_new(sizeof(*n), "node", NULL);
		n->v = (int)i;
		rc_retain(n);
		if (i % 100 == 0) {
			rc_set(n, &n->next, keep);
			rc_release(keep);
			keep = rc_retain(n);
		}
		rc_release(n);
		rc_release(n);
		char *p = malloc((size_t)(i % 200) + 1);
		p = realloc(p, (size_t)(i % 300) + 8);
		free(p);
	}
	rc_release(keep);
	return (void *)id;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	if (argc > 2)
		iters = atol(argv[2]);
	pthread_t th[64];
	if (n > 64)
		n = 64;
	for (long i = 0; i < n; i++)
		pthread_create(&th[i], NULL, work, (void *)i);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	printf("threads=%d iters=%ld\n", n, iters);
	return 0;
}
