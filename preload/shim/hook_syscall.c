/* hook_syscall.c - syscall(): the calls the shim watches, made without
 * their libc wrappers.
 *
 * Programs reach system calls glibc has no wrapper for, or had none for
 * when they were written, through syscall(): libseccomp's seccomp(2),
 * close_range on older glibc, exit_group in runtimes that skip atexit.
 * Those the shim interposes as functions go to the same handling here:
 *   seccomp           the filter is checked first (hook_seccomp.c);
 *   close, close_range, dup2, dup3
 *                     the recorder's descriptors are passed by or moved,
 *                     as by close() and its kin (hook_fd.c);
 *   exit_group        the dump is completed, as by _exit();
 *   execve            the dump is completed first, recording goes on if
 *                     the exec fails, as around execve();
 *   fork, clone       (fork-like: no CLONE_VM, no new stack) the shim's
 *                     fork handlers run around it, so the child records
 *                     into a dump of its own (see fork_like).
 * Everything else, and all of these once handled, is the system call
 * itself (shim_raw_syscall), as glibc's syscall() makes it.
 */
#include <sched.h>
#include <stdarg.h>
#include <unistd.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include "hooks.h"
#include "raw_syscall.h"

/* fork, or clone without CLONE_VM and without a new stack (bubblewrap
 * and systemd create namespaces so): a child with a copy of our memory,
 * which without our fork handlers would go on writing into the parent's
 * ring as the parent.  The program's own pthread_atfork handlers do not
 * run, as they do not without the shim.  CLONE_FILES: the child shares
 * the parent's descriptors (ours among them) and records nothing. */
static long fork_like(long nr, long a, long b, long c, long d, long e,
		      long f, int shares_files)
{
	shim_atfork_prepare();
	long pid = shim_raw_syscall(nr, a, b, c, d, e, f);
	int saved = errno;
	if (pid == 0) {
		if (shares_files)
			shim_fork_child_unrecorded();
		else
			shim_atfork_child();
	} else {
		shim_atfork_parent();
		shim_note_fork(pid);
	}
	errno = saved;
	return pid;
}

SHIM_EXPORT long syscall(long nr, ...)
{
	/* glibc's syscall() takes six arguments whatever the call: read as
	 * many (the caller's registers, or its stack above the return
	 * address, as glibc's own does). */
	va_list ap;
	va_start(ap, nr);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);
	switch (nr) {
	case SYS_seccomp: {
		/* Strict mode takes no flags and no argument: anything else
		 * is EINVAL, which libseccomp's probes of the API rely on. */
		int strict = a == SECCOMP_SET_MODE_STRICT && b == 0 && c == 0;
		if (strict || a == SECCOMP_SET_MODE_FILTER)
			shim_seccomp_before((const void *)c, strict);
		break;
	}
	case SYS_close:
		return shim_close_syscall((int)a);
	case SYS_close_range:
		return close_range((unsigned)a, (unsigned)b, (int)c);
	case SYS_dup2:
		return dup2((int)a, (int)b);
	case SYS_dup3:
		return dup3((int)a, (int)b, (int)c);
	case SYS_exit_group:
		_exit((int)a);
	case SYS_execve:
		return execve((const char *)a, (char *const *)b,
			      (char *const *)c);
#ifdef SYS_fork
	case SYS_fork:
		return fork_like(nr, a, b, c, d, e, f, 0);
#endif
	case SYS_clone:
		if (!(a & CLONE_VM) && b == 0)
			return fork_like(nr, a, b, c, d, e, f,
					 (a & CLONE_FILES) != 0);
		break;
	}
	return shim_raw_syscall(nr, a, b, c, d, e, f);
}
