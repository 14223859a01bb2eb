/* report.h - THE report: everything rcprof-report says about one dump,
 * resolved (stacks symbolized, type names looked up, suppressions applied)
 * and ordered most important first.  Both emitters (emit_text.c,
 * emit_json.c) render this one structure, so text and JSON always agree.
 *
 * The report borrows from the analysis (rcobj results, interned symbol
 * strings): free the report before the analysis.
 */
#ifndef RCPROF_REPORT_H
#define RCPROF_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "replay.h"

#define RCP_REPORT_FRAMES 64        /* frames kept per reported stack */
#define RCP_REPORT_MEMBERS 64       /* members of a cycle listed in full */

struct rcp_rstack {
	uint32_t id;                /* 0 = no backtrace */
	int known;                  /* the STACK definition was found */
	size_t n;
	struct rcp_sym_frame *f;    /* innermost first */
};

struct rcp_rmember {
	const struct rcobj_member *m;
	const char *type;
	struct rcp_rstack alloc;
};

struct rcp_rcycle {
	const struct rcobj_cycle *c;
	size_t nmembers;            /* listed: min(c->nmembers, REPORT_MEMBERS) */
	struct rcp_rmember *members;
	const char *culprit_type;
	struct rcp_rstack culprit;
	char types[160];            /* "tree x2, leaf x1" */
};

struct rcp_runreleased {
	const struct rcobj_unreleased *u;
	const char *type;
	struct rcp_rstack alloc;
};

struct rcp_rsuspect {
	const struct rcobj_suspect_site *s;
	const char *type;
	struct rcp_rstack stack;
};

struct rcp_rerror {
	struct rcp_error e;
	const char *type;
	struct rcp_rstack at, earlier;
};

struct rcp_rleak {
	uint32_t stack;
	uint64_t blocks, bytes;
	uint64_t example_addr;
	struct rcp_rstack alloc;
};

struct rcp_summary {
	uint64_t events;
	uint64_t leaked_blocks, leaked_bytes;
	uint64_t rc_objects;
	uint64_t cycles;
	uint64_t garbage_objects;
	uint64_t unreleased_objects;
	uint64_t errors;
	int truncated;
	uint64_t suppressed_blocks, suppressed_bytes;
};

struct rcp_report {
	const struct rcp_analysis *a;
	struct rcp_summary sum;
	size_t ncycles;
	struct rcp_rcycle *cycles;
	size_t nunreleased;
	struct rcp_runreleased *unreleased;
	size_t nsuspects;
	struct rcp_rsuspect *suspects;
	size_t nerrors;                 /* kept in detail (sum.errors counts all) */
	struct rcp_rerror *errors;
	size_t nleaks;
	struct rcp_rleak *leaks;        /* most bytes first */
};

/* Builds the report of a finished analysis.  0 or -ENOMEM. */
int rcp_report_build(struct rcp_report *r, struct rcp_analysis *a);
void rcp_report_free(struct rcp_report *r);

const char *rcp_error_kind_name(enum rcp_error_kind k);
const char *rcp_end_how_name(uint32_t how);

/* The emitters. */
void rcp_emit_text(FILE *f, const struct rcp_report *r);
/* JSON of one report, as one object; `indent` spaces before each line
 * (for nesting in the multi-dump object). */
void rcp_emit_json(FILE *f, const struct rcp_report *r, int indent);
/* The object for several dumps: {"reports":[...], "summary":{sums},
 * "truncated":any}. */
void rcp_emit_json_multi(FILE *f, const struct rcp_report *const *r, size_t n);
void rcp_emit_text_multi(FILE *f, const struct rcp_report *const *r, size_t n);

/* JSON string escaping (exposed for the unit tests): writes "..." with
 * control characters, quotes and backslashes escaped and invalid UTF-8
 * bytes replaced by \u00XX.  len bytes of s (s may contain NULs). */
void rcp_json_string(FILE *f, const char *s, size_t len);

#endif /* RCPROF_REPORT_H */
