/* suppress.h - leak suppressions, LeakSanitizer style.
 *
 * Pattern language (one rule a line; '#' starts a comment, blank lines and
 * surrounding blanks are ignored):
 *     leak:PATTERN     a frame's function name, source file or module path
 *     type:PATTERN     a refcounted type name (the whole name)
 *     cycle:SIGNATURE  a garbage cycle's signature, hex as printed
 *                      (optional 0x)
 * In a leak: PATTERN '*' matches any run of characters; without anchors the
 * pattern may match anywhere in the name (substring); a leading '^' anchors
 * it at the start, a trailing '$' at the end.  A type: PATTERN always
 * matches the whole type name ('*' wildcards, no substring), because type
 * names are short and "node" must not also hide "node_cache".
 *
 * What a user rule set (--suppressions FILE) suppresses:
 *   - a plain leak or an unreleased group: a leak: rule matching any frame
 *     of its allocation stack; for an unreleased group also a type: rule
 *     matching its type;
 *   - a garbage cycle: a cycle: rule with its signature, or a type: rule
 *     matching every member's type (kept-alive members included), or a
 *     leak: rule matching the allocation stack of every listed member.
 * Refcount misuse (errors) is never suppressed.  The built-in set, for the C
 * library's own never-freed buffers, looks only at the stack's system
 * prefix: the innermost frames that lie in the C library or the dynamic
 * loader, before the first frame of the program or of another library -
 * so __libc_start_main at the bottom of every stack, or a program's own
 * strdup() leak, is never taken for a libc buffer.
 */
#ifndef RCPROF_SUPPRESS_H
#define RCPROF_SUPPRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum rcp_supp_kind {
	RCP_SUPP_LEAK,
	RCP_SUPP_TYPE,
	RCP_SUPP_CYCLE,
};

struct rcp_supp_rule {
	enum rcp_supp_kind kind;
	char *pattern;          /* after the "kind:" prefix */
	uint64_t sig;           /* RCP_SUPP_CYCLE */
	size_t hits;            /* findings it suppressed */
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
/* Index of the first leak: rule that suppresses the stack, or -1.  Counts
 * a hit on that rule. */
long rcp_supp_match(struct rcp_supp *s, const struct rcp_supp_frame *f,
		    size_t n);
/* The same without counting a hit (a cycle needs every member to match
 * before anything is suppressed). */
long rcp_supp_match_nohit(const struct rcp_supp *s,
			  const struct rcp_supp_frame *f, size_t n);
/* Index of the first type: rule matching the type name, or -1. */
long rcp_supp_match_type(const struct rcp_supp *s, const char *type);
/* Index of the first cycle: rule with this signature, or -1. */
long rcp_supp_match_cycle(const struct rcp_supp *s, uint64_t sig);
/* The name of a rule kind ("leak", "type", "cycle"). */
const char *rcp_supp_kind_name(enum rcp_supp_kind k);
/* Writes the rules, one "kind:pattern" a line. */
void rcp_supp_print(const struct rcp_supp *s, FILE *f);
/* One pattern against one string. */
int rcp_supp_pattern_match(const char *pattern, const char *str);
/* Is this module path the C library or the dynamic loader? */
int rcp_supp_is_system_module(const char *path);

#endif /* RCPROF_SUPPRESS_H */
