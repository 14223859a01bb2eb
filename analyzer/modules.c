/* modules.c - the module map (see modules.h).  Modules are few (tens), so
 * a linear search is fine; symbolize.c caches per ip anyway. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules.h"
#include "util.h"

void rcp_modules_init(struct rcp_modules *t)
{
	memset(t, 0, sizeof(*t));
}

void rcp_modules_free(struct rcp_modules *t)
{
	free(t->m);
	memset(t, 0, sizeof(*t));
}

int rcp_modules_add(struct rcp_modules *t, const struct rcp_module *m)
{
	int rc = rcp_grow(&t->m, &t->cap, t->n, sizeof(*m));
	if (rc)
		return rc;
	struct rcp_module *x = &t->m[t->n++];
	*x = *m;
	x->lo = UINT64_MAX;
	x->hi = 0;
	for (uint32_t i = 0; i < x->nseg; i++) {
		uint64_t lo = x->base + x->seg[i][0];
		uint64_t hi = lo + x->seg[i][1];
		if (hi < lo)
			hi = UINT64_MAX;
		if (lo < x->lo)
			x->lo = lo;
		if (hi > x->hi)
			x->hi = hi;
	}
	return 0;
}

void rcp_modules_unmap(struct rcp_modules *t, uint64_t base, uint64_t ts)
{
	for (size_t i = t->n; i-- > 0;) {
		if (t->m[i].base == base && t->m[i].unmap_ts == UINT64_MAX) {
			t->m[i].unmap_ts = ts;
			return;
		}
	}
}

static int holds(const struct rcp_module *m, uint64_t ip)
{
	if (ip < m->lo || ip >= m->hi)
		return 0;
	for (uint32_t i = 0; i < m->nseg; i++) {
		uint64_t lo = m->base + m->seg[i][0];
		if (ip >= lo && ip - lo < m->seg[i][1])
			return 1;
	}
	return 0;
}

long rcp_modules_find(const struct rcp_modules *t, uint64_t ip, uint64_t ts)
{
	long any = -1;

	for (size_t i = t->n; i-- > 0;) {
		const struct rcp_module *m = &t->m[i];
		if (!holds(m, ip))
			continue;
		if (m->map_ts <= ts && ts < m->unmap_ts)
			return (long)i;
		if (any < 0)
			any = (long)i;
	}
	return any;
}
