/* sigquery.c - what the program sees of the fatal signals' dispositions.
 * usage: sigquery [crash | crash-sysv]
 *
 * Prints, for the signals whose default ends the process (SIGSEGV,
 * SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGQUIT, SIGXCPU,
 * SIGXFSZ, SIGHUP, SIGINT, SIGPIPE, SIGALRM, SIGTERM, SIGUSR1, SIGVTALRM,
 * SIGPROF, SIGSTKFLT, SIGIO, SIGPWR; SIGUSR2 is the program's own), the
 * disposition as sigaction() and signal() report it, then installs and
 * removes a SIGSEGV handler of its own and prints what it reads back at
 * each step.  The output must be the same with and without the profiler
 * (the recorder's own fatal-signal handler must stay invisible).  With
 * "crash" it then raises SIGSEGV and dies by it, after restoring SIG_DFL
 * the way a crash handler does (with crash-sysv: through sysv_signal).
 *
 * Then it asks for SIGINT's action while another thread is in system(),
 * and after.
 *
 * Addresses differ between runs (ASLR), so the restorer is printed as
 * "none", "glibc" (the one glibc puts into every action it installs,
 * learnt from SIGUSR2) or "other"; the mask as the list of its members. */
#define _GNU_SOURCE     /* sysv_signal, sigset, SIG_HOLD */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	int sig;
	const char *name;
} fatal[] = {
	{ SIGSEGV, "SEGV" }, { SIGBUS, "BUS" }, { SIGABRT, "ABRT" },
	{ SIGFPE, "FPE" }, { SIGILL, "ILL" }, { SIGTRAP, "TRAP" },
	{ SIGSYS, "SYS" }, { SIGQUIT, "QUIT" }, { SIGXCPU, "XCPU" },
	{ SIGXFSZ, "XFSZ" }, { SIGHUP, "HUP" }, { SIGINT, "INT" },
	{ SIGPIPE, "PIPE" }, { SIGALRM, "ALRM" }, { SIGTERM, "TERM" },
	{ SIGUSR1, "USR1" }, { SIGVTALRM, "VTALRM" }, { SIGPROF, "PROF" },
	{ SIGSTKFLT, "STKFLT" }, { SIGIO, "IO" }, { SIGPWR, "PWR" },
};

static void (*glibc_restorer)(void);
static void *keep[8];

static void own_handler(int sig)
{
	(void)sig;
}

static void own_action(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
}

static const char *handler_name(void (*h)(int))
{
	if (h == SIG_DFL)
		return "DFL";
	if (h == SIG_IGN)
		return "IGN";
	if (h == SIG_ERR)
		return "ERR";
	if (h == own_handler)
		return "own_handler";
	if (h == (void (*)(int))own_action)
		return "own_action";
	return "foreign";
}

static void print_action(const char *what, const struct sigaction *sa)
{
	const char *r = !sa->sa_restorer ? "none" :
		sa->sa_restorer == glibc_restorer ? "glibc" : "other";
	printf("  %-10s handler=%s flags=%#x restorer=%s mask={", what,
	       handler_name(sa->sa_handler), (unsigned)sa->sa_flags, r);
	const char *sep = "";
	for (int s = 1; s <= 64; s++) {
		if (sigismember(&sa->sa_mask, s) == 1) {
			printf("%s%d", sep, s);
			sep = ",";
		}
	}
	printf("}\n");
}

/* sigaction(sig, NULL, &sa) into a struct filled with a pattern, so a
 * field the call leaves alone shows too. */
static void query(const char *what, int sig)
{
	struct sigaction sa;
	memset(&sa, 0x5a, sizeof(sa));
	errno = 0;
	int rc = sigaction(sig, NULL, &sa);
	if (rc != 0) {
		printf("  %-10s rc=%d errno=%d\n", what, rc, errno);
		return;
	}
	print_action(what, &sa);
}

static int ready[2];     /* the command run by system() writes here */

static void *run_system(void *arg)
{
	(void)arg;
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "printf x >&%d; sleep 0.3", ready[1]);
	if (system(cmd) != 0)
		printf("system failed\n");
	return NULL;
}

int main(int argc, char **argv)
{
	int sysv = argc > 1 && !strcmp(argv[1], "crash-sysv");
	int crash = sysv || (argc > 1 && !strcmp(argv[1], "crash"));
	struct sigaction sa, old;
	int rc;

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		keep[i] = malloc(32 + i);       /* something to record */

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = own_handler;
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGUSR2, NULL, &old);
	glibc_restorer = old.sa_restorer;

	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
		int sig = fatal[i].sig;
		printf("%s\n", fatal[i].name);
		query("initial", sig);
		errno = 0;
		void (*prev)(int) = signal(sig, SIG_DFL);
		printf("  signal     returned %s errno=%d\n",
		       handler_name(prev), prev == SIG_ERR ? errno : 0);
		query("after", sig);
		prev = signal(sig, SIG_DFL);
		printf("  signal     returned %s\n", handler_name(prev));
	}

	/* The System V calls: sysv_signal, and sigset with its SIG_HOLD;
	 * then siginterrupt (deprecated, and still what old programs call). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
		int sig = fatal[i].sig;
		printf("%s System V\n", fatal[i].name);
		void (*prev)(int) = sysv_signal(sig, SIG_DFL);
		printf("  sysv_signal returned %s\n", handler_name(prev));
		query("sysv'd", sig);
		prev = sigset(sig, SIG_DFL);
		printf("  sigset     returned %s\n", handler_name(prev));
		prev = sigset(sig, SIG_HOLD);
		printf("  sigset HOLD returned %s\n",
		       prev == SIG_HOLD ? "HOLD" : handler_name(prev));
		prev = sigset(sig, SIG_DFL);
		printf("  sigset     returned %s\n",
		       prev == SIG_HOLD ? "HOLD" : handler_name(prev));
		query("sigset", sig);
	}
	void (*was)(int) = sysv_signal(SIGSEGV, own_handler);
	printf("  sysv_signal(SEGV, own) returned %s\n", handler_name(was));
	query("sysv own", SIGSEGV);
	was = sigset(SIGSEGV, SIG_DFL);
	printf("  sigset(SEGV, DFL) returned %s\n", handler_name(was));
	query("sigset DFL", SIGSEGV);

	/* siginterrupt changes SA_RESTART, and signal() remembers it. */
	printf("SEGV siginterrupt\n");
	printf("  siginterrupt(1) rc=%d\n", siginterrupt(SIGSEGV, 1));
	query("intr", SIGSEGV);
	was = signal(SIGSEGV, own_handler);
	printf("  signal     returned %s\n", handler_name(was));
	query("intr own", SIGSEGV);
	printf("  siginterrupt(0) rc=%d\n", siginterrupt(SIGSEGV, 0));
	query("restart", SIGSEGV);
	was = signal(SIGSEGV, SIG_DFL);
	printf("  signal     returned %s\n", handler_name(was));
	printf("  siginterrupt(1) rc=%d\n", siginterrupt(SIGSEGV, 1));
	was = signal(SIGSEGV, SIG_DFL);
	printf("  signal     returned %s\n", handler_name(was));
	query("intr DFL", SIGSEGV);
	printf("  siginterrupt(0) rc=%d\n", siginterrupt(SIGSEGV, 0));
	errno = 0;
	rc = siginterrupt(0, 1);
	printf("  siginterrupt(0, 1) rc=%d errno=%d\n", rc, errno);
#pragma GCC diagnostic pop

	printf("SEGV handler\n");
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = own_action;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR1);
	memset(&old, 0x5a, sizeof(old));
	rc = sigaction(SIGSEGV, &sa, &old);
	printf("  install    rc=%d\n", rc);
	print_action("old", &old);
	query("installed", SIGSEGV);
	/* The same struct as act and old: act is read before old is written. */
	sa.sa_sigaction = NULL;
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_RESETHAND;
	rc = sigaction(SIGSEGV, &sa, &sa);
	printf("  restore    rc=%d\n", rc);
	print_action("old", &sa);
	query("restored", SIGSEGV);
	void (*prev)(int) = signal(SIGSEGV, own_handler);
	printf("  signal     returned %s\n", handler_name(prev));
	query("signal'd", SIGSEGV);
	prev = signal(SIGSEGV, SIG_IGN);
	printf("  signal     returned %s\n", handler_name(prev));
	prev = signal(SIGSEGV, SIG_DFL);
	printf("  signal     returned %s\n", handler_name(prev));
	query("final", SIGSEGV);

	printf("errors\n");
	errno = 0;
	prev = signal(SIGSEGV, SIG_ERR);
	printf("  signal(SIGSEGV, SIG_ERR) %s errno=%d\n", handler_name(prev),
	       errno);
	errno = 0;
	prev = signal(0, SIG_DFL);
	printf("  signal(0, SIG_DFL) %s errno=%d\n", handler_name(prev), errno);
	errno = 0;
	rc = sigaction(SIGKILL, &sa, NULL);
	printf("  sigaction(SIGKILL) rc=%d errno=%d\n", rc, errno);
	errno = 0;
	rc = sigaction(SIGSEGV, NULL, NULL);
	printf("  sigaction(SIGSEGV, NULL, NULL) rc=%d errno=%d\n", rc, errno);
	query("final", SIGSEGV);

	/* glibc's system() ignores SIGINT and SIGQUIT while it waits and
	 * then puts back what it found, past sigaction; another thread asks
	 * in between (once the command runs), and after. */
	printf("system\n");
	pthread_t th;
	char x;
	if (pipe(ready) != 0 ||
	    pthread_create(&th, NULL, run_system, NULL) != 0 ||
	    read(ready[0], &x, 1) != 1)
		return 2;
	query("during", SIGINT);
	pthread_join(th, NULL);
	query("after", SIGINT);

	if (crash) {
		/* What a crash handler does before it re-raises: put back the
		 * action it found (SIG_DFL), through sigaction. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = own_handler;
		sigaction(SIGSEGV, &sa, &old);
		if (sysv)
			sysv_signal(SIGSEGV, SIG_DFL);
		else
			sigaction(SIGSEGV, &old, NULL);
		printf("crashing\n");
		fflush(stdout);
		raise(SIGSEGV);
		printf("still alive\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]) / 2; i++)
		free(keep[i]);
	printf("done\n");
	return 0;
}
