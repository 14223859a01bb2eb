/* handoff.c - objects and blocks made on one thread, finished on another.
 * usage: handoff [PAIRS [ITEMS]]   (defaults 2 pairs, 100000 items each)
 *
 * Each pair is a producer and a consumer joined by a small queue under a
 * mutex.  The producer makes a refcounted object (rc_new, an edge to the
 * previous one it made) and a heap block of the same size class, and
 * pushes both; the consumer retains and releases the object, drops the
 * reference rc_new gave, and frees the block.  The producer keeps its own
 * reference until the next object holds the previous one, so objects die
 * on either thread.  Freed memory flows back to the producers' allocators,
 * so addresses are reused across threads all the time: the report is only
 * right when the recording orders every hand-over (a free before the
 * allocation that reuses the block, an object's birth before the
 * consumer's first event about it).  Nothing leaks; prints the counts. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcprof.h"

enum { QCAP = 64 };

struct item {
	void *obj;
	void *block;
};

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct item q[QCAP];
	unsigned head, n;
	int done;
};

struct node {
	struct node *prev;      /* counted, declared with rc_set */
	long payload;
};

struct pair {
	struct queue queue;
	long items;
	unsigned seed;
	long consumed;
};

static void node_dtor(void *obj)
{
	struct node *n = obj;
	rc_release(n->prev);
}

static void push(struct queue *q, struct item it)
{
	pthread_mutex_lock(&q->lock);
	while (q->n == QCAP)
		pthread_cond_wait(&q->cond, &q->lock);
	q->q[(q->head + q->n) % QCAP] = it;
	q->n++;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* 0 when the producer is done and the queue is empty. */
static int pop(struct queue *q, struct item *it)
{
	pthread_mutex_lock(&q->lock);
	while (q->n == 0 && !q->done)
		pthread_cond_wait(&q->cond, &q->lock);
	int got = q->n > 0;
	if (got) {
		*it = q->q[q->head];
		q->head = (q->head + 1) % QCAP;
		q->n--;
		pthread_cond_broadcast(&q->cond);
	}
	pthread_mutex_unlock(&q->lock);
	return got;
}

static void *produce(void *arg)
{
	struct pair *p = arg;
	struct node *prev = NULL;
	for (long i = 0; i < p->items; i++) {
		p->seed = p->seed * 1103515245u + 12345u;
		size_t size = 16 + (p->seed >> 8) % 48;
		struct node *n = rc_new(sizeof(*n), "handed", node_dtor);
		if (!n)
			abort();
		n->payload = i;
		/* rc_new's reference goes to the consumer; the producer keeps
		 * one of its own until the next object holds the previous one
		 * (three times in four): objects die on either thread. */
		rc_retain(n);
		if (prev) {
			if (i % 4)
				rc_set(n, &n->prev, prev);
			rc_release(prev);
		}
		prev = n;
		void *block = malloc(size);
		if (!block)
			abort();
		memset(block, (int)i, size);
		push(&p->queue, (struct item){ n, block });
	}
	rc_release(prev);
	pthread_mutex_lock(&p->queue.lock);
	p->queue.done = 1;
	pthread_cond_broadcast(&p->queue.cond);
	pthread_mutex_unlock(&p->queue.lock);
	return NULL;
}

static void *consume(void *arg)
{
	struct pair *p = arg;
	struct item it;
	while (pop(&p->queue, &it)) {
		struct node *n = it.obj;
		rc_retain(n);
		p->consumed++;
		rc_release(n);
		rc_release(n);  /* the producer's reference */
		free(it.block);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int pairs = argc > 1 ? atoi(argv[1]) : 2;
	long items = argc > 2 ? atol(argv[2]) : 100000;
	if (pairs < 1 || pairs > 16 || items < 1)
		return 2;
	struct pair *ps = calloc((size_t)pairs, sizeof(*ps));
	pthread_t *th = calloc((size_t)pairs * 2, sizeof(*th));
	if (!ps || !th)
		return 1;
	for (int i = 0; i < pairs; i++) {
		pthread_mutex_init(&ps[i].queue.lock, NULL);
		pthread_cond_init(&ps[i].queue.cond, NULL);
		ps[i].items = items;
		ps[i].seed = 7u + (unsigned)i;
		pthread_create(&th[2 * i], NULL, produce, &ps[i]);
		pthread_create(&th[2 * i + 1], NULL, consume, &ps[i]);
	}
	long consumed = 0;
	for (int i = 0; i < 2 * pairs; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < pairs; i++)
		consumed += ps[i].consumed;
	printf("handoff: pairs=%d items=%ld consumed=%ld rc_new=%ld\n", pairs,
	       items, consumed, (long)pairs * items);
	free(th);
	free(ps);
	return 0;
}
