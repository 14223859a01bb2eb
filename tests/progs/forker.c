/* forker.c - fork, optionally while two other threads allocate.
 * usage: forker [threaded|clone|clone-files]; the child allocates and
 * exits 3, the parent reports the child's status.  clone forks with
 * syscall(SYS_clone, SIGCHLD, 0) (bubblewrap's and systemd's raw_clone),
 * clone-files the same with CLONE_FILES (the child shares the parent's
 * descriptor table). */
#define _GNU_SOURCE /* CLONE_FILES */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rcprof.h"

static volatile int stop;
static int spins[2];    /* atomic: rounds of each spinner */

static void *spin(void *arg)
{
	int *mine = arg;
	while (!stop) {
		void *p = malloc(64);
		void *o = rc_new(16, "spinner", NULL);
		rc_release(o);
		free(p);
		__atomic_fetch_add(mine, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int threaded = strcmp(mode, "threaded") == 0;
	pthread_t th[2];
	if (threaded) {
		for (int i = 0; i < 2; i++)
			pthread_create(&th[i], NULL, spin, &spins[i]);
		/* fork while both allocate */
		for (int i = 0; i < 2; i++)
			while (__atomic_load_n(&spins[i], __ATOMIC_RELAXED) < 1000)
				sched_yield();
	}
	void *before = rc_new(32, "before_fork", NULL);
	fflush(stdout);
	pid_t pid;
	if (!strcmp(mode, "clone"))
		pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
	else if (!strcmp(mode, "clone-files"))
		pid = (pid_t)syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
	else
		pid = fork();
	if (pid == 0) {
		void *c = rc_new(32, "in_child", NULL);
		char *s = malloc(100);
		snprintf(s, 100, "child ok");
		puts(s);
		free(s);
		rc_release(c);
		rc_release(before);
		exit(3);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	stop = 1;
	if (threaded)
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
	rc_release(before);
	printf("parent: child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
