/* rcobj.h - refcounted objects: replay, the generational cycle collector,
 * and what it found.
 *
 * The replay driver (replay.c) feeds every refcount event of the merged
 * event stream, in ts order, to this module.  rcobj keeps the live objects
 * with their count and declared edges, detects misuse, keeps the history
 * of suspect types, runs CPython's generational collection at the
 * allocation thresholds, and at the end (rcobj_finish) a full pass whose
 * results the emitters render.
 *
 * Conventions
 *   - Addresses are the program's addresses (uint64_t).
 *   - Types and labels are canonical string ids (struct rcp_strtab, equal
 *     names have equal ids); 0 = unknown.
 *   - Stacks are stack ids of the dump (0 = none); the report resolves them.
 *   - `struct rcp_where` says when and where an event happened.
 *   Memory must stay proportional to live objects (+ suspect histories),
 *   never to the number of events.
 */
#ifndef RCPROF_RCOBJ_H
#define RCPROF_RCOBJ_H

#include <stddef.h>
#include <stdint.h>

struct rcp_where {
	uint64_t ts;            /* CLOCK_MONOTONIC ns */
	uint64_t seq;           /* index of the event in the merged stream */
	uint32_t tid;
	uint32_t stack;         /* 0 = no backtrace recorded */
};

enum rcp_error_kind {
	RCP_ERR_RELEASE_FREED = 1,  /* release of an object already freed */
	RCP_ERR_RETAIN_FREED,       /* retain of an object already freed */
	RCP_ERR_NEGATIVE_COUNT,     /* count went below zero */
	RCP_ERR_EDGE_FREED,         /* edge set on/to a freed object */
	RCP_ERR_RC_DOUBLE_FREE,     /* rc object freed twice */
	RCP_ERR_DOUBLE_FREE,        /* heap block freed twice */
	RCP_ERR_INVALID_FREE,       /* free of a pointer never allocated */
	RCP_ERR_UNKNOWN_OBJECT,     /* retain/release of an object never created */
};

struct rcp_error {
	enum rcp_error_kind kind;
	uint64_t addr;
	uint32_t type;              /* string id, 0 if not a refcounted object */
	struct rcp_where at;        /* the bad call */
	struct rcp_where earlier;   /* the earlier free, when known */
	int has_earlier;
};

/* Hooks the replay side provides so rcobj can build stable signatures
 * without knowing about symbols: a hash of the symbolized allocation site
 * (function names/source lines of the first frames outside the runtime,
 * never raw addresses), and of a type name. */
struct rcobj_site_hasher {
	void *ud;
	uint64_t (*stack_hash)(void *ud, uint32_t stack);
	uint64_t (*string_hash)(void *ud, uint32_t string_id);
};

struct rcobj_config {
	unsigned thresholds[3];     /* CPython: 700, 10, 10 */
	struct rcobj_site_hasher hasher;
	/* Objects alive at the start (inherited from a parent process whose
	 * history was unreadable): don't report retain/release of unknown
	 * objects as errors when set. */
	int tolerate_unknown;
};

/* ---- results ------------------------------------------------------------ */

struct rcobj_member {
	uint64_t addr;
	uint32_t type;
	uint32_t alloc_stack;
	uint64_t size;
	int64_t refcount;           /* count at the end */
	int in_cycle;               /* 1 = member of a strongly connected
				       component with an edge cycle; 0 = only
				       kept alive by such members */
};

struct rcobj_edge {
	uint64_t owner;
	int64_t slot_off;           /* slot - owner */
	uint64_t target;
};

struct rcobj_cycle {
	uint64_t signature;         /* stable across runs and rebuilds */
	size_t nmembers;            /* members sorted canonically */
	struct rcobj_member *members;
	size_t nedges;              /* edges between members */
	struct rcobj_edge *edges;
	uint64_t bytes;             /* sum of member sizes */
	/* The release that made it garbage: the last event after which
	 * nothing outside the garbage referred to it. */
	int has_culprit;
	struct rcp_where culprit;
	uint64_t culprit_obj;       /* the object it released */
	int culprit_is_edge_clear;  /* it was rc_set()/note_edge replacing or
				       clearing a slot, not a plain release */
	/* Which collection of the generational replay would have found it:
	 * generation 0..2, and the ts/index of that collection; found_gen =
	 * -1 when only the final full pass found it (became garbage after the
	 * last collection). */
	int found_gen;
	uint64_t found_ts;
	uint64_t found_collection;  /* 1-based collection number */
};

struct rcobj_unreleased {
	uint32_t type;
	uint32_t alloc_stack;
	size_t count;
	uint64_t bytes;
	uint64_t example_addr;
};

/* Suspect types: call sites whose retains were never released. */
struct rcobj_suspect_site {
	uint32_t type;
	uint32_t stack;             /* stack of the unmatched retain (or new) */
	size_t unmatched;           /* references taken here and never dropped */
	size_t objects;             /* distinct leaked objects involved */
};

struct rcobj_gen_stats {
	uint64_t collections;
	uint64_t collected;         /* objects found to be garbage */
	uint64_t uncollectable;     /* 0: kept for CPython parity */
};

struct rcobj_results {
	uint64_t rc_objects;        /* created */
	uint64_t garbage_objects;   /* cycle members + what only they keep */
	uint64_t unreleased_objects;
	size_t ncycles;
	struct rcobj_cycle *cycles;         /* most bytes first */
	size_t nunreleased;
	struct rcobj_unreleased *unreleased; /* most objects first */
	size_t nsuspect_sites;
	struct rcobj_suspect_site *suspect_sites;
	size_t nerrors;
	struct rcp_error *errors;
	struct rcobj_gen_stats gens[3];
	uint64_t live_at_end;       /* rc objects not freed */
	/* Added after the first version of this header. */
	uint64_t collections;       /* generational collections run (the final
				       full pass not included) */
	uint64_t suspect_objects;   /* objects whose history was kept */
	uint64_t suspect_events;    /* retains/releases/news in those histories */
	uint64_t errors_dropped;    /* misuse beyond the first 1 M not stored */
	uint64_t errors_unsure;     /* misuse after missing events, not
				       reported (rcobj_set_unsure_from) */
	int incomplete;             /* memory ran out during the replay: the
				       results are best effort */
	uint64_t reordered;         /* retains/releases/frees of one thread
				       stamped a little before or after another
				       thread's event they depend on, put back
				       in order (rcobj_skew.c) */
};

/* ---- API ---------------------------------------------------------------- */

struct rcobj;

/* Events are missing after time ts (a gap in the dump): misuse seen
 * after it may be explained by them, so it is counted
 * (results.errors_unsure) but not reported. */
void rcobj_set_unsure_from(struct rcobj *r, uint64_t ts);
struct rcobj *rcobj_create(const struct rcobj_config *cfg);
void rcobj_destroy(struct rcobj *r);

/* count is the initial count; size the object size. */
void rcobj_on_new(struct rcobj *r, uint64_t obj, uint64_t size, uint32_t type,
		  int64_t count, const struct rcp_where *w);
/* count_after may be RCP_COUNT_UNKNOWN (rcprof_dump.h): then the replayed
 * count is used. */
void rcobj_on_retain(struct rcobj *r, uint64_t obj, int64_t count_after,
		     const struct rcp_where *w);
void rcobj_on_release(struct rcobj *r, uint64_t obj, int64_t count_after,
		      const struct rcp_where *w);
void rcobj_on_free(struct rcobj *r, uint64_t obj, const struct rcp_where *w);
/* Refcount events were lost (a LOST record): counts are taken from the
 * events' count_after from now on instead of being replayed. */
void rcobj_on_lost(struct rcobj *r);
/* target 0 clears the slot. */
void rcobj_on_edge(struct rcobj *r, uint64_t owner, int64_t slot_off,
		   uint64_t target, const struct rcp_where *w);
void rcobj_on_suspect(struct rcobj *r, uint32_t type);
void rcobj_on_snapshot(struct rcobj *r, uint32_t label, const struct rcp_where *w);

/* Prefetch hints for an event about obj that will be replayed soon, in
 * two stages a few events apart (replay.c): stage 1 pulls in the address
 * table's cell (and, for a new or freed object, the quarantine's), stage 2
 * reads that cell - by then cached - and pulls in the object itself.  The
 * table is bigger than the cache for large graphs, and the object is a
 * second dependent miss that stage 1 cannot reach.  Hints only: nothing
 * changes, and a wrong guess only costs a useless prefetch. */
void rcobj_prefetch(const struct rcobj *r, uint64_t obj, int quarantine);
void rcobj_prefetch_obj(const struct rcobj *r, uint64_t obj);

/* Is addr a live refcounted object?  (The heap side uses it to leave rc
 * objects out of the plain leaks.) */
int rcobj_is_live(const struct rcobj *r, uint64_t obj);

/* End of the stream: final full collection, grouping, sorting.  The
 * results stay owned by r.  Events after it are ignored; calling it again
 * returns the same results.  NULL only when memory ran out. */
const struct rcobj_results *rcobj_finish(struct rcobj *r);

#endif /* RCPROF_RCOBJ_H */
