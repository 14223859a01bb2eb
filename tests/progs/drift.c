/* drift.c - the baseline-across-a-rebuild test program (t_baseline.sh).
 * The test records it, then prepends code to a copy (every line and
 * address moves) and rebuilds; with -DNEW_LEAK it also leaks in
 * fresh_leak. */
#include <stdlib.h>

#include "rcprof.h"

struct pair {
	struct pair *other;
};

static void *old_leak(void)
{
	return malloc(48);
}

#ifdef NEW_LEAK
static void *fresh_leak(void)
{
	return malloc(80);
}
#endif

static void make_cycle(void)
{
	struct pair *a = rc_new(sizeof(*a), "pair", NULL);
	struct pair *b = rc_new(sizeof(*b), "pair", NULL);
	rc_set(a, &a->other, b);
	rc_set(b, &b->other, a);
	rc_release(b);
	rc_release(a);
}

int main(void)
{
	void *volatile p = old_leak();
	make_cycle();
#ifdef NEW_LEAK
	p = fresh_leak();
#endif
	p = NULL;
	(void)p;
	return 0;
}
