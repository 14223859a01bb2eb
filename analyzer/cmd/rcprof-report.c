/* rcprof-report - the offline analyzer: reads rcprof dumps and reports
 * garbage cycles, unreleased objects, misuse and plain heap leaks.
 *
 *   rcprof-report [options] DUMP...
 *
 * Exit status (CONTRACT.md): 0 ran and no --fail-on gate failed; 1 a gate
 * failed; 2 bad usage or a dump that cannot be read at all (one line on
 * stderr).  A damaged or truncated dump is read as far as it is valid.
 *
 * Several dumps: each is analyzed and reported on its own.  In JSON the
 * output is then one object {"reports":[one object per dump, in argument
 * order], "summary":{the summary keys summed}, "truncated":any}; with one
 * dump it is that dump's object.  Gates apply to the sums.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define EXIT_GATE 1
#define EXIT_USAGE 2

#ifndef RCPROF_VERSION
#define RCPROF_VERSION "1.0"
#endif

enum {
	GATE_LEAKS = 1,
	GATE_CYCLES = 2,
	GATE_UNRELEASED = 4,
	GATE_ERRORS = 8,
	GATE_ANY = 15,
};

static void usage(FILE *f)
{
	fputs("usage: rcprof-report [options] DUMP...\n"
	      "Analyze rcprof recordings: garbage cycles (and the release that made them\n"
	      "garbage), unreleased objects, refcount misuse, plain heap leaks.\n"
	      "\n"
	      "  --format text|json     output format (default text); JSON is one object\n"
	      "                         on stdout; for several dumps {\"reports\":[...],\n"
	      "                         \"summary\":{sums}, \"truncated\":any}\n"
	      "  --fail-on LIST         exit 1 when a listed category is not empty:\n"
	      "                         leaks,cycles,unreleased,errors,any\n"
	      "  --gc-thresholds A,B,C  generational collector thresholds (700,10,10)\n"
	      "  --suppressions FILE    leak suppressions, lines `leak:PATTERN` (repeatable)\n"
	      "  --dump-events          print every decoded event of the merged stream\n"
	      "                         (ts tid kind fields...) instead of the report\n"
	      "  -q, --quiet            no warnings on stderr (they stay in the report)\n"
	      "  --help, --version\n"
	      "\n"
	      "Exit status: 0 ok, 1 a --fail-on gate failed, 2 bad usage or unreadable dump.\n",
	      f);
}

static int bad_usage(const char *fmt, const char *arg)
	__attribute__((format(printf, 1, 0)));
static int bad_usage(const char *fmt, const char *arg)
{
	char msg[512];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(msg, sizeof(msg), fmt, arg);
#pragma GCC diagnostic pop
	fprintf(stderr, RCP_PREFIX "%s (see --help)\n", msg);
	return EXIT_USAGE;
}

static int parse_fail_on(const char *s, unsigned *gates)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "leaks", GATE_LEAKS }, { "cycles", GATE_CYCLES },
		{ "unreleased", GATE_UNRELEASED }, { "errors", GATE_ERRORS },
		{ "any", GATE_ANY },
	};
	const char *p = s;

	if (!*s)
		return -EINVAL;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == n && strncmp(p, names[i].name, n) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return -EINVAL;
		*gates |= names[i].bit;
		p += n;
		if (*p == ',') {
			p++;
			if (!*p)
				return -EINVAL;
		}
	}
	return 0;
}

static int parse_thresholds(const char *s, unsigned th[3])
{
	const char *p = s;

	for (int i = 0; i < 3; i++) {
		char *end;
		errno = 0;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned long v = strtoul(p, &end, 10);
		if (errno || v == 0 || v > 100000000ul)
			return -EINVAL;
		th[i] = (unsigned)v;
		if (i < 2 && *end != ',')
			return -EINVAL;
		if (i == 2 && *end != '\0')
			return -EINVAL;
		p = end + 1;
	}
	return 0;
}

static int load_suppressions(struct rcp_supp *s, const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0, bad = 0;
	int rc;

	if (!f) {
		fprintf(stderr, RCP_PREFIX "%s: cannot read: %s\n", path, strerror(errno));
		return -errno;
	}
	FILE *m = open_memstream(&text, &len);
	if (!m) {
		fclose(f);
		return -ENOMEM;
	}
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, m);
	fclose(f);
	fclose(m);
	rc = rcp_supp_parse(s, text, &bad);
	if (rc == -EINVAL)
		fprintf(stderr, RCP_PREFIX "%s:%zu: expected `leak:PATTERN`\n", path, bad);
	else if (rc)
		fprintf(stderr, RCP_PREFIX "%s: out of memory\n", path);
	free(text);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "fail-on", required_argument, NULL, 'F' },
		{ "gc-thresholds", required_argument, NULL, 'g' },
		{ "suppressions", required_argument, NULL, 's' },
		{ "dump-events", no_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct rcp_options opt;
	struct rcp_supp user_supp;
	int json = 0, c, status = 0;
	unsigned gates = 0;
	struct rcp_analysis *an = NULL;
	struct rcp_report *rep = NULL;
	const struct rcp_report **ok = NULL;
	size_t nok = 0, ndumps;

	rcp_options_default(&opt);
	rcp_supp_init(&user_supp);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "text") == 0)
				json = 0;
			else if (strcmp(optarg, "json") == 0)
				json = 1;
			else {
				status = bad_usage("unknown format '%s' (text, json)", optarg);
				goto out;
			}
			break;
		case 'F':
			if (parse_fail_on(optarg, &gates)) {
				status = bad_usage("bad --fail-on list '%s' (leaks,cycles,unreleased,errors,any)", optarg);
				goto out;
			}
			break;
		case 'g':
			if (parse_thresholds(optarg, opt.thresholds)) {
				status = bad_usage("bad --gc-thresholds '%s' (three positive integers A,B,C)", optarg);
				goto out;
			}
			break;
		case 's':
			if (load_suppressions(&user_supp, optarg)) {
				status = EXIT_USAGE;
				goto out;
			}
			opt.user_supp = &user_supp;
			break;
		case 'd':
			opt.dump_events = stdout;
			break;
		case 'q':
			opt.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			goto out;
		case 'V':
			printf("rcprof-report %s (dump format %u)\n", RCPROF_VERSION,
			       RCP_FORMAT_VERSION);
			goto out;
		case ':':
			status = bad_usage("option %s needs an argument", argv[optind - 1]);
			goto out;
		default:
			status = bad_usage("unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind >= argc) {
		status = bad_usage("no dump given%s", "");
		goto out;
	}

	ndumps = (size_t)(argc - optind);
	an = calloc(ndumps, sizeof(*an));
	rep = calloc(ndumps, sizeof(*rep));
	ok = calloc(ndumps, sizeof(*ok));
	if (!an || !rep || !ok) {
		fprintf(stderr, RCP_PREFIX "out of memory\n");
		status = EXIT_USAGE;
		goto out;
	}
	struct rcp_summary total;
	memset(&total, 0, sizeof(total));
	for (size_t i = 0; i < ndumps; i++) {
		char err[512];
		if (rcp_analyze(&an[i], argv[optind + (int)i], &opt, err, sizeof(err)) ||
		    (rcp_report_build(&rep[i], &an[i]) &&
		     snprintf(err, sizeof(err), "%s: out of memory", argv[optind + (int)i]))) {
			fprintf(stderr, RCP_PREFIX "%s\n", err);
			status = EXIT_USAGE;
			continue;
		}
		ok[nok++] = &rep[i];
		total.leaked_blocks += rep[i].sum.leaked_blocks;
		total.cycles += rep[i].sum.cycles;
		total.unreleased_objects += rep[i].sum.unreleased_objects;
		total.errors += rep[i].sum.errors;
	}
	if (!opt.dump_events && nok) {
		if (json && ndumps == 1) {
			rcp_emit_json(stdout, ok[0], 0);
			fputc('\n', stdout);
		} else if (json) {
			rcp_emit_json_multi(stdout, ok, nok);
		} else {
			rcp_emit_text_multi(stdout, ok, nok);
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, RCP_PREFIX "writing the report: %s\n", strerror(errno));
		status = EXIT_USAGE;
	}
	if (status == 0 &&
	    (((gates & GATE_LEAKS) && total.leaked_blocks) ||
	     ((gates & GATE_CYCLES) && total.cycles) ||
	     ((gates & GATE_UNRELEASED) && total.unreleased_objects) ||
	     ((gates & GATE_ERRORS) && total.errors)))
		status = EXIT_GATE;
out:
	if (rep)
		for (int i = 0; i < argc - optind; i++)
			rcp_report_free(&rep[i]);
	if (an)
		for (int i = 0; i < argc - optind; i++)
			rcp_analysis_free(&an[i]);
	free(ok);
	free(rep);
	free(an);
	rcp_supp_free(&user_supp);
	return status;
}
