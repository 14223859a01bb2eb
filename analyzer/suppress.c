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

static int add_rule(struct rcp_supp *s, enum rcp_supp_kind kind,
		    const char *pat, size_t len)
{
	int rc = rcp_grow(&s->rules, &s->cap, s->n, sizeof(*s->rules));
	if (rc)
		return rc;
	char *p = strndup(pat, len);
	if (!p)
		return -ENOMEM;
	s->rules[s->n].kind = kind;
	s->rules[s->n].pattern = p;
	s->rules[s->n].sig = 0;
	s->rules[s->n].hits = 0;
	s->n++;
	return 0;
}

/* A cycle signature: hex digits, optional 0x, at most 16 of them. */
static int parse_sig(const char *p, const char *e, uint64_t *sig)
{
	uint64_t v = 0;

	if (e - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	if (p == e || e - p > 16)
		return -EINVAL;
	for (; p < e; p++) {
		int d;
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return -EINVAL;
		v = v << 4 | (uint64_t)d;
	}
	*sig = v;
	return 0;
}

/* One non-blank, non-comment line [p, e). */
static int parse_line(struct rcp_supp *s, const char *p, const char *e)
{
	static const struct { const char *kw; enum rcp_supp_kind kind; } kws[] = {
		{ "leak:", RCP_SUPP_LEAK }, { "type:", RCP_SUPP_TYPE },
		{ "cycle:", RCP_SUPP_CYCLE },
	};

	for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++) {
		size_t kl = strlen(kws[i].kw);
		if ((size_t)(e - p) <= kl || strncmp(p, kws[i].kw, kl) != 0)
			continue;
		p += kl;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p == e)
			return -EINVAL;
		uint64_t sig = 0;
		if (kws[i].kind == RCP_SUPP_CYCLE && parse_sig(p, e, &sig))
			return -EINVAL;
		int rc = add_rule(s, kws[i].kind, p, (size_t)(e - p));
		if (!rc)
			s->rules[s->n - 1].sig = sig;
		return rc;
	}
	return -EINVAL;
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
			int rc = parse_line(s, p, e);
			if (rc == -EINVAL && bad_line)
				*bad_line = line;
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
		int rc = add_rule(s, RCP_SUPP_LEAK, r, strlen(r));
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

long rcp_supp_match_nohit(const struct rcp_supp *s,
			  const struct rcp_supp_frame *f, size_t n)
{
	size_t limit = n;

	if (s->system_prefix_only) {
		limit = 0;
		while (limit < n && rcp_supp_is_system_module(f[limit].module))
			limit++;
	}
	for (size_t r = 0; r < s->n; r++) {
		if (s->rules[r].kind != RCP_SUPP_LEAK)
			continue;
		for (size_t i = 0; i < limit; i++)
			if (frame_matches(s->rules[r].pattern, &f[i]))
				return (long)r;
	}
	return -1;
}

long rcp_supp_match(struct rcp_supp *s, const struct rcp_supp_frame *f,
		    size_t n)
{
	long r = rcp_supp_match_nohit(s, f, n);

	if (r >= 0)
		s->rules[r].hits++;
	return r;
}

long rcp_supp_match_type(const struct rcp_supp *s, const char *type)
{
	if (!type)
		return -1;
	for (size_t r = 0; r < s->n; r++) {
		const char *p = s->rules[r].pattern;
		if (s->rules[r].kind == RCP_SUPP_TYPE &&
		    glob(p, p + strlen(p), type, type + strlen(type), 0, 0))
			return (long)r;
	}
	return -1;
}

long rcp_supp_match_cycle(const struct rcp_supp *s, uint64_t sig)
{
	for (size_t r = 0; r < s->n; r++)
		if (s->rules[r].kind == RCP_SUPP_CYCLE && s->rules[r].sig == sig)
			return (long)r;
	return -1;
}

const char *rcp_supp_kind_name(enum rcp_supp_kind k)
{
	switch (k) {
	case RCP_SUPP_LEAK: return "leak";
	case RCP_SUPP_TYPE: return "type";
	case RCP_SUPP_CYCLE: return "cycle";
	}
	return "?";
}

void rcp_supp_print(const struct rcp_supp *s, FILE *f)
{
	for (size_t r = 0; r < s->n; r++)
		fprintf(f, "%s:%s\n", rcp_supp_kind_name(s->rules[r].kind),
			s->rules[r].pattern);
}
