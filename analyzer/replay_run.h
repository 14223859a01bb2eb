/* replay_run.h - the replay of a run of heap events taken straight from
 * the stream that the merge is in the middle of (see replay_run.c).
 */
#ifndef RCPROF_REPLAY_RUN_H
#define RCPROF_REPLAY_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "replay.h"
#include "streams.h"

/* Replays the MALLOC, FREE and REALLOC_FROM/TO events that come next in
 * the merge m (rcp_merge_run) with ts < until, exactly as the generic
 * dispatch would (no event is printed), and leaves the rest to
 * rcp_merge_fill.  counts: per kind, own: counted as this dump's events.
 * Sets *ran to how many it replayed.  0, or -ENOMEM from the heap. */
int rcp_replay_run(struct rcp_analysis *a, struct rcp_merge *m,
		   uint64_t until, uint64_t *counts, int own, size_t *ran);

#endif /* RCPROF_REPLAY_RUN_H */
