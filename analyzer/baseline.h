/* baseline.h - known findings, to tell new ones from old ones.
 *
 * A baseline is the list of findings (kind, signature, count, bytes, site)
 * of an earlier run: read from a JSON report of rcprof-report (every
 * "findings" array in it, so a multi-dump report works too) or built from
 * a report of an earlier dump.  Findings match by kind and signature only
 * - never by address or line number - so a rebuilt, reshuffled binary
 * still matches (see the signature rules in report.h).  A current finding
 * whose (kind, signature) is in the baseline is KNOWN, otherwise NEW;
 * baseline entries no current finding matched are GONE.
 */
#ifndef RCPROF_BASELINE_H
#define RCPROF_BASELINE_H

#include "report.h"

struct rcp_bentry {
	enum rcp_fkind kind;
	uint64_t sig;
	uint64_t count, bytes;
	char site[RCP_SITE_LEN];
	char type[64];
	int matched;                /* set by rcp_baseline_apply */
};

struct rcp_baseline {
	size_t n, cap;
	struct rcp_bentry *e;
	int sorted;
};

void rcp_baseline_init(struct rcp_baseline *b);
void rcp_baseline_free(struct rcp_baseline *b);
/* Reads the findings of a JSON report.  0, -EINVAL (with a reason in err)
 * or -ENOMEM. */
int rcp_baseline_parse_json(struct rcp_baseline *b, const char *text,
			    size_t len, char *err, size_t errlen);
/* Adds the findings of a report.  0 or -ENOMEM. */
int rcp_baseline_add_report(struct rcp_baseline *b, const struct rcp_report *r);
/* Marks every finding of the reports new or known, counts the new ones
 * per gate, and marks the matched baseline entries (the rest are gone). */
void rcp_baseline_apply(struct rcp_baseline *b, struct rcp_report *const *r,
			size_t n);
/* The entry for (kind, sig), or NULL. */
struct rcp_bentry *rcp_baseline_find(struct rcp_baseline *b,
				     enum rcp_fkind kind, uint64_t sig);
size_t rcp_baseline_gone(const struct rcp_baseline *b);

/* --diff A B (diff.c): every finding of either report by (kind,
 * signature), with its counts and bytes in A and in B and whether it is
 * new, gone, grown, shrunk or same; text or JSON.  *grew gets the new and
 * grown findings per gate (what --fail-on looks at).  0 or -ENOMEM. */
int rcp_diff_emit(FILE *f, const struct rcp_report *a, const struct rcp_report *b,
		  int json, struct rcp_gate_counts *grew);

#endif /* RCPROF_BASELINE_H */
