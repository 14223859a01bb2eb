/* helper.c - a single-threaded program whose only other thread is one the
 * profiler does not see created: glibc's helper thread of a SIGEV_THREAD
 * timer (timer_create starts it itself, not through pthread_create).
 * usage: helper [ROUNDS]   (default 64)
 *
 * The main thread churns objects while it is alone (the recorder stamps
 * it from a counter), then arms a timer.  glibc's helper thread waits for
 * the timer's signal with every signal blocked, allocates, and starts a
 * thread per expiry, which runs on_expiry: it drops its reference to one
 * shared object, makes and drops an object of its own, and allocates and
 * frees a block.  The main thread, churning on meanwhile, waits for each
 * round and then drops the last reference to that shared object.  Nothing
 * leaks; every release precedes its object's free.  The profiler used to
 * kill this program: inside its malloc hook on the helper thread,
 * libunwind's sigprocmask calls (through glibc) unblocked the timer's
 * signal, whose default action ends the process (preload/shim/sigmask.c). */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rcprof.h"

enum { MAX_ROUNDS = 1024 };

static void *shared[MAX_ROUNDS];
static int rounds = 64;
static atomic_int claimed;              /* expiries that took a round */
static atomic_int done[MAX_ROUNDS];

/* Expiries may overlap (each runs on a thread of its own): each claims
 * the next round. */
static void on_expiry(union sigval sv)
{
	(void)sv;
	int k = atomic_fetch_add(&claimed, 1);
	if (k >= rounds)
		return;
	rc_release(shared[k]);
	void *own = rc_new(24, "helper_obj", NULL);
	rc_release(own);
	free(malloc(40));
	atomic_store(&done[k], 1);
}

static void churn(int n)
{
	for (int i = 0; i < n; i++) {
		void *o = rc_new(16, "main_obj", NULL);
		rc_retain(o);
		rc_release(o);
		rc_release(o);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1)
		rounds = atoi(argv[1]);
	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "helper: ROUNDS must be 1..%d\n", MAX_ROUNDS);
		return 2;
	}
	for (int i = 0; i < rounds; i++) {
		shared[i] = rc_new(32, "shared", NULL);
		rc_retain(shared[i]);   /* one reference for each thread */
	}
	churn(20000);

	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = on_expiry;
	timer_t timer;
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) != 0) {
		perror("timer_create");
		return 1;
	}
	struct itimerspec its = { { 0, 200000 }, { 0, 200000 } };
	if (timer_settime(timer, 0, &its, NULL) != 0) {
		perror("timer_settime");
		return 1;
	}
	for (int k = 0; k < rounds; k++) {
		while (!atomic_load(&done[k]))
			churn(10);
		rc_release(shared[k]);
	}
	timer_delete(timer);
	printf("helper: rounds=%d\n", rounds);
	return 0;
}
