/* sigmask.c - the shim's own signal-mask changes, glibc's internal
 * signals left as they are.
 *
 * glibc's sigprocmask and pthread_sigmask drop SIGCANCEL and SIGSETXID
 * (signals 32 and 33) from every new set, and sigfillset leaves them out:
 * so "block everything, then restore the saved mask" through glibc
 * unblocks them on a thread that had them blocked.  Only glibc's own
 * threads do: the helper thread of SIGEV_THREAD timers keeps SIGTIMER
 * (= SIGCANCEL) blocked and pending between its sigwaitinfo calls, and it
 * calls malloc.  Unblocked inside our hook (libunwind blocks all signals
 * around dl_iterate_phdr; the shim around its own locks), the pending
 * timer signal is delivered with its default action and kills the
 * process (tests/progs/helper.c).  These calls go to the kernel directly,
 * and keep signals 32 and 33 blocked or unblocked as they were.
 */
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

/* Bits of glibc's internal signals in the kernel's 64-bit mask. */
#define INTERNAL_SIGNALS ((1ull << (32 - 1)) | (1ull << (33 - 1)))
#define KERNEL_SIGSET_BYTES 8

int shim_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	uint64_t cur = 0;
	if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &cur,
		    KERNEL_SIGSET_BYTES) != 0)
		return -1;
	if (old) {
		sigemptyset(old);
		memcpy(old, &cur, sizeof(cur));
	}
	if (!set)
		return 0;
	uint64_t next;
	memcpy(&next, set, sizeof(next));
	if (how == SIG_SETMASK)
		next = (next & ~INTERNAL_SIGNALS) | (cur & INTERNAL_SIGNALS);
	else
		next &= ~INTERNAL_SIGNALS;      /* SIG_BLOCK, SIG_UNBLOCK */
	return (int)syscall(SYS_rt_sigprocmask, how, &next, NULL,
			    KERNEL_SIGSET_BYTES);
}

int shim_sigmask_block_all(sigset_t *old)
{
	sigset_t all;
	sigfillset(&all);
	return shim_sigmask(SIG_SETMASK, &all, old);
}
