/* cancel.c - threads cancelled while they allocate.
 * usage: cancel [ROUNDS]   default 20
 *
 * Each round starts 4 threads that allocate and free in a loop, calling
 * pthread_testcancel() now and then, cancels them after 20 ms, joins
 * them, and allocates on.  malloc and free are not cancellation points:
 * natively a thread is cancelled only in pthread_testcancel().  Under
 * the recorder their hooks drain chunks into the dump (write), wait for
 * a full ring (nanosleep) and unwind with libunwind (which writes to a
 * pipe): if one of those acted on the cancellation, the thread would die
 * inside malloc holding the recorder's drain flag, and the next drain of
 * any thread would wait for ever.  Prints "done" and exits 0. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *volatile sink;

static void *worker(void *arg)
{
	(void)arg;
	for (unsigned i = 0;; i++) {
		char *volatile p = malloc(16 + i % 500);
		p[0] = 1;
		free(p);
		if (i % 64 == 0)
			pthread_testcancel();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 20;
	for (int round = 0; round < rounds; round++) {
		pthread_t t[4];
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, worker, NULL);
		usleep(20000);
		for (int i = 0; i < 4; i++)
			pthread_cancel(t[i]);
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		for (int i = 0; i < 100000; i++) {
			sink = malloc(32);
			free(sink);
		}
	}
	puts("done");
	return 0;
}
