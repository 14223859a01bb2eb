/* measure.c - run a command and report what the whole process tree cost.
 *
 *   measure [-o FILE] [-l LABEL] -- PROG ARGS...
 *
 * Prints one line (appended to FILE, or to stderr):
 *
 *   LABEL wall=S cpu=S user=S sys=S maxrss_kb=N status=N
 *
 *   wall       seconds from fork to the moment the last process of the tree
 *              was reaped
 *   cpu        user + system seconds of every process of the tree
 *   maxrss_kb  the largest peak resident set of any single process of the
 *              tree (getrusage's ru_maxrss semantics: a maximum, not a sum)
 *   status     the exit code of PROG, or 128 + signal number
 *
 * Why a helper and not time(1): tools such as heaptrack run the program
 * under a shell script that starts helper processes (the interpreter and the
 * compressor) which may outlive the script's own wait.  measure makes itself
 * a child subreaper (PR_SET_CHILD_SUBREAPER), so every descendant, orphaned
 * or not, is reparented to it and reaped here; getrusage(RUSAGE_CHILDREN)
 * then covers the entire tree.  The exit status reported is PROG's own.
 *
 * The exit status of measure is 0 when it could run PROG (whatever PROG
 * returned), 2 on usage errors and 127 when PROG could not be started.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec * 1e-6;
}

static void usage(void)
{
	fputs("usage: measure [-o FILE] [-l LABEL] -- PROG ARGS...\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *outpath = NULL;
	const char *label = "run";
	int opt;

	while ((opt = getopt(argc, argv, "+o:l:")) != -1) {
		switch (opt) {
		case 'o':
			outpath = optarg;
			break;
		case 'l':
			label = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "measure: prctl(PR_SET_CHILD_SUBREAPER): %s\n",
			strerror(errno));
		/* Not fatal: direct children are still counted. */
	}

	double t0 = now_s();
	pid_t child = fork();
	if (child < 0) {
		fprintf(stderr, "measure: fork: %s\n", strerror(errno));
		return 127;
	}
	if (child == 0) {
		execvp(argv[optind], &argv[optind]);
		fprintf(stderr, "measure: %s: %s\n", argv[optind],
			strerror(errno));
		_exit(127);
	}

	/* Reap the whole tree: PROG and everything reparented to us. */
	int status = -1;
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, 0);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;          /* ECHILD: the tree is gone */
		}
		if (p == child) {
			if (WIFEXITED(st))
				status = WEXITSTATUS(st);
			else if (WIFSIGNALED(st))
				status = 128 + WTERMSIG(st);
		}
	}
	double wall = now_s() - t0;

	struct rusage ru;
	if (getrusage(RUSAGE_CHILDREN, &ru) != 0) {
		fprintf(stderr, "measure: getrusage: %s\n", strerror(errno));
		return 127;
	}
	double user = tv_s(&ru.ru_utime), sys = tv_s(&ru.ru_stime);

	FILE *out = stderr;
	if (outpath) {
		out = fopen(outpath, "a");
		if (!out) {
			fprintf(stderr, "measure: %s: %s\n", outpath,
				strerror(errno));
			return 2;
		}
	}
	fprintf(out, "%s wall=%.4f cpu=%.4f user=%.4f sys=%.4f maxrss_kb=%ld status=%d\n",
		label, wall, user + sys, user, sys, ru.ru_maxrss, status);
	if (out != stderr && fclose(out) != 0) {
		fprintf(stderr, "measure: %s: %s\n", outpath, strerror(errno));
		return 2;
	}
	return status == 127 ? 127 : 0;
}
