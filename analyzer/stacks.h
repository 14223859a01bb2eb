/* stacks.h - STACK definitions: stack id -> instruction pointers.
 *
 * A stack may be defined after the events that use it, even in another
 * stream, so ids are resolved at report time, never during the replay.
 * Frame 0 is the innermost caller; frames 1.. are return addresses.
 */
#ifndef RCPROF_STACKS_H
#define RCPROF_STACKS_H

#include <stddef.h>
#include <stdint.h>

#define RCP_STACK_MAX_FRAMES 128

struct rcp_stack {
	uint64_t id;
	uint64_t ts;            /* when it was defined (module lookup) */
	uint32_t n;
	int hashed;
	uint64_t hash;          /* site hash cache (symbolize.c) */
	uint64_t *ips;
};

struct rcp_stack_ent;

struct rcp_stacks {
	struct rcp_stack_ent *map;
	size_t n;
};

void rcp_stacks_init(struct rcp_stacks *t);
void rcp_stacks_free(struct rcp_stacks *t);
/* A STACK event (the first definition of an id wins).  0 or -ENOMEM. */
int rcp_stacks_define(struct rcp_stacks *t, uint64_t id, uint64_t ts,
		      const uint64_t *ips, size_t n);
/* NULL when the id was never defined. */
struct rcp_stack *rcp_stacks_get(const struct rcp_stacks *t, uint64_t id);

#endif /* RCPROF_STACKS_H */
