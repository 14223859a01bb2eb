/* turns.c - two threads take turns, each finishing what the other made.
 * usage: turns [ROUNDS [BATCH]]   (defaults 200 turns, 2000 objects each)
 *
 * On its turn a thread finishes the objects and heap blocks the other one
 * made on its turn (a retain and a release, the release of the reference
 * it was handed, the free of the block), then makes BATCH new ones: an
 * object (rc_new, an edge to the one before it in three cases of four)
 * and a block of 16-63 bytes each, and hands the turn over under a
 * mutex.  Objects therefore die on the other thread than the one that
 * made them, freed blocks are reused by either thread, and one thread at
 * a time records: a turn takes far longer than the recorder's 50 us
 * between claims, so the process keeps counted stamps, and every
 * hand-over is ordered by a claim of the counter (preload/shim/clock.c).
 * The report is clean only when every claim orders the events of the
 * turn before it.  Nothing leaks; prints the counts. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcprof.h"

struct node {
	struct node *prev;      /* counted, declared with rc_set */
	long payload;
};

struct item {
	struct node *obj;
	void *block;
};

struct table {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int whose;              /* 0 or 1: the player whose turn it is */
	long turns_left;
	long batch;
	struct item *items;     /* what the last turn made */
	long nitems;
	long made, finished;
};

struct player {
	struct table *t;
	int me;
	unsigned seed;
};

static void node_dtor(void *obj)
{
	struct node *n = obj;
	rc_release(n->prev);
}

/* Finishes the items of the turn before. */
static long finish(struct table *t)
{
	for (long i = 0; i < t->nitems; i++) {
		struct node *n = t->items[i].obj;
		rc_retain(n);
		rc_release(n);
		rc_release(n);  /* the reference handed over */
		free(t->items[i].block);
	}
	long done = t->nitems;
	t->nitems = 0;
	return done;
}

/* Makes the items of this turn; the maker keeps a reference to each one
 * until the next one holds it (or, without an edge, drops it then). */
static void make(struct table *t, struct player *p)
{
	struct node *prev = NULL;
	for (long i = 0; i < t->batch; i++) {
		p->seed = p->seed * 1103515245u + 12345u;
		size_t size = 16 + (p->seed >> 8) % 48;
		struct node *n = rc_new(sizeof(*n), "turned", node_dtor);
		void *block = malloc(size);
		if (!n || !block)
			abort();
		n->payload = i;
		memset(block, (int)i, size);
		rc_retain(n);
		if (prev) {
			if (i % 4)
				rc_set(n, &n->prev, prev);
			rc_release(prev);
		}
		prev = n;
		t->items[t->nitems++] = (struct item){ n, block };
	}
	rc_release(prev);
	t->made += t->batch;
}

static void *play(void *arg)
{
	struct player *p = arg;
	struct table *t = p->t;
	pthread_mutex_lock(&t->lock);
	for (;;) {
		while (t->whose != p->me && t->turns_left > 0)
			pthread_cond_wait(&t->cond, &t->lock);
		if (t->turns_left == 0)
			break;
		/* the turn: the other player waits, so the table is ours */
		pthread_mutex_unlock(&t->lock);
		t->finished += finish(t);
		make(t, p);
		pthread_mutex_lock(&t->lock);
		t->turns_left--;
		t->whose = !p->me;
		pthread_cond_broadcast(&t->cond);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int main(int argc, char **argv)
{
	long turns = argc > 1 ? atol(argv[1]) : 200;
	long batch = argc > 2 ? atol(argv[2]) : 2000;
	if (turns < 1 || batch < 1 || batch > 1000000)
		return 2;
	static struct table t;
	pthread_mutex_init(&t.lock, NULL);
	pthread_cond_init(&t.cond, NULL);
	t.turns_left = turns;
	t.batch = batch;
	t.items = calloc((size_t)batch, sizeof(*t.items));
	if (!t.items)
		return 1;
	struct player ps[2] = { { &t, 0, 7u }, { &t, 1, 11u } };
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, play, &ps[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	t.finished += finish(&t);       /* the last turn's items */
	printf("turns: turns=%ld batch=%ld made=%ld finished=%ld\n", turns,
	       batch, t.made, t.finished);
	free(t.items);
	return 0;
}
