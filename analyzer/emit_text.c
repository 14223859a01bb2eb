/* emit_text.c - the text emitter: the same report as emit_json.c, for
 * people.  Summary first, then what matters most: cycles (headed by the
 * release that made each one garbage), unreleased objects, suspect sites,
 * errors, plain leaks; warnings last.  Frames read
 *     #0 func (file.c:12) module
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "report.h"

#define TEXT_FRAMES 16          /* frames shown per stack */
#define TEXT_MEMBER_FRAMES 4
#define TEXT_ITEMS 50           /* entries shown per section */

/* " [NEW]" / " [known]" after a finding's title with --baseline. */
static const char *mark(enum rcp_bstate b)
{
	return b == RCP_B_NEW ? " [NEW]" : b == RCP_B_KNOWN ? " [known]" : "";
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void frame(FILE *f, const char *ind, size_t i, const struct rcp_sym_frame *fr)
{
	fprintf(f, "%s#%zu ", ind, i);
	if (fr->func)
		fprintf(f, "%s", fr->func);
	else if (fr->module)
		fprintf(f, "%s+0x%" PRIx64, rcp_basename(fr->module), fr->offset);
	else
		fprintf(f, "0x%" PRIx64, fr->ip);
	if (fr->file)
		fprintf(f, " (%s:%u)", rcp_basename(fr->file), fr->line);
	if (fr->inlined)
		fprintf(f, " [inlined]");
	if (fr->module && fr->func)
		fprintf(f, " %s", rcp_basename(fr->module));
	fputc('\n', f);
}

static void stack(FILE *f, const char *ind, const struct rcp_rstack *s,
		  size_t max)
{
	if (s->id == 0) {
		fprintf(f, "%s(no backtrace recorded)\n", ind);
		return;
	}
	if (s->n == 0) {
		fprintf(f, "%s(stack %u %s)\n", ind, s->id,
			s->known ? "is empty" : "was never defined in the dump");
		return;
	}
	size_t i;
	for (i = 0; i < s->n && i < max; i++) {
		frame(f, ind, i, &s->f[i]);
		/* what runs below main is the C library's start-up code */
		if (s->f[i].func && strcmp(s->f[i].func, "main") == 0) {
			i++;
			break;
		}
	}
	if (i < s->n && (i == max || !s->f[i - 1].func ||
			 strcmp(s->f[i - 1].func, "main") != 0))
		fprintf(f, "%s... %zu more frames\n", ind, s->n - i);
}

static void header(FILE *f, const struct rcp_report *r)
{
	const struct rcp_analysis *a = r->a;
	const struct rcp_dump *d = &a->dump;
	const struct rcp_summary *s = &r->sum;

	fprintf(f, "rcprof report for %s", d->path);
	if (d->has_process)
		fprintf(f, ": %.*s (pid %u)", (int)d->process.exe_len, d->exe,
			d->process.pid);
	fputc('\n', f);
	if (d->has_end) {
		fprintf(f, "  ended by %s", rcp_end_how_name(d->end.how));
		if (d->end.how == RCP_END_SIGNAL) {
			fprintf(f, " %d", d->end.status);
			const char *abbrev = sigabbrev_np(d->end.status);
			if (abbrev)
				fprintf(f, " (SIG%s)", abbrev);
		}
		else if (d->end.how == RCP_END_EXIT || d->end.how == RCP_END__EXIT)
			fprintf(f, " (status %d)", d->end.status);
		else if (d->end.how == RCP_END_SANDBOX)
			fprintf(f, ": the recording ended when the program "
				"entered a seccomp sandbox that would not allow "
				"the recorder's calls; the process ran on");
		fputc('\n', f);
	}
	if (s->truncated)
		fprintf(f, "  TRUNCATED: the recording ended early; read up to its last valid event\n");
	if (d->has_parent)
		fprintf(f, "  forked from pid %u (%s history%s)\n", d->parent.parent_pid,
			a->parent_unreadable ? "unreadable parent" : "parent",
			a->parent_unreadable ? " unknown" : " replayed");
	fprintf(f, "\nsummary: %" PRIu64 " events, %" PRIu64 " refcounted %s\n",
		s->events, s->rc_objects, plural(s->rc_objects, "object", "objects"));
	fprintf(f, "  %" PRIu64 " garbage %s (%" PRIu64 " %s refcounting can never free)\n",
		s->cycles, plural(s->cycles, "cycle", "cycles"), s->garbage_objects,
		plural(s->garbage_objects, "object", "objects"));
	fprintf(f, "  %" PRIu64 " unreleased %s (alive at exit, held from outside the graph)\n",
		s->unreleased_objects, plural(s->unreleased_objects, "object", "objects"));
	fprintf(f, "  %" PRIu64 " %s\n", s->errors, plural(s->errors, "error", "errors"));
	fprintf(f, "  %" PRIu64 " leaked heap %s, %" PRIu64 " bytes", s->leaked_blocks,
		plural(s->leaked_blocks, "block", "blocks"), s->leaked_bytes);
	if (s->suppressed_blocks)
		fprintf(f, " (%" PRIu64 " %s, %" PRIu64 " bytes, suppressed%s)",
			s->suppressed_blocks, plural(s->suppressed_blocks, "block", "blocks"),
			s->suppressed_bytes,
			s->suppressed_builtin_blocks == s->suppressed_blocks ?
			": the C library's own" : "");
	fputc('\n', f);
	if (s->ended_live)
		fprintf(f, "  %" PRIu64 " heap %s (%" PRIu64 " bytes) and %" PRIu64
			" held %s were live when the recording ended: not leaks,"
			" the process ran on\n",
			s->live_blocks, plural(s->live_blocks, "block", "blocks"),
			s->live_bytes, s->live_objects,
			plural(s->live_objects, "object", "objects"));
	if (s->suppressed_cycles || s->suppressed_unreleased_groups)
		fprintf(f, "  suppressed: %" PRIu64 " %s (%" PRIu64 " objects), %" PRIu64
			" unreleased %s (%" PRIu64 " objects)\n",
			s->suppressed_cycles, plural(s->suppressed_cycles, "cycle", "cycles"),
			s->suppressed_cycle_objects, s->suppressed_unreleased_groups,
			plural(s->suppressed_unreleased_groups, "group", "groups"),
			s->suppressed_unreleased_objects);
	if (r->has_baseline)
		fprintf(f, "  against the baseline: %" PRIu64 " new leaked %s, %" PRIu64
			" new %s, %" PRIu64 " new unreleased, %" PRIu64 " new %s\n",
			r->new_.leaks, plural(r->new_.leaks, "block", "blocks"),
			r->new_.cycles, plural(r->new_.cycles, "cycle", "cycles"),
			r->new_.unreleased, r->new_.errors,
			plural(r->new_.errors, "error", "errors"));
}

/* Cycles of one signature - the same types allocated at the same sites -
 * are nearly always one bug that leaked many times (a loop building the
 * same ring), so the text report shows each signature once, like
 * LeakSanitizer's grouping of leaks by stack: how many cycles and bytes
 * it has, and the details of its first cycle.  Groups come biggest first;
 * --format json keeps every cycle. */
struct cycle_group {
	size_t first;           /* index in r->cycles of its first cycle */
	size_t count;
	uint64_t bytes;
};

/* A cycle by its signature, then by its place in the report. */
struct sig_index {
	uint64_t sig;
	size_t idx;
};

static int by_signature(const void *x, const void *y)
{
	const struct sig_index *a = x, *b = y;
	if (a->sig != b->sig)
		return a->sig < b->sig ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int by_group_bytes(const void *x, const void *y)
{
	const struct cycle_group *a = x, *b = y;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return a->first < b->first ? -1 : a->first > b->first;
}

/* The groups of r's cycles, biggest first; *n of them.  NULL (and the
 * cycles shown one by one) when memory runs out. */
static struct cycle_group *group_cycles(const struct rcp_report *r, size_t *n)
{
	struct sig_index *by = malloc(r->ncycles * sizeof(*by));
	struct cycle_group *g = malloc(r->ncycles * sizeof(*g));
	if (!by || !g) {
		free(by);
		free(g);
		return NULL;
	}
	for (size_t i = 0; i < r->ncycles; i++)
		by[i] = (struct sig_index){ r->cycles[i].c->signature, i };
	qsort(by, r->ncycles, sizeof(*by), by_signature);
	size_t ng = 0;
	for (size_t i = 0; i < r->ncycles; i++) {
		uint64_t bytes = r->cycles[by[i].idx].c->bytes;
		if (i && by[i].sig == by[i - 1].sig) {
			g[ng - 1].count++;
			g[ng - 1].bytes += bytes;
			continue;
		}
		g[ng++] = (struct cycle_group){ by[i].idx, 1, bytes };
	}
	free(by);
	qsort(g, ng, sizeof(*g), by_group_bytes);
	*n = ng;
	return g;
}

static void one_cycle(FILE *f, size_t number, const struct rcp_rcycle *cy,
		      size_t count, uint64_t group_bytes)
{
	const struct rcobj_cycle *c = cy->c;

	fprintf(f, "\ncycle %zu%s: %zu %s (%s), %" PRIu64 " bytes, signature %016" PRIx64 "\n",
		number, mark(cy->base), c->nmembers,
		plural(c->nmembers, "object", "objects"),
		cy->types, c->bytes, c->signature);
	if (count > 1)
		fprintf(f, "  %zu cycles like this (same types, same allocation sites), "
			"%" PRIu64 " bytes in all; the first one:\n", count, group_bytes);
	if (c->has_culprit) {
		fprintf(f, "  the %s that made it garbage: %s 0x%" PRIx64 " (thread %u)\n",
			c->culprit_is_edge_clear ? "slot overwrite (rc_set)" : "release",
			cy->culprit_type ? cy->culprit_type : "object",
			c->culprit_obj, c->culprit.tid);
		stack(f, "    ", &cy->culprit, TEXT_FRAMES);
	} else {
		fprintf(f, "  garbage from the start (no release made it so)\n");
	}
	if (c->found_gen >= 0)
		fprintf(f, "  found by collection #%" PRIu64 " of generation %d\n",
			c->found_collection, c->found_gen);
	else
		fprintf(f, "  found by the final full collection\n");
	fprintf(f, "  members:\n");
	for (size_t k = 0; k < cy->nmembers && k < 8; k++) {
		const struct rcp_rmember *m = &cy->members[k];
		fprintf(f, "    %s 0x%" PRIx64 ", %" PRIu64 " bytes, refcount %" PRId64 "%s, allocated at\n",
			m->type ? m->type : "?", m->m->addr, m->m->size,
			m->m->refcount, m->m->in_cycle ? "" : " (kept alive by the cycle)");
		stack(f, "      ", &m->alloc, TEXT_MEMBER_FRAMES);
	}
	if (c->nmembers > 8)
		fprintf(f, "    ... %zu more\n", c->nmembers - 8);
	if (c->nedges) {
		fprintf(f, "  edges:");
		for (size_t k = 0; k < c->nedges && k < 8; k++)
			fprintf(f, " 0x%" PRIx64 "+%" PRId64 " -> 0x%" PRIx64 ";",
				c->edges[k].owner, c->edges[k].slot_off,
				c->edges[k].target);
		if (c->nedges > 8)
			fprintf(f, " ... %zu more", c->nedges - 8);
		fputc('\n', f);
	}
}

static void cycles(FILE *f, const struct rcp_report *r)
{
	if (!r->ncycles)
		return;
	size_t ng = 0;
	struct cycle_group *g = group_cycles(r, &ng);
	if (g && ng < r->ncycles)
		fprintf(f, "\n== %zu garbage %s of %zu %s: objects that keep each other alive ==\n",
			r->ncycles, plural(r->ncycles, "cycle", "cycles"), ng,
			plural(ng, "kind", "kinds"));
	else
		fprintf(f, "\n== %zu garbage %s: objects that keep each other alive ==\n",
			r->ncycles, plural(r->ncycles, "cycle", "cycles"));
	size_t shown = g ? ng : r->ncycles;
	for (size_t i = 0; i < shown && i < TEXT_ITEMS; i++) {
		if (g)
			one_cycle(f, i + 1, &r->cycles[g[i].first], g[i].count,
				  g[i].bytes);
		else
			one_cycle(f, i + 1, &r->cycles[i], 1, 0);
	}
	if (shown > TEXT_ITEMS)
		fprintf(f, "\n... %zu more %s (see --format json)\n", shown - TEXT_ITEMS,
			g ? "kinds of cycles" : "cycles");
	free(g);
}

static void unreleased(FILE *f, const struct rcp_report *r)
{
	if (!r->nunreleased)
		return;
	fprintf(f, "\n== unreleased objects: alive at exit, still referenced from outside ==\n");
	for (size_t i = 0; i < r->nunreleased && i < TEXT_ITEMS; i++) {
		const struct rcp_runreleased *u = &r->unreleased[i];
		fprintf(f, "\n%zu %s %s, %" PRIu64 " bytes (e.g. 0x%" PRIx64 ")%s, allocated at\n",
			u->u->count, u->type ? u->type : "?",
			plural(u->u->count, "object", "objects"), u->u->bytes,
			u->u->example_addr, mark(u->base));
		stack(f, "    ", &u->alloc, TEXT_FRAMES);
	}
	for (size_t i = 0; i < r->nsuspects && i < TEXT_ITEMS; i++) {
		const struct rcp_rsuspect *s = &r->suspects[i];
		if (i == 0)
			fprintf(f, "\n== suspect types: references taken and never dropped ==\n");
		fprintf(f, "\n%s: %zu %s taken here never released (%zu %s)\n",
			s->type ? s->type : "?", s->s->unmatched,
			plural(s->s->unmatched, "reference", "references"),
			s->s->objects, plural(s->s->objects, "object", "objects"));
		stack(f, "    ", &s->stack, TEXT_FRAMES);
	}
}

static const char *error_text(enum rcp_error_kind k)
{
	switch (k) {
	case RCP_ERR_RELEASE_FREED: return "release of a freed object";
	case RCP_ERR_RETAIN_FREED: return "retain of a freed object";
	case RCP_ERR_NEGATIVE_COUNT: return "reference count below zero";
	case RCP_ERR_EDGE_FREED: return "edge set on or to a freed object";
	case RCP_ERR_RC_DOUBLE_FREE: return "refcounted object freed twice";
	case RCP_ERR_DOUBLE_FREE: return "double free";
	case RCP_ERR_INVALID_FREE: return "free of a pointer never allocated";
	case RCP_ERR_UNKNOWN_OBJECT: return "retain/release of an unknown object";
	}
	return "error";
}

static int heap_free_error(enum rcp_error_kind kind)
{
	return kind == RCP_ERR_DOUBLE_FREE || kind == RCP_ERR_INVALID_FREE;
}

static void errors(FILE *f, const struct rcp_report *r)
{
	if (!r->sum.errors)
		return;
	int hint = 0;
	fprintf(f, "\n== %" PRIu64 " %s ==\n", r->sum.errors,
		plural(r->sum.errors, "error", "errors"));
	for (size_t i = 0; i < r->nerrors && i < TEXT_ITEMS; i++) {
		const struct rcp_rerror *e = &r->errors[i];
		fprintf(f, "\n%s: %s%s0x%" PRIx64 " (thread %u)%s\n", error_text(e->e.kind),
			e->type ? e->type : "", e->type ? " " : "", e->e.addr,
			e->e.at.tid, mark(e->base));
		stack(f, "    ", &e->at, TEXT_FRAMES);
		if (e->e.has_earlier) {
			fprintf(f, "  freed earlier (thread %u) at\n", e->e.earlier.tid);
			stack(f, "    ", &e->earlier, TEXT_FRAMES);
		}
		if ((heap_free_error(e->e.kind) && e->at.id == 0) ||
		    (e->e.has_earlier && e->earlier.id == 0))
			hint = 1;
	}
	/* Frees are recorded without a backtrace unless asked (one per free
	 * costs half as much again on allocation-heavy programs, see the
	 * README's RCPROF_FREE_STACKS). */
	if (hint)
		fprintf(f, "\n(frees were recorded without backtraces: run with RCPROF_FREE_STACKS=1 to see where each free was called)\n");
	if (r->sum.errors > TEXT_ITEMS && r->sum.errors > r->nerrors)
		fprintf(f, "\n... %" PRIu64 " more errors\n", r->sum.errors - TEXT_ITEMS);
}

static void leaks(FILE *f, const struct rcp_report *r)
{
	if (!r->nleaks)
		return;
	fprintf(f, "\n== leaked heap blocks (never freed) ==\n");
	for (size_t i = 0; i < r->nleaks && i < TEXT_ITEMS; i++) {
		const struct rcp_rleak *l = &r->leaks[i];
		fprintf(f, "\n%" PRIu64 " bytes in %" PRIu64 " %s (e.g. 0x%" PRIx64 ")%s, allocated at\n",
			l->bytes, l->blocks, plural(l->blocks, "block", "blocks"),
			l->example_addr, mark(l->base));
		stack(f, "    ", &l->alloc, TEXT_FRAMES);
	}
	if (r->nleaks > TEXT_ITEMS)
		fprintf(f, "\n... %zu more leak sites\n", r->nleaks - TEXT_ITEMS);
}

void rcp_emit_text(FILE *f, const struct rcp_report *r)
{
	const struct rcp_analysis *a = r->a;

	header(f, r);
	cycles(f, r);
	unreleased(f, r);
	errors(f, r);
	leaks(f, r);
	if (a->diag.nwarnings) {
		fprintf(f, "\n== %zu %s ==\n", a->diag.nwarnings,
			plural(a->diag.nwarnings, "warning", "warnings"));
		for (size_t i = 0; i < a->diag.nkept; i++)
			fprintf(f, "  %s\n", a->diag.kept[i]);
	}
}

void rcp_emit_text_multi(FILE *f, const struct rcp_report *const *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs("\n----------------------------------------------------------------\n\n", f);
		rcp_emit_text(f, r[i]);
	}
}

/* What --baseline listed that no longer happens, and the rules that hit. */
void rcp_emit_text_out(FILE *f, const struct rcp_output *o)
{
	rcp_emit_text_multi(f, o->r, o->n);
	if (o->user && o->user->n) {
		fprintf(f, "\n== suppression rules ==\n");
		for (size_t i = 0; i < o->user->n; i++)
			fprintf(f, "  %zu %s  %s:%s\n", o->user->rules[i].hits,
				plural(o->user->rules[i].hits, "hit ", "hits"),
				rcp_supp_kind_name(o->user->rules[i].kind),
				o->user->rules[i].pattern);
	}
	if (!o->base)
		return;
	size_t gone = rcp_baseline_gone(o->base);
	fprintf(f, "\n== baseline: %zu %s gone ==\n", gone,
		plural(gone, "finding", "findings"));
	for (size_t i = 0; i < o->base->n; i++) {
		const struct rcp_bentry *e = &o->base->e[i];
		if (e->matched)
			continue;
		fprintf(f, "  %s %016" PRIx64 " at %s%s%s: %" PRIu64 " x, %" PRIu64 " bytes\n",
			rcp_fkind_name(e->kind), e->sig, e->site,
			e->type[0] ? ", type " : "", e->type, e->count, e->bytes);
	}
}
