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
 * one system call each, and never unblock signals 32 and 33:
 *   - "block everything" (SIG_SETMASK of a full set, which sigfillset
 *     made without 32 and 33) becomes SIG_BLOCK of that set: it leaves
 *     32 and 33 as they were;
 *   - SIG_BLOCK and SIG_UNBLOCK leave 32 and 33 alone;
 *   - any other SIG_SETMASK is a restore of a mask saved before, which
 *     the kernel reported with 32 and 33 as they were: set as given.
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
	uint64_t next = 0, cur = 0;
	if (set) {
		memcpy(&next, set, sizeof(next));
		if (how == SIG_SETMASK && (next | INTERNAL_SIGNALS) == UINT64_MAX)
			how = SIG_BLOCK;
		if (how != SIG_SETMASK)
			next &= ~INTERNAL_SIGNALS;
	}
	long rc = syscall(SYS_rt_sigprocmask, how, set ? &next : NULL,
			  old ? &cur : NULL, KERNEL_SIGSET_BYTES);
	if (rc == 0 && old) {
		sigemptyset(old);
		memcpy(old, &cur, sizeof(cur));
	}
	return (int)rc;
}

int shim_sigmask_block_all(sigset_t *old)
{
	sigset_t all;
	sigfillset(&all);
	return shim_sigmask(SIG_SETMASK, &all, old);
}
