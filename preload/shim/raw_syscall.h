/* raw_syscall.h - a system call without libc's syscall(): the shim
 * interposes syscall() (hook_syscall.c), so its own calls that must not
 * come back through that hook use this.  x86-64 only, like the stack
 * cache's register capture. */
#ifndef SHIM_RAW_SYSCALL_H
#define SHIM_RAW_SYSCALL_H

#include <errno.h>

/* As syscall(): the result, or -1 with errno set. */
static inline long shim_raw_syscall(long nr, long a, long b, long c, long d,
				    long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

#endif
