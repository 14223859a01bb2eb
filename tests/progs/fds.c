/* fds.c - a program that cares about its file descriptor numbers.
 *
 *   fds first      is fd 0 open?  Which number does open() return?
 *   fds visible    the open descriptors below sysconf(_SC_OPEN_MAX)
 *   fds close-all  closes every descriptor above 2 - those listed in
 *                  /proc/self/fd, each of which must close without an
 *                  error (systemd asserts it), a close() loop,
 *                  close_range() and closefrom(), and close and
 *                  close_range through syscall() - and dup2()s onto
 *                  numbers around 512 and the soft limit, in the parent,
 *                  a vfork child and a forked child, allocating and
 *                  leaking blocks before and after each step
 *
 * Everything printed must be the same with and without the recorder: its
 * own descriptors (the dump, libunwind's pipes) must neither take the
 * program's numbers nor be closed or overwritten by it.  The blocks leaked
 * by leak_after_close() and leak_after_dup() show that recording went on.
 */
#define _GNU_SOURCE    /* close_range, closefrom, dup3 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static void *volatile sink;

static NOINLINE void churn(int n)
{
	for (int i = 0; i < n; i++)
		free(malloc(32 + (size_t)i % 200));
}

static NOINLINE void leak_after_close(void)
{
	sink = malloc(1111);
}

static NOINLINE void leak_after_dup(void)
{
	sink = malloc(2222);
}

static long open_max(void)
{
	long m = sysconf(_SC_OPEN_MAX);
	return m > 0 ? m : 1024;
}

static int first(void)
{
	struct stat st;
	if (fstat(0, &st) == 0)
		printf("fd 0: open\n");
	else
		printf("fd 0: closed (%s)\n", strerror(errno));
	churn(100);
	int fd = open("/dev/null", O_RDONLY);
	printf("first open: %d\n", fd);
	if (fd >= 0)
		close(fd);
	return 0;
}

static int visible(void)
{
	long max = open_max();
	const char *sep = "";
	churn(100);
	printf("open:");
	for (long fd = 0; fd < max; fd++) {
		if (fcntl((int)fd, F_GETFD) >= 0) {
			printf("%s%ld", sep, fd);
			sep = ",";
		}
	}
	printf("\n");
	return 0;
}

/* dup2 stdout's description onto numbers a recorder might use; report
 * which calls succeed, then close what they made. */
static void dup_storm(const char *who)
{
	long max = open_max();
	long targets[] = { 3, 4, 5, 6, 7, 510, 511, 512, 513, 514, 515, 516,
			   517, 518, max / 2, max / 2 + 1, max - 1, max,
			   max + 1, max + 4, max + 8, max + 15 };
	int ok = 0, ebadf = 0, other = 0;
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		int t = (int)targets[i];
		int rc;
		switch (i % 4) {        /* the wrappers, and syscall() */
		case 0: rc = dup3(1, t, O_CLOEXEC); break;
		case 1: rc = dup2(1, t); break;
		case 2: rc = (int)syscall(SYS_dup3, 1, t, O_CLOEXEC); break;
		default: rc = (int)syscall(SYS_dup2, 1, t); break;
		}
		if (rc == t) {
			ok++;
			churn(10);
			close(t);
		} else if (errno == EBADF) {
			ebadf++;
		} else {
			other++;
		}
	}
	printf("%s: dup2/dup3 made %d, EBADF %d, other %d\n", who, ok, ebadf,
	       other);
}

/* As systemd's close_all_fds: what /proc/self/fd lists is open, and a
 * close of it that fails is a bug.  Returns the failed closes. */
static int close_listed(void)
{
	int fds[4096], n = 0, failed = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	struct dirent *de;
	while ((de = readdir(d)) && n < 4096) {
		int fd = atoi(de->d_name);
		if (de->d_name[0] != '.' && fd > 2 && fd != dirfd(d))
			fds[n++] = fd;
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		if (close(fds[i]) != 0)
			failed++;
	return failed;
}

static void close_everything(const char *who)
{
	long max = open_max();
	churn(200);
	printf("%s: closes of listed descriptors that failed: %d\n", who,
	       close_listed());
	churn(200);
	/* No count of what succeeded: the recorder's descriptors, where a
	 * loop to the soft limit reaches them, claim to close. */
	for (long fd = 3; fd < max; fd++)
		close((int)fd);
	churn(200);
	int r1 = close_range(3, ~0u, 0);
	churn(200);
	int r2 = close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
	closefrom(3);
	churn(200);
	/* The same through syscall(), as programs written before glibc had
	 * close_range do. */
	int r3 = (int)syscall(SYS_close_range, 3, ~0u, 0);
	for (long fd = 3; fd < max; fd++)
		syscall(SYS_close, fd);
	churn(200);
	printf("%s: close_range %d %d %d\n", who, r1, r2, r3);
	leak_after_close();
	dup_storm(who);
	churn(200);
	leak_after_dup();
	fflush(stdout);
}

/* A vfork child shares the parent's memory but not its descriptors:
 * its dup2() onto the recorder's numbers must leave the parent's
 * recording alone. */
static int vfork_dups(void)
{
	pid_t pid = vfork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		for (int t = 510; t < 530; t++)
			dup2(1, t);
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 1;
	churn(500);
	return 0;
}

static int close_all(void)
{
	churn(500);
	if (vfork_dups())
		return 1;
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close_everything("child");
		exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return 1;
	close_everything("parent");
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "first";
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "first") == 0)
		return first();
	if (strcmp(mode, "visible") == 0)
		return visible();
	if (strcmp(mode, "close-all") == 0)
		return close_all();
	fprintf(stderr, "usage: fds first|visible|close-all\n");
	return 2;
}
