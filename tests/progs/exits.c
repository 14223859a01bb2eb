/* exits.c - the ways a process ends.
 * usage: exits MODE, MODE one of
 *   return7 exit9 thread_exit _exit _Exit abort segv atexit quick
 *   sys_exit_group (syscall(SYS_exit_group, 14): no libc exit path) */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rcprof.h"

static void *leak_at_exit;

static void late(void)
{
	void *p = malloc(77);        /* allocates inside an atexit handler */
	void *o = rc_new(8, "late", NULL);
	rc_release(o);
	free(p);
	leak_at_exit = malloc(33);
	puts("atexit handler ran");
}

static void *exiter(void *arg)
{
	(void)arg;
	void *p = malloc(5);
	(void)p;
	exit(6);
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "return7";
	void *o = rc_new(16, "exits", NULL);
	printf("mode %s\n", m);
	fflush(stdout);
	if (!strcmp(m, "exit9"))
		exit(9);
	if (!strcmp(m, "_exit"))
		_exit(11);
	if (!strcmp(m, "_Exit"))
		_Exit(12);
	if (!strcmp(m, "abort"))
		abort();
	if (!strcmp(m, "segv")) {
		volatile int *bad = (int *)16;
		*bad = 1;
	}
	if (!strcmp(m, "atexit")) {
		atexit(late);
		return 0;
	}
	if (!strcmp(m, "quick"))
		quick_exit(13);
	if (!strcmp(m, "sys_exit_group"))
		syscall(SYS_exit_group, 14);
	if (!strcmp(m, "thread_exit")) {
		pthread_t t;
		pthread_create(&t, NULL, exiter, NULL);
		pthread_join(t, NULL);
	}
	rc_release(o);
	return 7;
}
