/* diff.c - what grew and what went away between two dumps of the same
 * program (--diff A B).  Findings are keyed like baselines, by kind and
 * signature (baseline.h); counts and bytes of equal keys are summed per
 * side first (two allocation stacks can share a site), then compared.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "baseline.h"

enum dstate { D_SAME, D_NEW, D_GONE, D_GROWN, D_SHRUNK, D__COUNT };
static const char *const dstate_names[D__COUNT] = {
	"same", "new", "gone", "grown", "shrunk",
};

struct drow {
	struct rcp_bentry a, b;     /* count/bytes 0 on the missing side */
	int in_a, in_b;
	enum dstate st;
};

/* Sums b's entries with equal keys into one (b sorted by key). */
static void fold(struct rcp_baseline *b)
{
	size_t w = 0;
	rcp_baseline_find(b, RCP_F_LEAK, 0);        /* sorts */
	for (size_t i = 0; i < b->n; i++) {
		if (w && b->e[w - 1].kind == b->e[i].kind && b->e[w - 1].sig == b->e[i].sig) {
			b->e[w - 1].count += b->e[i].count;
			b->e[w - 1].bytes += b->e[i].bytes;
		} else {
			b->e[w++] = b->e[i];
		}
	}
	b->n = w;
}

static enum dstate compare(const struct drow *r)
{
	if (!r->in_a)
		return D_NEW;
	if (!r->in_b)
		return D_GONE;
	if (r->b.bytes > r->a.bytes || (r->b.bytes == r->a.bytes && r->b.count > r->a.count))
		return D_GROWN;
	if (r->b.bytes < r->a.bytes || r->b.count < r->a.count)
		return D_SHRUNK;
	return D_SAME;
}

static void text(FILE *f, const struct rcp_report *a, const struct rcp_report *b,
		 const struct drow *rows, size_t n, const size_t *counts)
{
	fprintf(f, "rcprof diff: %s -> %s\n", a->a->dump.path, b->a->dump.path);
	fprintf(f, "  %zu new, %zu gone, %zu grown, %zu shrunk, %zu unchanged\n",
		counts[D_NEW], counts[D_GONE], counts[D_GROWN], counts[D_SHRUNK],
		counts[D_SAME]);
	if (n)
		fprintf(f, "\n%-7s %-10s %-16s %10s %10s %12s %12s  %s\n", "status",
			"kind", "signature", "count A", "count B", "bytes A", "bytes B",
			"site");
	for (int st = D_NEW; st < D__COUNT + 1; st++) {
		enum dstate want = st == D__COUNT ? D_SAME : (enum dstate)st;
		for (size_t i = 0; i < n; i++) {
			const struct drow *r = &rows[i];
			const struct rcp_bentry *e = r->in_b ? &r->b : &r->a;
			if (r->st != want)
				continue;
			fprintf(f, "%-7s %-10s %016" PRIx64 " %10" PRIu64 " %10" PRIu64
				" %12" PRIu64 " %12" PRIu64 "  %s%s%s\n", dstate_names[r->st],
				rcp_fkind_name(e->kind), e->sig, r->a.count, r->b.count,
				r->a.bytes, r->b.bytes, e->site, e->type[0] ? " " : "",
				e->type);
		}
	}
}

static void json_str(FILE *f, const char *s)
{
	rcp_json_string(f, s, strlen(s));
}

static void json(FILE *f, const struct rcp_report *a, const struct rcp_report *b,
		 const struct drow *rows, size_t n, const size_t *counts)
{
	fputs("{\n  \"diff\": {\n    \"a\": ", f);
	json_str(f, a->a->dump.path);
	fputs(",\n    \"b\": ", f);
	json_str(f, b->a->dump.path);
	fputs(",\n    \"summary\": {", f);
	for (int st = 0; st < D__COUNT; st++)
		fprintf(f, "%s\"%s\": %zu", st ? ", " : "", dstate_names[st], counts[st]);
	fputs("},\n    \"findings\": [", f);
	for (size_t i = 0; i < n; i++) {
		const struct drow *r = &rows[i];
		const struct rcp_bentry *e = r->in_b ? &r->b : &r->a;
		fprintf(f, "%s\n      {\"status\": \"%s\", \"kind\": \"%s\", \"signature\": \"0x%"
			PRIx64 "\", \"site\": ", i ? "," : "", dstate_names[r->st],
			rcp_fkind_name(e->kind), e->sig);
		json_str(f, e->site);
		fputs(", \"type\": ", f);
		if (e->type[0])
			json_str(f, e->type);
		else
			fputs("null", f);
		fprintf(f, ", \"a\": {\"count\": %" PRIu64 ", \"bytes\": %" PRIu64 "}, "
			"\"b\": {\"count\": %" PRIu64 ", \"bytes\": %" PRIu64 "}}",
			r->a.count, r->a.bytes, r->b.count, r->b.bytes);
	}
	fputs(n ? "\n    ]\n  }\n}\n" : "]\n  }\n}\n", f);
}

int rcp_diff_emit(FILE *f, const struct rcp_report *a, const struct rcp_report *b,
		  int as_json, struct rcp_gate_counts *grew)
{
	struct rcp_baseline ba, bb;
	struct drow *rows = NULL;
	size_t n = 0, counts[D__COUNT] = { 0 };
	int rc;

	rcp_baseline_init(&ba);
	rcp_baseline_init(&bb);
	memset(grew, 0, sizeof(*grew));
	rc = rcp_baseline_add_report(&ba, a);
	if (!rc)
		rc = rcp_baseline_add_report(&bb, b);
	if (rc)
		goto out;
	fold(&ba);
	fold(&bb);
	rows = calloc(ba.n + bb.n + 1, sizeof(*rows));
	if (!rows) {
		rc = -ENOMEM;
		goto out;
	}
	/* both sides sorted by key: a merge */
	for (size_t i = 0, j = 0; i < ba.n || j < bb.n; n++) {
		int c = i == ba.n ? 1 : j == bb.n ? -1 :
			ba.e[i].kind != bb.e[j].kind ? (ba.e[i].kind < bb.e[j].kind ? -1 : 1) :
			ba.e[i].sig != bb.e[j].sig ? (ba.e[i].sig < bb.e[j].sig ? -1 : 1) : 0;
		if (c <= 0) {
			rows[n].a = ba.e[i++];
			rows[n].in_a = 1;
		}
		if (c >= 0) {
			rows[n].b = bb.e[j++];
			rows[n].in_b = 1;
		}
		rows[n].st = compare(&rows[n]);
		counts[rows[n].st]++;
		if (rows[n].st == D_NEW || rows[n].st == D_GROWN) {
			const struct rcp_bentry *e = &rows[n].b;
			uint64_t more = e->count > rows[n].a.count ? e->count - rows[n].a.count : 0;
			switch (e->kind) {
			case RCP_F_CYCLE: grew->cycles += more ? more : 1; break;
			case RCP_F_UNRELEASED: grew->unreleased += more ? more : 1; break;
			case RCP_F_ERROR: grew->errors += more ? more : 1; break;
			case RCP_F_LEAK: grew->leaks += more ? more : 1; break;
			case RCP_F__COUNT: break;
			}
		}
	}
	if (as_json)
		json(f, a, b, rows, n, counts);
	else
		text(f, a, b, rows, n, counts);
out:
	free(rows);
	rcp_baseline_free(&ba);
	rcp_baseline_free(&bb);
	return rc;
}
