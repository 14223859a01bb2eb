/* killed.c - a process ended by a signal whose default is to terminate,
 * or by exit() while its threads still allocate.
 * usage: killed MODE, MODE one of
 *   wait      two threads churn heap blocks and refcounted objects (in
 *             bursts); the main thread prints "ready" and waits to be
 *             killed
 *   lines     prints numbered lines for ever (reader gone: SIGPIPE)
 *   alarm     alarm(1), then the churn (in bursts) until SIGALRM ends it
 *   handled   its own SIGTERM handler, which prints and exits 3; then
 *             raises SIGTERM itself
 *   exit      two threads churn; the main thread exits after 5 ms,
 *             while they run
 * Prints the same with and without the profiler. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rcprof.h"

struct node {
	struct node *next;
	unsigned long n;
};

static void node_dtor(void *obj)
{
	struct node *n = obj;
	rc_release(n->next);
}

static int pace;        /* pause between bursts of allocations */

static void *churn(void *arg)
{
	unsigned long seed = (unsigned long)arg;
	void *window[64] = { 0 };
	struct node *keep = NULL;
	for (unsigned long i = 0;; i++) {
		seed = seed * 6364136223846793005ul + 1442695040888963407ul;
		unsigned k = (unsigned)(seed >> 58);
		free(window[k]);
		window[k] = malloc(16 + (seed >> 40) % 400);
		struct node *n = rc_new(sizeof(*n), "node", node_dtor);
		n->n = i;
		rc_set(n, &n->next, keep);
		rc_release(keep);
		keep = n;
		if (i % 16 == 15) {     /* keep the chain short */
			rc_release(keep);
			keep = NULL;
		}
		if (pace && i % 100 == 99)
			usleep(1000);   /* a smaller dump to read */
	}
	return NULL;
}

static void start_threads(void)
{
	for (unsigned long i = 1; i <= 2; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, churn, (void *)i) != 0)
			abort();
		pthread_detach(t);
	}
}

static void on_term(int sig)
{
	(void)sig;
	static const char msg[] = "handled SIGTERM\n";
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(4);
	_exit(3);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	void *kept = malloc(100);       /* something live at the end */
	(void)kept;

	if (!strcmp(mode, "wait")) {
		pace = 1;
		start_threads();
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (!strcmp(mode, "lines")) {
		for (unsigned long i = 0;; i++) {
			char *line = malloc(32);
			snprintf(line, 32, "line %lu", i);
			puts(line);
			free(line);
		}
	}
	if (!strcmp(mode, "alarm")) {
		pace = 1;
		alarm(1);
		churn((void *)7);
	}
	if (!strcmp(mode, "handled")) {
		struct sigaction sa, old;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_term;
		sigaction(SIGTERM, &sa, &old);
		printf("old handler %s\n", old.sa_handler == SIG_DFL ? "DFL" :
		       "other");
		fflush(stdout);
		raise(SIGTERM);
		return 5;
	}
	if (!strcmp(mode, "exit")) {
		start_threads();
		usleep(5000);
		printf("exit\n");
		exit(0);
	}
	fprintf(stderr, "usage: killed wait|lines|alarm|handled|exit\n");
	return 2;
}
