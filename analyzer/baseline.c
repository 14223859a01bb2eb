/* baseline.c - baselines (see baseline.h) and the small JSON reader they
 * need.  The reader walks any JSON document and collects the objects of
 * every array under a "findings" key; it reads only what rcprof-report
 * writes there (flat objects of strings and numbers) and skips the rest,
 * so extra keys in a newer report do not break an older reader.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"

#define JSON_DEPTH 64

void rcp_baseline_init(struct rcp_baseline *b)
{
	memset(b, 0, sizeof(*b));
}

void rcp_baseline_free(struct rcp_baseline *b)
{
	free(b->e);
	memset(b, 0, sizeof(*b));
}

static int add(struct rcp_baseline *b, const struct rcp_bentry *e)
{
	int rc = rcp_grow(&b->e, &b->cap, b->n, sizeof(*b->e));
	if (rc)
		return rc;
	b->e[b->n++] = *e;
	b->sorted = 0;
	return 0;
}

int rcp_baseline_add_report(struct rcp_baseline *b, const struct rcp_report *r)
{
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct rcp_finding *f = &r->findings[i];
		struct rcp_bentry e;
		memset(&e, 0, sizeof(e));
		e.kind = f->kind;
		e.sig = f->sig;
		e.count = f->count;
		e.bytes = f->bytes;
		snprintf(e.site, sizeof(e.site), "%s", f->site);
		snprintf(e.type, sizeof(e.type), "%s", f->type ? f->type : "");
		int rc = add(b, &e);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the reader ------------------------------------------------------------------ */

struct jr {
	const char *p, *end;
	const char *err;
	struct rcp_baseline *b;
	int rc;
};

static void ws(struct jr *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
				 *j->p == '\r'))
		j->p++;
}

static int fail(struct jr *j, const char *why)
{
	if (!j->err)
		j->err = why;
	return -EINVAL;
}

/* A string into buf (truncated, escapes other than \" and \\ kept raw:
 * the values read are hex numbers, names and kinds). */
static int jstring(struct jr *j, char *buf, size_t len)
{
	size_t n = 0;

	if (j->p >= j->end || *j->p != '"')
		return fail(j, "expected a string");
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;
		if (c == '\\') {
			if (j->p >= j->end)
				break;
			c = *j->p++;
			if (c == 'u') {
				j->p += j->end - j->p >= 4 ? 4 : j->end - j->p;
				c = '?';
			}
		}
		if (buf && n + 1 < len)
			buf[n++] = c;
	}
	if (j->p >= j->end)
		return fail(j, "unterminated string");
	j->p++;
	if (buf && len)
		buf[n] = '\0';
	return 0;
}

static int jvalue(struct jr *j, int depth, int findings);

/* A scalar (number, true, false, null) as text. */
static int jscalar(struct jr *j, char *buf, size_t len)
{
	const char *s = j->p;
	while (j->p < j->end && !strchr(",]} \t\r\n", *j->p))
		j->p++;
	if (j->p == s)
		return fail(j, "expected a value");
	if (buf && len) {
		size_t n = (size_t)(j->p - s) < len - 1 ? (size_t)(j->p - s) : len - 1;
		memcpy(buf, s, n);
		buf[n] = '\0';
	}
	return 0;
}

static int kind_of(const char *s, enum rcp_fkind *k)
{
	for (int i = 0; i < RCP_F__COUNT; i++)
		if (strcmp(s, rcp_fkind_name((enum rcp_fkind)i)) == 0) {
			*k = (enum rcp_fkind)i;
			return 0;
		}
	return -1;
}

/* One object of a findings array. */
static int jfinding(struct jr *j)
{
	struct rcp_bentry e;
	char key[32], val[RCP_SITE_LEN];
	int have_kind = 0, have_sig = 0;

	memset(&e, 0, sizeof(e));
	if (*j->p != '{')
		return jvalue(j, 1, 0);
	j->p++;
	ws(j);
	while (j->p < j->end && *j->p != '}') {
		if (jstring(j, key, sizeof(key)))
			return -EINVAL;
		ws(j);
		if (j->p >= j->end || *j->p++ != ':')
			return fail(j, "expected ':'");
		ws(j);
		if (j->p < j->end && *j->p == '"') {
			if (jstring(j, val, sizeof(val)))
				return -EINVAL;
		} else if (j->p < j->end && (*j->p == '{' || *j->p == '[')) {
			if (jvalue(j, 1, 0))
				return -EINVAL;
			val[0] = '\0';
		} else if (jscalar(j, val, sizeof(val))) {
			return -EINVAL;
		}
		if (strcmp(key, "kind") == 0)
			have_kind = kind_of(val, &e.kind) == 0;
		else if (strcmp(key, "signature") == 0)
			e.sig = strtoull(val, NULL, 16), have_sig = 1;
		else if (strcmp(key, "count") == 0)
			e.count = strtoull(val, NULL, 10);
		else if (strcmp(key, "bytes") == 0)
			e.bytes = strtoull(val, NULL, 10);
		else if (strcmp(key, "site") == 0)
			snprintf(e.site, sizeof(e.site), "%s", val);
		else if (strcmp(key, "type") == 0)
			snprintf(e.type, sizeof(e.type), "%.*s", (int)sizeof(e.type) - 1, val);
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			ws(j);
		}
	}
	if (j->p >= j->end)
		return fail(j, "unterminated object");
	j->p++;
	if (have_kind && have_sig && (j->rc = add(j->b, &e)))
		return j->rc;
	return 0;
}

/* Any value; findings: it is the value of a "findings" key. */
static int jvalue(struct jr *j, int depth, int findings)
{
	char key[32];

	if (depth > JSON_DEPTH)
		return fail(j, "nested too deeply");
	ws(j);
	if (j->p >= j->end)
		return fail(j, "unexpected end");
	if (*j->p == '"')
		return jstring(j, NULL, 0);
	if (*j->p != '{' && *j->p != '[')
		return jscalar(j, NULL, 0);
	char close = *j->p == '{' ? '}' : ']';
	int obj = close == '}';
	j->p++;
	ws(j);
	while (j->p < j->end && *j->p != close) {
		int sub = 0;
		if (obj) {
			if (jstring(j, key, sizeof(key)))
				return -EINVAL;
			ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return fail(j, "expected ':'");
			sub = strcmp(key, "findings") == 0;
		}
		ws(j);
		int rc = findings && !obj ? jfinding(j) : jvalue(j, depth + 1, sub);
		if (rc)
			return rc;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			ws(j);
		} else if (j->p < j->end && *j->p != close) {
			return fail(j, "expected ',' or a closing bracket");
		}
	}
	if (j->p >= j->end)
		return fail(j, "unterminated object or array");
	j->p++;
	return 0;
}

int rcp_baseline_parse_json(struct rcp_baseline *b, const char *text,
			    size_t len, char *err, size_t errlen)
{
	struct jr j = { text, text + len, NULL, b, 0 };
	int rc = jvalue(&j, 0, 0);

	if (rc == -ENOMEM || j.rc)
		return -ENOMEM;
	if (rc) {
		snprintf(err, errlen, "not a JSON report: %s at byte %zu", j.err,
			 (size_t)(j.p - text));
		return -EINVAL;
	}
	return 0;
}

/* ---- matching ---------------------------------------------------------------- */

static int by_key(const void *x, const void *y)
{
	const struct rcp_bentry *a = x, *b = y;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return a->sig < b->sig ? -1 : a->sig > b->sig;
}

struct rcp_bentry *rcp_baseline_find(struct rcp_baseline *b,
				     enum rcp_fkind kind, uint64_t sig)
{
	struct rcp_bentry key;

	if (!b->sorted) {
		if (b->n)
			qsort(b->e, b->n, sizeof(*b->e), by_key);
		b->sorted = 1;
	}
	if (!b->n)
		return NULL;
	key.kind = kind;
	key.sig = sig;
	return bsearch(&key, b->e, b->n, sizeof(*b->e), by_key);
}

void rcp_baseline_apply(struct rcp_baseline *b, struct rcp_report *const *r,
			size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct rcp_report *rep = r[i];
		rep->has_baseline = 1;
		memset(&rep->new_, 0, sizeof(rep->new_));
		for (size_t k = 0; k < rep->nfindings; k++) {
			struct rcp_finding *f = &rep->findings[k];
			struct rcp_bentry *e = rcp_baseline_find(b, f->kind, f->sig);
			if (e) {
				/* every duplicate of the key is matched too */
				for (struct rcp_bentry *d = e; d >= b->e && !by_key(d, e); d--)
					d->matched = 1;
				for (struct rcp_bentry *d = e; d < b->e + b->n && !by_key(d, e); d++)
					d->matched = 1;
				*f->base = RCP_B_KNOWN;
				continue;
			}
			*f->base = RCP_B_NEW;
			switch (f->kind) {
			case RCP_F_CYCLE: rep->new_.cycles++; break;
			case RCP_F_UNRELEASED: rep->new_.unreleased += f->count; break;
			case RCP_F_ERROR: rep->new_.errors++; break;
			case RCP_F_LEAK: rep->new_.leaks += f->count; break;
			case RCP_F__COUNT: break;
			}
		}
	}
}

size_t rcp_baseline_gone(const struct rcp_baseline *b)
{
	size_t n = 0;
	for (size_t i = 0; i < b->n; i++)
		n += !b->e[i].matched;
	return n;
}
