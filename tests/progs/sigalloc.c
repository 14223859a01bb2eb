/* sigalloc.c - a SIGALRM handler that allocates while the main loop is
 * (mostly) inside the profiler: it retains and releases an object, which
 * the shim records with a backtrace, but never calls malloc itself while
 * the timer runs (glibc's malloc must not be re-entered by the handler).
 * Without the profiler the loop is just counting.  First, the program's
 * own sigprocmask calls around allocations (which the profiler's stack
 * cache unwinds for) must behave as without the profiler. */
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

static volatile sig_atomic_t usr1;

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

static void masked_phase(void)
{
	sigset_t one, cur;
	sigemptyset(&one);
	sigaddset(&one, SIGUSR1);
	signal(SIGUSR1, on_usr1);
	if (sigprocmask(SIG_BLOCK, &one, NULL) != 0)
		perror("sigprocmask");
	raise(SIGUSR1);
	for (int i = 0; i < 2000; i++) {
		void *o = rc_new(8 + (size_t)(i % 7), "masked", NULL);
		free(malloc(16 + (size_t)(i % 13)));
		rc_release(o);
	}
	sigprocmask(SIG_BLOCK, NULL, &cur);
	printf("masked: blocked=%d delivered=%d\n", sigismember(&cur, SIGUSR1),
	       (int)usr1);
	sigprocmask(SIG_UNBLOCK, &one, &cur);
	printf("unmasked: was blocked=%d delivered=%d\n",
	       sigismember(&cur, SIGUSR1), (int)usr1);
}

int main(void)
{
	masked_phase();
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
