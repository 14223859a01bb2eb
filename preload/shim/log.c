/* log.c - the shim's only output channel besides the dump.
 *
 * One line on stderr, "rcprof: " + parts + "\n", assembled in a stack
 * buffer and written with a single write(2): no stdio, no malloc, usable
 * from signal handlers and from inside malloc.
 *
 * The write must not raise a signal the program would not have had:
 * SIGPIPE when stderr is a pipe nobody reads any more, SIGXFSZ when it
 * is a file at RLIMIT_FSIZE.  Both are blocked around it, and one the
 * write raised (pending after, not before) is taken off again.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw_syscall.h"
#include "shim.h"

void shim_log(const char *first, ...)
{
	char buf[1024];
	size_t n = 0;
	static const char prefix[] = "rcprof: ";
	int saved = errno;
	memcpy(buf, prefix, sizeof(prefix) - 1);
	n = sizeof(prefix) - 1;
	va_list ap;
	va_start(ap, first);
	for (const char *s = first; s; s = va_arg(ap, const char *)) {
		size_t len = strlen(s);
		if (len > sizeof(buf) - 1 - n)
			len = sizeof(buf) - 1 - n;
		memcpy(buf + n, s, len);
		n += len;
	}
	va_end(ap);
	buf[n++] = '\n';
	sigset_t quiet, old, before, after;
	sigemptyset(&quiet);
	sigaddset(&quiet, SIGPIPE);
	sigaddset(&quiet, SIGXFSZ);
	int masked = pthread_sigmask(SIG_BLOCK, &quiet, &old) == 0;
	if (masked && sigpending(&before) != 0)
		sigfillset(&before);    /* unknown: take nothing off */
	ssize_t w;
	do
		w = shim_raw_syscall(SYS_write, STDERR_FILENO, (long)buf,
				     (long)n, 0, 0, 0); /* no cancellation */
	while (w < 0 && errno == EINTR);
	if (masked) {
		if (sigpending(&after) == 0) {
			static const struct timespec now = { 0, 0 };
			int sigs[2] = { SIGPIPE, SIGXFSZ };
			for (int i = 0; i < 2; i++) {
				if (!sigismember(&after, sigs[i]) ||
				    sigismember(&before, sigs[i]))
					continue;
				sigset_t one;
				sigemptyset(&one);
				sigaddset(&one, sigs[i]);
				while (sigtimedwait(&one, NULL, &now) < 0 &&
				       errno == EINTR)
					;
			}
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	errno = saved;
}

char *shim_utoa(uint64_t v, char *buf)
{
	char tmp[21];
	int i = 0;
	do {
		tmp[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (int j = 0; j < i; j++)
		buf[j] = tmp[i - 1 - j];
	buf[i] = 0;
	return buf;
}

const char *shim_strerror(int e)
{
	/* strerrordesc_np (glibc >= 2.32) returns a constant string; strerror
	 * may allocate for unknown codes. */
	const char *s = strerrordesc_np(e);
	return s ? s : "Unknown error";
}
