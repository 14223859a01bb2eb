/* growth.c - for --diff: `growth N` leaks N blocks in grow_site, one in
 * early_site when N < 3, and one in late_site when N > 3. */
#include <stdlib.h>

static void *volatile keep;      /* volatile: the mallocs must stay */

static __attribute__((noinline)) void grow_site(int n)
{
	for (int i = 0; i < n; i++)
		keep = malloc(16);
}

static __attribute__((noinline)) void early_site(void)
{
	keep = malloc(8);
}

static __attribute__((noinline)) void late_site(void)
{
	keep = malloc(24);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	grow_site(n);
	if (n < 3)
		early_site();
	if (n > 3)
		late_site();
	keep = NULL;
	return 0;
}
