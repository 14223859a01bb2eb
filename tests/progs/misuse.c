/* misuse.c - heap and refcount misuse.
 * usage: misuse double|invalid|realloc|rc
 *
 * double:  frees a block in release_once, then again in release_again.
 * realloc: grow reallocs a block to a size it cannot reach in place (the
 *          next block is in use), which frees it; release_again then
 *          frees the old pointer once more.
 * invalid: frees a pointer into the middle of a block (free_inner), one
 *          that was never returned by an allocator.
 * Either way glibc detects it and the process dies by SIGABRT; the
 * recording must still hold the bad free and, with RCPROF_FREE_STACKS=1,
 * where it and the earlier free were called.
 * rc:      drop_last frees a refcounted object (its count goes to 0),
 *          drop_again releases it once more and the program exits 0
 *          (nothing allocates after it: librc's decrement lands in the
 *          freed block, which glibc has not handed out again). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcprof.h"

#if defined(__clang__)
#define NOIPA __attribute__((noinline))
#else
#define NOIPA __attribute__((noipa))
#endif

static NOIPA void release_once(void *p)
{
	free(p);
}

static NOIPA void release_again(void *p)
{
	free(p);
}

static NOIPA char *grow(char *p)
{
	return realloc(p, 4000);
}

/* The pointer goes through a volatile so the compiler does not warn of
 * the very misuse this program is for. */
static NOIPA void free_inner(char *p)
{
	uintptr_t volatile at = (uintptr_t)p + 8;
	free((void *)at);
}

static NOIPA void drop_last(void *obj)
{
	rc_release(obj);
}

static NOIPA void drop_again(void *obj)
{
	rc_release(obj);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: misuse double|invalid|realloc|rc\n");
		return 2;
	}
	if (!strcmp(argv[1], "rc")) {
		void *obj = rc_new(40, "widget", NULL);
		if (!obj)
			return 1;
		drop_last(obj);
		drop_again(obj);
		printf("released twice\n");
		return 0;
	}
	char *p = malloc(24);
	if (!p)
		return 1;
	memset(p, 1, 24);
	printf("misusing\n");
	fflush(stdout);
	if (!strcmp(argv[1], "double")) {
		release_once(p);
		release_again(p);
	} else if (!strcmp(argv[1], "realloc")) {
		char *volatile next = malloc(24);       /* p cannot grow */
		char *q = grow(p);
		if (!q || q == p || !next)
			return 3;
		release_again(p);
	} else {
		free_inner(p);
	}
	printf("not caught\n");
	return 0;
}
