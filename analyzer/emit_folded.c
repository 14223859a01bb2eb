/* emit_folded.c - folded stacks for flame graphs (flamegraph.pl,
 * inferno, speedscope): one line per stack, frames outermost first
 * separated by ';', then a space and the bytes that stack still holds at
 * the end.
 *
 * The first frame is the category - [leak], [cycle] or [unreleased] - so
 * a flame graph splits by kind at its root.  Below main the C library's
 * start-up frames are dropped (every stack would share them), and so are
 * the allocator / refcount runtime frames at the top: the leaf is the
 * function that allocated.  A cycle contributes every listed member's
 * size at its allocation stack.  ';' inside a name becomes ':' and
 * blanks become '_', which the format cannot carry.
 */
#include <inttypes.h>
#include <string.h>

#include "report.h"

static void name(FILE *f, const struct rcp_sym_frame *fr)
{
	char buf[RCP_SITE_LEN];

	if (fr->func)
		snprintf(buf, sizeof(buf), "%s", fr->func);
	else if (fr->module)
		snprintf(buf, sizeof(buf), "%s+0x%" PRIx64, rcp_basename(fr->module),
			 fr->offset);
	else
		snprintf(buf, sizeof(buf), "0x%" PRIx64, fr->ip);
	for (char *p = buf; *p; p++)
		fputc(*p == ';' ? ':' : (*p == ' ' || *p == '\t' || *p == '\n') ? '_' : *p, f);
}

static void line(FILE *f, const char *cat, const struct rcp_rstack *s, uint64_t bytes)
{
	size_t top = s->n;

	if (bytes == 0)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->f[i].func && strcmp(s->f[i].func, "main") == 0) {
			top = i + 1;
			break;
		}
	/* no main (inlined into, or a thread): drop the C library's start-up
	 * frames at the outer end all the same */
	while (top > 0 && (rcp_supp_is_system_module(s->f[top - 1].module) ||
			   (s->f[top - 1].func && strcmp(s->f[top - 1].func, "_start") == 0)))
		top--;
	fputs(cat, f);
	for (size_t i = top; i-- > 0;) {
		if (rcp_sym_is_runtime_frame(&s->f[i]))
			continue;
		fputc(';', f);
		name(f, &s->f[i]);
	}
	fprintf(f, " %" PRIu64 "\n", bytes);
}

void rcp_emit_folded(FILE *f, const struct rcp_output *o)
{
	for (size_t i = 0; i < o->n; i++) {
		const struct rcp_report *r = o->r[i];
		for (size_t k = 0; k < r->ncycles; k++)
			for (size_t m = 0; m < r->cycles[k].nmembers; m++)
				line(f, "[cycle]", &r->cycles[k].members[m].alloc,
				     r->cycles[k].members[m].m->size);
		for (size_t k = 0; k < r->nunreleased; k++)
			line(f, "[unreleased]", &r->unreleased[k].alloc,
			     r->unreleased[k].u->bytes);
		for (size_t k = 0; k < r->nleaks; k++)
			line(f, "[leak]", &r->leaks[k].alloc, r->leaks[k].bytes);
	}
}
