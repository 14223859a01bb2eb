/* counter.c - allocates forever and reports progress on stdout, for the
 * kill -9 test: "done N" means at least N allocations and N rc_new were
 * made and returned. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rcprof.h"

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	unsigned long n = 0;
	void *keep[64] = { 0 };
	for (;;) {
		void *o = rc_new(24, "counted", NULL);
		void *p = malloc(n % 100 + 1);
		free(keep[n % 64]);
		keep[n % 64] = p;
		rc_release(o);
		n++;
		if (n % 20000 == 0) {
			printf("done %lu\n", n);
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
	}
}
