/* report.h - THE report: everything rcprof-report says about one dump,
 * resolved (stacks symbolized, type names looked up, suppressions applied)
 * and ordered most important first.  Every back end (emit_text.c,
 * emit_json.c, emit_sarif.c, emit_dot.c, emit_folded.c, the suppression
 * generator, diff.c) renders this one structure through one emitter API
 * (struct rcp_output, rcp_format_find), so the formats always agree.
 *
 * Findings: every cycle, unreleased group, error and leak group is also
 * listed once in r->findings with its kind and a stable signature (never
 * an address: type names, function and source file names of the first
 * frames outside the runtime, the cycle's shape), which baselines, diffs,
 * SARIF fingerprints and --gen-suppressions key on.
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

/* Against a baseline (baseline.c): not compared, new, already known. */
enum rcp_bstate { RCP_B_NONE, RCP_B_NEW, RCP_B_KNOWN };

struct rcp_rcycle {
	const struct rcobj_cycle *c;
	enum rcp_bstate base;
	size_t nmembers;            /* listed: min(c->nmembers, REPORT_MEMBERS) */
	struct rcp_rmember *members;
	const char *culprit_type;
	struct rcp_rstack culprit;
	char types[160];            /* "tree x2, leaf x1" */
};

struct rcp_runreleased {
	const struct rcobj_unreleased *u;
	uint64_t sig;
	enum rcp_bstate base;
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
	uint64_t sig;
	enum rcp_bstate base;
	const char *type;
	struct rcp_rstack at, earlier;
};

struct rcp_rleak {
	uint32_t stack;
	uint64_t sig;
	enum rcp_bstate base;
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
	uint64_t suppressed_blocks, suppressed_bytes;   /* plain leaks, all rules */
	uint64_t suppressed_builtin_blocks;             /* of those, by the C
							   library's rules */
	uint64_t suppressed_cycles, suppressed_cycle_objects;
	uint64_t suppressed_unreleased_groups, suppressed_unreleased_objects;
	/* The recording ended while the process ran on (END "sandbox"):
	 * blocks and objects live then, which are not leaks. */
	int ended_live;
	uint64_t live_blocks, live_bytes, live_objects;
};

enum rcp_fkind { RCP_F_CYCLE, RCP_F_UNRELEASED, RCP_F_ERROR, RCP_F_LEAK, RCP_F__COUNT };

#define RCP_SITE_LEN 128

/* One finding of any kind, in report order (cycles, unreleased, errors,
 * leaks). */
struct rcp_finding {
	enum rcp_fkind kind;
	uint64_t sig;
	uint64_t count;             /* objects, blocks; 1 for an error */
	uint64_t bytes;
	const char *type;           /* refcounted type, NULL for a leak */
	const char *what;           /* error kind name, NULL otherwise */
	char site[RCP_SITE_LEN];    /* first function outside the runtime */
	/* Where to point: the allocation, the release that made a cycle
	 * garbage (else its first member's allocation), the bad call. */
	const struct rcp_rstack *stack;
	size_t index;               /* into the kind's array of the report */
	enum rcp_bstate *base;      /* the item's own state */
};

/* The counts the --fail-on gates look at. */
struct rcp_gate_counts {
	uint64_t leaks, cycles, unreleased, errors;
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
	size_t nfindings;
	struct rcp_finding *findings;
	int has_baseline;               /* findings are marked new/known */
	struct rcp_gate_counts new_;    /* new findings (with a baseline) */
};

struct rcp_report_opts {
	struct rcp_supp *user;          /* user rules, may be NULL */
	int no_default_supp;            /* leave the C library's buffers in */
};

/* Builds the report of a finished analysis, with the C library's
 * built-in suppressions and a->opt.user_supp.  0 or -ENOMEM. */
int rcp_report_build(struct rcp_report *r, struct rcp_analysis *a);
/* The same with explicit options. */
int rcp_report_build_opts(struct rcp_report *r, struct rcp_analysis *a,
			  const struct rcp_report_opts *o);
/* Signature helpers (report.c): the site hash of a symbolized stack
 * (function and file names of the first 3 frames outside the runtime, no
 * lines, no addresses) and the first such function into site. */
uint64_t rcp_rstack_site_hash(const struct rcp_rstack *s);
void rcp_rstack_site(const struct rcp_rstack *s, char *site, size_t len);
/* The first frame outside the runtime that has a source file, or NULL. */
const struct rcp_sym_frame *rcp_rstack_source(const struct rcp_rstack *s);
const char *rcp_fkind_name(enum rcp_fkind k);
/* Gate counts of a report: everything, or only new findings when it was
 * compared with a baseline. */
void rcp_report_gate_counts(const struct rcp_report *r, struct rcp_gate_counts *g);
void rcp_report_free(struct rcp_report *r);

const char *rcp_error_kind_name(enum rcp_error_kind k);
const char *rcp_end_how_name(uint32_t how);

/* ---- the emitter API ---------------------------------------------------- */

struct rcp_baseline;

/* Everything one run of rcprof-report renders. */
struct rcp_output {
	const struct rcp_report *const *r;
	size_t n;
	const struct rcp_baseline *base;    /* NULL: no baseline */
	const struct rcp_supp *user;        /* user rules (hit counts) */
};

struct rcp_format {
	const char *name;
	void (*emit)(FILE *f, const struct rcp_output *o);
};

/* The back end called name, or NULL; rcp_format_names() for messages. */
const struct rcp_format *rcp_format_find(const char *name);
const char *rcp_format_names(void);

void rcp_emit_text_out(FILE *f, const struct rcp_output *o);
void rcp_emit_json_out(FILE *f, const struct rcp_output *o);
void rcp_emit_sarif(FILE *f, const struct rcp_output *o);
void rcp_emit_dot(FILE *f, const struct rcp_output *o);
void rcp_emit_folded(FILE *f, const struct rcp_output *o);
/* --gen-suppressions: one rule per finding, with a comment. */
void rcp_emit_supp(FILE *f, const struct rcp_output *o);

/* Escapers (exposed for the unit tests). */
void rcp_dot_string(FILE *f, const char *s);      /* "..." for DOT */
void rcp_uri_path(FILE *f, const char *path);     /* file URI of a path */

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
