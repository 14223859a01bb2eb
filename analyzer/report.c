/* report.c - build the report structure from a finished analysis (see
 * report.h): plain leaks grouped by allocation stack with the built-in and
 * user suppressions applied, heap and refcount errors in time order, the
 * rcobj results with their stacks symbolized and type names resolved.
 * Only the stacks that end up in the report are symbolized.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

const char *rcp_error_kind_name(enum rcp_error_kind k)
{
	switch (k) {
	case RCP_ERR_RELEASE_FREED: return "release_freed";
	case RCP_ERR_RETAIN_FREED: return "retain_freed";
	case RCP_ERR_NEGATIVE_COUNT: return "negative_count";
	case RCP_ERR_EDGE_FREED: return "edge_freed";
	case RCP_ERR_RC_DOUBLE_FREE: return "rc_double_free";
	case RCP_ERR_DOUBLE_FREE: return "double_free";
	case RCP_ERR_INVALID_FREE: return "invalid_free";
	case RCP_ERR_UNKNOWN_OBJECT: return "unknown_object";
	}
	return "unknown";
}

const char *rcp_end_how_name(uint32_t how)
{
	switch (how) {
	case RCP_END_EXIT: return "exit";
	case RCP_END__EXIT: return "_exit";
	case RCP_END_SIGNAL: return "signal";
	case RCP_END_EXEC: return "exec";
	case RCP_END_UNKNOWN: return "unknown";
	case RCP_END_SANDBOX: return "sandbox";
	}
	return "unknown";
}

struct collect {
	struct rcp_sym_frame *f;
	size_t n;
};

static void collect_frame(void *ud, const struct rcp_sym_frame *f)
{
	struct collect *c = ud;
	c->f[c->n++] = *f;
}

/* Symbolizes stack id into s.  0 or -ENOMEM. */
static int resolve(struct rcp_analysis *a, uint32_t id, struct rcp_rstack *s)
{
	struct rcp_sym_frame buf[RCP_REPORT_FRAMES];
	struct collect c = { buf, 0 };

	memset(s, 0, sizeof(*s));
	s->id = id;
	if (id == 0)
		return 0;
	s->known = rcp_stacks_get(&a->stacks, id) != NULL;
	rcp_sym_stack(a->sym, id, RCP_REPORT_FRAMES, collect_frame, &c);
	if (c.n == 0)
		return 0;
	s->f = malloc(c.n * sizeof(*s->f));
	if (!s->f)
		return -ENOMEM;
	memcpy(s->f, buf, c.n * sizeof(*s->f));
	s->n = c.n;
	return 0;
}

static const char *type_name(const struct rcp_analysis *a, uint32_t id)
{
	return rcp_strtab_name(&a->strs, id);
}

/* ---- signatures ------------------------------------------------------------ */

#define SITE_FRAMES 3           /* frames outside the runtime hashed */

uint64_t rcp_rstack_site_hash(const struct rcp_rstack *s)
{
	uint64_t h = RCP_FNV_INIT;
	size_t taken = 0;
	char buf[32];

	for (size_t i = 0; i < s->n && taken < SITE_FRAMES; i++) {
		const struct rcp_sym_frame *f = &s->f[i];
		if (rcp_sym_is_runtime_frame(f))
			continue;
		taken++;
		if (f->func) {
			h = rcp_fnv(h, f->func, strlen(f->func) + 1);
			if (f->file) {
				const char *b = rcp_basename(f->file);
				h = rcp_fnv(h, b, strlen(b) + 1);
			}
		} else {
			/* no symbol: the module offset is all there is (it
			 * changes with a rebuild, but there is nothing else) */
			const char *b = f->module ? rcp_basename(f->module) : "";
			h = rcp_fnv(h, b, strlen(b) + 1);
			int len = snprintf(buf, sizeof(buf), "+%llx",
					   (unsigned long long)f->offset);
			h = rcp_fnv(h, buf, (size_t)len);
		}
	}
	return h;
}

void rcp_rstack_site(const struct rcp_rstack *s, char *site, size_t len)
{
	snprintf(site, len, "?");
	for (size_t i = 0; i < s->n; i++) {
		const struct rcp_sym_frame *f = &s->f[i];
		if (rcp_sym_is_runtime_frame(f))
			continue;
		if (f->func)
			snprintf(site, len, "%s", f->func);
		else if (f->module)
			snprintf(site, len, "%s+0x%llx", rcp_basename(f->module),
				 (unsigned long long)f->offset);
		else
			snprintf(site, len, "0x%llx", (unsigned long long)f->ip);
		return;
	}
}

const struct rcp_sym_frame *rcp_rstack_source(const struct rcp_rstack *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (!rcp_sym_is_runtime_frame(&s->f[i]) && s->f[i].file &&
		    s->f[i].line)
			return &s->f[i];
	return NULL;
}

const char *rcp_fkind_name(enum rcp_fkind k)
{
	switch (k) {
	case RCP_F_CYCLE: return "cycle";
	case RCP_F_UNRELEASED: return "unreleased";
	case RCP_F_ERROR: return "error";
	case RCP_F_LEAK: return "leak";
	case RCP_F__COUNT: break;
	}
	return "?";
}

void rcp_report_gate_counts(const struct rcp_report *r, struct rcp_gate_counts *g)
{
	if (r->has_baseline) {
		*g = r->new_;
		return;
	}
	g->leaks = r->sum.leaked_blocks;
	g->cycles = r->sum.cycles;
	g->unreleased = r->sum.unreleased_objects;
	g->errors = r->sum.errors;
}

/* ---- leaks ---------------------------------------------------------------- */

struct leak_block {
	uint32_t stack;
	uint64_t size;
	uint64_t addr;
};

static int by_stack(const void *x, const void *y)
{
	const struct leak_block *a = x, *b = y;
	if (a->stack != b->stack)
		return a->stack < b->stack ? -1 : 1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static int by_bytes(const void *x, const void *y)
{
	const struct rcp_rleak *a = x, *b = y;
	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->blocks != b->blocks)
		return a->blocks > b->blocks ? -1 : 1;
	return a->stack < b->stack ? -1 : a->stack > b->stack;
}

static size_t supp_frames(const struct rcp_rstack *s, struct rcp_supp_frame *sf)
{
	for (size_t i = 0; i < s->n; i++) {
		sf[i].func = s->f[i].func;
		sf[i].file = s->f[i].file;
		sf[i].module = s->f[i].module;
	}
	return s->n;
}

/* 0 kept, 1 by a built-in rule, 2 by a user rule. */
static int suppressed(struct rcp_supp *builtin, struct rcp_supp *user,
		      const struct rcp_rstack *s)
{
	struct rcp_supp_frame sf[RCP_REPORT_FRAMES];
	size_t n = supp_frames(s, sf);

	if (builtin && rcp_supp_match(builtin, sf, n) >= 0)
		return 1;
	return user && rcp_supp_match(user, sf, n) >= 0 ? 2 : 0;
}

static int build_leaks(struct rcp_report *r, struct rcp_analysis *a,
		       const struct rcp_report_opts *o)
{
	struct leak_block *lb = NULL;
	size_t n = 0, cap = 0, ng = 0;
	struct rcp_supp builtin;
	int rc = 0;

	rcp_supp_init(&builtin);
	if (!o->no_default_supp) {
		rc = rcp_supp_builtin(&builtin);
		if (rc)
			goto out;
	}
	rcp_heap_foreach(&a->heap, b) {
		if ((b->flags & RCP_BLOCK_RC) || rcobj_is_live(a->rc, b->addr))
			continue;
		rc = rcp_grow(&lb, &cap, n, sizeof(*lb));
		if (rc)
			goto out;
		lb[n].stack = b->stack;
		lb[n].size = b->size;
		lb[n].addr = b->addr;
		n++;
	}
	if (n == 0)
		goto out;
	qsort(lb, n, sizeof(*lb), by_stack);
	r->leaks = calloc(n, sizeof(*r->leaks));
	if (!r->leaks) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n;) {
		struct rcp_rleak g;
		size_t j = i;

		memset(&g, 0, sizeof(g));
		g.stack = lb[i].stack;
		g.example_addr = lb[i].addr;
		for (; j < n && lb[j].stack == lb[i].stack; j++) {
			g.blocks++;
			g.bytes += lb[j].size;
		}
		i = j;
		rc = resolve(a, g.stack, &g.alloc);
		if (rc)
			goto out;
		int why = suppressed(&builtin, o->user, &g.alloc);
		if (why) {
			if (why == 1)
				r->sum.suppressed_builtin_blocks += g.blocks;
			r->sum.suppressed_blocks += g.blocks;
			r->sum.suppressed_bytes += g.bytes;
			free(g.alloc.f);
			continue;
		}
		r->sum.leaked_blocks += g.blocks;
		r->sum.leaked_bytes += g.bytes;
		g.sig = rcp_fnv(rcp_rstack_site_hash(&g.alloc), "leak", 4);
		r->leaks[ng++] = g;
	}
	r->nleaks = ng;
	qsort(r->leaks, ng, sizeof(*r->leaks), by_bytes);
out:
	free(lb);
	rcp_supp_free(&builtin);
	return rc;
}

/* ---- errors --------------------------------------------------------------- */

static int by_seq(const void *x, const void *y)
{
	const struct rcp_rerror *a = x, *b = y;
	if (a->e.at.seq != b->e.at.seq)
		return a->e.at.seq < b->e.at.seq ? -1 : 1;
	return 0;
}

static int build_errors(struct rcp_report *r, struct rcp_analysis *a)
{
	const struct rcobj_results *res = a->res;
	size_t n = a->heap.nerr_kept + res->nerrors;
	int rc = 0;

	if (n == 0)
		return 0;
	r->errors = calloc(n, sizeof(*r->errors));
	if (!r->errors)
		return -ENOMEM;
	for (size_t i = 0; i < a->heap.nerr_kept; i++)
		r->errors[r->nerrors++].e = a->heap.errors[i];
	for (size_t i = 0; i < res->nerrors; i++)
		r->errors[r->nerrors++].e = res->errors[i];
	qsort(r->errors, r->nerrors, sizeof(*r->errors), by_seq);
	for (size_t i = 0; i < r->nerrors && rc == 0; i++) {
		struct rcp_rerror *e = &r->errors[i];
		e->type = type_name(a, e->e.type);
		rc = resolve(a, e->e.at.stack, &e->at);
		const char *kn = rcp_error_kind_name(e->e.kind);
		e->sig = rcp_fnv(rcp_fnv(rcp_rstack_site_hash(&e->at), kn, strlen(kn)),
				 e->type ? e->type : "", e->type ? strlen(e->type) : 0);
		if (!rc && e->e.has_earlier)
			rc = resolve(a, e->e.earlier.stack, &e->earlier);
	}
	return rc;
}

/* ---- refcounted objects ---------------------------------------------------- */

static void cycle_types(const struct rcp_analysis *a, struct rcp_rcycle *rc)
{
	const struct rcobj_cycle *c = rc->c;
	uint32_t types[4];
	size_t counts[4], nt = 0, other = 0;

	for (size_t i = 0; i < c->nmembers; i++) {
		uint32_t t = rcp_strtab_resolve(&a->strs, c->members[i].type);
		size_t k;
		for (k = 0; k < nt && types[k] != t; k++)
			;
		if (k == nt) {
			if (nt == 4) {
				other++;
				continue;
			}
			types[nt] = t;
			counts[nt++] = 0;
		}
		counts[k]++;
	}
	size_t len = 0;
	rc->types[0] = '\0';
	for (size_t k = 0; k < nt && len < sizeof(rc->types); k++) {
		const char *name = type_name(a, types[k]);
		int w = snprintf(rc->types + len, sizeof(rc->types) - len, "%s%s x%zu",
				 k ? ", " : "", name ? name : "?", counts[k]);
		if (w > 0)
			len += (size_t)w;
	}
	if (other && len < sizeof(rc->types))
		snprintf(rc->types + len, sizeof(rc->types) - len, ", %zu more", other);
}

static int build_rc(struct rcp_report *r, struct rcp_analysis *a)
{
	const struct rcobj_results *res = a->res;
	int rc = 0;

	if (res->ncycles) {
		r->cycles = calloc(res->ncycles, sizeof(*r->cycles));
		if (!r->cycles)
			return -ENOMEM;
		r->ncycles = res->ncycles;
	}
	for (size_t i = 0; i < res->ncycles; i++) {
		struct rcp_rcycle *cy = &r->cycles[i];
		const struct rcobj_cycle *c = &res->cycles[i];

		cy->c = c;
		cycle_types(a, cy);
		if (c->has_culprit) {
			rc = resolve(a, c->culprit.stack, &cy->culprit);
			if (rc)
				return rc;
			for (size_t k = 0; k < c->nmembers; k++)
				if (c->members[k].addr == c->culprit_obj)
					cy->culprit_type = type_name(a, c->members[k].type);
		}
		cy->nmembers = c->nmembers < RCP_REPORT_MEMBERS ? c->nmembers : RCP_REPORT_MEMBERS;
		if (cy->nmembers) {
			cy->members = calloc(cy->nmembers, sizeof(*cy->members));
			if (!cy->members) {
				cy->nmembers = 0;
				return -ENOMEM;
			}
		}
		for (size_t k = 0; k < cy->nmembers; k++) {
			cy->members[k].m = &c->members[k];
			cy->members[k].type = type_name(a, c->members[k].type);
			rc = resolve(a, c->members[k].alloc_stack, &cy->members[k].alloc);
			if (rc)
				return rc;
		}
	}
	if (res->nunreleased) {
		r->unreleased = calloc(res->nunreleased, sizeof(*r->unreleased));
		if (!r->unreleased)
			return -ENOMEM;
		r->nunreleased = res->nunreleased;
	}
	for (size_t i = 0; i < res->nunreleased; i++) {
		struct rcp_runreleased *u = &r->unreleased[i];
		u->u = &res->unreleased[i];
		u->type = type_name(a, u->u->type);
		rc = resolve(a, u->u->alloc_stack, &u->alloc);
		if (rc)
			return rc;
		u->sig = rcp_fnv(rcp_fnv(rcp_rstack_site_hash(&u->alloc), "unreleased", 10),
				 u->type ? u->type : "", u->type ? strlen(u->type) : 0);
	}
	if (res->nsuspect_sites) {
		r->suspects = calloc(res->nsuspect_sites, sizeof(*r->suspects));
		if (!r->suspects)
			return -ENOMEM;
		r->nsuspects = res->nsuspect_sites;
	}
	for (size_t i = 0; i < res->nsuspect_sites; i++) {
		struct rcp_rsuspect *s = &r->suspects[i];
		s->s = &res->suspect_sites[i];
		s->type = type_name(a, s->s->type);
		rc = resolve(a, s->s->stack, &s->stack);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- user suppressions of refcounted findings ------------------------------ */

/* Which rule suppresses the cycle, or -1: its signature, every member's
 * type, or every listed member's allocation stack. */
static long cycle_rule(struct rcp_supp *u, const struct rcp_report *r,
		       const struct rcp_rcycle *cy)
{
	const struct rcobj_cycle *c = cy->c;
	long rule = rcp_supp_match_cycle(u, c->signature), first = -1;

	if (rule >= 0 || c->nmembers == 0)
		return rule;
	for (size_t k = 0; k < c->nmembers; k++) {
		rule = rcp_supp_match_type(u, type_name(r->a, c->members[k].type));
		if (rule < 0)
			break;
		if (first < 0)
			first = rule;
	}
	if (rule >= 0)
		return first;
	first = -1;
	for (size_t k = 0; k < cy->nmembers; k++) {
		struct rcp_supp_frame sf[RCP_REPORT_FRAMES];
		size_t n = supp_frames(&cy->members[k].alloc, sf);
		rule = rcp_supp_match_nohit(u, sf, n);
		if (rule < 0)
			return -1;
		if (first < 0)
			first = rule;
	}
	return first;
}

static void free_cycle(struct rcp_rcycle *cy)
{
	for (size_t k = 0; k < cy->nmembers; k++)
		free(cy->members[k].alloc.f);
	free(cy->members);
	free(cy->culprit.f);
}

/* Drops the cycles and unreleased groups the user's rules suppress; the
 * summary keys then count only what is left (CONTRACT.md). */
static void suppress_rc(struct rcp_report *r, struct rcp_supp *u)
{
	size_t keep = 0;

	for (size_t i = 0; i < r->ncycles; i++) {
		struct rcp_rcycle *cy = &r->cycles[i];
		long rule = cycle_rule(u, r, cy);
		if (rule < 0) {
			r->cycles[keep++] = *cy;
			continue;
		}
		u->rules[rule].hits++;
		r->sum.suppressed_cycles++;
		r->sum.suppressed_cycle_objects += cy->c->nmembers;
		r->sum.cycles--;
		r->sum.garbage_objects -= cy->c->nmembers < r->sum.garbage_objects ?
			cy->c->nmembers : r->sum.garbage_objects;
		free_cycle(cy);
	}
	r->ncycles = keep;
	keep = 0;
	for (size_t i = 0; i < r->nunreleased; i++) {
		struct rcp_runreleased *un = &r->unreleased[i];
		long rule = rcp_supp_match_type(u, un->type);
		if (rule >= 0) {
			u->rules[rule].hits++;
		} else {
			struct rcp_supp_frame sf[RCP_REPORT_FRAMES];
			size_t n = supp_frames(&un->alloc, sf);
			rule = rcp_supp_match(u, sf, n);
		}
		if (rule < 0) {
			r->unreleased[keep++] = *un;
			continue;
		}
		r->sum.suppressed_unreleased_groups++;
		r->sum.suppressed_unreleased_objects += un->u->count;
		r->sum.unreleased_objects -= un->u->count < r->sum.unreleased_objects ?
			un->u->count : r->sum.unreleased_objects;
		free(un->alloc.f);
	}
	r->nunreleased = keep;
}

/* ---- the findings list ------------------------------------------------------- */

static int build_findings(struct rcp_report *r)
{
	size_t n = r->ncycles + r->nunreleased + r->nerrors + r->nleaks;
	struct rcp_finding *f;

	if (n == 0)
		return 0;
	f = calloc(n, sizeof(*f));
	if (!f)
		return -ENOMEM;
	r->findings = f;
	for (size_t i = 0; i < r->ncycles; i++, f++) {
		struct rcp_rcycle *cy = &r->cycles[i];
		f->kind = RCP_F_CYCLE;
		f->sig = cy->c->signature;
		f->count = cy->c->nmembers;
		f->bytes = cy->c->bytes;
		f->type = cy->nmembers ? cy->members[0].type : NULL;
		f->stack = cy->c->has_culprit ? &cy->culprit :
			cy->nmembers ? &cy->members[0].alloc : &cy->culprit;
		rcp_rstack_site(f->stack, f->site, sizeof(f->site));
		f->index = i;
		f->base = &cy->base;
	}
	for (size_t i = 0; i < r->nunreleased; i++, f++) {
		struct rcp_runreleased *u = &r->unreleased[i];
		f->kind = RCP_F_UNRELEASED;
		f->sig = u->sig;
		f->count = u->u->count;
		f->bytes = u->u->bytes;
		f->type = u->type;
		f->stack = &u->alloc;
		rcp_rstack_site(f->stack, f->site, sizeof(f->site));
		f->index = i;
		f->base = &u->base;
	}
	for (size_t i = 0; i < r->nerrors; i++, f++) {
		struct rcp_rerror *e = &r->errors[i];
		f->kind = RCP_F_ERROR;
		f->sig = e->sig;
		f->count = 1;
		f->type = e->type;
		f->what = rcp_error_kind_name(e->e.kind);
		f->stack = &e->at;
		rcp_rstack_site(f->stack, f->site, sizeof(f->site));
		f->index = i;
		f->base = &e->base;
	}
	for (size_t i = 0; i < r->nleaks; i++, f++) {
		struct rcp_rleak *l = &r->leaks[i];
		f->kind = RCP_F_LEAK;
		f->sig = l->sig;
		f->count = l->blocks;
		f->bytes = l->bytes;
		f->stack = &l->alloc;
		rcp_rstack_site(f->stack, f->site, sizeof(f->site));
		f->index = i;
		f->base = &l->base;
	}
	r->nfindings = n;
	return 0;
}

static void free_leaks(struct rcp_report *r)
{
	for (size_t i = 0; i < r->nleaks; i++)
		free(r->leaks[i].alloc.f);
	free(r->leaks);
	r->leaks = NULL;
	r->nleaks = 0;
}

static void free_unreleased(struct rcp_report *r)
{
	for (size_t i = 0; i < r->nunreleased; i++)
		free(r->unreleased[i].alloc.f);
	free(r->unreleased);
	r->unreleased = NULL;
	r->nunreleased = 0;
}

/* A recording that ended before a seccomp filter while the process ran
 * on (END "sandbox"): its live blocks and held objects were in use, not
 * leaked, and become counts instead of findings.  Garbage cycles stay:
 * nothing can reach them again. */
static void live_at_end(struct rcp_report *r)
{
	r->sum.ended_live = 1;
	r->sum.live_blocks = r->sum.leaked_blocks;
	r->sum.live_bytes = r->sum.leaked_bytes;
	r->sum.live_objects = r->sum.unreleased_objects;
	r->sum.leaked_blocks = r->sum.leaked_bytes = 0;
	r->sum.unreleased_objects = 0;
	free_leaks(r);
	free_unreleased(r);
}

int rcp_report_build(struct rcp_report *r, struct rcp_analysis *a)
{
	struct rcp_report_opts o = { a->opt.user_supp, 0 };
	return rcp_report_build_opts(r, a, &o);
}

int rcp_report_build_opts(struct rcp_report *r, struct rcp_analysis *a,
			  const struct rcp_report_opts *o)
{
	const struct rcobj_results *res = a->res;
	int rc;

	memset(r, 0, sizeof(*r));
	r->a = a;
	r->sum.events = a->events;
	int sandbox = a->dump.has_end && a->dump.end.how == RCP_END_SANDBOX;
	r->sum.truncated = a->dump.truncated || sandbox;
	if (res) {
		r->sum.rc_objects = res->rc_objects;
		r->sum.cycles = res->ncycles;
		r->sum.garbage_objects = res->garbage_objects;
		r->sum.unreleased_objects = res->unreleased_objects;
		r->sum.errors = res->nerrors + res->errors_dropped;
	}
	r->sum.errors += a->heap.nerrors;
	rc = build_leaks(r, a, o);
	if (!rc && res)
		rc = build_errors(r, a);
	if (!rc && res)
		rc = build_rc(r, a);
	if (!rc && o->user)
		suppress_rc(r, o->user);
	if (!rc && sandbox)
		live_at_end(r);
	if (!rc)
		rc = build_findings(r);
	if (rc)
		rcp_report_free(r);
	return rc;
}

void rcp_report_free(struct rcp_report *r)
{
	for (size_t i = 0; i < r->ncycles; i++) {
		for (size_t k = 0; k < r->cycles[i].nmembers; k++)
			free(r->cycles[i].members[k].alloc.f);
		free(r->cycles[i].members);
		free(r->cycles[i].culprit.f);
	}
	free(r->cycles);
	free_unreleased(r);
	for (size_t i = 0; i < r->nsuspects; i++)
		free(r->suspects[i].stack.f);
	free(r->suspects);
	for (size_t i = 0; i < r->nerrors; i++) {
		free(r->errors[i].at.f);
		free(r->errors[i].earlier.f);
	}
	free(r->errors);
	free_leaks(r);
	free(r->findings);
	memset(r, 0, sizeof(*r));
}
