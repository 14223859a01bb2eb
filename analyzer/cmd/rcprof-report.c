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
 * dump it is that dump's object.  Gates apply to the sums - of the new
 * findings only with --baseline, of the new and grown ones with --diff.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
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
	      "       rcprof-report --diff [options] OLD_DUMP NEW_DUMP\n"
	      "       rcprof-report --show-suppressions [--suppressions FILE]...\n"
	      "Analyze rcprof recordings: garbage cycles (and the release that made them\n"
	      "garbage), unreleased objects, refcount misuse, plain heap leaks.\n"
	      "\n"
	      "  --format FMT           text (default), json (one object on stdout; for\n"
	      "                         several dumps {\"reports\":[...], \"summary\":{sums},\n"
	      "                         \"truncated\":any}), sarif (SARIF 2.1.0), dot (the\n"
	      "                         garbage cycles for Graphviz), folded (leaked bytes\n"
	      "                         as folded stacks for flame graphs)\n"
	      "  -o, --output FILE      write the report to FILE instead of stdout\n"
	      "  --fail-on LIST         exit 1 when a listed category is not empty:\n"
	      "                         leaks,cycles,unreleased,errors,any\n"
	      "  --suppressions FILE    suppression rules (repeatable): leak:PATTERN,\n"
	      "                         type:PATTERN, cycle:SIGNATURE; # comments\n"
	      "  --no-default-suppressions  keep the C library's own buffers in the leaks\n"
	      "  --show-suppressions    print the built-in and given rules and exit\n"
	      "  --gen-suppressions     print rules for the current findings instead of\n"
	      "                         the report (paste them into a suppressions file)\n"
	      "  --baseline FILE        a JSON report (--format json) or a dump of an\n"
	      "                         earlier run: findings are marked new/known, gone\n"
	      "                         ones listed, and --fail-on counts only new ones\n"
	      "  --diff                 two dumps A B: what is new, gone, grown, shrunk\n"
	      "                         (text or json); --fail-on counts new and grown\n"
	      "  --gc-thresholds A,B,C  generational collector thresholds (700,10,10)\n"
	      "  --dump-events          print every decoded event of the merged stream\n"
	      "                         (ts tid kind fields...) instead of the report\n"
	      "  -q, --quiet            no warnings on stderr (they stay in the report)\n"
	      "  --help, --version\n"
	      "\n"
	      "Environment: RCPROF_SYMCACHE, the directory of the symbol cache (default\n"
	      "$XDG_CACHE_HOME/rcprof or ~/.cache/rcprof), or off.\n"
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
	rc = text ? rcp_supp_parse(s, text, &bad) : -ENOMEM;
	if (rc == -EINVAL)
		fprintf(stderr, RCP_PREFIX "%s:%zu: expected leak:PATTERN, type:PATTERN or cycle:HEXSIGNATURE\n",
			path, bad);
	else if (rc)
		fprintf(stderr, RCP_PREFIX "%s: out of memory\n", path);
	free(text);
	return rc;
}

/* Reads a whole file; NULL with errno set. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	*len = 0;
	if (!f)
		return NULL;
	FILE *m = open_memstream(&text, len);
	if (m) {
		char buf[65536];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, m);
		fclose(m);
	}
	fclose(f);
	return text;
}

struct one {
	struct rcp_analysis an;
	struct rcp_report rep;
	int ok;
};

static int analyze(struct one *o, const char *path, const struct rcp_options *opt,
		   const struct rcp_report_opts *ro)
{
	char err[512];

	if (rcp_analyze(&o->an, path, opt, err, sizeof(err))) {
		fprintf(stderr, RCP_PREFIX "%s\n", err);
		return -1;
	}
	o->ok = 1;
	if (rcp_report_build_opts(&o->rep, &o->an, ro)) {
		fprintf(stderr, RCP_PREFIX "%s: out of memory\n", path);
		return -1;
	}
	o->ok = 2;
	return 0;
}

static void one_free(struct one *o)
{
	if (o->ok == 2)
		rcp_report_free(&o->rep);
	if (o->ok)
		rcp_analysis_free(&o->an);
	o->ok = 0;
}

/* --baseline FILE: a JSON report, or else a dump analyzed like the others. */
static int load_baseline(struct rcp_baseline *b, const char *path,
			 const struct rcp_options *opt, const struct rcp_report_opts *ro)
{
	size_t len;
	char *text = slurp(path, &len);
	char err[256];
	int rc = 0;

	if (!text) {
		fprintf(stderr, RCP_PREFIX "--baseline %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t i = 0;
	while (i < len && strchr(" \t\r\n", text[i]))
		i++;
	if (i < len && text[i] == '{') {
		rc = rcp_baseline_parse_json(b, text, len, err, sizeof(err));
		if (rc)
			fprintf(stderr, RCP_PREFIX "--baseline %s: %s\n", path,
				rc == -EINVAL ? err : "out of memory");
	} else {
		struct one o;
		memset(&o, 0, sizeof(o));
		rc = analyze(&o, path, opt, ro);
		if (!rc && rcp_baseline_add_report(b, &o.rep))
			rc = -ENOMEM;
		one_free(&o);
	}
	free(text);
	return rc ? -1 : 0;
}

static int gate_failed(unsigned gates, const struct rcp_gate_counts *g)
{
	return ((gates & GATE_LEAKS) && g->leaks) ||
	       ((gates & GATE_CYCLES) && g->cycles) ||
	       ((gates & GATE_UNRELEASED) && g->unreleased) ||
	       ((gates & GATE_ERRORS) && g->errors);
}

int main(int argc, char **argv)
{
	enum {
		O_NODEF = 256, O_SHOW, O_GEN, O_BASE, O_DIFF,
	};
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "fail-on", required_argument, NULL, 'F' },
		{ "gc-thresholds", required_argument, NULL, 'g' },
		{ "suppressions", required_argument, NULL, 's' },
		{ "no-default-suppressions", no_argument, NULL, O_NODEF },
		{ "show-suppressions", no_argument, NULL, O_SHOW },
		{ "gen-suppressions", no_argument, NULL, O_GEN },
		{ "baseline", required_argument, NULL, O_BASE },
		{ "diff", no_argument, NULL, O_DIFF },
		{ "dump-events", no_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct rcp_options opt;
	struct rcp_supp user_supp;
	struct rcp_report_opts ro = { NULL, 0 };
	struct rcp_baseline base;
	const struct rcp_format *fmt = rcp_format_find("text");
	const char *base_path = NULL, *out_path = NULL;
	int c, status = 0, show = 0, gen = 0, diff = 0;
	unsigned gates = 0;
	struct one *one = NULL;
	const struct rcp_report **ok = NULL;
	size_t nok = 0, ndumps = 0;
	FILE *out = stdout;

	rcp_main_heap_huge();   /* before the report allocates (util.h) */
	rcp_options_default(&opt);
	rcp_supp_init(&user_supp);
	rcp_baseline_init(&base);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:qho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			fmt = rcp_format_find(optarg);
			if (!fmt) {
				fprintf(stderr, RCP_PREFIX "unknown format '%s' (%s) (see --help)\n",
					optarg, rcp_format_names());
				status = EXIT_USAGE;
				goto out;
			}
			break;
		case 'o':
			out_path = optarg;
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
			ro.user = &user_supp;
			break;
		case O_NODEF:
			ro.no_default_supp = 1;
			break;
		case O_SHOW:
			show = 1;
			break;
		case O_GEN:
			gen = 1;
			break;
		case O_BASE:
			base_path = optarg;
			break;
		case O_DIFF:
			diff = 1;
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
	if (show) {
		struct rcp_supp b;
		rcp_supp_init(&b);
		if (!ro.no_default_supp && rcp_supp_builtin(&b) == 0) {
			puts("# built-in (C library and loader; looked up only in the innermost\n"
			     "# frames that lie in libc or ld.so; off with --no-default-suppressions)");
			rcp_supp_print(&b, stdout);
		}
		rcp_supp_free(&b);
		if (user_supp.n) {
			puts("# from --suppressions");
			rcp_supp_print(&user_supp, stdout);
		}
		goto out;
	}
	if (optind >= argc) {
		status = bad_usage("no dump given%s", "");
		goto out;
	}
	ndumps = (size_t)(argc - optind);
	if (diff && ndumps != 2) {
		status = bad_usage("--diff needs exactly two dumps, OLD and NEW%s", "");
		goto out;
	}
	if (diff && (base_path || gen || (strcmp(fmt->name, "text") && strcmp(fmt->name, "json")))) {
		status = bad_usage("--diff prints text or json, without --baseline or --gen-suppressions%s", "");
		goto out;
	}
	opt.user_supp = ro.user;
	if (base_path && load_baseline(&base, base_path, &opt, &ro)) {
		status = EXIT_USAGE;
		goto out;
	}
	one = calloc(ndumps, sizeof(*one));
	ok = calloc(ndumps, sizeof(*ok));
	if (!one || !ok) {
		fprintf(stderr, RCP_PREFIX "out of memory\n");
		status = EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < ndumps; i++) {
		if (analyze(&one[i], argv[optind + (int)i], &opt, &ro)) {
			status = EXIT_USAGE;
			continue;
		}
		ok[nok++] = &one[i].rep;
	}
	if (diff && nok != 2)
		goto out;
	if (base_path)
		rcp_baseline_apply(&base, (struct rcp_report *const *)ok, nok);
	if (out_path && !opt.dump_events) {
		out = fopen(out_path, "w");
		if (!out) {
			fprintf(stderr, RCP_PREFIX "--output %s: %s\n", out_path, strerror(errno));
			out = stdout;
			status = EXIT_USAGE;
			goto out;
		}
	}
	struct rcp_gate_counts total, g;
	memset(&total, 0, sizeof(total));
	if (diff) {
		if (rcp_diff_emit(out, ok[0], ok[1], strcmp(fmt->name, "json") == 0, &total)) {
			fprintf(stderr, RCP_PREFIX "out of memory\n");
			status = EXIT_USAGE;
		}
	} else {
		for (size_t i = 0; i < nok; i++) {
			rcp_report_gate_counts(ok[i], &g);
			total.leaks += g.leaks;
			total.cycles += g.cycles;
			total.unreleased += g.unreleased;
			total.errors += g.errors;
		}
		struct rcp_output o = { ok, nok, base_path ? &base : NULL, ro.user };
		if (!opt.dump_events && nok)
			(gen ? rcp_emit_supp : fmt->emit)(out, &o);
	}
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(stderr, RCP_PREFIX "writing the report: %s\n", strerror(errno));
		status = EXIT_USAGE;
	}
	if (status == 0 && gate_failed(gates, &total))
		status = EXIT_GATE;
out:
	if (out != stdout && fclose(out) != 0 && status != EXIT_USAGE) {
		fprintf(stderr, RCP_PREFIX "--output %s: %s\n", out_path, strerror(errno));
		status = EXIT_USAGE;
	}
	for (size_t i = 0; one && i < ndumps; i++)
		one_free(&one[i]);
	free(ok);
	free(one);
	rcp_baseline_free(&base);
	rcp_supp_free(&user_supp);
	return status;
}
