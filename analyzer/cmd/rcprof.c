/* rcprof.c - the convenience wrapper.
 *
 *   rcprof run [options] -- ./app args...   run app under librcprof.so, then
 *                                           print the report of every
 *                                           process it started
 *   rcprof report ARGS...                   same as rcprof-report ARGS...
 *
 * The wrapper never changes what the program sees beyond LD_PRELOAD and the
 * RCPROF_* variables: its stdin/stdout/stderr are inherited, the report
 * goes to stderr (like valgrind's), and the wrapper exits with the
 * program's own status - or dies by the same signal - unless a --fail-on
 * gate failed, in which case it exits with --error-exitcode (default 1).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "rcprof"

enum { EXIT_USAGE = 2, MAX_DUMPS = 4096, MAX_REPORT_ARGS = 64 };

static void usage(FILE *f)
{
	fprintf(f,
"usage: rcprof run [options] -- PROGRAM [ARGS...]\n"
"       rcprof report [rcprof-report options] DUMP...\n"
"\n"
"run options:\n"
"  --out DIR            write the dumps into DIR (default: .), one per process,\n"
"                       named rcprof.RUN.PID.bin\n"
"  --suspect T1,T2      keep the full retain/release history of these types\n"
"  --free-stacks        every free keeps a backtrace (RCPROF_FREE_STACKS=1):\n"
"                       double and invalid frees show where both were called\n"
"  --fail-on LIST       leaks,cycles,unreleased,errors,any: fail when a listed\n"
"                       category is non-empty\n"
"  --error-exitcode N   exit status when a gate fails (default 1)\n"
" passed to rcprof-report (see rcprof-report --help):\n"
"  --format FMT         text, json, sarif, dot, folded (default text)\n"
"  --output FILE        write the report to FILE instead of stderr\n"
"  --suppressions FILE  suppression rules (repeatable)\n"
"  --no-default-suppressions, --gen-suppressions\n"
"  --baseline FILE      only findings not in this JSON report / dump count\n"
"  --gc-thresholds A,B,C\n"
"  --report-arg ARG     pass ARG to rcprof-report (repeatable)\n"
"  --quiet              do not print the report\n"
"  -h, --help           this text\n"
"\n"
"Exit status: the program's own, or --error-exitcode when a gate failed;\n"
"2 for a usage error; 127 when the program cannot be started.\n");
}

/* The directory this executable lives in, so the shim next to it (build/)
 * or in ../lib (installed) can be found. */
static int self_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	return 0;
}

static int find_sibling(const char *dir, const char *const *candidates,
			char *out, size_t len)
{
	for (size_t i = 0; candidates[i]; i++) {
		snprintf(out, len, "%s/%s", dir, candidates[i]);
		if (access(out, R_OK) == 0) {
			char real[PATH_MAX];
			if (realpath(out, real))
				snprintf(out, len, "%s", real);
			return 0;
		}
	}
	return -ENOENT;
}

static void exec_report(const char *dir, char **args)
{
	static const char *const report[] = { "rcprof-report", NULL };
	char path[PATH_MAX];
	if (find_sibling(dir, report, path, sizeof(path)) == 0) {
		args[0] = path;
		execv(path, args);
	}
	args[0] = (char *)"rcprof-report";
	execvp("rcprof-report", args);
	fprintf(stderr, PROG ": cannot run rcprof-report: %s\n", strerror(errno));
	_exit(EXIT_USAGE);
}

/* Prepend the shim to LD_PRELOAD, keeping what the user preloads. */
static int set_preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	if (!old || !*old)
		return setenv("LD_PRELOAD", shim, 1);
	size_t len = strlen(shim) + strlen(old) + 2;
	char *v = malloc(len);
	if (!v)
		return -1;
	snprintf(v, len, "%s:%s", shim, old);
	int rc = setenv("LD_PRELOAD", v, 1);
	free(v);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Dumps of this run: DIR/rcprof.RUN.*.bin, sorted by name. */
static size_t collect_dumps(const char *dir, const char *prefix, char **out,
			    size_t max)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	size_t n = 0, plen = strlen(prefix);
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		size_t len = strlen(e->d_name);
		if (strncmp(e->d_name, prefix, plen) != 0)
			continue;
		/* rcprof.RUN.PID.bin or rcprof.RUN.PID.bin.N (a later exec) */
		if (strstr(e->d_name, ".ring") || len < 4)
			continue;
		size_t plen2 = strlen(dir) + len + 2;
		out[n] = malloc(plen2);
		if (!out[n])
			break;
		snprintf(out[n], plen2, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	qsort(out, n, sizeof(*out), cmp_str);
	return n;
}

static int parse_int(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < 0 || v > 255)
		return -1;
	*out = (int)v;
	return 0;
}

static int run_report(const char *dir, char **dumps, size_t ndumps,
		      char **extra, size_t nextra, const char *fail_on,
		      const char *format, int quiet)
{
	size_t max = ndumps + nextra + 8;
	char **args = calloc(max, sizeof(*args));
	if (!args)
		return -1;
	size_t a = 0;
	args[a++] = NULL; /* filled by exec_report */
	if (format) {
		args[a++] = (char *)"--format";
		args[a++] = (char *)format;
	}
	if (fail_on) {
		args[a++] = (char *)"--fail-on";
		args[a++] = (char *)fail_on;
	}
	for (size_t i = 0; i < nextra; i++)
		args[a++] = extra[i];
	for (size_t i = 0; i < ndumps; i++)
		args[a++] = dumps[i];
	args[a] = NULL;

	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		free(args);
		return -1;
	}
	if (pid == 0) {
		/* The report goes to stderr: the program's stdout stays its own. */
		if (quiet) {
			if (!freopen("/dev/null", "w", stdout))
				_exit(EXIT_USAGE);
		} else if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
			_exit(EXIT_USAGE);
		}
		exec_report(dir, args);
	}
	free(args);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_USAGE;
}

static int cmd_run(const char *dir, int argc, char **argv)
{
	const char *out_dir = ".", *suspect = NULL, *fail_on = NULL;
	const char *format = NULL;
	int error_exitcode = 1, quiet = 0, free_stacks = 0;
	char *extra[MAX_REPORT_ARGS];
	size_t nextra = 0;
	int i;

	for (i = 0; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(o, "--") == 0) {
			i++;
			break;
		} else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(o, "--quiet") == 0) {
			quiet = 1;
			continue;
		} else if (strcmp(o, "--free-stacks") == 0) {
			free_stacks = 1;
			continue;
		} else if (strcmp(o, "--no-default-suppressions") == 0 ||
			   strcmp(o, "--gen-suppressions") == 0) {
			/* report flags without a value, passed through */
			if (nextra + 1 > MAX_REPORT_ARGS)
				goto too_many;
			extra[nextra++] = (char *)o;
			continue;
		} else if (o[0] != '-') {
			break; /* the program, without "--" */
		}
		if (!v) {
			fprintf(stderr, PROG ": option %s needs a value\n", o);
			return EXIT_USAGE;
		}
		i++;
		if (strcmp(o, "--out") == 0) {
			out_dir = v;
		} else if (strcmp(o, "--suspect") == 0) {
			suspect = v;
		} else if (strcmp(o, "--fail-on") == 0) {
			fail_on = v;
		} else if (strcmp(o, "--format") == 0) {
			format = v;
		} else if (strcmp(o, "--error-exitcode") == 0) {
			if (parse_int(v, &error_exitcode)) {
				fprintf(stderr, PROG ": --error-exitcode: not a number in 0..255: %s\n", v);
				return EXIT_USAGE;
			}
		} else if (strcmp(o, "--suppressions") == 0 ||
			   strcmp(o, "--baseline") == 0 ||
			   strcmp(o, "--output") == 0 ||
			   strcmp(o, "--gc-thresholds") == 0) {
			if (nextra + 2 > MAX_REPORT_ARGS)
				goto too_many;
			extra[nextra++] = (char *)o;
			extra[nextra++] = (char *)v;
		} else if (strcmp(o, "--report-arg") == 0) {
			if (nextra + 1 > MAX_REPORT_ARGS)
				goto too_many;
			extra[nextra++] = (char *)v;
		} else {
			fprintf(stderr, PROG ": unknown option: %s (see rcprof run --help)\n", o);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fprintf(stderr, PROG ": run: no program given (rcprof run [options] -- PROGRAM ARGS...)\n");
		return EXIT_USAGE;
	}
	char **prog = argv + i;

	static const char *const shims[] = { "librcprof.so", "../lib/librcprof.so", NULL };
	char shim[PATH_MAX];
	if (find_sibling(dir, shims, shim, sizeof(shim))) {
		fprintf(stderr, PROG ": cannot find librcprof.so next to %s or in %s/../lib\n", dir, dir);
		return EXIT_USAGE;
	}
	struct stat st;
	if (stat(out_dir, &st) != 0 && mkdir(out_dir, 0700) != 0) {
		fprintf(stderr, PROG ": --out %s: %s\n", out_dir, strerror(errno));
		return EXIT_USAGE;
	}
	char prefix[64], pattern[PATH_MAX];
	snprintf(prefix, sizeof(prefix), "rcprof.%d.", (int)getpid());
	snprintf(pattern, sizeof(pattern), "%s/%s%%p.bin", out_dir, prefix);

	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	if (pid == 0) {
		if (set_preload(shim) || setenv("RCPROF_OUT", pattern, 1) ||
		    (suspect && setenv("RCPROF_SUSPECT", suspect, 1)) ||
		    (free_stacks && setenv("RCPROF_FREE_STACKS", "1", 1))) {
			fprintf(stderr, PROG ": setenv: %s\n", strerror(errno));
			_exit(127);
		}
		execvp(prog[0], prog);
		fprintf(stderr, PROG ": cannot run %s: %s\n", prog[0], strerror(errno));
		_exit(127);
	}

	/* Like system(): the terminal's SIGINT/SIGQUIT are for the program;
	 * the wrapper waits for it and reports. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, PROG ": waitpid: %s\n", strerror(errno));
			return EXIT_USAGE;
		}
	}

	char *dumps[MAX_DUMPS];
	size_t ndumps = collect_dumps(out_dir, prefix, dumps, MAX_DUMPS);
	int gate_failed = 0;
	if (ndumps == 0) {
		fprintf(stderr, PROG ": no dump was written in %s (the program may not be dynamically linked)\n", out_dir);
	} else {
		if (!quiet)
			fprintf(stderr, "== rcprof: %zu process%s recorded in %s\n",
				ndumps, ndumps == 1 ? "" : "es", out_dir);
		int rc = run_report(dir, dumps, ndumps, extra, nextra, fail_on,
				    format, quiet);
		if (rc == 1)
			gate_failed = 1;
		else if (rc != 0)
			fprintf(stderr, PROG ": rcprof-report failed (exit %d)\n", rc);
	}
	for (size_t k = 0; k < ndumps; k++)
		free(dumps[k]);

	if (gate_failed)
		return error_exitcode;
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		signal(sig, SIG_DFL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		return 128 + sig;
	}
	return WEXITSTATUS(status);

too_many:
	fprintf(stderr, PROG ": too many report options\n");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	char dir[PATH_MAX];
	if (self_dir(dir, sizeof(dir))) {
		fprintf(stderr, PROG ": cannot locate myself: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(dir, argc - 2, argv + 2);
	if (strcmp(argv[1], "report") == 0) {
		argv[1] = NULL;
		exec_report(dir, argv + 1);
	}
	fprintf(stderr, PROG ": unknown command '%s' (run, report; see --help)\n", argv[1]);
	return EXIT_USAGE;
}
