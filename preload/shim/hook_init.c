/* hook_init.c - resolving the real functions, the constructor and the
 * destructor of librcprof.so.
 *
 * The constructor starts recording (shim_start), installs the fatal-signal
 * handlers and the fork handlers.  The destructor runs in _dl_fini, after
 * the program's atexit handlers: it does the final full drain with the
 * exit status captured by exit() or main's return (hook_process.c).
 */
#include <dlfcn.h>

#include "hooks.h"
#include "unwind_logged.h"

int shim_resolving;
void *shim_real_dlopen, *shim_real_dlmopen, *shim_real_dlclose;

#define RESOLVE(field, name) \
	(*(void **)&shim_real.field = dlsym(RTLD_NEXT, name))

void shim_resolve(void)
{
	static int done;
	if (done || shim_resolving)
		return;
	shim_resolving = 1;
	shim_tls.internal++;
	/* While these are NULL the hooks allocate from the bootstrap heap. */
	RESOLVE(free, "free");
	RESOLVE(calloc, "calloc");
	RESOLVE(realloc, "realloc");
	RESOLVE(posix_memalign, "posix_memalign");
	RESOLVE(aligned_alloc, "aligned_alloc");
	RESOLVE(memalign, "memalign");
	RESOLVE(valloc, "valloc");
	RESOLVE(pvalloc, "pvalloc");
	RESOLVE(malloc_usable_size, "malloc_usable_size");
	RESOLVE(execve, "execve");
	RESOLVE(execvp, "execvp");
	RESOLVE(execvpe, "execvpe");
	RESOLVE(fexecve, "fexecve");
	RESOLVE(exit, "exit");
	RESOLVE(_exit, "_exit");
	RESOLVE(_Exit, "_Exit");
	RESOLVE(quick_exit, "quick_exit");
	RESOLVE(fork, "fork");
	RESOLVE(pthread_create, "pthread_create");
	RESOLVE(libc_start_main, "__libc_start_main");
	RESOLVE(sigaction, "sigaction");
	RESOLVE(signal, "signal");
	RESOLVE(siginterrupt, "siginterrupt");
	RESOLVE(sigprocmask, "sigprocmask");
	shim_real_dlopen = dlsym(RTLD_NEXT, "dlopen");
	shim_real_dlmopen = dlsym(RTLD_NEXT, "dlmopen");
	shim_real_dlclose = dlsym(RTLD_NEXT, "dlclose");
	RESOLVE(malloc, "malloc");      /* last: it ends bootstrapping */
	shim_tls.internal--;
	shim_resolving = 0;
	done = 1;
}

void shim_atfork_prepare(void)
{
	shim_fork_prepare();
	shim_logged_unwind_fork_prepare();
}

void shim_atfork_parent(void)
{
	shim_logged_unwind_fork_done();
}

void shim_atfork_child(void)
{
	shim_logged_unwind_fork_done();
	shim_signals_fork_child();
	shim_fork_child();
}

__attribute__((constructor(101))) static void shim_ctor(void)
{
	shim_resolve();
	if (shim_start() != 0)
		return;
	shim_signals_install();
	pthread_atfork(shim_atfork_prepare, shim_atfork_parent,
		       shim_atfork_child);
}

__attribute__((destructor(101))) static void shim_dtor(void)
{
	int how = shim_g.exit_how ? shim_g.exit_how : RCP_END_UNKNOWN;
	shim_finish(how, shim_g.exit_status, 0);
}
