/* emit_sarif.c - the SARIF 2.1.0 back end, for code-scanning dashboards.
 *
 * One run, tool.driver "rcprof" with one rule per finding kind; one result
 * per finding (every dump of the output), located at the source line of
 * the first frame outside the runtime: the allocation (leaks, unreleased
 * groups), the release that made a cycle garbage (or the first member's
 * allocation when nothing made it so), the bad call (errors).  codeFlows
 * carry the backtraces outermost first (a SARIF thread flow is in
 * execution order); partialFingerprints the signature, so dashboards
 * track a finding across runs and rebuilds like --baseline does.  With a
 * baseline each result has a baselineState (new/unchanged) and the gone
 * findings are added as results with baselineState "absent".
 *
 * Strings go through the JSON escaper; file paths become file URIs.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "report.h"

#ifndef RCPROF_VERSION
#define RCPROF_VERSION "1.0"
#endif
/* The project's home page, for tool.driver.informationUri: optional in
 * SARIF, and left out unless a build names one (-DRCPROF_INFO_URI=...)
 * rather than pointing users at a made-up address. */
#ifdef RCPROF_INFO_URI
#define INFO_URI_MEMBER "      \"informationUri\": \"" RCPROF_INFO_URI "\",\n"
#else
#define INFO_URI_MEMBER ""
#endif

#define SARIF_MEMBER_FLOWS 8    /* member allocation stacks per cycle */

static const struct {
	const char *id, *name, *text, *level;
} rules[RCP_F__COUNT] = {
	[RCP_F_CYCLE] = { "rcprof/cycle", "GarbageCycle",
			  "Reference cycle that reference counting can never free", "error" },
	[RCP_F_UNRELEASED] = { "rcprof/unreleased", "UnreleasedObject",
			       "Refcounted object still referenced at exit", "warning" },
	[RCP_F_ERROR] = { "rcprof/error", "RefcountMisuse",
			  "Refcount or heap misuse (use after free, double free, count below zero)",
			  "error" },
	[RCP_F_LEAK] = { "rcprof/leak", "HeapLeak", "Heap block never freed", "warning" },
};

static void str(FILE *f, const char *s)
{
	rcp_json_string(f, s ? s : "", s ? strlen(s) : 0);
}

/* Characters kept as they are in a URI path; the rest is %XX. */
static int uri_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("/-._~!$&'()*+,;=:@", c);
}

void rcp_uri_path(FILE *f, const char *path)
{
	if (path[0] == '/')
		fputs("file://", f);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (uri_safe(*p))
			fputc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
	}
}

/* "uri" as a JSON string: the URI goes through a memory stream first. */
static void uri(FILE *f, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m) {
		str(f, path);
		return;
	}
	rcp_uri_path(m, path);
	fclose(m);
	rcp_json_string(f, buf, len);
	free(buf);
}

/* Opens a location object with its physicalLocation; the caller adds
 * more members or closes it. */
static void physical(FILE *f, const struct rcp_sym_frame *fr)
{
	fputs("{\"physicalLocation\": {\"artifactLocation\": {\"uri\": ", f);
	uri(f, fr->file);
	fprintf(f, "}, \"region\": {\"startLine\": %u}}", fr->line);
}

/* A location for one frame: physical when the file is known, always a
 * logical location naming the function (or module+offset). */
static void frame_location(FILE *f, const struct rcp_sym_frame *fr)
{
	char name[RCP_SITE_LEN];

	if (fr->func)
		snprintf(name, sizeof(name), "%s", fr->func);
	else if (fr->module)
		snprintf(name, sizeof(name), "%s+0x%" PRIx64, rcp_basename(fr->module),
			 fr->offset);
	else
		snprintf(name, sizeof(name), "0x%" PRIx64, fr->ip);
	if (fr->file && fr->line) {
		physical(f, fr);
		fputs(", ", f);
	} else {
		fputs("{", f);
	}
	fputs("\"logicalLocations\": [{\"fullyQualifiedName\": ", f);
	str(f, name);
	fputs(", \"kind\": \"function\"}]}", f);
}

static void thread_flow(FILE *f, const char *what, const struct rcp_rstack *s)
{
	fputs("{\"message\": {\"text\": ", f);
	str(f, what);
	fputs("}, \"locations\": [", f);
	for (size_t i = s->n; i-- > 0;) {
		fputs(i + 1 == s->n ? "\n            {\"location\": " : ",\n            {\"location\": ", f);
		frame_location(f, &s->f[i]);
		fprintf(f, ", \"nestingLevel\": %zu}", s->n - 1 - i);
	}
	fputs("]}", f);
}

static void message(FILE *f, const struct rcp_report *r, const struct rcp_finding *fi)
{
	char text[1024];
	const struct rcp_sym_frame *src = rcp_rstack_source(fi->stack);
	char at[200] = "";

	if (src)
		snprintf(at, sizeof(at), " (%s:%u)", rcp_basename(src->file), src->line);
	switch (fi->kind) {
	case RCP_F_CYCLE: {
		const struct rcp_rcycle *cy = &r->cycles[fi->index];
		snprintf(text, sizeof(text),
			 "Garbage cycle of %zu objects (%s), %" PRIu64 " bytes; %s %s%s.",
			 cy->c->nmembers, cy->types, cy->c->bytes,
			 cy->c->has_culprit ? "made garbage by the release in" :
			 "garbage from the start, first member allocated in",
			 fi->site, at);
		break;
	}
	case RCP_F_UNRELEASED:
		snprintf(text, sizeof(text),
			 "%" PRIu64 " %s objects (%" PRIu64 " bytes) still referenced at exit, allocated in %s%s.",
			 fi->count, fi->type ? fi->type : "?", fi->bytes, fi->site, at);
		break;
	case RCP_F_ERROR:
		snprintf(text, sizeof(text), "Refcount misuse %s%s%s in %s%s.", fi->what,
			 fi->type ? " on a " : "", fi->type ? fi->type : "", fi->site, at);
		break;
	case RCP_F_LEAK:
	default:
		snprintf(text, sizeof(text),
			 "%" PRIu64 " bytes in %" PRIu64 " blocks never freed, allocated in %s%s.",
			 fi->bytes, fi->count, fi->site, at);
		break;
	}
	fputs("\"message\": {\"text\": ", f);
	str(f, text);
	fputs("}", f);
}

static void result(FILE *f, const struct rcp_report *r, const struct rcp_finding *fi,
		   int *first)
{
	const struct rcp_sym_frame *src = rcp_rstack_source(fi->stack);

	fputs(*first ? "\n        {" : ",\n        {", f);
	*first = 0;
	fprintf(f, "\"ruleId\": \"%s\", \"ruleIndex\": %d, \"level\": \"%s\", ",
		rules[fi->kind].id, (int)fi->kind, rules[fi->kind].level);
	message(f, r, fi);
	fputs(",\n         \"locations\": [", f);
	if (src) {
		physical(f, src);
		fputs("}", f);
	}
	fputs("],\n         \"partialFingerprints\": {\"rcprofSignature/v1\": ", f);
	fprintf(f, "\"%s:%016" PRIx64 "\"}", rcp_fkind_name(fi->kind), fi->sig);
	if (r->has_baseline)
		fprintf(f, ", \"baselineState\": \"%s\"",
			*fi->base == RCP_B_NEW ? "new" : "unchanged");
	fputs(",\n         \"codeFlows\": [{\"threadFlows\": [\n          ", f);
	if (fi->kind == RCP_F_CYCLE) {
		const struct rcp_rcycle *cy = &r->cycles[fi->index];
		int n = 0;
		if (cy->c->has_culprit) {
			thread_flow(f, "the release that made the cycle garbage", &cy->culprit);
			n++;
		}
		for (size_t k = 0; k < cy->nmembers && k < SARIF_MEMBER_FLOWS; k++) {
			char what[160];
			snprintf(what, sizeof(what), "allocation of member %zu (%s)", k + 1,
				 cy->members[k].type ? cy->members[k].type : "?");
			if (n++)
				fputs(",\n          ", f);
			thread_flow(f, what, &cy->members[k].alloc);
		}
	} else {
		thread_flow(f, fi->kind == RCP_F_ERROR ? "the bad call" : "allocation",
			    fi->stack);
	}
	fputs("]}],\n         \"properties\": {\"dump\": ", f);
	str(f, r->a->dump.path);
	fprintf(f, ", \"count\": %" PRIu64 ", \"bytes\": %" PRIu64 "}}", fi->count, fi->bytes);
}

static void absent(FILE *f, const struct rcp_bentry *e, int *first)
{
	char text[300];

	fputs(*first ? "\n        {" : ",\n        {", f);
	*first = 0;
	snprintf(text, sizeof(text), "Gone since the baseline: %s at %s%s%s.",
		 rcp_fkind_name(e->kind), e->site, e->type[0] ? ", type " : "", e->type);
	fprintf(f, "\"ruleId\": \"%s\", \"ruleIndex\": %d, \"level\": \"none\", \"kind\": \"pass\", ",
		rules[e->kind].id, (int)e->kind);
	fputs("\"message\": {\"text\": ", f);
	str(f, text);
	fprintf(f, "}, \"partialFingerprints\": {\"rcprofSignature/v1\": \"%s:%016" PRIx64
		"\"}, \"baselineState\": \"absent\"}", rcp_fkind_name(e->kind), e->sig);
}

void rcp_emit_sarif(FILE *f, const struct rcp_output *o)
{
	int first = 1;

	fputs("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
	      "  \"version\": \"2.1.0\",\n  \"runs\": [{\n    \"tool\": {\"driver\": {\n"
	      "      \"name\": \"rcprof\",\n      \"version\": \"" RCPROF_VERSION "\",\n"
	      INFO_URI_MEMBER "      \"rules\": [", f);
	for (int k = 0; k < RCP_F__COUNT; k++) {
		fprintf(f, "%s\n        {\"id\": \"%s\", \"name\": \"%s\", "
			"\"shortDescription\": {\"text\": \"%s\"}, "
			"\"defaultConfiguration\": {\"level\": \"%s\"}}",
			k ? "," : "", rules[k].id, rules[k].name, rules[k].text,
			rules[k].level);
	}
	fputs("]}},\n    \"results\": [", f);
	for (size_t i = 0; i < o->n; i++)
		for (size_t k = 0; k < o->r[i]->nfindings; k++)
			result(f, o->r[i], &o->r[i]->findings[k], &first);
	for (size_t i = 0; o->base && i < o->base->n; i++)
		if (!o->base->e[i].matched)
			absent(f, &o->base->e[i], &first);
	fputs("]\n  }]\n}\n", f);
}
