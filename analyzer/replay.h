/* replay.h - one analysis: a recording (with its parent chain) read,
 * merged and replayed into the heap model and rcobj.
 *
 * rcp_analyze() owns everything it opens; the report (report.h) borrows
 * from it, so free the report first, then the analysis.
 */
#ifndef RCPROF_REPLAY_H
#define RCPROF_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "dump_file.h"
#include "heap.h"
#include "modules.h"
#include "rcobj.h"
#include "stacks.h"
#include "strtab.h"
#include "suppress.h"
#include "symbolize.h"
#include "util.h"

#define RCP_PARENT_DEPTH 8      /* ancestors replayed at most */
#define RCP_SNAPSHOTS_KEEP 1000
#define RCP_FORKS_KEEP 64

struct rcp_options {
	unsigned thresholds[3];
	int quiet;                  /* no warnings on stderr */
	FILE *dump_events;          /* --dump-events: print every event here */
	int no_parents;             /* don't open parent dumps (fuzzing) */
	struct rcp_supp *user_supp; /* extra suppressions, may be NULL */
};

void rcp_options_default(struct rcp_options *o);

struct rcp_snapshot {
	uint32_t label;
	uint64_t ts;
	uint64_t seq;
	uint32_t tid;
};

struct rcp_analysis {
	struct rcp_options opt;
	struct rcp_diag diag;
	struct rcp_dump dump;
	size_t nparents;                /* opened ancestors, nearest first */
	struct rcp_dump parents[RCP_PARENT_DEPTH];
	int parent_unreadable;          /* history before the fork unknown */
	char *parent_error;

	struct rcp_strtab strs;
	struct rcp_stacks stacks;
	struct rcp_modules mods;
	struct rcp_heap heap;
	struct rcp_symbolizer *sym;
	struct rcobj *rc;
	const struct rcobj_results *res;

	uint64_t seq;                   /* events replayed, parents included */
	uint64_t events;                /* events of this dump */
	uint64_t counts[RCP_EV__COUNT];         /* of this dump, per kind */
	uint64_t parent_counts[RCP_EV__COUNT];  /* replayed from ancestors */
	uint64_t lost[RCP_EV__COUNT];           /* LOST events, per kind */
	uint64_t lost_other;
	uint64_t threads;               /* THREAD events */
	uint64_t nthreads;              /* threads with events in this dump */
	uint32_t fatal_signal;
	size_t nforks;
	uint32_t forks[RCP_FORKS_KEEP];
	size_t nsnap, cap_snap;
	struct rcp_snapshot *snaps;
	uint64_t first_ts, last_ts;
};

/* Reads and replays the recording at path.  0, or a negative errno with
 * a one-line reason (no prefix) in err: the dump cannot be read at all. */
int rcp_analyze(struct rcp_analysis *a, const char *path,
		const struct rcp_options *opt, char *err, size_t errlen);
/* Same for a dump in memory (no ring, no parents). */
int rcp_analyze_mem(struct rcp_analysis *a, const void *buf, size_t len,
		    const struct rcp_options *opt, char *err, size_t errlen);
void rcp_analysis_free(struct rcp_analysis *a);

#endif /* RCPROF_REPLAY_H */
