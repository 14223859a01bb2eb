/* modules.h - MODULE / MODULE_UNMAP events: which file was mapped where,
 * and when.  Symbolization uses this map, not /proc, so it works after the
 * program exited and after dlclose. */
#ifndef RCPROF_MODULES_H
#define RCPROF_MODULES_H

#include <stddef.h>
#include <stdint.h>

#include "strtab.h"

#define RCP_BUILD_ID_MAX 64
#define RCP_MODULE_SEGS 16

struct rcp_module {
	uint64_t base;          /* load bias */
	uint32_t path;          /* canonical string id */
	uint32_t build_id_len;
	uint8_t build_id[RCP_BUILD_ID_MAX];
	uint32_t nseg;
	uint64_t seg[RCP_MODULE_SEGS][2];      /* vaddr (from base), memsz */
	uint64_t lo, hi;        /* hull of the segments, absolute */
	uint64_t map_ts, unmap_ts;              /* unmap_ts UINT64_MAX: live */
};

struct rcp_modules {
	size_t n, cap;
	struct rcp_module *m;
};

void rcp_modules_init(struct rcp_modules *t);
void rcp_modules_free(struct rcp_modules *t);
/* 0 or -ENOMEM. */
int rcp_modules_add(struct rcp_modules *t, const struct rcp_module *m);
void rcp_modules_unmap(struct rcp_modules *t, uint64_t base, uint64_t ts);
/* The module holding ip at time ts (or, failing that, the latest one that
 * ever held it); -1 when none. */
long rcp_modules_find(const struct rcp_modules *t, uint64_t ip, uint64_t ts);

#endif /* RCPROF_MODULES_H */
