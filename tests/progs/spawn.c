/* spawn.c - vfork+exec and posix_spawn children (no atfork handlers run). */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(void)
{
	void *p = malloc(10);
	fflush(stdout);
	pid_t pid = vfork();
	if (pid == 0) {
		execl("/bin/echo", "echo", "from vfork child", (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("vfork child: %d\n", WEXITSTATUS(st));
	fflush(stdout);
	char *args[] = { "echo", "from posix_spawn child", NULL };
	if (posix_spawn(&pid, "/bin/echo", NULL, NULL, args, environ) == 0) {
		waitpid(pid, &st, 0);
		printf("spawn child: %d\n", WEXITSTATUS(st));
	}
	free(p);
	return system("exit 4") >> 8;
}
