/* suppress.h - leak suppressions, LeakSanitizer style.
 *
 * Pattern language (one rule a line; '#' starts a comment):
 *     leak:PATTERN
 * PATTERN is matched against each frame's function name, source file and
 * module path.  '*' matches any run of characters; without anchors the
 * pattern may match anywhere in the name (substring); a leading '^' anchors
 * it at the start, a trailing '$' at the end.
 *
 * A user rule set (a later --suppressions FILE) suppresses a leak when any
 * frame of its allocation stack matches.  The built-in set, for the C
 * library's own never-freed buffers, looks only at the stack's system
 * prefix: the innermost frames that lie in the C library or the dynamic
 * loader, before the first frame of the program or of another library -
 * so __libc_start_main at the bottom of every stack, or a program's own
 * strdup() leak, is never taken for a libc buffer.
 */
#ifndef RCPROF_SUPPRESS_H
#define RCPROF_SUPPRESS_H

#include <stddef.h>

struct rcp_supp_rule {
	char *pattern;
	size_t hits;            /* leaks it suppressed */
};

struct rcp_supp {
	size_t n, cap;
	struct rcp_supp_rule *rules;
	int system_prefix_only;
};

/* What the matcher sees of one frame. */
struct rcp_supp_frame {
	const char *func;       /* may be NULL */
	const char *file;
	const char *module;     /* path */
};

void rcp_supp_init(struct rcp_supp *s);
void rcp_supp_free(struct rcp_supp *s);
/* Parses rules from text.  0, or -EINVAL with the bad line number in
 * *bad_line. */
int rcp_supp_parse(struct rcp_supp *s, const char *text, size_t *bad_line);
/* The built-in rules for the C library (system_prefix_only). */
int rcp_supp_builtin(struct rcp_supp *s);
/* Index of the first rule that suppresses the stack, or -1. */
long rcp_supp_match(struct rcp_supp *s, const struct rcp_supp_frame *f,
		    size_t n);
/* One pattern against one string. */
int rcp_supp_pattern_match(const char *pattern, const char *str);
/* Is this module path the C library or the dynamic loader? */
int rcp_supp_is_system_module(const char *path);

#endif /* RCPROF_SUPPRESS_H */
