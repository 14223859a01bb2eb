/* rcobj_int.h - rcobj's internal state, shared by rcobj.c (events and
 * misuse), rcobj_edges.c (slots), rcobj_suspect.c (suspect histories),
 * gc.c (the generational collector), gc_scc.c (cycles) and gc_report.c
 * (the final pass and the results).
 *
 * Glossary
 *   pool      - every object lives in r->pool and is named by its index
 *               (uint32), never by a pointer: the pool grows by realloc.
 *   tag       - bumped each time a pool entry is freed.  An edge stores
 *               (index, tag) of its target, so an edge to an object that
 *               was freed (and whose entry may now hold another object) is
 *               recognised as dangling and ignored: freeing an object drops
 *               every edge to it without a reverse index.
 *   list      - doubly linked through obj.prev/next: the three generations
 *               and the found set (garbage found by a generational
 *               collection), like CPython's gc lists.
 *   found     - garbage a generational collection found.  It stays out of
 *               later collections; its edges are counted in the targets'
 *               found_in so that they don't pass for outside references.
 *   drop      - the last release of an object that left its count > 0,
 *               and whether it was the release of an rc_set()/note_edge
 *               that overwrote or cleared a slot (and of which owner).
 *               The culprit of a cycle is chosen among drops.
 */
#ifndef RCPROF_RCOBJ_INT_H
#define RCPROF_RCOBJ_INT_H

#include <stddef.h>
#include <stdint.h>

#include "rco_map.h"
#include "rcobj.h"

#define RCO_NIL UINT32_MAX

/* obj.gen: which list holds the object. */
enum {
	RCO_GEN_FOUND = 3,
	RCO_GEN_FREE = 4,       /* entry on the pool's free list */
	RCO_NLISTS = 4,
};

enum {
	RCO_F_UNREACH = 0x01,   /* tentatively unreachable (move_unreachable) */
	RCO_F_GARBAGE = 0x02,   /* the final pass found it garbage */
	RCO_F_DROP = 0x04,      /* obj.drop is valid */
	RCO_F_DROP_EDGE = 0x08, /* obj.drop came with an edge overwrite/clear */
	RCO_F_MARK = 0x10,      /* scratch for traversals */
	RCO_F_CYCLIC = 0x20,    /* member of a non-trivial SCC (final pass) */
};

/* A declared edge: the slot at owner + slot_off holds target. */
struct rco_edge {
	int64_t slot_off;
	uint32_t target;        /* pool index */
	uint32_t tag;           /* target's tag when the edge was set */
};

struct rco_drop {
	struct rcp_where at;
	uint32_t owner;         /* pool index of the slot's owner (DROP_EDGE),
				   RCO_NIL: not a tracked object */
	uint32_t owner_tag;
};

struct rco_obj {
	uint64_t addr;
	uint64_t size;
	int64_t count;
	int64_t gc_refs;        /* scratch of a pass; local id in gc_scc.c */
	struct rco_edge *edges; /* sorted by slot_off, at most one per slot */
	uint32_t nedges, capedges;
	uint32_t type;
	uint32_t alloc_stack;
	uint32_t tag;
	uint32_t prev, next;    /* list links (or free-list link) */
	uint32_t found_in;      /* edges from found objects to this one */
	uint32_t find;          /* 1 + index in r->finds, 0: not found */
	uint32_t susp;          /* 1 + index in r->susp, 0: not a suspect */
	uint8_t gen;            /* 0..2, RCO_GEN_FOUND, RCO_GEN_FREE */
	uint8_t flags;          /* RCO_F_* */
	struct rco_drop drop;
};

struct rco_list {
	uint32_t head, tail;
	uint64_t n;
};

/* A collection that found garbage. */
struct rco_find {
	int gen;
	uint64_t collection;    /* 1-based */
	uint64_t ts;
};

/* Quarantine entry: a recently freed object, for misuse reports. */
struct rco_qent {
	uint64_t addr;          /* 0: unused */
	uint32_t type;
	struct rcp_where at;    /* its free */
};
#define RCO_QUARANTINE (1u << 16)

/* Per thread: the slot overwrite/clear whose release of the old value has
 * not been seen yet (rc_set reports the edge, then releases the old
 * value, on the same thread). */
/* The releases of a thread that dropped a count to 0 with a backtrace
 * (RCPROF_FREE_STACKS), newest last, until their object's free: that
 * release is where the object was freed.  A destructor's releases nest. */
#define RCO_ZERO_NEST 16

struct rco_zero {
	uint32_t idx, tag;      /* the object (a later one at its address
				 * has another tag) */
	struct rcp_where at;
};

struct rco_pending {
	uint32_t target, target_tag;
	uint32_t owner, owner_tag;
	struct rcp_where at;
	int valid;
	uint32_t nzero;
	struct rco_zero zero[RCO_ZERO_NEST];
};

/* Suspect object: its unmatched retains, as a LIFO of stack ids. */
struct rco_susp {
	uint32_t *stacks;
	uint32_t n, cap;
	uint32_t next_free;     /* free-list link when unused */
};

/* Clock skew between threads (rcobj_skew.c).  The recorder stamps
 * refcount events with a plain RDTSC, which may read the counter a few
 * hundred cycles before the load that handed this thread the object
 * completed; and a release is stamped before its decrement, so two
 * threads' releases of one object may sort in either order.  Either way
 * the inversion is far below RCO_SKEW_NS, and only between threads. */
#define RCO_SKEW_NS 10000u
#define RCO_DEFER_MAX 4096u

enum rco_op { RCO_OP_RETAIN = 1, RCO_OP_RELEASE, RCO_OP_FREE };

/* An event about an address that held no live object: an error, unless
 * another thread creates an object there within RCO_SKEW_NS (the event
 * was stamped before the creation it depends on); then it is replayed
 * on that object. */
struct rco_defer {
	enum rco_op op;
	int64_t count;                  /* count_after of a retain/release */
	struct rcp_error err;           /* the error it is otherwise */
};

#define RCO_MAX_ERRORS (1u << 20)
#define RCO_MAX_FOREIGN (1u << 20)

struct rcobj {
	struct rcobj_config cfg;

	/* objects */
	struct rco_obj *pool;
	uint32_t npool, cappool;
	uint32_t free_head;             /* free list through obj.next */
	struct rco_map live;            /* addr -> pool index */
	struct rco_list lists[RCO_NLISTS];

	/* generational state (CPython's generations[i].count) */
	uint64_t gen_count[3];
	uint64_t ncollections;
	struct rcobj_gen_stats gstats[3];
	struct rco_find *finds;
	size_t nfinds, capfinds;

	/* misuse */
	struct rco_qent *quarantine;    /* ring, grows up to RCO_QUARANTINE */
	uint32_t qcap;
	uint32_t qnext;
	struct rco_map qmap;            /* addr -> ring position */
	struct rcp_error *errors;
	size_t nerrors, caperrors;
	uint64_t errors_dropped;
	uint64_t unsure_from;           /* see rcobj_set_unsure_from */
	uint64_t errors_unsure;
	struct rco_defer *defer;        /* oldest first */
	uint32_t ndefer, capdefer;
	int redo;                       /* replaying deferred events */
	uint64_t reordered;             /* results.reordered */
	int counts_recorded;            /* events were lost: trust count_after */

	/* culprit tracking */
	struct rco_map foreign;         /* slot address of an untracked owner
					   -> target | target tag << 32 */
	struct rco_map pend_by_tid;     /* tid -> index in pend */
	struct rco_pending *pend;
	size_t npend, cappend;

	/* suspects */
	struct rco_map suspect_types;   /* type id -> 1 */
	struct rco_susp *susp;
	uint32_t nsusp, capsusp, susp_free;
	uint64_t suspect_objects;
	uint64_t suspect_events;

	/* scratch stack of pool indices (unmarking found objects) */
	uint32_t *stk;
	size_t capstk;

	uint64_t created;
	int oom;                        /* an allocation failed: best effort */
	int finished;

	/* results (gc_report.c) */
	struct rcobj_results res;
	struct rco_map type_hash_memo;
	struct rco_map stack_hash_memo;
};

/* rcobj.c: the quarantine entry of a recent free of addr, or NULL. */
const struct rco_qent *rco_q_lookup(const struct rcobj *r, uint64_t addr);

/* rcobj_skew.c */
void rco_add_error(struct rcobj *r, const struct rcp_error *e);
/* Not live: report, hold (see struct rco_defer) or, for a late event of
 * an object another thread freed within the skew, drop. */
void rco_not_live(struct rcobj *r, enum rco_op op, uint64_t addr,
		  int64_t count, const struct rcp_where *at);
/* An object was created at addr: replay the events held for it, and
 * report those that waited longer than the skew. */
void rco_defer_on_new(struct rcobj *r, uint64_t addr, const struct rcp_where *at);
/* At the end: report every held event, errors in event order. */
void rco_defer_finish(struct rcobj *r);

static inline struct rco_obj *rco_obj(const struct rcobj *r, uint32_t idx)
{
	return &r->pool[idx];
}

/* Is the edge's target still the object it was set to? */
static inline int rco_edge_valid(const struct rcobj *r, const struct rco_edge *e)
{
	const struct rco_obj *t = &r->pool[e->target];
	return t->gen != RCO_GEN_FREE && t->tag == e->tag;
}

/* lists (gc.c) */
void rco_list_append(struct rcobj *r, struct rco_list *l, uint32_t idx);
void rco_list_unlink(struct rcobj *r, struct rco_list *l, uint32_t idx);
void rco_list_splice(struct rcobj *r, struct rco_list *to, struct rco_list *from);

/* collector (gc.c) */
void rco_gc_on_alloc(struct rcobj *r, const struct rcp_where *w);
void rco_gc_on_dealloc(struct rcobj *r);
void rco_gc_unmark_found(struct rcobj *r, uint32_t idx);
/* Final full pass: flags every garbage object RCO_F_GARBAGE and returns
 * them in *out (malloc'd pool indices, in pool order).  0 or -ENOMEM. */
int rco_gc_full(struct rcobj *r, uint32_t **out, size_t *nout);

/* edges (rcobj_edges.c) */
struct rco_edge *rco_slot_find(struct rco_obj *o, int64_t slot_off);
int rco_slot_set(struct rco_obj *o, int64_t slot_off, uint32_t target,
		 uint32_t tag);
void rco_slot_clear(struct rco_obj *o, int64_t slot_off);

/* suspects (rcobj_suspect.c) */
void rco_susp_on_new(struct rcobj *r, uint32_t idx, uint32_t stack);
void rco_susp_on_retain(struct rcobj *r, uint32_t idx, uint32_t stack);
void rco_susp_on_release(struct rcobj *r, uint32_t idx);
void rco_susp_drop(struct rcobj *r, uint32_t idx);
void rco_susp_free_all(struct rcobj *r);
int rco_susp_report(struct rcobj *r);

/* cycles (gc_cycle.c) */
void rco_cycles_free(struct rcobj *r);

/* hashing through cfg.hasher, memoized (gc_report.c) */
uint64_t rco_type_hash(struct rcobj *r, uint32_t type);
uint64_t rco_stack_hash(struct rcobj *r, uint32_t stack);

#endif /* RCPROF_RCOBJ_INT_H */
