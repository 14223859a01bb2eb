/* stress.c - THREADS threads x N mixed allocations and refcount operations.
 * usage: stress THREADS N
 * Every thread keeps its own counts of what it did; the totals are printed
 * so the end-to-end test can compare them with what the analyzer replayed.
 * Objects and blocks are all released at the end, except that nothing is
 * leaked on purpose: the report must show no leak and no error. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "rcprof.h"

enum { LIVE = 64 };

struct node {
	struct node *next;
	long payload;
};

struct counts {
	unsigned long malloc, free, realloc, rc_new, retain, release, edge;
	unsigned long n;
	unsigned seed;
};

static unsigned next_rand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* The destructor runs in the thread that dropped the last reference; it
 * counts what it does through the thread's own counters. */
static __thread struct counts *my_counts;

static void node_dtor(void *obj)
{
	struct node *n = obj;
	if (n->next) {
		rc_set(n, &n->next, NULL);
		my_counts->edge++;
		my_counts->release++;
	}
}

static void *worker(void *arg)
{
	struct counts *c = arg;
	my_counts = c;
	void *blocks[LIVE] = { 0 };
	struct node *objs[LIVE] = { 0 };
	for (unsigned long i = 0; i < c->n; i++) {
		unsigned r = next_rand(&c->seed);
		unsigned k = (r >> 4) % LIVE;
		switch (r % 8) {
		case 0: case 1: case 2:
			if (blocks[k]) {
				free(blocks[k]);
				c->free++;
			}
			blocks[k] = malloc(16 + r % 200);
			c->malloc++;
			break;
		case 3:
			if (blocks[k]) {
				blocks[k] = realloc(blocks[k], 16 + r % 400);
				c->realloc++;
			}
			break;
		case 4:
			if (objs[k]) {
				rc_release(objs[k]);
				c->release++;
			}
			objs[k] = rc_new(sizeof(struct node), "stress_node", node_dtor);
			c->rc_new++;
			break;
		case 5:
			if (objs[k]) {
				rc_retain(objs[k]);
				rc_release(objs[k]);
				c->retain++;
				c->release++;
			}
			break;
		default: {
			unsigned j = (r >> 12) % LIVE;
			/* a chain only forward (k < j), so no cycle can form */
			if (objs[k] && objs[j] && k < j) {
				struct node *old = objs[k]->next;
				rc_set(objs[k], &objs[k]->next, objs[j]);
				c->retain++;
				c->edge++;
				if (old)
					c->release++;
			}
			break;
		}
		}
	}
	for (int k = 0; k < LIVE; k++) {
		if (blocks[k]) {
			free(blocks[k]);
			c->free++;
		}
	}
	/* Edges only point from lower to higher slots and from orphans to
	 * slots, so releasing everything frees every node. */
	for (int k = 0; k < LIVE; k++) {
		if (objs[k]) {
			rc_release(objs[k]);
			c->release++;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 8;
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	if (nthreads < 1 || nthreads > 64) {
		fprintf(stderr, "stress: threads must be 1..64\n");
		return 2;
	}
	pthread_t t[64];
	struct counts c[64] = { 0 };
	for (int i = 0; i < nthreads; i++) {
		c[i].n = n;
		c[i].seed = 1234u + (unsigned)i;
		if (pthread_create(&t[i], NULL, worker, &c[i]) != 0) {
			fprintf(stderr, "stress: pthread_create failed\n");
			return 2;
		}
	}
	struct counts tot = { 0 };
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		tot.malloc += c[i].malloc;
		tot.free += c[i].free;
		tot.realloc += c[i].realloc;
		tot.rc_new += c[i].rc_new;
		tot.retain += c[i].retain;
		tot.release += c[i].release;
		tot.edge += c[i].edge;
	}
	printf("malloc=%lu free=%lu realloc=%lu rc_new=%lu rc_retain=%lu rc_release=%lu edge=%lu\n",
	       tot.malloc, tot.free, tot.realloc, tot.rc_new, tot.retain,
	       tot.release, tot.edge);
	return 0;
}
