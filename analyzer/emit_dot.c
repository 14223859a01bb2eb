/* emit_dot.c - the Graphviz back end: the garbage cycles as one digraph,
 * one cluster per cycle (per dump and cycle with several dumps), so
 * `dot -Tsvg` renders every cycle in one picture.
 *
 * A node is a member: its type, address and allocation site; the object
 * whose release made the cycle garbage is drawn bold red, members only
 * kept alive by the cycle dashed.  An edge is a declared reference,
 * labelled with the field offset inside the owner (+0x8).  Node ids are
 * cN_M (cycle, member), so no address or name ever needs quoting there;
 * every label goes through rcp_dot_string.
 */
#include <inttypes.h>
#include <string.h>

#include "report.h"

void rcp_dot_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p < 0x20 || *p == 0x7f)
			fputc(' ', f);   /* no control characters in a label */
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static size_t member_index(const struct rcp_rcycle *cy, uint64_t addr)
{
	for (size_t k = 0; k < cy->nmembers; k++)
		if (cy->members[k].m->addr == addr)
			return k;
	return (size_t)-1;
}

static void cycle(FILE *f, const struct rcp_rcycle *cy, size_t id, const char *dump)
{
	const struct rcobj_cycle *c = cy->c;
	char label[512];

	snprintf(label, sizeof(label), "cycle %zu: %zu objects (%s), %" PRIu64
		 " bytes\nsignature %016" PRIx64 "%s%s", id, c->nmembers, cy->types,
		 c->bytes, c->signature, dump ? "\n" : "", dump ? dump : "");
	fprintf(f, "  subgraph cluster_%zu {\n    label=", id);
	rcp_dot_string(f, label);
	fputs(";\n", f);
	for (size_t k = 0; k < cy->nmembers; k++) {
		const struct rcp_rmember *m = &cy->members[k];
		char site[RCP_SITE_LEN];
		const struct rcp_sym_frame *src = rcp_rstack_source(&m->alloc);

		rcp_rstack_site(&m->alloc, site, sizeof(site));
		int n = snprintf(label, sizeof(label), "%s\n0x%" PRIx64 ", %" PRIu64
				 " bytes, rc %" PRId64 "\n%s", m->type ? m->type : "?",
				 m->m->addr, m->m->size, m->m->refcount, site);
		if (src && n > 0 && (size_t)n < sizeof(label))
			snprintf(label + n, sizeof(label) - (size_t)n, " (%s:%u)",
				 rcp_basename(src->file), src->line);
		fprintf(f, "    c%zu_%zu [label=", id, k);
		rcp_dot_string(f, label);
		if (c->has_culprit && m->m->addr == c->culprit_obj)
			fputs(", color=red, penwidth=2", f);
		if (!m->m->in_cycle)
			fputs(", style=dashed", f);
		fputs("];\n", f);
	}
	for (size_t k = 0; k < c->nedges; k++) {
		size_t from = member_index(cy, c->edges[k].owner);
		size_t to = member_index(cy, c->edges[k].target);
		if (from == (size_t)-1 || to == (size_t)-1)
			continue;       /* a member beyond the listed ones */
		snprintf(label, sizeof(label), "%s0x%" PRIx64, c->edges[k].slot_off < 0 ? "-" : "+",
			 (uint64_t)(c->edges[k].slot_off < 0 ? -c->edges[k].slot_off :
				    c->edges[k].slot_off));
		fprintf(f, "    c%zu_%zu -> c%zu_%zu [label=", id, from, id, to);
		rcp_dot_string(f, label);
		fputs("];\n", f);
	}
	fputs("  }\n", f);
}

void rcp_emit_dot(FILE *f, const struct rcp_output *o)
{
	size_t id = 0;

	fputs("digraph rcprof_cycles {\n  node [shape=box, fontname=\"monospace\"];\n"
	      "  edge [fontname=\"monospace\"];\n", f);
	for (size_t i = 0; i < o->n; i++) {
		const struct rcp_report *r = o->r[i];
		for (size_t k = 0; k < r->ncycles; k++)
			cycle(f, &r->cycles[k], ++id, o->n > 1 ? r->a->dump.path : NULL);
	}
	if (id == 0)
		fputs("  none [label=\"no garbage cycles\", shape=plaintext];\n", f);
	fputs("}\n", f);
}
