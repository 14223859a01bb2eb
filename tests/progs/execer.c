/* execer.c - exec: a failing exec first (keep recording), then re-exec
 * itself once ("second"), which prints and exits 5. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rcprof.h"

int main(int argc, char **argv)
{
	void *o = rc_new(8, argc > 1 ? "second_image" : "first_image", NULL);
	if (argc > 1) {
		printf("second image\n");
		rc_release(o);
		return 5;
	}
	execl("/nonexistent/program", "x", (char *)NULL);
	printf("exec failed as expected: %s\n", strerror(errno));
	char *p = malloc(10);        /* still recorded after the failed exec */
	free(p);
	fflush(stdout);
	execl("/proc/self/exe", argv[0], "second", (char *)NULL);
	perror("exec");
	return 1;
}
