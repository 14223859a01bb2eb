/* errno_keep.c - the recorder must leave errno as the program's calls
 * leave it.
 *
 *   errno_keep [ROUNDS [close-dump]]        default 20000
 *
 * Sets errno to a value no call here sets (EILSEQ), then runs malloc,
 * calloc, realloc, free and the rc API in a loop, checking errno after
 * every call that succeeded.  The recorder's own work in between (a new
 * chunk, a drain into the dump) must not show through.  With close-dump,
 * a third of the way in, the program closes the recorder's dump with a
 * system call instruction of its own (found through /proc/self/fd: a
 * file ending in .bin), as a program closing every descriptor behind
 * libc's back would:
 * the recorder's next write then fails (EBADF) and recording stops, and
 * errno must still be the program's.  Prints the number of checks and of
 * changes seen; exits 1 when errno changed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rcprof.h"

struct node {
	struct node *next;
};

static unsigned long checks, changed;

static void check(const char *what)
{
	checks++;
	if (errno != EILSEQ) {
		if (!changed)
			fprintf(stderr, "errno_keep: errno %d after %s\n",
				errno, what);
		changed++;
		errno = EILSEQ;
	}
}

/* Closes every descriptor naming a *.bin file, without libc's close. */
/* close(2) by a system call instruction of the program's own: neither
 * close() nor syscall(), both of which the shim interposes. */
static void raw_close(int fd)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_close), "D"((long)fd)
			 : "rcx", "r11", "memory");
	(void)ret;
}

static void close_dumps(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	int mine = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char link[64], target[4096];
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd == mine)
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n > 4 && memcmp(target + n - 4, ".bin", 4) == 0)
			raw_close(fd);
	}
	closedir(d);
}

static void node_dtor(void *obj)
{
	rc_release(((struct node *)obj)->next);
}

int main(int argc, char **argv)
{
	unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	int close_dump = argc > 2 && strcmp(argv[2], "close-dump") == 0;
	errno = EILSEQ;
	for (unsigned long i = 0; i < rounds; i++) {
		if (close_dump && i == rounds / 3) {
			close_dumps();
			errno = EILSEQ;
		}
		char *p = malloc(16 + i % 200);
		check("malloc");
		char *q = calloc(1, 32);
		check("calloc");
		char *r = realloc(p, 300);
		check("realloc");
		free(q);
		check("free");
		free(r);
		check("free");
		struct node *a = rc_new(sizeof(*a), "node", node_dtor);
		check("rc_new");
		struct node *b = rc_new(sizeof(*b), "node", node_dtor);
		check("rc_new");
		rc_set(a, &a->next, b);
		check("rc_set");
		rc_retain(a);
		check("rc_retain");
		rc_release(a);
		check("rc_release");
		rc_release(b);
		check("rc_release");
		rc_release(a);
		check("rc_release");
		if (!p || !q || !r || !a || !b)
			return 2;
	}
	printf("errno_keep: %lu checks, errno changed %lu times\n", checks,
	       changed);
	return changed ? 1 : 0;
}
