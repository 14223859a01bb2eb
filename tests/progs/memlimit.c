/* memlimit.c - a program that uses what its memory limit allows.
 *
 *   memlimit        allocates (and touches) 64 blocks of 256 KiB
 *
 * Prints how much it got; exits 1 when an allocation failed.  Run under
 * a small RLIMIT_AS, it must get as much with the recorder preloaded as
 * without it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile keep[64];

int main(void)
{
	size_t got = 0;
	for (int i = 0; i < 64; i++) {
		char *p = malloc(256 * 1024);
		if (!p) {
			printf("memlimit: malloc failed after %zu KiB\n", got / 1024);
			return 1;
		}
		memset(p, i, 256 * 1024);
		keep[i] = p;
		got += 256 * 1024;
	}
	printf("memlimit: allocated %zu KiB\n", got / 1024);
	for (int i = 0; i < 64; i++)
		free(keep[i]);
	return 0;
}
