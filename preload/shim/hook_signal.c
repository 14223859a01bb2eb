/* hook_signal.c - dying by a fatal signal without losing the recording,
 * and without the program noticing.
 *
 * For every signal whose default action ends the process (the crashes
 * SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGQUIT,
 * SIGXCPU, SIGXFSZ; the terminations SIGHUP, SIGINT, SIGPIPE, SIGALRM,
 * SIGTERM, SIGUSR1, SIGUSR2, SIGVTALRM, SIGPROF, SIGSTKFLT, SIGIO,
 * SIGPWR) whose disposition is SIG_DFL at start-up (never a signal the
 * program already handles or ignores) we install a handler that records
 * SIGNAL, does the full drain with END(SIGNAL), puts the program's
 * SIG_DFL back and re-sends the signal to this thread: when the handler
 * returns the process dies by the same signal, with the same core dump
 * behaviour.  The terminations matter as much as the crashes: a server
 * stopped with Ctrl-C or `kill`, a test killed by `timeout`, a writer at
 * the head of `| head` killed by SIGPIPE would otherwise leave a ring
 * file and a report that says only "truncated".  Not taken: the
 * real-time signals (glibc keeps two of the range for itself and a
 * program killed by one is rare), and the signals whose default is to
 * stop, continue or be ignored.  RCPROF_SIGNALS=faults takes only the
 * seven faults (SIGSEGV ... SIGSYS), =none no signal at all.
 *
 * The program must not see that handler, so sigaction, signal (with its
 * aliases bsd_signal and ssignal), siginterrupt and the System V
 * sysv_signal and sigset are interposed here: glibc's own versions call
 * the internal __sigaction, which no interposing reaches.  Per
 * fatal signal we keep whether our handler is installed ("ours") and,
 * while it is, the action the program would read back without us ("the
 * view"): the kernel's own SIG_DFL, exactly as the kernel reported it when
 * we took the signal.  While a signal is ours
 *   - a query gets the view;
 *   - setting SIG_DFL (without SA_SIGINFO) makes that the view and keeps
 *     our handler: it is installed for real and read back, so the view
 *     is byte for byte what the kernel and glibc make of it (SA_RESTORER
 *     and glibc's sa_restorer on x86_64, unknown flags dropped, ...);
 *   - setting anything else (a handler, SIG_IGN) hands the signal to the
 *     program.
 * A signal that is not ours passes through, except that setting SIG_DFL
 * while we record makes it ours again: a crash handler (Python's
 * faulthandler) puts back the action it found before it re-raises, and
 * that crash is the one we most want in the dump.
 *
 * The state is changed under a per-signal spin lock held for a few
 * syscalls with every signal blocked, so neither a handler on this thread
 * (sigaction is async-signal-safe, and on_fatal takes it too) nor one on
 * another thread can deadlock on it; the wrapper never allocates.  The
 * kernel's answer is the authority: a signal we believe ours whose
 * handler is no longer on_fatal (changed behind our back, see below) is
 * treated as the program's from then on, and one whose handler is
 * on_fatal again (glibc's system() restores what it saved) is ours.
 *
 * Not translated, the program may see on_fatal through them:
 *   - raw syscall(SYS_rt_sigaction), sigvec and glibc's internal
 *     callers (abort, posix_spawn, system): they reach the kernel
 *     directly; a change they make is noticed at the next sigaction;
 *   - a vfork/posix_spawn child, or a child of a raw clone: it is not the
 *     process the state describes (a vfork child even shares our memory),
 *     so its calls pass through untouched;
 *   - while SIG_DFL is requested for a signal that is ours, the real
 *     SIG_DFL is in place for two syscalls: another thread crashing in
 *     that window dies unrecorded (as it would without us).
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks.h"
#include "unwind_logged.h"

/* glibc's public alias of sigaction: callable before shim_resolve (other
 * libraries' constructors run first) and without dlsym in a handler. */
extern int __sigaction(int sig, const struct sigaction *act,
		       struct sigaction *old);

/* The faults first: RCPROF_SIGNALS=faults handles those alone. */
static const int fatal_signals[] = {
	SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP, SIGSYS,
	SIGQUIT, SIGXCPU, SIGXFSZ,
	SIGHUP, SIGINT, SIGPIPE, SIGALRM, SIGTERM, SIGUSR1, SIGUSR2,
	SIGVTALRM, SIGPROF, SIGSTKFLT, SIGIO, SIGPWR,
};
#define NFATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))
#define NFAULTS 7u

/* How many of fatal_signals we handle (RCPROF_SIGNALS): all, the faults,
 * or none; set once by shim_signals_install. */
static size_t nhandled = NFATAL;

struct sig_state {
	int lock;               /* atomic: held with all signals blocked */
	int ours;               /* atomic: on_fatal is installed */
	struct sigaction view;  /* under lock: what the program sees */
};

static struct sig_state sig_states[NFATAL];
/* The process whose dispositions sig_states describes (0: none yet); a
 * fork child takes it over in shim_signals_fork_child. */
static int sig_owner;

static struct sig_state *state_of(int sig)
{
	for (size_t i = 0; i < nhandled; i++)
		if (fatal_signals[i] == sig)
			return &sig_states[i];
	return NULL;
}

static int real_sigaction(int sig, const struct sigaction *act,
			  struct sigaction *old)
{
	int (*fn)(int, const struct sigaction *, struct sigaction *) =
		atomic_load_relaxed(&shim_real.sigaction);
	return fn ? fn(sig, act, old) : __sigaction(sig, act, old);
}

/* The lock alone, with every signal already blocked. */
static void state_spin_lock(struct sig_state *s)
{
	int unlocked = 0;
	while (!atomic_cas_acq_rel(&s->lock, &unlocked, 1)) {
		unlocked = 0;
		sched_yield();
	}
}

static void state_lock(struct sig_state *s, sigset_t *saved)
{
	shim_sigmask_block_all(saved);
	state_spin_lock(s);
}

static void state_spin_unlock(struct sig_state *s)
{
	atomic_store_release(&s->lock, 0);
}

static void state_unlock(struct sig_state *s, const sigset_t *saved)
{
	state_spin_unlock(s);
	shim_sigmask(SIG_SETMASK, saved, NULL);
}

/* The calls here run in the process the state describes. */
static int own_process(void)
{
	int owner = atomic_load_relaxed(&sig_owner);
	return owner && owner == getpid();
}

static int recording(void)
{
	return atomic_load_relaxed(&shim_g.on) && getpid() == shim_g.pid;
}

static void on_fatal(int sig, siginfo_t *si, void *uc);

static int is_on_fatal(const struct sigaction *sa)
{
	return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == on_fatal;
}

/* SA_SIGINFO with a NULL sa_sigaction is SIG_DFL to the kernel too, but
 * we leave such a request alone, as shim_signals_install does. */
static int is_default(const struct sigaction *sa)
{
	return !(sa->sa_flags & SA_SIGINFO) && sa->sa_handler == SIG_DFL;
}

/* Install on_fatal; the kernel's previous action becomes the view.
 * Called with s locked. */
static void take(int sig, struct sig_state *s)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fatal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	atomic_store_relaxed(&s->ours, real_sigaction(sig, &sa, &s->view) == 0);
}

/* The program's default comes back for the signal's second delivery.
 * Our handler may be gone already (the program took the signal while we
 * waited for the lock): then its handler gets the re-sent signal. */
static void give_back(int sig)
{
	struct sig_state *s = state_of(sig);
	struct sigaction dfl, cur;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	if (!s || !own_process()) {
		real_sigaction(sig, &dfl, NULL);
		return;
	}
	sigset_t saved;
	state_lock(s, &saved);
	if (real_sigaction(sig, NULL, &cur) == 0 && is_on_fatal(&cur)) {
		int ours = atomic_load_relaxed(&s->ours);
		real_sigaction(sig, ours ? &s->view : &dfl, NULL);
	}
	atomic_store_relaxed(&s->ours, 0);
	state_unlock(s, &saved);
}

/* Record the signal, complete the dump, and die by sig: in its handler,
 * or where a deferred signal is let go (see on_fatal). */
static void die_recorded(int sig)
{
	if (recording()) {
		struct shim_thread *t = &shim_tls;
		int lvl = shim_enter(t);
		if (lvl >= 0)
			shim_rec_u(t, lvl, RCP_EV_SIGNAL, (uint64_t)sig);
		shim_leave(t);
		shim_finish(RCP_END_SIGNAL, sig, 1);
	}
	give_back(sig);
	/* In the handler: pending until it returns (sig is blocked in its
	 * handler); a fault would also repeat, but SIGTRAP/SIGSYS or kill()
	 * would not.  Deferred: delivered at once, to the default action. */
	syscall(SYS_tgkill, getpid(), gettid(), sig);
}

/* A signal that interrupted this thread anywhere, rather than one raised
 * by the instruction it stopped at: sent by a process (kill, tgkill,
 * sigqueue, raise - abort's SIGABRT too) or a terminating signal of the
 * kernel's (a timer, a limit).  Faults would repeat, so they are never
 * deferred. */
static int asynchronous(int sig, const siginfo_t *si)
{
	for (size_t i = 0; i < NFAULTS; i++)
		if (fatal_signals[i] == sig)
			return si && si->si_code <= 0;
	return 1;
}

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	int saved = errno;
	/* This thread may hold the drain flag: END could not be written
	 * (the drain we interrupted is half done, and waiting for it would
	 * wait for ourselves), so the ring file would stay and the report
	 * say "truncated".  A signal that is not a fault can wait for that
	 * drain: the thread runs on into it, and the signal is let go as
	 * soon as the flag is given back (ring.c), within microseconds. */
	if (shim_drain_held && recording() && asynchronous(sig, si)) {
		shim_deferred_run = die_recorded;
		shim_deferred_sig = sig;
		errno = saved;
		return;
	}
	die_recorded(sig);
	errno = saved;
}

static size_t handled_from_env(void)
{
	const char *v = getenv("RCPROF_SIGNALS");
	if (!v || !*v || !strcmp(v, "all"))
		return NFATAL;
	if (!strcmp(v, "faults"))
		return NFAULTS;
	if (!strcmp(v, "none"))
		return 0;
	shim_log("ignoring RCPROF_SIGNALS=", v, " (all, faults or none)",
		 NULL);
	return NFATAL;
}

void shim_signals_install(void)
{
	nhandled = handled_from_env();
	atomic_store_relaxed(&sig_owner, (int)getpid());
	/* Signals blocked once for all of them: two sigprocmask calls at
	 * start-up, not two per signal. */
	sigset_t saved;
	shim_sigmask_block_all(&saved);
	for (size_t i = 0; i < nhandled; i++) {
		struct sig_state *s = &sig_states[i];
		struct sigaction old;
		state_spin_lock(s);
		if (!atomic_load_relaxed(&s->ours) &&
		    real_sigaction(fatal_signals[i], NULL, &old) == 0 &&
		    is_default(&old))
			take(fatal_signals[i], s);
		state_spin_unlock(s);
	}
	shim_sigmask(SIG_SETMASK, &saved, NULL);
}

void shim_signals_release(void)
{
	if (!own_process())
		return;
	for (size_t i = 0; i < nhandled; i++)
		if (atomic_load_relaxed(&sig_states[i].ours))
			give_back(fatal_signals[i]);
	/* From now on sigaction and signal go straight to the real calls,
	 * without the state's lock (a sigprocmask a filter may forbid). */
	atomic_store_relaxed(&sig_owner, 0);
}

/* Only the forking thread lives on: a lock another thread held at the
 * fork is held by nobody.  The dispositions were inherited with the
 * state, so the state describes the child now. */
void shim_signals_fork_child(void)
{
	for (size_t i = 0; i < NFATAL; i++)
		atomic_store_relaxed(&sig_states[i].lock, 0);
	if (atomic_load_relaxed(&sig_owner))
		atomic_store_relaxed(&sig_owner, (int)getpid());
}

/* ---- what the program calls -------------------------------------------- */

static int translated_sigaction(int sig, const struct sigaction *act,
				struct sigaction *old)
{
	struct sig_state *s = state_of(sig);
	if (!s || !own_process())
		return real_sigaction(sig, act, old);
	/* act is read and old written outside the lock, as glibc does it
	 * outside the syscall: a bad pointer faults with signals unblocked,
	 * and the fault is a crash like any other. */
	struct sigaction a, k, o;
	if (act)
		a = *act;
	sigset_t saved;
	state_lock(s, &saved);
	int rc = real_sigaction(sig, act ? &a : NULL, &k);
	if (rc != 0) {
		int e = errno;
		state_unlock(s, &saved);
		errno = e;
		return rc;
	}
	/* The kernel's action decides, not s->ours: glibc's system() sets
	 * SIGINT and SIGQUIT to SIG_IGN and puts back what it found (our
	 * handler) through its internal __sigaction, which we do not see;
	 * a query during it cleared ours, one after it must not show the
	 * program our handler. */
	int was_ours = is_on_fatal(&k);
	o = was_ours ? s->view : k;
	if (act && is_default(&a) && (was_ours || recording()))
		take(sig, s);   /* the view is the default just installed */
	else
		atomic_store_relaxed(&s->ours, !act && was_ours);
	state_unlock(s, &saved);
	if (old) {
		/* The fields glibc fills in, no more (not the padding). */
		old->sa_handler = o.sa_handler;
		memcpy(&old->sa_mask, &o.sa_mask, sizeof(o.sa_mask));
		old->sa_flags = o.sa_flags;
		old->sa_restorer = o.sa_restorer;
	}
	return 0;
}

SHIM_EXPORT int sigaction(int sig, const struct sigaction *act,
			  struct sigaction *old)
{
	return translated_sigaction(sig, act, old);
}

/* The fatal signals siginterrupt(sig, 1) was last called for: signal()
 * does not ask for SA_RESTART on them.  glibc keeps the same record for
 * its own signal(), which the other signals go to. */
static uint64_t interrupting;

static uint64_t sig_bit(int sig)
{
	return (uint64_t)1 << (sig - 1);
}

/* What the signal()-like calls share: handler becomes sig's action with
 * these flags (its mask: sig alone when block_sig, else empty), through
 * the translation.  The previous handler, or SIG_ERR with errno. */
static sighandler_t set_handler(int sig, sighandler_t handler, int block_sig,
				int flags)
{
	if (handler == SIG_ERR || sig < 1 || sig >= NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	if (block_sig)
		sigaddset(&sa.sa_mask, sig);
	sa.sa_flags = flags;
	if (translated_sigaction(sig, &sa, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* glibc's signal(): BSD semantics, the signal blocked in its handler,
 * interrupted calls restarted unless siginterrupt said otherwise.  Other
 * signals go to the real one. */
static sighandler_t bsd_signal_common(int sig, sighandler_t handler)
{
	if (!state_of(sig)) {
		sighandler_t (*fn)(int, sighandler_t) =
			atomic_load_relaxed(&shim_real.signal);
		if (fn)
			return fn(sig, handler);
	}
	int intr = sig >= 1 && sig <= 64 &&
		   (atomic_load_relaxed(&interrupting) & sig_bit(sig));
	return set_handler(sig, handler, 1, intr ? 0 : SA_RESTART);
}

SHIM_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	return bsd_signal_common(sig, handler);
}

/* Not declared with _GNU_SOURCE (POSIX.1-2008 dropped it). */
sighandler_t bsd_signal(int sig, sighandler_t handler);
SHIM_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	return bsd_signal_common(sig, handler);
}

SHIM_EXPORT sighandler_t ssignal(int sig, sighandler_t handler)
{
	return bsd_signal_common(sig, handler);
}

/* System V's signal: the handler runs once (SA_RESETHAND), its signal
 * is not blocked in it and interrupted calls are not restarted.  The
 * historical no-op SA_INTERRUPT is passed as glibc passes it, so the
 * flags the kernel keeps are the same. */
SHIM_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
	return set_handler(sig, handler, 0,
			   SA_RESETHAND | SA_NODEFER | SA_INTERRUPT);
}

/* System V's sigset: SIG_HOLD blocks the signal and leaves its action;
 * anything else becomes the action (no mask, no flags) and unblocks the
 * signal.  Either way the answer is SIG_HOLD when the signal was blocked
 * before, else the previous handler. */
SHIM_EXPORT sighandler_t sigset(int sig, sighandler_t disp)
{
	if (disp == SIG_ERR || sig < 1 || sig >= NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	sigset_t one, before;
	sigemptyset(&one);
	sigaddset(&one, sig);
	if (disp == SIG_HOLD) {
		struct sigaction old;
		if (pthread_sigmask(SIG_BLOCK, &one, &before) != 0)
			return SIG_ERR;
		if (sigismember(&before, sig))
			return SIG_HOLD;
		if (translated_sigaction(sig, NULL, &old) < 0)
			return SIG_ERR;
		return old.sa_handler;
	}
	sighandler_t old = set_handler(sig, disp, 0, 0);
	if (old == SIG_ERR)
		return SIG_ERR;
	if (pthread_sigmask(SIG_UNBLOCK, &one, &before) != 0)
		return SIG_ERR;
	return sigismember(&before, sig) ? SIG_HOLD : old;
}

/* siginterrupt: SA_RESTART off (flag) or on in the signal's action, and
 * remembered for signal().  On a fatal signal of ours the change goes to
 * the view, through the same translation as a sigaction call. */
SHIM_EXPORT int siginterrupt(int sig, int flag)
{
	if (!state_of(sig)) {
		int (*fn)(int, int) = atomic_load_relaxed(&shim_real.siginterrupt);
		if (fn)
			return fn(sig, flag);
	}
	if (sig < 1 || sig >= NSIG) {
		errno = EINVAL;
		return -1;
	}
	struct sigaction sa;
	if (translated_sigaction(sig, NULL, &sa) < 0)
		return -1;
	if (flag) {
		atomic_or_relaxed(&interrupting, sig_bit(sig));
		sa.sa_flags &= ~SA_RESTART;
	} else {
		atomic_and_relaxed(&interrupting, ~sig_bit(sig));
		sa.sa_flags |= SA_RESTART;
	}
	return translated_sigaction(sig, &sa, NULL);
}

/* sigprocmask: the program's calls go to libc unchanged.  The generic
 * libunwind's own calls inside a logged unwind of the stack cache skip
 * the system call (unwind_logged.c says why that is safe); other calls
 * made while this thread is inside a hook - libunwind's, around its
 * dl_iterate_phdr - keep glibc's internal signals as they are
 * (sigmask.c). */
SHIM_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	if (shim_unlikely(shim_logged_unwind_sigprocmask(
		    __builtin_return_address(0), old)))
		return 0;
	if (shim_tls.depth > 0 || shim_tls.internal > 0)
		return shim_sigmask(how, set, old);
	int (*fn)(int, const sigset_t *, sigset_t *) =
		atomic_load_relaxed(&shim_real.sigprocmask);
	if (fn)
		return fn(how, set, old);
	/* Not resolved yet: glibc's sigprocmask is pthread_sigmask with the
	 * error in errno. */
	int e = pthread_sigmask(how, set, old);
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}
