/* fuzz_dump.c - libFuzzer target for the dump reader: the input is a DUMP
 * file image; it is read, merged, replayed through the heap model and
 * rcobj, and both reports are rendered (to /dev/null).  No files other
 * than the input are opened: parent dumps are not followed, the on-disk
 * symbolization cache is off.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Iinclude -Ianalyzer \
 *         tests/fuzz/fuzz_dump.c analyzer/\*.c -ldw -lelf -lm
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct rcp_options opt;
	struct rcp_analysis a;
	struct rcp_report r;
	char err[512];

	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		setenv("RCPROF_SYMCACHE", "off", 1);
	}
	rcp_options_default(&opt);
	opt.quiet = 1;
	opt.no_parents = 1;
	/* small thresholds: exercise the generational collector too */
	opt.thresholds[0] = 7;
	opt.thresholds[1] = 3;
	opt.thresholds[2] = 2;
	/* the reader must never read past `size`: give it an exact copy */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (rcp_analyze_mem(&a, copy, size, &opt, err, sizeof(err)) == 0 &&
	    rcp_report_build(&r, &a) == 0) {
		if (devnull) {
			rcp_emit_json(devnull, &r, 0);
			rcp_emit_text(devnull, &r);
		}
		rcp_report_free(&r);
	}
	rcp_analysis_free(&a);
	free(copy);
	return 0;
}
