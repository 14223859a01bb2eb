/* suppress.c - leak suppressions (see suppress.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "suppress.h"
#include "util.h"

/* The C library's and the loader's own allocations that are never freed by
 * design: stdio buffers and FILEs still open, loader and TLS data, locale,
 * time zone, NSS, dlerror state. */
static const char *const builtin_rules[] = {
	"leak:_IO_file_doallocate",
	"leak:_IO_doallocbuf",
	"leak:__fopen_internal",
	"leak:^fopen",
	"leak:^fdopen",
	"leak:^_IO_new_fopen",
	"leak:^_IO_new_fdopen",
	"leak:^_dl_",
	"leak:^__libc_",
	"leak:^_nl_",
	"leak:dlerror",
	"leak:_dlerror_run",
	"leak:^dlopen",
	"leak:^dlsym",
	"leak:setlocale",
	"leak:newlocale",
	"leak:tzset",
	"leak:tzfile",
	"leak:localtime",
	"leak:^getpw",
	"leak:^getgr",
	"leak:^getspnam",
	"leak:^gethostby",
	"leak:^getaddrinfo",
	"leak:nss_",
	"leak:^__nss",
	"leak:^pthread_create",
	"leak:allocate_stack",
	"leak:_dl_allocate_tls",
	"leak:^__tls_get_addr",
	"leak:^__cxa_thread_atexit",
	"leak:^__new_exitfn",
	"leak:^atexit",
	"leak:^on_exit",
	"leak:^__cxa_atexit",
	"leak:^textdomain",
	"leak:^bindtextdomain",
	"leak:^catopen",
	"leak:^setvbuf",
	"leak:^open_memstream",
	"leak:^popen",
	"leak:^__gconv",
	"leak:^iconv_open",
	"leak:^openlog",
	"leak:ld-linux*.so",
};

void rcp_supp_init(struct rcp_supp *s)
{
	memset(s, 0, sizeof(*s));
}

void rcp_supp_free(struct rcp_supp *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->rules[i].pattern);
	free(s->rules);
	memset(s, 0, sizeof(*s));
}

static int add_rule(struct rcp_supp *s, const char *pat, size_t len)
{
	int rc = rcp_grow(&s->rules, &s->cap, s->n, sizeof(*s->rules));
	if (rc)
		return rc;
	char *p = strndup(pat, len);
	if (!p)
		return -ENOMEM;
	s->rules[s->n].pattern = p;
	s->rules[s->n].hits = 0;
	s->n++;
	return 0;
}

int rcp_supp_parse(struct rcp_supp *s, const char *text, size_t *bad_line)
{
	size_t line = 0;
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n');
		const char *next = eol ? eol + 1 : p + strlen(p);
		const char *e = eol ? eol : next;
		line++;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (p < e && *p != '#') {
			static const char kw[] = "leak:";
			if ((size_t)(e - p) <= sizeof(kw) - 1 ||
			    strncmp(p, kw, sizeof(kw) - 1) != 0) {
				if (bad_line)
					*bad_line = line;
				return -EINVAL;
			}
			p += sizeof(kw) - 1;
			int rc = add_rule(s, p, (size_t)(e - p));
			if (rc)
				return rc;
		}
		p = next;
	}
	return 0;
}

int rcp_supp_builtin(struct rcp_supp *s)
{
	for (size_t i = 0; i < sizeof(builtin_rules) / sizeof(builtin_rules[0]); i++) {
		const char *r = builtin_rules[i] + 5;   /* after "leak:" */
		int rc = add_rule(s, r, strlen(r));
		if (rc)
			return rc;
	}
	s->system_prefix_only = 1;
	return 0;
}

/* Glob with '*' over [p, pe) against [s, se).  open_start / open_end:
 * the pattern may match a substring that does not start / end at the
 * string's start / end (as if it began / ended with '*'). */
static int glob(const char *p, const char *pe, const char *s, const char *se,
		int open_start, int open_end)
{
	const char *star = open_start ? p : NULL, *mark = s;

	for (;;) {
		if (open_end && p == pe)
			return 1;
		if (s == se)
			break;
		if (p < pe && *p == '*') {
			star = ++p;
			mark = s;
		} else if (p < pe && *p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star;
			s = ++mark;
		} else {
			return 0;
		}
	}
	while (p < pe && *p == '*')
		p++;
	return p == pe;
}

int rcp_supp_pattern_match(const char *pattern, const char *str)
{
	if (!pattern || !str || !*pattern)
		return 0;
	const char *p = pattern, *pe = pattern + strlen(pattern);
	int open_start = 1, open_end = 1;

	if (*p == '^') {
		open_start = 0;
		p++;
	}
	if (pe > p && pe[-1] == '$') {
		open_end = 0;
		pe--;
	}
	return glob(p, pe, str, str + strlen(str), open_start, open_end);
}

int rcp_supp_is_system_module(const char *path)
{
	const char *b = rcp_basename(path);
	static const char *const sys[] = {
		"libc.so", "libc-", "ld-linux", "ld-", "libpthread", "libdl",
		"libm.so", "libm-", "libresolv", "libnss_", "librt",
	};
	if (!path || !*path)
		return 0;
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (strncmp(b, sys[i], strlen(sys[i])) == 0)
			return 1;
	return 0;
}

static int frame_matches(const char *pat, const struct rcp_supp_frame *f)
{
	return rcp_supp_pattern_match(pat, f->func) ||
	       rcp_supp_pattern_match(pat, f->file) ||
	       rcp_supp_pattern_match(pat, f->module);
}

long rcp_supp_match(struct rcp_supp *s, const struct rcp_supp_frame *f,
		    size_t n)
{
	size_t limit = n;

	if (s->system_prefix_only) {
		limit = 0;
		while (limit < n && rcp_supp_is_system_module(f[limit].module))
			limit++;
	}
	for (size_t r = 0; r < s->n; r++) {
		for (size_t i = 0; i < limit; i++) {
			if (frame_matches(s->rules[r].pattern, &f[i])) {
				s->rules[r].hits++;
				return (long)r;
			}
		}
	}
	return -1;
}
