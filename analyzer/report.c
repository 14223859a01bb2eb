/* report.c - build the report structure from a finished analysis (see
 * report.h): plain leaks grouped by allocation stack with the built-in and
 * user suppressions applied, heap and refcount errors in time order, the
 * rcobj results with their stacks symbolized and type names resolved.
 * Only the stacks that end up in the report are symbolized.
 */
#include <errno.h>
#include <stdlib.h>

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

static int suppressed(struct rcp_analysis *a, struct rcp_supp *builtin,
		      const struct rcp_rstack *s)
{
	struct rcp_supp_frame sf[RCP_REPORT_FRAMES];

	for (size_t i = 0; i < s->n; i++) {
		sf[i].func = s->f[i].func;
		sf[i].file = s->f[i].file;
		sf[i].module = s->f[i].module;
	}
	if (rcp_supp_match(builtin, sf, s->n) >= 0)
		return 1;
	return a->opt.user_supp && rcp_supp_match(a->opt.user_supp, sf, s->n) >= 0;
}

static int build_leaks(struct rcp_report *r, struct rcp_analysis *a)
{
	struct leak_block *lb = NULL;
	size_t n = 0, cap = 0, ng = 0;
	struct rcp_supp builtin;
	int rc = 0;

	rcp_supp_init(&builtin);
	rc = rcp_supp_builtin(&builtin);
	if (rc)
		goto out;
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
		if (suppressed(a, &builtin, &g.alloc)) {
			r->sum.suppressed_blocks += g.blocks;
			r->sum.suppressed_bytes += g.bytes;
			free(g.alloc.f);
			continue;
		}
		r->sum.leaked_blocks += g.blocks;
		r->sum.leaked_bytes += g.bytes;
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

int rcp_report_build(struct rcp_report *r, struct rcp_analysis *a)
{
	const struct rcobj_results *res = a->res;
	int rc;

	memset(r, 0, sizeof(*r));
	r->a = a;
	r->sum.events = a->events;
	r->sum.truncated = a->dump.truncated;
	if (res) {
		r->sum.rc_objects = res->rc_objects;
		r->sum.cycles = res->ncycles;
		r->sum.garbage_objects = res->garbage_objects;
		r->sum.unreleased_objects = res->unreleased_objects;
		r->sum.errors = res->nerrors + res->errors_dropped;
	}
	r->sum.errors += a->heap.nerrors;
	rc = build_leaks(r, a);
	if (!rc && res)
		rc = build_errors(r, a);
	if (!rc && res)
		rc = build_rc(r, a);
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
	for (size_t i = 0; i < r->nunreleased; i++)
		free(r->unreleased[i].alloc.f);
	free(r->unreleased);
	for (size_t i = 0; i < r->nsuspects; i++)
		free(r->suspects[i].stack.f);
	free(r->suspects);
	for (size_t i = 0; i < r->nerrors; i++) {
		free(r->errors[i].at.f);
		free(r->errors[i].earlier.f);
	}
	free(r->errors);
	for (size_t i = 0; i < r->nleaks; i++)
		free(r->leaks[i].alloc.f);
	free(r->leaks);
	memset(r, 0, sizeof(*r));
}
