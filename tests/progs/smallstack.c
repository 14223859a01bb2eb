/* smallstack.c - a thread with a small stack that allocates near its end.
 *
 *   smallstack DEPTH_KB STACK_KB
 *
 * Starts one thread with a STACK_KB stack (16 = PTHREAD_STACK_MIN here),
 * which recurses DEPTH_KB kilobytes deep and there mallocs, frees and
 * creates, links and releases refcounted objects.  glibc takes the static
 * TLS of every loaded library out of a thread's stack, and the recorder's
 * hooks run on it: they must leave such a program running wherever it
 * runs without them.  Prints one line when the thread finished.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcprof.h"

struct node {
	struct node *next;
};

static void *volatile sink;
static int depth_kb;

static void node_dtor(void *obj)
{
	rc_release(((struct node *)obj)->next);
}

static __attribute__((noinline)) void work(void)
{
	for (int i = 0; i < 1000; i++) {
		sink = malloc(32 + (size_t)i % 100);
		free(sink);
		struct node *a = rc_new(sizeof(*a), "node", node_dtor);
		struct node *b = rc_new(sizeof(*b), "node", node_dtor);
		if (!a || !b)
			abort();
		rc_set(a, &a->next, b);
		rc_release(b);
		rc_retain(b);
		rc_release(b);
		rc_release(a);
	}
}

static __attribute__((noinline)) void deep(int kb)
{
	volatile char pad[1024];
	memset((char *)pad, kb, sizeof(pad));
	if (kb > 0)
		deep(kb - 1);
	else
		work();
	sink = (void *)&pad[0];
}

static void *run(void *arg)
{
	(void)arg;
	deep(depth_kb);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: smallstack DEPTH_KB STACK_KB\n");
		return 2;
	}
	depth_kb = atoi(argv[1]);
	size_t size = (size_t)atoi(argv[2]) * 1024;
	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	if (pthread_attr_setstacksize(&attr, size) != 0 ||
	    pthread_create(&t, &attr, run, NULL) != 0) {
		fprintf(stderr, "smallstack: cannot start a thread with %zu bytes\n",
			size);
		return 2;
	}
	pthread_join(t, NULL);
	printf("smallstack: %d KB deep on a %zu KB stack: done\n", depth_kb,
	       size / 1024);
	return 0;
}
