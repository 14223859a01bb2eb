/* stacks.c - the stack table (see stacks.h): a uthash map of the recorded
 * stacks, one entry per distinct id, so memory grows with distinct
 * backtraces, never with events. */
#include <errno.h>
#include <stdlib.h>
#include <uthash.h>

#include "stacks.h"

struct rcp_stack_ent {
	struct rcp_stack st;
	UT_hash_handle hh;
};

void rcp_stacks_init(struct rcp_stacks *t)
{
	memset(t, 0, sizeof(*t));
}

void rcp_stacks_free(struct rcp_stacks *t)
{
	struct rcp_stack_ent *e, *tmp;

	HASH_ITER(hh, t->map, e, tmp) {
		HASH_DEL(t->map, e);
		free(e->st.ips);
		free(e);
	}
	memset(t, 0, sizeof(*t));
}

int rcp_stacks_define(struct rcp_stacks *t, uint64_t id, uint64_t ts,
		      const uint64_t *ips, size_t n)
{
	struct rcp_stack_ent *e;

	if (id == 0)
		return 0;
	HASH_FIND(hh, t->map, &id, sizeof(id), e);
	if (e)
		return 0;
	if (n > RCP_STACK_MAX_FRAMES)
		n = RCP_STACK_MAX_FRAMES;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	if (n) {
		e->st.ips = malloc(n * sizeof(*ips));
		if (!e->st.ips) {
			free(e);
			return -ENOMEM;
		}
		memcpy(e->st.ips, ips, n * sizeof(*ips));
	}
	e->st.id = id;
	e->st.ts = ts;
	e->st.n = (uint32_t)n;
	HASH_ADD(hh, t->map, st.id, sizeof(e->st.id), e);
	t->n++;
	return 0;
}

struct rcp_stack *rcp_stacks_get(const struct rcp_stacks *t, uint64_t id)
{
	struct rcp_stack_ent *e;

	if (id == 0)
		return NULL;
	HASH_FIND(hh, t->map, &id, sizeof(id), e);
	return e ? &e->st : NULL;
}
