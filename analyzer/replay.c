/* replay.c - drives an analysis: open the dump and its ancestors, merge
 * each one's streams by ts, and dispatch every event to the heap model
 * (heap.c), to rcobj (rcobj.h), or to the tables (strings, stacks,
 * modules).
 *
 * A forked child's history starts with its parent's: the ancestors'
 * events before the fork are replayed first, oldest ancestor first, so
 * inherited blocks, objects, strings and stacks are known.  When an
 * ancestor cannot be read, rcobj is told to tolerate unknown objects and
 * frees of unknown blocks are not flagged.
 *
 * Per event nothing is allocated: the merge hands out a decoded event that
 * points into the mapping, and the dispatch only updates tables.  Runs of
 * heap events skip the merge's batches and the dispatch: replay_run.c
 * decodes them straight into the heap model.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "replay.h"
#include "replay_run.h"
#include "streams.h"

void rcp_options_default(struct rcp_options *o)
{
	memset(o, 0, sizeof(*o));
	o->thresholds[0] = 700;
	o->thresholds[1] = 10;
	o->thresholds[2] = 10;
}

static uint32_t stack32(uint64_t id)
{
	return id <= UINT32_MAX ? (uint32_t)id : 0;
}

static void print_event(FILE *f, const struct rcp_event *ev)
{
	fprintf(f, "%" PRIu64 " %u%s %s", ev->ts, ev->tid,
		ev->nest ? "/sig" : "", rcp_kind_name(ev->kind));
	switch (ev->kind) {
	case RCP_EV_MALLOC:
		fprintf(f, " addr=0x%" PRIx64 " size=%" PRIu64 " stack=%" PRIu64
			" flavor=%" PRIu64, ev->addr, ev->size, ev->stack, ev->flavor);
		break;
	case RCP_EV_FREE:
	case RCP_EV_REALLOC_FROM:
	case RCP_EV_RC_FREE:
		fprintf(f, " addr=0x%" PRIx64, ev->addr);
		break;
	case RCP_EV_REALLOC_TO:
		fprintf(f, " addr=0x%" PRIx64 " size=%" PRIu64 " stack=%" PRIu64,
			ev->addr, ev->size, ev->stack);
		break;
	case RCP_EV_FREE_STACK:
		fprintf(f, " addr=0x%" PRIx64 " stack=%" PRIu64, ev->addr,
			ev->stack);
		break;
	case RCP_EV_RC_FREE_BLOCK:
		fprintf(f, " obj=0x%" PRIx64 " header=%" PRIu64, ev->addr,
			ev->header);
		break;
	case RCP_EV_RC_NEW:
	case RCP_EV_RC_NEW_BLOCK:
		fprintf(f, " obj=0x%" PRIx64 " size=%" PRIu64 " type=%" PRIu64
			" count=%" PRId64 " stack=%" PRIu64 " header=%" PRIu64,
			ev->addr, ev->size, ev->str, ev->count, ev->stack, ev->header);
		break;
	case RCP_EV_RC_RETAIN:
	case RCP_EV_RC_RELEASE:
		fprintf(f, " obj=0x%" PRIx64, ev->addr);
		if (ev->count == RCP_COUNT_UNKNOWN)
			fprintf(f, " count=?");
		else
			fprintf(f, " count=%" PRId64, ev->count);
		fprintf(f, " stack=%" PRIu64, ev->stack);
		break;
	case RCP_EV_EDGE:
		fprintf(f, " owner=0x%" PRIx64 " slot_off=%" PRId64, ev->addr,
			ev->slot_off);
		if (ev->has_target)
			fprintf(f, " target=0x%" PRIx64, ev->target);
		else
			fprintf(f, " target=none");
		break;
	case RCP_EV_SUSPECT:
	case RCP_EV_SNAPSHOT:
		fprintf(f, " string=%" PRIu64, ev->str);
		break;
	case RCP_EV_STACK: {
		uint64_t ips[RCP_STACK_MAX_FRAMES];
		size_t n = rcp_stack_frames(ev, ips, RCP_STACK_MAX_FRAMES);
		fprintf(f, " id=%" PRIu64 " n=%" PRIu64, ev->id, ev->n);
		for (size_t i = 0; i < n; i++)
			fprintf(f, " 0x%" PRIx64, ips[i]);
		break;
	}
	case RCP_EV_STRING:
		fprintf(f, " id=%" PRIu64 " \"", ev->id);
		for (uint64_t i = 0; i < ev->n; i++) {
			unsigned char c = ev->raw[i];
			if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
				fprintf(f, "\\x%02x", c);
			else
				fputc(c, f);
		}
		fputc('"', f);
		break;
	case RCP_EV_MODULE: {
		fprintf(f, " base=0x%" PRIx64 " path=%" PRIu64 " build_id=", ev->addr,
			ev->str);
		for (uint64_t i = 0; i < ev->n; i++)
			fprintf(f, "%02x", ev->raw[i]);
		uint64_t segs[2 * RCP_MODULE_SEGS];
		size_t n = rcp_module_segments(ev, segs, RCP_MODULE_SEGS);
		for (size_t i = 0; i < n; i++)
			fprintf(f, " seg=0x%" PRIx64 "+0x%" PRIx64, segs[2 * i],
				segs[2 * i + 1]);
		break;
	}
	case RCP_EV_MODULE_UNMAP:
		fprintf(f, " base=0x%" PRIx64, ev->addr);
		break;
	case RCP_EV_THREAD:
		fprintf(f, " parent_tid=%" PRIu64, ev->id);
		break;
	case RCP_EV_FORK:
		fprintf(f, " child_pid=%" PRIu64, ev->id);
		break;
	case RCP_EV_SIGNAL:
		fprintf(f, " signo=%" PRIu64, ev->id);
		break;
	case RCP_EV_LOST:
		fprintf(f, " kind=%s n=%" PRIu64, rcp_kind_name((unsigned)ev->id), ev->n);
		break;
	}
	fputc('\n', f);
}

static int add_module(struct rcp_analysis *a, const struct rcp_event *ev)
{
	struct rcp_module m;
	uint64_t segs[2 * RCP_MODULE_SEGS];

	memset(&m, 0, sizeof(m));
	m.base = ev->addr;
	m.path = rcp_strtab_canon(&a->strs, ev->str);
	if (ev->n <= RCP_BUILD_ID_MAX) {
		m.build_id_len = (uint32_t)ev->n;
		memcpy(m.build_id, ev->raw, ev->n);
	}
	m.nseg = (uint32_t)rcp_module_segments(ev, segs, RCP_MODULE_SEGS);
	memcpy(m.seg, segs, m.nseg * 2 * sizeof(uint64_t));
	m.map_ts = ev->ts;
	m.unmap_ts = UINT64_MAX;
	return rcp_modules_add(&a->mods, &m);
}

/* One event.  Only table growth can fail (-ENOMEM). */
static int dispatch(struct rcp_analysis *a, const struct rcp_event *ev)
{
	struct rcp_where w = { ev->ts, a->seq++, ev->tid, stack32(ev->stack) };
	int rc = 0;

	if (a->opt.dump_events)
		print_event(a->opt.dump_events, ev);
	switch (ev->kind) {
	case RCP_EV_MALLOC:
		rc = rcp_heap_alloc(&a->heap, ev->addr, ev->size, &w);
		break;
	case RCP_EV_REALLOC_TO:
		rc = rcp_heap_alloc(&a->heap, ev->addr, ev->size, &w);
		rcp_heap_realloc_to(&a->heap, w.tid, w.stack);
		break;
	case RCP_EV_FREE:
	case RCP_EV_FREE_STACK:
		rcp_heap_release(&a->heap, ev->addr, &w);
		break;
	case RCP_EV_REALLOC_FROM:
		rcp_heap_release(&a->heap, ev->addr, &w);
		rcp_heap_realloc_from(&a->heap, ev->addr, &w);
		break;
	case RCP_EV_RC_NEW_BLOCK:
		/* the calloc of the object's block, then the object */
		rc = rcp_heap_alloc(&a->heap, ev->addr - ev->header,
				    ev->header + ev->size, &w);
		w.seq = a->seq++;
		/* fall through */
	case RCP_EV_RC_NEW:
		rcobj_on_new(a->rc, ev->addr, ev->size,
			     rcp_strtab_canon(&a->strs, ev->str), ev->count, &w);
		rcp_heap_mark_rc(&a->heap, ev->addr - ev->header);
		break;
	case RCP_EV_RC_RETAIN:
		rcobj_on_retain(a->rc, ev->addr, ev->count, &w);
		break;
	case RCP_EV_RC_RELEASE:
		rcobj_on_release(a->rc, ev->addr, ev->count, &w);
		break;
	case RCP_EV_RC_FREE:
		rcobj_on_free(a->rc, ev->addr, &w);
		break;
	case RCP_EV_RC_FREE_BLOCK:
		/* the object's free, then its block's */
		rcobj_on_free(a->rc, ev->addr, &w);
		w.seq = a->seq++;
		rcp_heap_release(&a->heap, ev->addr - ev->header, &w);
		break;
	case RCP_EV_EDGE:
		rcobj_on_edge(a->rc, ev->addr, ev->slot_off,
			      ev->has_target ? ev->target : 0, &w);
		break;
	case RCP_EV_SUSPECT:
		rcobj_on_suspect(a->rc, rcp_strtab_canon(&a->strs, ev->str));
		break;
	case RCP_EV_SNAPSHOT: {
		uint32_t label = rcp_strtab_canon(&a->strs, ev->str);
		rcobj_on_snapshot(a->rc, label, &w);
		if (a->nsnap < RCP_SNAPSHOTS_KEEP &&
		    rcp_grow(&a->snaps, &a->cap_snap, a->nsnap, sizeof(*a->snaps)) == 0) {
			struct rcp_snapshot *s = &a->snaps[a->nsnap++];
			s->label = label;
			s->ts = ev->ts;
			s->seq = w.seq;
			s->tid = ev->tid;
		}
		break;
	}
	case RCP_EV_STACK: {
		uint64_t ips[RCP_STACK_MAX_FRAMES];
		if (ev->id > UINT32_MAX)
			break;
		size_t n = rcp_stack_frames(ev, ips, RCP_STACK_MAX_FRAMES);
		rc = rcp_stacks_define(&a->stacks, ev->id, ev->ts, ips, n);
		rcp_sym_prewarm(a->sym, ips, n, ev->ts);
		break;
	}
	case RCP_EV_STRING:
		rc = rcp_strtab_define(&a->strs, ev->id, ev->raw, (size_t)ev->n);
		break;
	case RCP_EV_MODULE:
		rc = add_module(a, ev);
		break;
	case RCP_EV_MODULE_UNMAP:
		rcp_modules_unmap(&a->mods, ev->addr, ev->ts);
		break;
	case RCP_EV_THREAD:
		a->threads++;
		break;
	case RCP_EV_FORK:
		if (a->nforks < RCP_FORKS_KEEP)
			a->forks[a->nforks] = (uint32_t)ev->id;
		a->nforks++;
		break;
	case RCP_EV_SIGNAL:
		a->fatal_signal = (uint32_t)ev->id;
		break;
	case RCP_EV_LOST:
		if (ev->id == RCP_EV_RC_RETAIN || ev->id == RCP_EV_RC_RELEASE ||
		    ev->id == RCP_EV_RC_NEW || ev->id == RCP_EV_RC_NEW_BLOCK)
			rcobj_on_lost(a->rc);
		if (ev->id < RCP_EV__COUNT)
			a->lost[ev->id] += ev->n;
		else
			a->lost_other += ev->n;
		break;
	}
	return rc;
}

/* Events are copied from the merge in batches (rcp_merge_fill, whose
 * tight loop takes one thread's run of events without touching the
 * heap), and what each will touch is prefetched LOOKAHEAD events before
 * it is replayed: the tables' cache misses then overlap instead of adding
 * up.  A refcount event needs two dependent misses (address table, then
 * the object), so its second prefetch is issued when it is STAGE2 events
 * from being replayed: by then the first has landed, and the object still
 * has STAGE2 events' time to arrive.  At ~100 ns per graph event, 4
 * events cover a memory round trip; 16 leaves room for both stages. */
#ifndef LOOKAHEAD
#define LOOKAHEAD 16
#endif
#define STAGE2 (LOOKAHEAD / 2)

/* Small enough to stay in the L1 cache next to the tables: a batch is
 * written by the merge and read back right after, and at 512 events
 * (73 KiB of struct rcp_event) it no longer fit in a 32 KiB L1. */
#define BATCH 128

/* The batch after a long heap run (replay_run.c), which stopped at
 * something it does not take: small, as the run likely resumes soon. */
#define RESUME_BATCH 8

struct batch {
	size_t n;
	struct rcp_event ev[BATCH];
};

static void prefetch(struct rcp_analysis *a, const struct rcp_event *ev)
{
	switch (ev->kind) {
	case RCP_EV_MALLOC:
	case RCP_EV_FREE:
	case RCP_EV_FREE_STACK:
	case RCP_EV_REALLOC_FROM:
	case RCP_EV_REALLOC_TO:
		rcp_heap_prefetch(&a->heap, ev->addr);
		break;
	case RCP_EV_RC_NEW:
	case RCP_EV_RC_NEW_BLOCK:
		rcobj_prefetch(a->rc, ev->addr, 1);
		rcp_heap_prefetch(&a->heap, ev->addr - ev->header);
		break;
	case RCP_EV_RC_FREE:
		rcobj_prefetch(a->rc, ev->addr, 1);
		break;
	case RCP_EV_RC_FREE_BLOCK:
		rcobj_prefetch(a->rc, ev->addr, 1);
		rcp_heap_prefetch(&a->heap, ev->addr - ev->header);
		break;
	case RCP_EV_RC_RETAIN:
	case RCP_EV_RC_RELEASE:
		rcobj_prefetch(a->rc, ev->addr, 0);
		break;
	case RCP_EV_EDGE:
		rcobj_prefetch(a->rc, ev->addr, 0);
		if (ev->has_target)
			rcobj_prefetch(a->rc, ev->target, 0);
		break;
	}
}

static void prefetch2(struct rcp_analysis *a, const struct rcp_event *ev)
{
	switch (ev->kind) {
	case RCP_EV_RC_RETAIN:
	case RCP_EV_RC_RELEASE:
	case RCP_EV_RC_FREE:
	case RCP_EV_RC_FREE_BLOCK:
		rcobj_prefetch_obj(a->rc, ev->addr);
		break;
	case RCP_EV_EDGE:
		rcobj_prefetch_obj(a->rc, ev->addr);
		if (ev->has_target)
			rcobj_prefetch_obj(a->rc, ev->target);
		break;
	}
}

/* MALLOC, FREE and REALLOC are nearly every event of a heap-heavy dump:
 * they skip dispatch() (a call and a switch over every kind) when no
 * event is printed.  Same effect as dispatch(), which takes the other
 * kinds. */
static inline int replay_heap(struct rcp_analysis *a, const struct rcp_event *ev)
{
	struct rcp_where w = { ev->ts, a->seq, ev->tid, stack32(ev->stack) };

	int rc;
	switch (ev->kind) {
	case RCP_EV_MALLOC:
		a->seq++;
		return rcp_heap_alloc(&a->heap, ev->addr, ev->size, &w);
	case RCP_EV_REALLOC_TO:
		a->seq++;
		rc = rcp_heap_alloc(&a->heap, ev->addr, ev->size, &w);
		rcp_heap_realloc_to(&a->heap, w.tid, w.stack);
		return rc;
	case RCP_EV_FREE:
	case RCP_EV_FREE_STACK:
		a->seq++;
		rcp_heap_release(&a->heap, ev->addr, &w);
		return 0;
	case RCP_EV_REALLOC_FROM:
		a->seq++;
		rcp_heap_release(&a->heap, ev->addr, &w);
		rcp_heap_realloc_from(&a->heap, ev->addr, &w);
		return 0;
	}
	return dispatch(a, ev);
}

/* prefetch() with the heap kinds inline: a call and a switch per event
 * were a visible share of a heap-heavy replay. */
static inline void prefetch_any(struct rcp_analysis *a, const struct rcp_event *ev)
{
	if (ev->kind >= RCP_EV_MALLOC && ev->kind <= RCP_EV_REALLOC_TO)
		rcp_heap_prefetch(&a->heap, ev->addr);
	else
		prefetch(a, ev);
}

static int replay_batch(struct rcp_analysis *a, const struct batch *b,
			uint64_t *counts, int own)
{
	size_t n = b->n;
	int heap_fast = !a->opt.dump_events;

	/* this dump's span and event total, once per batch rather than per
	 * event (only a failed table growth stops a batch, and then the
	 * analysis fails as a whole) */
	if (own && n) {
		if (a->events == 0)
			a->first_ts = b->ev[0].ts;
		a->last_ts = b->ev[n - 1].ts;
		a->events += n;
	}

	/* the head of the batch: its first stage only, a little late */
	for (size_t i = 0; i < n && i < LOOKAHEAD; i++)
		prefetch_any(a, &b->ev[i]);
	for (size_t i = 0; i < n; i++) {
		if (i + LOOKAHEAD < n)
			prefetch_any(a, &b->ev[i + LOOKAHEAD]);
		if (i + STAGE2 < n)
			prefetch2(a, &b->ev[i + STAGE2]);
		const struct rcp_event *ev = &b->ev[i];
		counts[ev->kind]++;
		int rc = heap_fast ? replay_heap(a, ev) : dispatch(a, ev);
		if (rc)
			return rc;
	}
	return 0;
}

/* A stream lost events (ss->gap_from_ts, found while the merge read on):
 * misuse from then on may be explained by them. */
static void note_gap(struct rcp_analysis *a, const struct rcp_streams *ss)
{
	if (ss->gap_from_ts < a->heap.unsure_from) {
		a->heap.unsure_from = ss->gap_from_ts;
		rcobj_set_unsure_from(a->rc, ss->gap_from_ts);
	}
}

/* Replays the events of d with ts < until; own: counted as this dump's. */
static int replay_dump(struct rcp_analysis *a, struct rcp_dump *d,
		       uint64_t until, int own)
{
	struct rcp_streams ss;
	struct rcp_merge m;
	int rc;

	rc = rcp_streams_build(&ss, d, &a->diag);
	if (rc)
		return rc;
	rc = rcp_merge_init(&m, &ss);
	if (rc)
		goto out_streams;
	uint64_t *counts = own ? a->counts : a->parent_counts;
	if (own)
		for (size_t i = 0; i < ss.n; i++)
			a->nthreads += ss.s[i].nest == 0;
	struct batch *b = malloc(sizeof(*b));
	if (!b) {
		rc = -ENOMEM;
	} else {
		int end = 0;
		size_t max = BATCH;
		while (!rc && !end) {
			b->n = rcp_merge_fill(&m, b->ev, max, until, &end);
			note_gap(a, &ss);
			rc = replay_batch(a, b, counts, own);
			if (rc || end || a->opt.dump_events)
				continue;
			/* the heap events that follow, straight from their
			 * stream; after a long run only a short batch, to get
			 * past what stopped it (a chunk's end, another kind) */
			size_t ran;
			rc = rcp_replay_run(a, &m, until, counts, own, &ran);
			max = ran >= BATCH ? RESUME_BATCH : BATCH;
		}
		free(b);
	}
	rcp_merge_free(&m);
out_streams:
	rcp_streams_free(&ss);
	return rc;
}

/* The parent's path as recorded; a relative one is tried as is, then next
 * to the child's dump.  Returns a malloc'ed path. */
static char *parent_path(const struct rcp_dump *child)
{
	char *p = strndup(child->parent_path, child->parent.path_len);
	if (!p || p[0] == '/' || access(p, F_OK) == 0)
		return p;
	char *c = strdup(child->path);
	char *q = NULL;
	if (c && asprintf(&q, "%s/%s", dirname(c), p) < 0)
		q = NULL;
	free(c);
	if (q && access(q, F_OK) == 0) {
		free(p);
		return q;
	}
	free(q);
	return p;
}

static void open_parents(struct rcp_analysis *a)
{
	struct stat seen[RCP_PARENT_DEPTH + 1];
	size_t nseen = 0;
	struct rcp_dump *child = &a->dump;
	struct stat st;

	if (stat(a->dump.path, &st) == 0)
		seen[nseen++] = st;
	while (child->has_parent) {
		char err[512];
		char *path = parent_path(child);
		if (!path) {
			a->parent_unreadable = 1;
			return;
		}
		if (a->nparents == RCP_PARENT_DEPTH) {
			rcp_warn(&a->diag, "%s: more than %d ancestors, history before %s is not replayed",
				 a->dump.path, RCP_PARENT_DEPTH, path);
			a->parent_unreadable = 1;
			free(path);
			return;
		}
		int loop = 0;
		if (stat(path, &st) == 0)
			for (size_t i = 0; i < nseen; i++)
				if (seen[i].st_dev == st.st_dev && seen[i].st_ino == st.st_ino)
					loop = 1;
		if (loop) {
			rcp_warn(&a->diag, "%s: parent chain loops back to %s, ignored",
				 a->dump.path, path);
			a->parent_unreadable = 1;
			free(path);
			return;
		}
		struct rcp_dump *p = &a->parents[a->nparents];
		int rc = rcp_dump_open(p, path, &a->diag, err, sizeof(err));
		if (rc) {
			rcp_warn(&a->diag, "%s: parent recording unreadable (%s); objects inherited at fork are unknown",
				 a->dump.path, err);
			rcp_dump_close(p);
			a->parent_unreadable = 1;
			free(path);
			return;
		}
		free(path);
		if (nseen < RCP_PARENT_DEPTH + 1 && stat(p->path, &st) == 0)
			seen[nseen++] = st;
		a->nparents++;
		child = p;
	}
}

static void check_counts(struct rcp_analysis *a)
{
	const struct rcp_dump *d = &a->dump;

	if (d->has_end) {
		for (unsigned k = 1; k < RCP_EV__COUNT; k++) {
			uint64_t got = a->counts[k] + a->parent_counts[k];
			/* events after END (late destructors) may exceed it */
			if (d->end.counts[k] > got)
				rcp_warn(&a->diag, "%s: %llu %s events recorded, %llu read: events were lost",
					 d->path, (unsigned long long)d->end.counts[k],
					 rcp_kind_name(k), (unsigned long long)got);
		}
	}
	for (unsigned k = 0; k < RCP_EV__COUNT; k++)
		if (a->lost[k])
			rcp_warn(&a->diag, "%s: the recorder could not record %llu %s events",
				 d->path, (unsigned long long)a->lost[k], rcp_kind_name(k));
	if (a->lost_other)
		rcp_warn(&a->diag, "%s: the recorder could not record %llu events",
			 d->path, (unsigned long long)a->lost_other);
}

/* The frees the dumps say they hold (their END records), 0 when unknown. */
static uint64_t expected_frees(const struct rcp_analysis *a)
{
	uint64_t n = 0;
	for (size_t i = 0; i <= a->nparents; i++) {
		const struct rcp_dump *d = i ? &a->parents[i - 1] : &a->dump;
		if (d->has_end)
			n += d->end.counts[RCP_EV_FREE] +
			     d->end.counts[RCP_EV_FREE_STACK] +
			     d->end.counts[RCP_EV_REALLOC_FROM];
	}
	return n;
}

/* Common part once a->dump is open. */
static int run(struct rcp_analysis *a, char *err, size_t errlen)
{
	struct rcobj_config cfg;
	int rc;

	if (a->dump.has_parent && !a->opt.no_parents)
		open_parents(a);
	else if (a->dump.has_parent)
		a->parent_unreadable = 1;

	rc = rcp_heap_init(&a->heap);
	if (rc)
		goto oom;
	a->heap.tolerate_invalid = a->parent_unreadable;
	rc = rcp_heap_reserve(&a->heap, expected_frees(a));
	if (rc)
		goto oom;
	a->sym = rcp_sym_create(&a->mods, &a->strs, &a->stacks);
	if (!a->sym)
		goto oom;
	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.thresholds, a->opt.thresholds, sizeof(cfg.thresholds));
	cfg.hasher = rcp_sym_hasher(a->sym);
	cfg.tolerate_unknown = a->parent_unreadable;
	a->rc = rcobj_create(&cfg);
	if (!a->rc)
		goto oom;

	/* oldest ancestor first, each up to the fork of its child */
	for (size_t i = a->nparents; i-- > 0;) {
		const struct rcp_dump *child = i ? &a->parents[i - 1] : &a->dump;
		rc = replay_dump(a, &a->parents[i], child->parent.fork_ts, 0);
		if (rc)
			goto oom;
	}
	rc = replay_dump(a, &a->dump, UINT64_MAX, 1);
	if (rc)
		goto oom;
	check_counts(a);
	a->res = rcobj_finish(a->rc);
	if (!a->res)
		goto oom;
	if (a->res->incomplete)
		rcp_warn(&a->diag, "%s: out of memory during the replay, refcount results are best effort",
			 a->dump.path);
	uint64_t unsure = a->heap.nunsure + a->res->errors_unsure;
	if (unsure)
		rcp_warn(&a->diag, "%s: %llu misuse findings after the missing events not reported: the missing events may explain them",
			 a->dump.path, (unsigned long long)unsure);
	return 0;
oom:
	snprintf(err, errlen, "%s: out of memory", a->dump.path);
	return -ENOMEM;
}

static void init(struct rcp_analysis *a, const struct rcp_options *opt)
{
	memset(a, 0, sizeof(*a));
	a->opt = *opt;
	rcp_diag_init(&a->diag, opt->quiet);
	rcp_strtab_init(&a->strs);
	rcp_stacks_init(&a->stacks);
	rcp_modules_init(&a->mods);
}

int rcp_analyze(struct rcp_analysis *a, const char *path,
		const struct rcp_options *opt, char *err, size_t errlen)
{
	init(a, opt);
	int rc = rcp_dump_open(&a->dump, path, &a->diag, err, errlen);
	if (rc)
		return rc;
	return run(a, err, errlen);
}

int rcp_analyze_mem(struct rcp_analysis *a, const void *buf, size_t len,
		    const struct rcp_options *opt, char *err, size_t errlen)
{
	init(a, opt);
	a->opt.no_parents = 1;
	int rc = rcp_dump_open_mem(&a->dump, "<memory>", buf, len, &a->diag,
				   err, errlen);
	if (rc)
		return rc;
	return run(a, err, errlen);
}

void rcp_analysis_free(struct rcp_analysis *a)
{
	if (a->rc)
		rcobj_destroy(a->rc);
	rcp_sym_destroy(a->sym);
	rcp_heap_free_all(&a->heap);
	rcp_modules_free(&a->mods);
	rcp_stacks_free(&a->stacks);
	rcp_strtab_free(&a->strs);
	for (size_t i = 0; i < a->nparents; i++)
		rcp_dump_close(&a->parents[i]);
	rcp_dump_close(&a->dump);
	free(a->snaps);
	free(a->parent_error);
	rcp_diag_free(&a->diag);
	memset(a, 0, sizeof(*a));
}
