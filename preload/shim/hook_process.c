/* hook_process.c - process and thread boundaries.
 *
 *   __libc_start_main  wraps main to learn its return value (glibc's own
 *                      exit() call after main is not interposable);
 *   exit, quick_exit   remember the status / finish; _exit, _Exit finish
 *                      (full drain + END) before the real call;
 *   exec*              finish with END(EXEC) first; keep recording if the
 *                      exec fails (glibc's execl* and execvp call execve
 *                      internally, so each is interposed itself);
 *   fork               FORK event in the parent (the child is set up by the
 *                      atfork handler, hook_init.c);
 *   pthread_create     passes the parent's tid to the new thread.
 * In a vfork/posix_spawn child (getpid() != the recording's pid) finish
 * does nothing: that child shares the parent's memory and ring.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks.h"
#include "raw_syscall.h"

extern char **environ;

/* ---- main and exit ------------------------------------------------------- */

static int (*real_main)(int, char **, char **);

static int shim_main(int argc, char **argv, char **envp)
{
	shim_sc_thread_start(&shim_tls);
	int rc = real_main(argc, argv, envp);
	shim_g.exit_how = RCP_END_EXIT;
	shim_g.exit_status = rc;
	return rc;
}

int __libc_start_main(int (*main)(int, char **, char **), int argc,
		      char **argv, void (*init)(void), void (*fini)(void),
		      void (*rtld_fini)(void), void *stack_end);
SHIM_EXPORT int __libc_start_main(int (*main)(int, char **, char **), int argc,
				  char **argv, void (*init)(void),
				  void (*fini)(void), void (*rtld_fini)(void),
				  void *stack_end)
{
	shim_resolve();
	real_main = main;
	return shim_real.libc_start_main(shim_main, argc, argv, init, fini,
					 rtld_fini, stack_end);
}

SHIM_EXPORT void exit(int status)
{
	shim_resolve();
	if (getpid() == shim_g.pid) {
		shim_g.exit_how = RCP_END_EXIT;
		shim_g.exit_status = status;
	}
	shim_real.exit(status);
}

SHIM_EXPORT void quick_exit(int status)
{
	shim_resolve();
	shim_finish(RCP_END_EXIT, status, 0);
	shim_real.quick_exit(status);
}

static __attribute__((noreturn)) void finish_exit(void (*fn)(int), int status)
{
	shim_finish(RCP_END__EXIT, status, 0);
	if (fn)
		fn(status);
	for (;;)
		shim_raw_syscall(SYS_exit_group, status, 0, 0, 0, 0, 0);
}

SHIM_EXPORT void _exit(int status)
{
	shim_resolve();
	finish_exit(shim_real._exit, status);
}

SHIM_EXPORT void _Exit(int status)
{
	shim_resolve();
	finish_exit(shim_real._Exit, status);
}

/* ---- exec ------------------------------------------------------------------ */

static void before_exec(void)
{
	shim_resolve();
	shim_finish(RCP_END_EXEC, 0, 0);
}

static int after_exec(int rc)
{
	int e = errno;
	shim_exec_failed();
	errno = e;
	return rc;
}

SHIM_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	before_exec();
	return after_exec(shim_real.execve(path, argv, envp));
}

SHIM_EXPORT int execv(const char *path, char *const argv[])
{
	before_exec();
	return after_exec(shim_real.execve(path, argv, environ));
}

SHIM_EXPORT int execvp(const char *file, char *const argv[])
{
	before_exec();
	return after_exec(shim_real.execvp(file, argv));
}

SHIM_EXPORT int execvpe(const char *file, char *const argv[],
			char *const envp[])
{
	before_exec();
	return after_exec(shim_real.execvpe(file, argv, envp));
}

SHIM_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	before_exec();
	return after_exec(shim_real.fexecve(fd, argv, envp));
}

/* execl, execlp, execle: collect the variadic arguments into an array on
 * the stack (no malloc: we may be in a vfork child). */
#define COUNT_ARGS(ap, arg0, n)                                     \
	do {                                                        \
		va_start(ap, arg0);                                 \
		n = 1;                                              \
		while (va_arg(ap, const char *))                    \
			n++;                                        \
		va_end(ap);                                         \
	} while (0)

#define FILL_ARGS(ap, arg0, argv, n)                                \
	do {                                                        \
		va_start(ap, arg0);                                 \
		argv[0] = (char *)arg0;                             \
		for (size_t i_ = 1; i_ <= n; i_++)                  \
			argv[i_] = va_arg(ap, char *);              \
	} while (0)

SHIM_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;
	COUNT_ARGS(ap, arg, n);
	char *argv[n + 1];
	FILL_ARGS(ap, arg, argv, n);
	va_end(ap);
	before_exec();
	return after_exec(shim_real.execve(path, argv, environ));
}

SHIM_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	size_t n;
	COUNT_ARGS(ap, arg, n);
	char *argv[n + 1];
	FILL_ARGS(ap, arg, argv, n);
	va_end(ap);
	before_exec();
	return after_exec(shim_real.execvp(file, argv));
}

SHIM_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	size_t n;
	COUNT_ARGS(ap, arg, n);
	char *argv[n + 1];
	FILL_ARGS(ap, arg, argv, n);
	char **envp = va_arg(ap, char **);
	va_end(ap);
	before_exec();
	return after_exec(shim_real.execve(path, argv, envp));
}

/* ---- fork and threads ---------------------------------------------------------- */

void shim_note_fork(long pid)
{
	if (pid <= 0)
		return;
	int e = errno;
	struct shim_thread *t = &shim_tls;
	int lvl = shim_enter(t);
	if (lvl >= 0)
		shim_rec_u(t, lvl, RCP_EV_FORK, (uint64_t)pid);
	shim_leave(t);
	errno = e;
}

SHIM_EXPORT pid_t fork(void)
{
	shim_resolve();
	pid_t pid = shim_real.fork();
	shim_note_fork(pid);
	return pid;
}

struct trampoline {
	void *(*fn)(void *);
	void *arg;
	uint32_t parent_tid;
};

static void *thread_start(void *p)
{
	struct trampoline tr = *(struct trampoline *)p;
	shim_real.free(p);
	shim_tls.parent_tid = tr.parent_tid;
	shim_sc_thread_start(&shim_tls);
	return tr.fn(tr.arg);
}

SHIM_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr,
			       void *(*fn)(void *), void *arg)
{
	shim_resolve();
	struct trampoline *tr = NULL;
	if (atomic_load_relaxed(&shim_g.on))
		tr = shim_real.malloc(sizeof(*tr));   /* not recorded */
	if (!tr)
		return shim_real.pthread_create(th, attr, fn, arg);
	tr->fn = fn;
	tr->arg = arg;
	tr->parent_tid = shim_tls.tid ? shim_tls.tid : (uint32_t)gettid();
	int rc = shim_real.pthread_create(th, attr, thread_start, tr);
	if (rc)
		shim_real.free(tr);
	return rc;
}
