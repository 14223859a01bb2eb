/* analyzer_util.h - helpers shared by the analyzer's unit tests. */
#ifndef RCPROF_TEST_ANALYZER_UTIL_H
#define RCPROF_TEST_ANALYZER_UTIL_H

#include <check.h>
#include <stdlib.h>

#include "dumpgen.h"
#include "replay.h"
#include "report.h"

/* Analyzes a dump held in memory (copied into a buffer of exactly its size
 * so ASan sees any overread).  Returns rcp_analyze_mem's result. */
static DG_UNUSED int au_analyze(struct rcp_analysis *a, const void *buf,
				size_t len, uint8_t **copy)
{
	struct rcp_options o;
	char err[256];

	rcp_options_default(&o);
	o.quiet = 1;
	*copy = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(*copy);
	memcpy(*copy, buf, len);
	return rcp_analyze_mem(a, *copy, len, &o, err, sizeof(err));
}

/* Analyzes a dump file (and its ring, parents) as rcprof-report would. */
static DG_UNUSED int au_analyze_file(struct rcp_analysis *a, const char *path)
{
	struct rcp_options o;
	char err[256];

	rcp_options_default(&o);
	o.quiet = 1;
	return rcp_analyze(a, path, &o, err, sizeof(err));
}

/* A temporary directory for dump files (removed by au_rmdir). */
static DG_UNUSED void au_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/rcprof-unit.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static DG_UNUSED void au_rmdir(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

#endif
