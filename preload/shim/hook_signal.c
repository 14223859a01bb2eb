/* hook_signal.c - dying by a fatal signal without losing the recording.
 *
 * For SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP and SIGSYS whose
 * disposition is SIG_DFL at start-up (never SIGINT/SIGTERM, never a signal
 * the program already handles) we install a handler that records SIGNAL,
 * does the full drain with END(SIGNAL), restores SIG_DFL and re-sends the
 * signal to this thread: when the handler returns the process dies by the
 * same signal, with the same core dump behaviour.  A program that installs
 * its own handler later simply replaces ours.
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks.h"

static const int fatal_signals[] = {
	SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP, SIGSYS,
};

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	int saved = errno;
	if (atomic_load_relaxed(&shim_g.on) && getpid() == shim_g.pid) {
		struct shim_thread *t = &shim_tls;
		int lvl = shim_enter(t);
		if (lvl >= 0)
			shim_rec_u(t, lvl, RCP_EV_SIGNAL, (uint64_t)sig);
		shim_leave(t);
		shim_finish(RCP_END_SIGNAL, sig, 1);
	}
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	/* Pending until we return (sig is blocked in its handler); a fault
	 * would also repeat, but SIGTRAP/SIGSYS or kill() would not. */
	syscall(SYS_tgkill, getpid(), gettid(), sig);
	errno = saved;
}

void shim_signals_install(void)
{
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++) {
		struct sigaction old, sa;
		if (sigaction(fatal_signals[i], NULL, &old) != 0)
			continue;
		if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler != SIG_DFL)
			continue;
		if (old.sa_flags & SA_SIGINFO)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_fatal;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
		sigemptyset(&sa.sa_mask);
		sigaction(fatal_signals[i], &sa, NULL);
	}
}
