/* hook_seccomp.c - a program entering a seccomp sandbox.
 *
 * Filters go in through prctl(PR_SET_SECCOMP) (OpenSSH), interposed
 * here, or the seccomp system call, which glibc has no wrapper for:
 * libseccomp and most programs reach it with syscall(SYS_seccomp, ...),
 * which hook_syscall.c passes to shim_seccomp_before.  Before a filter is
 * installed, seccomp_eval.c runs it on the calls the recorder may still
 * make:
 *   - all go through (or, for those the recorder copes without, fail
 *     with an errno): recording goes on under the filter;
 *   - one would not (KILL, TRAP, a tracer's or supervisor's decision, or
 *     an errno for a call the recorder needs), or strict mode (read,
 *     write and exit only): the recording is ended first - the dump gets
 *     everything so far and an END record saying why - and the shim gives
 *     the fatal signals back, so that nothing of it runs under the filter;
 *     one line on stderr says which call it was.  The dump is complete up
 *     to that point and the report calls it truncated;
 *   - the recording may go on, but what a forked child needs to start its
 *     own is not allowed: children forked from then on are not recorded.
 * The checks read the program's filter with process_vm_readv, so a bad
 * pointer gets the kernel's EFAULT, as it would without the shim, not a
 * fault in the shim.
 *
 * Not covered: a filter installed with a raw system call instruction,
 * and a program exec'd under a filter (the new image cannot read the
 * filter it inherited; if that filter kills on the calls that create the
 * dump, the program dies at start-up, as it would under any preloaded
 * library making those calls).
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "hooks.h"
#include "raw_syscall.h"
#include "seccomp_eval.h"

/* Copies len bytes of the program's memory at addr: 0, -EFAULT (a bad
 * pointer: the kernel will refuse the request too), or another -errno
 * (an earlier filter forbids process_vm_readv: the filter cannot be
 * read). */
static int read_program(void *dst, const void *addr, size_t len)
{
	struct iovec local = { dst, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = shim_raw_syscall(SYS_process_vm_readv, getpid(),
				     (long)&local, 1, (long)&remote, 1, 0);
	if (n == (ssize_t)len)
		return 0;
	return n < 0 && errno != EFAULT ? -errno : -EFAULT;
}

/* The filter of a SECCOMP_MODE_FILTER request, copied: its length, 0
 * when the request will fail anyway (no program, a bad pointer, too
 * long), -1 when it cannot be read. */
static long copy_filter(const void *uprog, struct sock_filter *f)
{
	struct sock_fprog prog;
	if (!uprog)
		return 0;
	int rc = read_program(&prog, uprog, sizeof(prog));
	if (rc == 0) {
		if (prog.len == 0 || prog.len > BPF_MAXINSNS || !prog.filter)
			return 0;
		rc = read_program(f, prog.filter, prog.len * sizeof(f[0]));
	}
	if (rc == -EFAULT)
		return 0;
	return rc ? -1 : (long)prog.len;
}

/* Whether the kernel would take a filter from this thread at all: it
 * wants no_new_privs set, or CAP_SYS_ADMIN.  A request it refuses with
 * EACCES changes nothing, and must not end the recording. */
static int may_install_filter(void)
{
	if (shim_raw_syscall(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0, 0) == 1)
		return 1;
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	if (shim_raw_syscall(SYS_capget, (long)&hdr, (long)data, 0, 0, 0, 0) != 0)
		return 1;       /* cannot tell: assume it would */
	return (data[CAP_SYS_ADMIN / 32].effective >> (CAP_SYS_ADMIN % 32)) & 1;
}

/* Whether the recording must end before the filter uprog goes in: 0
 * (it may go on, or the kernel will refuse the filter anyway), or 1 with
 * *call the recorder's call the filter would not let through, or with
 * *call NULL and *why what kept the filter from being checked. */
static int filter_ends_recording(const void *uprog, const char **call,
				 const char **why)
{
	*call = NULL;
	*why = NULL;
	if (!may_install_filter())
		return 0;
	/* Up to 32 KiB of filter: not on the program's stack. */
	size_t len = BPF_MAXINSNS * sizeof(struct sock_filter);
	struct sock_filter *f = mmap(NULL, len, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f == MAP_FAILED) {
		*why = "there is no memory to check it";
		return 1;
	}
	long n = copy_filter(uprog, f);
	if (n < 0) {
		*why = "it cannot be read (process_vm_readv is not allowed)";
	} else if (n > 0) {
		*call = shim_seccomp_forbidden(f, (size_t)n, shim_g.ring.fd);
		if (!*call && shim_seccomp_forbids_fork(f, (size_t)n))
			atomic_store_relaxed(&shim_g.no_fork_recording, 1);
	}
	munmap(f, len);
	return *call || *why;
}

void shim_seccomp_before(const void *uprog, int strict)
{
	if (!atomic_load_relaxed(&shim_g.on) || getpid() != shim_g.pid)
		return;
	int saved = errno;      /* the program's call sets it, not ours */
	const char *call, *why;
	if (strict)
		shim_log("the program enters seccomp strict mode (read, write "
			 "and exit only); the recording ends here", NULL);
	else if (!filter_ends_recording(uprog, &call, &why))
		goto out;
	else if (call)
		shim_log("the program installs a seccomp filter that does not "
			 "allow the recorder's ", call, "; the recording ends "
			 "here", NULL);
	else
		shim_log("the program installs a seccomp filter, and ", why,
			 "; the recording ends here", NULL);
	shim_finish(RCP_END_SANDBOX, 0, 0);
	atomic_store_release(&shim_g.on, 0);
	shim_signals_release();
out:
	errno = saved;
}

SHIM_EXPORT int prctl(int option, ...)
{
	va_list ap;
	va_start(ap, option);
	unsigned long a2 = va_arg(ap, unsigned long);
	unsigned long a3 = va_arg(ap, unsigned long);
	unsigned long a4 = va_arg(ap, unsigned long);
	unsigned long a5 = va_arg(ap, unsigned long);
	va_end(ap);
	if (option == PR_SET_SECCOMP &&
	    (a2 == SECCOMP_MODE_STRICT || a2 == SECCOMP_MODE_FILTER))
		shim_seccomp_before((const void *)a3, a2 == SECCOMP_MODE_STRICT);
	return (int)shim_raw_syscall(SYS_prctl, option, (long)a2, (long)a3,
				 (long)a4, (long)a5, 0);
}
