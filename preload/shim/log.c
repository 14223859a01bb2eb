/* log.c - the shim's only output channel besides the dump.
 *
 * One line on stderr, "rcprof: " + parts + "\n", assembled in a stack
 * buffer and written with a single write(2): no stdio, no malloc, usable
 * from signal handlers and from inside malloc.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

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
	ssize_t w;
	do
		w = write(STDERR_FILENO, buf, n);
	while (w < 0 && errno == EINTR);
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
