/* dl.c - dlopen/dlsym/dlclose of a library the program does not link. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	void *h = dlopen("libm.so.6", RTLD_NOW);
	if (!h) {
		printf("dlopen failed\n");
		return 1;
	}
	double (*cosine)(double) = (double (*)(double))dlsym(h, "cos");
	printf("cos(0) = %.1f\n", cosine(0.0));
	void *p = malloc(12);
	free(p);
	dlclose(h);
	p = malloc(13);
	free(p);
	void *bad = dlopen("libdoesnotexist.so.42", RTLD_NOW);
	printf("missing: %s\n", bad ? "loaded?" : "not found");
	return 0;
}
