/* hook_dl.c - dlopen, dlmopen, dlclose.
 *
 * glibc's dlopen looks at its return address to find the calling object
 * (its RUNPATH, $ORIGIN, its namespace).  A C wrapper would make that
 * librcprof.so and change which library gets loaded.  So on x86-64 the
 * dlopen/dlmopen hooks are two-instruction trampolines: count the call in shim_dl_gen
 * and jump (not call) to the real function, which then sees the
 * application's return address.  The next event recorded at level 0 sees
 * dl_gen moved and rescans the modules (record.c); objects mapped after
 * that rescan are caught by the rescan that dlclose does first, by the
 * loader's add/sub counters at the next chunk boundary, or at the final
 * drain.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#include "hooks.h"

void *shim_dlopen_slow(const char *file, int flags)
{
	shim_resolve();
	atomic_add_relaxed(&shim_dl_gen, 1);
	void *(*fn)(const char *, int) = (void *(*)(const char *, int))shim_real_dlopen;
	return fn ? fn(file, flags) : NULL;
}

void *shim_dlmopen_slow(long ns, const char *file, int flags)
{
	shim_resolve();
	atomic_add_relaxed(&shim_dl_gen, 1);
	void *(*fn)(long, const char *, int) =
		(void *(*)(long, const char *, int))shim_real_dlmopen;
	return fn ? fn(ns, file, flags) : NULL;
}

/* dlclose does not look at its caller: a plain wrapper.  Scan first, so a
 * module loaded since the last scan is reported before it goes away; the
 * generation moves after the call, so the next event reports the unmap. */
SHIM_EXPORT int dlclose(void *h)
{
	shim_resolve();
	struct shim_thread *t = &shim_tls;
	int lvl = shim_enter(t);
	if (lvl == 0)
		shim_rec_modules(t, 0);
	shim_leave(t);
	int (*fn)(void *) = (int (*)(void *))shim_real_dlclose;
	int rc = fn ? fn(h) : -1;
	int e = errno;
	atomic_add_relaxed(&shim_dl_gen, 1);
	errno = e;
	return rc;
}

#if defined(__x86_64__)
#define DL_TRAMPOLINE(name, real, slow)                         \
	__asm__(".text\n"                                       \
		".globl " #name "\n"                            \
		".type " #name ", @function\n"                  \
		".p2align 4\n"                                  \
		#name ":\n"                                     \
		"\tendbr64\n"                                   \
		"\tlock incq shim_dl_gen(%rip)\n"               \
		"\tmovq " #real "(%rip), %rax\n"                \
		"\ttestq %rax, %rax\n"                          \
		"\tjz " #slow "\n"                              \
		"\tjmp *%rax\n"                                 \
		".size " #name ", .-" #name "\n");

DL_TRAMPOLINE(dlopen, shim_real_dlopen, shim_dlopen_slow)
DL_TRAMPOLINE(dlmopen, shim_real_dlmopen, shim_dlmopen_slow)
#else
SHIM_EXPORT void *dlopen(const char *file, int flags)
{
	return shim_dlopen_slow(file, flags);
}
SHIM_EXPORT void *dlmopen(Lmid_t ns, const char *file, int flags)
{
	return shim_dlmopen_slow((long)ns, file, flags);
}
#endif
