/* leaky.c - one finding of every kind the report gates on, for the
 * suppression, SARIF, DOT and folded tests: a two-node "node" cycle made
 * garbage by drop_ring, an unreleased "conn", a plain leak in leak_buffer,
 * and with argument "more" a second leak in leak_more. */
#include <stdlib.h>
#include <string.h>

#include "rcprof.h"

struct node {
	struct node *next;
	char pad[24];
};

static __attribute__((noinline)) struct node *make_ring(void)
{
	struct node *a = rc_new(sizeof(*a), "node", NULL);
	struct node *b = rc_new(sizeof(*b), "node", NULL);
	rc_set(a, &a->next, b);
	rc_set(b, &b->next, a);
	rc_release(b);
	return a;
}

static __attribute__((noinline)) void drop_ring(struct node *a)
{
	rc_release(a);
}

static __attribute__((noinline)) void *open_conn(void)
{
	void *c = rc_new(40, "conn", NULL);
	rc_retain(c);
	return c;
}

static __attribute__((noinline)) char *leak_buffer(void)
{
	char *p = malloc(100);
	memset(p, 1, 100);
	return p;
}

static __attribute__((noinline)) char *leak_more(void)
{
	return calloc(1, 33);
}

int main(int argc, char **argv)
{
	drop_ring(make_ring());
	rc_release(open_conn());
	char *volatile p = leak_buffer();
	if (argc > 1 && strcmp(argv[1], "more") == 0)
		p = leak_more();
	p = NULL;
	return 0;
}
