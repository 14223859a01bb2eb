/* sigalloc.c - a SIGALRM handler that allocates while the main loop is
 * (mostly) inside the profiler: it retains and releases an object, which
 * the shim records with a backtrace, but never calls malloc itself while
 * the timer runs (glibc's malloc must not be re-entered by the handler).
 * Without the profiler the loop is just counting. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "rcprof.h"

static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
	(void)sig;
	void *p = malloc(48);
	void *o = rc_new(8, "in_handler", NULL);
	rc_release(o);
	free(p);
	ticks++;
}

int main(void)
{
	void *obj = rc_new(16, "looped", NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 300 }, { 0, 300 } };
	setitimer(ITIMER_REAL, &it, NULL);
	while (ticks < 300) {
		rc_retain(obj);
		rc_release(obj);
		rcprof_note_retain(obj);
		rcprof_note_release(obj);
	}
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	rc_release(obj);
	printf("ticks done\n");
	return 0;
}
