/* rcsim.h - a model of the librc runtime driving rcobj, for the collector
 * tests.  It keeps its own counts and slots (independent of rcobj), emits
 * the events librc would (rc_set: retain new, edge, release old; a release
 * to zero runs a "destructor" that clears every slot, then frees), and can
 * compute, by brute force after every event, which objects are garbage:
 * alive iff reachable through slots from an object whose count exceeds its
 * number of incoming slots (or is <= 0: dying, not leaked).
 *
 * Objects are ids 0..n-1 at address base + id * stride; slot k of an
 * object is at offset 8 + 8k.  The "static holder" is a struct that is not
 * an rc object (its slots are outside references). */
#ifndef RCPROF_TEST_RCSIM_H
#define RCPROF_TEST_RCSIM_H

#include <stdint.h>
#include <string.h>

#include "rcobj.h"
#include "rcprof_dump.h"

#define SIM_MAX 64
#define SIM_SLOTS 4
#define SIM_MAX_EV 8192
#define SIM_STATIC_ADDR 0x1000u

enum { SIM_EV_NEW = 1, SIM_EV_RETAIN, SIM_EV_RELEASE, SIM_EV_FREE, SIM_EV_EDGE };

struct sim_ev {
	int kind;
	int obj;                /* id, or -1 (static owner) */
	int paired;             /* release of an rc_set's old value */
};

struct sim {
	struct rcobj *r;
	uint64_t seq;           /* last seq used; events start at 1 */
	uint32_t tid;
	int report_counts;      /* pass count_after instead of UNKNOWN */
	int track;              /* brute force after every event */
	int n;
	uint64_t base, stride;
	int64_t count[SIM_MAX];
	int freed[SIM_MAX];
	uint32_t type[SIM_MAX];
	int slot[SIM_MAX][SIM_SLOTS];
	int stat_slot[SIM_SLOTS];
	struct sim_ev ev[SIM_MAX_EV];
	uint64_t garbage_after[SIM_MAX_EV];
};

static inline void sim_init(struct sim *s, struct rcobj *r, uint64_t base,
			    uint64_t stride)
{
	memset(s, 0, sizeof(*s));
	s->r = r;
	s->tid = 1;
	s->base = base;
	s->stride = stride;
	for (int k = 0; k < SIM_SLOTS; k++)
		s->stat_slot[k] = -1;
}

static inline uint64_t sim_addr(const struct sim *s, int id)
{
	return s->base + (uint64_t)id * s->stride;
}

static inline int64_t sim_off(int k)
{
	return 8 + 8 * k;
}

/* Brute force: the mask of live objects that are garbage now. */
static inline uint64_t sim_garbage(const struct sim *s)
{
	int indeg[SIM_MAX] = {0};
	for (int i = 0; i < s->n; i++)
		if (!s->freed[i])
			for (int k = 0; k < SIM_SLOTS; k++)
				if (s->slot[i][k] >= 0)
					indeg[s->slot[i][k]]++;
	uint64_t alive = 0;
	int queue[SIM_MAX], qt = 0;
	for (int i = 0; i < s->n; i++) {
		if (s->freed[i])
			continue;
		if (s->count[i] <= 0 || s->count[i] > indeg[i]) {
			alive |= 1ull << i;
			queue[qt++] = i;
		}
	}
	for (int qh = 0; qh < qt; qh++)
		for (int k = 0; k < SIM_SLOTS; k++) {
			int t = s->slot[queue[qh]][k];
			if (t >= 0 && !(alive >> t & 1)) {
				alive |= 1ull << t;
				queue[qt++] = t;
			}
		}
	uint64_t live = 0;
	for (int i = 0; i < s->n; i++)
		if (!s->freed[i])
			live |= 1ull << i;
	return live & ~alive;
}

static inline struct rcp_where sim_at(struct sim *s, uint32_t stack, int kind,
				      int obj, int paired)
{
	s->seq++;
	if (s->seq < SIM_MAX_EV)
		s->ev[s->seq] = (struct sim_ev){ kind, obj, paired };
	return (struct rcp_where){ .ts = s->seq * 10, .seq = s->seq,
				   .tid = s->tid, .stack = stack };
}

static inline void sim_after(struct sim *s)
{
	if (s->track && s->seq < SIM_MAX_EV)
		s->garbage_after[s->seq] = sim_garbage(s);
}

static inline int sim_new(struct sim *s, uint32_t type, uint32_t stack)
{
	int id = s->n++;
	s->count[id] = 1;
	s->type[id] = type;
	for (int k = 0; k < SIM_SLOTS; k++)
		s->slot[id][k] = -1;
	struct rcp_where w = sim_at(s, stack, SIM_EV_NEW, id, 0);
	rcobj_on_new(s->r, sim_addr(s, id), 48, type, 1, &w);
	sim_after(s);
	return id;
}

static inline void sim_retain(struct sim *s, int id, uint32_t stack)
{
	s->count[id]++;
	struct rcp_where w = sim_at(s, stack, SIM_EV_RETAIN, id, 0);
	rcobj_on_retain(s->r, sim_addr(s, id),
			s->report_counts ? s->count[id] : RCP_COUNT_UNKNOWN, &w);
	sim_after(s);
}

static inline void sim_set(struct sim *s, int owner, int k, int target,
			   uint32_t stack);

static inline void sim_release_x(struct sim *s, int id, uint32_t stack,
				 int paired)
{
	s->count[id]--;
	struct rcp_where w = sim_at(s, stack, SIM_EV_RELEASE, id, paired);
	rcobj_on_release(s->r, sim_addr(s, id),
			 s->report_counts ? s->count[id] : RCP_COUNT_UNKNOWN, &w);
	sim_after(s);
	if (s->count[id] != 0)
		return;
	/* the destructor clears the slots, then the object is freed */
	for (int k = 0; k < SIM_SLOTS; k++)
		if (s->slot[id][k] >= 0)
			sim_set(s, id, k, -1, stack);
	s->freed[id] = 1;
	w = sim_at(s, stack, SIM_EV_FREE, id, 0);
	rcobj_on_free(s->r, sim_addr(s, id), &w);
	sim_after(s);
}

static inline void sim_release(struct sim *s, int id, uint32_t stack)
{
	sim_release_x(s, id, stack, 0);
}

/* rc_set(owner, &owner->slot[k], target); owner -1 = the static holder. */
static inline void sim_set(struct sim *s, int owner, int k, int target,
			   uint32_t stack)
{
	if (target >= 0)
		sim_retain(s, target, stack);
	int *slot = owner >= 0 ? &s->slot[owner][k] : &s->stat_slot[k];
	int old = *slot;
	*slot = target;
	struct rcp_where w = sim_at(s, stack, SIM_EV_EDGE, owner, 0);
	rcobj_on_edge(s->r, owner >= 0 ? sim_addr(s, owner) : SIM_STATIC_ADDR,
		      sim_off(k), target >= 0 ? sim_addr(s, target) : 0, &w);
	sim_after(s);
	if (old >= 0)
		sim_release_x(s, old, stack, 1);
}

/* A destructor that drops its references with plain releases (no slot
 * clearing), as a program with its own refcounting might: the free must
 * drop the owner's edges. */
static inline void sim_free_plain(struct sim *s, int id, uint32_t stack)
{
	int kids[SIM_SLOTS], n = 0;
	for (int k = 0; k < SIM_SLOTS; k++) {
		if (s->slot[id][k] >= 0)
			kids[n++] = s->slot[id][k];
		s->slot[id][k] = -1;
	}
	s->freed[id] = 1;
	s->count[id] = 0;
	for (int i = 0; i < n; i++)
		sim_release(s, kids[i], stack);
	struct rcp_where w = sim_at(s, stack, SIM_EV_FREE, id, 0);
	rcobj_on_free(s->r, sim_addr(s, id), &w);
	sim_after(s);
}

#endif /* RCPROF_TEST_RCSIM_H */
