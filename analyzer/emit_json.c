/* emit_json.c - the JSON emitter: one object per report (see report.h).
 *
 * Layout of one report object:
 *   dump, truncated, summary{events, leaked_blocks, leaked_bytes,
 *   rc_objects, cycles, garbage_objects, unreleased_objects, errors,
 *   truncated; live_blocks, live_bytes, live_objects when the recording
 *   ended before a seccomp sandbox}, process{...}, cycles[...], unreleased[...],
 *   suspect_sites[...], errors[...], leaks[...], findings[...],
 *   suppressed{blocks, bytes, builtin_blocks, cycles, cycle_objects,
 *   unreleased_groups, unreleased_objects, rules[...]}, baseline{...}
 *   (with --baseline), gc[...], snapshots[...], event_counts{...},
 *   warnings[...]
 * Every cycle, unreleased group, error and leak carries its "signature"
 * (and "baseline": "new"/"known" with --baseline); "findings" lists them
 * all flat as {kind, signature, site, type, count, bytes[, baseline]} -
 * what --baseline reads back.
 * Addresses, signatures and offsets are hex strings ("0x..."): JSON
 * numbers lose precision above 2^53.  A stack is an array of frames
 * {ip, function, file, line, module, offset, inlined}.
 *
 * A tiny writer keeps the nesting (comma placement and indentation); the
 * escaper produces valid UTF-8 JSON whatever bytes the names contain.
 */
#include <inttypes.h>

#include "baseline.h"
#include "decode.h"
#include "report.h"

#define JW_DEPTH 32
#define JW_BUF (1 << 16)

/* Output buffer.  The report of a big graph is hundreds of MB written a
 * few bytes at a time; even the unlocked stdio calls cost more per call
 * than the copy itself, so the bytes collect here and go to the FILE in
 * JW_BUF pieces. */
struct jbuf {
	FILE *f;
	char *p, *end, *start;
};

static void jb_flush(struct jbuf *b)
{
	if (b->p > b->start)
		fwrite_unlocked(b->start, 1, (size_t)(b->p - b->start), b->f);
	b->p = b->start;
}

static inline void jb_put(struct jbuf *b, const void *s, size_t n)
{
	if (n > (size_t)(b->end - b->p)) {
		jb_flush(b);
		if (n > (size_t)(b->end - b->p)) {
			fwrite_unlocked(s, 1, n, b->f);
			return;
		}
	}
	memcpy(b->p, s, n);
	b->p += n;
}

static inline void jb_putc(struct jbuf *b, char c)
{
	if (b->p == b->end)
		jb_flush(b);
	*b->p++ = c;
}

static inline void jb_puts(struct jbuf *b, const char *s)
{
	jb_put(b, s, strlen(s));
}

struct jw {
	struct jbuf out;
	int depth;
	int base;                   /* extra indentation */
	int count[JW_DEPTH];        /* items written at each level */
	int after_key;
	char buf[JW_BUF];
};

/* Not a memset: the buffer needs no zeroing. */
static void jw_init(struct jw *w, FILE *f, int base)
{
	w->out = (struct jbuf){ f, w->buf, w->buf + sizeof(w->buf), w->buf };
	w->depth = 0;
	w->base = base;
	memset(w->count, 0, sizeof(w->count));
	w->after_key = 0;
}

static void jw_raw(struct jw *w, const char *s)
{
	jb_puts(&w->out, s);
}

static void jw_nl(struct jw *w)
{
	static const char spaces[] = "                                                                ";
	int n = w->base + 2 * w->depth;
	jb_putc(&w->out, '\n');
	while (n > 0) {
		int k = n < (int)sizeof(spaces) - 1 ? n : (int)sizeof(spaces) - 1;
		jb_put(&w->out, spaces, (size_t)k);
		n -= k;
	}
}

/* Before any value or key: comma and newline as needed. */
static void jw_item(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth > 0) {
		if (w->count[w->depth - 1]++)
			jb_putc(&w->out, ',');
		jw_nl(w);
	}
}

static void jw_open(struct jw *w, char c)
{
	jw_item(w);
	jb_putc(&w->out, c);
	if (w->depth < JW_DEPTH)
		w->count[w->depth] = 0;
	w->depth++;
}

static void jw_close(struct jw *w, char c)
{
	w->depth--;
	if (w->depth < JW_DEPTH && w->count[w->depth])
		jw_nl(w);
	jb_putc(&w->out, c);
}

static void json_escape(struct jbuf *b, const char *str, size_t len);

/* A key and its colon.  Keys are string literals of plain ASCII (see
 * jw_key), so they need no escaping: quoted at compile time, one copy. */
static void jw_key_quoted(struct jw *w, const char *quoted, size_t len)
{
	jw_item(w);
	jb_put(&w->out, quoted, len);
	w->after_key = 1;
}

/* k must be a string literal without '"', '\\' or control characters. */
#define jw_key(w, k) jw_key_quoted((w), "\"" k "\": ", sizeof(k) + 3)

/* A key computed at run time, escaped. */
static void jw_key_dyn(struct jw *w, const char *k)
{
	jw_item(w);
	json_escape(&w->out, k, strlen(k));
	jb_put(&w->out, ": ", 2);
	w->after_key = 1;
}

static void jw_str(struct jw *w, const char *s)
{
	jw_item(w);
	if (s)
		json_escape(&w->out, s, strlen(s));
	else
		jb_put(&w->out, "null", 4);
}

/* A string value of known length (may hold NULs). */
static void jw_strn(struct jw *w, const char *s, size_t n)
{
	jw_item(w);
	json_escape(&w->out, s, n);
}

/* Digits of v in `base` (10 or 16, lower case): fprintf's format parsing
 * was a visible share of big reports.  Inline, so that each call's base
 * is a constant and the division becomes a multiply or a shift. */
static inline __attribute__((always_inline))
void jw_digits(struct jbuf *b, uint64_t v, unsigned base)
{
	char buf[24];
	int i = (int)sizeof(buf);
	do {
		buf[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	jb_put(b, buf + i, sizeof(buf) - (size_t)i);
}

static void jw_u64(struct jw *w, uint64_t v)
{
	jw_item(w);
	jw_digits(&w->out, v, 10);
}

static void jw_i64(struct jw *w, int64_t v)
{
	jw_item(w);
	if (v < 0) {
		jb_putc(&w->out, '-');
		jw_digits(&w->out, (uint64_t)0 - (uint64_t)v, 10);
	} else {
		jw_digits(&w->out, (uint64_t)v, 10);
	}
}

static void jw_hex(struct jw *w, uint64_t v)
{
	jw_item(w);
	jb_put(&w->out, "\"0x", 3);
	jw_digits(&w->out, v, 16);
	jb_putc(&w->out, '"');
}

static void jw_bool(struct jw *w, int v)
{
	jw_item(w);
	if (v)
		jb_put(&w->out, "true", 4);
	else
		jb_put(&w->out, "false", 5);
}

static void jw_null(struct jw *w)
{
	jw_item(w);
	jb_put(&w->out, "null", 4);
}

#define KU(w, k, v) do { jw_key(w, k); jw_u64(w, v); } while (0)
#define KI(w, k, v) do { jw_key(w, k); jw_i64(w, v); } while (0)
#define KS(w, k, v) do { jw_key(w, k); jw_str(w, v); } while (0)
#define KH(w, k, v) do { jw_key(w, k); jw_hex(w, v); } while (0)
#define KB(w, k, v) do { jw_key(w, k); jw_bool(w, v); } while (0)

/* ---- the escaper ------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;       /* overlong, out of range, or a surrogate */
	return len;
}

/* \u00XX for a control character or a byte that is not UTF-8. */
static void escape_u(struct jbuf *b, unsigned c)
{
	char u[6] = { '\\', 'u', '0', '0', "0123456789abcdef"[(c >> 4) & 15],
		      "0123456789abcdef"[c & 15] };
	jb_put(b, u, sizeof(u));
}

static void json_escape(struct jbuf *b, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;

	jb_putc(b, '"');
	for (size_t i = 0; i < len;) {
		/* plain ASCII runs are copied in one piece */
		size_t j = i;
		while (j < len && s[j] >= 0x20 && s[j] < 0x7f && s[j] != '"' &&
		       s[j] != '\\')
			j++;
		if (j > i) {
			jb_put(b, s + i, j - i);
			i = j;
			continue;
		}
		unsigned c = s[i];
		switch (c) {
		case '"': jb_put(b, "\\\"", 2); i++; continue;
		case '\\': jb_put(b, "\\\\", 2); i++; continue;
		case '\b': jb_put(b, "\\b", 2); i++; continue;
		case '\f': jb_put(b, "\\f", 2); i++; continue;
		case '\n': jb_put(b, "\\n", 2); i++; continue;
		case '\r': jb_put(b, "\\r", 2); i++; continue;
		case '\t': jb_put(b, "\\t", 2); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			escape_u(b, c);
			i++;
			continue;
		}
		size_t n = utf8_len(s + i, len - i);
		if (n == 0) {
			/* not UTF-8: keep the byte as the code point U+00XX */
			escape_u(b, c);
			i++;
			continue;
		}
		jb_put(b, s + i, n);
		i += n;
	}
	jb_putc(b, '"');
}

void rcp_json_string(FILE *f, const char *str, size_t len)
{
	char tmp[512];
	struct jbuf b = { f, tmp, tmp + sizeof(tmp), tmp };

	json_escape(&b, str, len);
	jb_flush(&b);
}

/* ---- report parts -------------------------------------------------------------- */

static const char *bstate(enum rcp_bstate b)
{
	return b == RCP_B_NEW ? "new" : "known";
}

#define KBASE(w, r, b) do { if ((r)->has_baseline) KS(w, "baseline", bstate(b)); } while (0)

static void findings(struct jw *w, const struct rcp_report *r)
{
	jw_open(w, '[');
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct rcp_finding *f = &r->findings[i];
		jw_open(w, '{');
		KS(w, "kind", rcp_fkind_name(f->kind));
		KH(w, "signature", f->sig);
		KS(w, "site", f->site);
		KS(w, "type", f->type);
		if (f->what)
			KS(w, "what", f->what);
		KU(w, "count", f->count);
		KU(w, "bytes", f->bytes);
		KBASE(w, r, *f->base);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void supp_rules(struct jw *w, const struct rcp_supp *u)
{
	jw_open(w, '[');
	for (size_t i = 0; u && i < u->n; i++) {
		jw_open(w, '{');
		KS(w, "kind", rcp_supp_kind_name(u->rules[i].kind));
		KS(w, "pattern", u->rules[i].pattern);
		KU(w, "hits", u->rules[i].hits);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

/* New and known counts of the reports, and the baseline's gone entries. */
static void baseline(struct jw *w, const struct rcp_report *const *r, size_t n,
		     const struct rcp_baseline *b)
{
	uint64_t nnew = 0, known = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < r[i]->nfindings; k++) {
			if (*r[i]->findings[k].base == RCP_B_NEW)
				nnew++;
			else
				known++;
		}
	jw_open(w, '{');
	KU(w, "new", nnew);
	KU(w, "known", known);
	KU(w, "gone", rcp_baseline_gone(b));
	jw_key(w, "gone_findings");
	jw_open(w, '[');
	for (size_t i = 0; i < b->n; i++) {
		const struct rcp_bentry *e = &b->e[i];
		if (e->matched)
			continue;
		jw_open(w, '{');
		KS(w, "kind", rcp_fkind_name(e->kind));
		KH(w, "signature", e->sig);
		KS(w, "site", e->site);
		KS(w, "type", e->type[0] ? e->type : NULL);
		KU(w, "count", e->count);
		KU(w, "bytes", e->bytes);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_close(w, '}');
}

static void stack(struct jw *w, const struct rcp_rstack *s)
{
	jw_open(w, '[');
	for (size_t i = 0; i < s->n; i++) {
		const struct rcp_sym_frame *f = &s->f[i];
		jw_open(w, '{');
		KH(w, "ip", f->ip);
		KS(w, "function", f->func);
		KS(w, "file", f->file);
		KU(w, "line", f->line);
		KS(w, "module", f->module);
		KH(w, "offset", f->offset);
		KB(w, "inlined", f->inlined);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void where(struct jw *w, const struct rcp_where *at,
		  const struct rcp_rstack *s)
{
	jw_open(w, '{');
	KU(w, "ts", at->ts);
	KU(w, "seq", at->seq);
	KU(w, "tid", at->tid);
	KU(w, "stack_id", at->stack);
	jw_key(w, "stack");
	stack(w, s);
	jw_close(w, '}');
}

static void summary(struct jw *w, const struct rcp_summary *s)
{
	jw_open(w, '{');
	KU(w, "events", s->events);
	KU(w, "leaked_blocks", s->leaked_blocks);
	KU(w, "leaked_bytes", s->leaked_bytes);
	KU(w, "rc_objects", s->rc_objects);
	KU(w, "cycles", s->cycles);
	KU(w, "garbage_objects", s->garbage_objects);
	KU(w, "unreleased_objects", s->unreleased_objects);
	KU(w, "errors", s->errors);
	KB(w, "truncated", s->truncated);
	if (s->ended_live) {    /* END "sandbox": live, not leaked */
		KU(w, "live_blocks", s->live_blocks);
		KU(w, "live_bytes", s->live_bytes);
		KU(w, "live_objects", s->live_objects);
	}
	jw_close(w, '}');
}

static void process(struct jw *w, const struct rcp_analysis *a)
{
	const struct rcp_dump *d = &a->dump;

	jw_open(w, '{');
	if (d->has_process) {
		KU(w, "pid", d->process.pid);
		KU(w, "ppid", d->process.ppid);
		jw_key(w, "exe");
		jw_strn(w, d->exe, d->process.exe_len);
		jw_key(w, "argv");
		jw_open(w, '[');
		const char *p = d->argv, *end = d->argv + d->process.argv_len;
		while (p < end) {
			const char *nul = memchr(p, 0, (size_t)(end - p));
			size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);
			jw_strn(w, p, n);
			p += n + 1;
		}
		jw_close(w, ']');
		KU(w, "stack_depth", d->process.stack_depth);
		KU(w, "exec_index", d->process.exec_index);
		KU(w, "start_ts", d->process.start_ts);
	}
	jw_key(w, "end");
	if (d->has_end) {
		jw_open(w, '{');
		KS(w, "how", rcp_end_how_name(d->end.how));
		KI(w, "status", d->end.status);
		KU(w, "ts", d->end.ts);
		jw_close(w, '}');
	} else {
		jw_null(w);
	}
	KU(w, "fatal_signal", a->fatal_signal);
	KU(w, "threads", a->nthreads);
	jw_key(w, "forks");
	jw_open(w, '[');
	for (size_t i = 0; i < a->nforks && i < RCP_FORKS_KEEP; i++)
		jw_u64(w, a->forks[i]);
	jw_close(w, ']');
	jw_key(w, "parent");
	if (d->has_parent) {
		jw_open(w, '{');
		KU(w, "pid", d->parent.parent_pid);
		jw_key(w, "path");
		jw_strn(w, d->parent_path, d->parent.path_len);
		KU(w, "fork_ts", d->parent.fork_ts);
		KB(w, "readable", !a->parent_unreadable);
		KU(w, "ancestors_replayed", a->nparents);
		uint64_t pe = 0;
		for (unsigned k = 0; k < RCP_EV__COUNT; k++)
			pe += a->parent_counts[k];
		KU(w, "events_replayed", pe);
		jw_close(w, '}');
	} else {
		jw_null(w);
	}
	KU(w, "first_ts", a->first_ts);
	KU(w, "last_ts", a->last_ts);
	KB(w, "ring_had_data", d->ring_had_data);
	KU(w, "valid_bytes", d->truncated_at);
	KU(w, "cut_after_end", d->cut_after_end);
	jw_close(w, '}');
}

static void cycles(struct jw *w, const struct rcp_report *r)
{
	jw_open(w, '[');
	for (size_t i = 0; i < r->ncycles; i++) {
		const struct rcp_rcycle *cy = &r->cycles[i];
		const struct rcobj_cycle *c = cy->c;
		jw_open(w, '{');
		KH(w, "signature", c->signature);
		KBASE(w, r, cy->base);
		KU(w, "objects", c->nmembers);
		KU(w, "bytes", c->bytes);
		KS(w, "types", cy->types);
		KI(w, "found_gen", c->found_gen);
		KU(w, "found_collection", c->found_collection);
		KU(w, "found_ts", c->found_ts);
		jw_key(w, "culprit");
		if (c->has_culprit) {
			jw_open(w, '{');
			KS(w, "kind", c->culprit_is_edge_clear ? "edge_clear" : "release");
			KH(w, "obj", c->culprit_obj);
			KS(w, "type", cy->culprit_type);
			KU(w, "ts", c->culprit.ts);
			KU(w, "seq", c->culprit.seq);
			KU(w, "tid", c->culprit.tid);
			KU(w, "stack_id", c->culprit.stack);
			jw_key(w, "stack");
			stack(w, &cy->culprit);
			jw_close(w, '}');
		} else {
			jw_null(w);
		}
		jw_key(w, "members");
		jw_open(w, '[');
		for (size_t k = 0; k < cy->nmembers; k++) {
			const struct rcp_rmember *m = &cy->members[k];
			jw_open(w, '{');
			KH(w, "addr", m->m->addr);
			KS(w, "type", m->type);
			KU(w, "size", m->m->size);
			KI(w, "refcount", m->m->refcount);
			KB(w, "in_cycle", m->m->in_cycle);
			KU(w, "alloc_stack_id", m->m->alloc_stack);
			jw_key(w, "alloc_stack");
			stack(w, &m->alloc);
			jw_close(w, '}');
		}
		jw_close(w, ']');
		KU(w, "members_omitted", c->nmembers - cy->nmembers);
		jw_key(w, "edges");
		jw_open(w, '[');
		for (size_t k = 0; k < c->nedges; k++) {
			jw_open(w, '{');
			KH(w, "owner", c->edges[k].owner);
			KI(w, "slot_off", c->edges[k].slot_off);
			KH(w, "target", c->edges[k].target);
			jw_close(w, '}');
		}
		jw_close(w, ']');
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void errors(struct jw *w, const struct rcp_report *r)
{
	jw_open(w, '[');
	for (size_t i = 0; i < r->nerrors; i++) {
		const struct rcp_rerror *e = &r->errors[i];
		jw_open(w, '{');
		KS(w, "kind", rcp_error_kind_name(e->e.kind));
		KH(w, "signature", e->sig);
		KBASE(w, r, e->base);
		KH(w, "addr", e->e.addr);
		KS(w, "type", e->type);
		jw_key(w, "at");
		where(w, &e->e.at, &e->at);
		jw_key(w, "earlier");
		if (e->e.has_earlier)
			where(w, &e->e.earlier, &e->earlier);
		else
			jw_null(w);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

static void emit_one(FILE *f, const struct rcp_report *r, int indent,
		     const struct rcp_output *o);

void rcp_emit_json(FILE *f, const struct rcp_report *r, int indent)
{
	emit_one(f, r, indent, NULL);
}

/* o: the whole output, for the parts that belong to a single-dump run
 * (rule hits, the baseline); NULL for none of them. */
static void emit_one(FILE *f, const struct rcp_report *r, int indent,
		     const struct rcp_output *o)
{
	const struct rcp_analysis *a = r->a;
	const struct rcobj_results *res = a->res;
	struct jw w;

	jw_init(&w, f, indent);
	jw_open(&w, '{');
	KS(&w, "dump", a->dump.path);
	KB(&w, "truncated", r->sum.truncated);
	jw_key(&w, "summary");
	summary(&w, &r->sum);
	jw_key(&w, "process");
	process(&w, a);
	jw_key(&w, "cycles");
	cycles(&w, r);

	jw_key(&w, "unreleased");
	jw_open(&w, '[');
	for (size_t i = 0; i < r->nunreleased; i++) {
		const struct rcp_runreleased *u = &r->unreleased[i];
		jw_open(&w, '{');
		KS(&w, "type", u->type);
		KH(&w, "signature", u->sig);
		KBASE(&w, r, u->base);
		KU(&w, "objects", u->u->count);
		KU(&w, "bytes", u->u->bytes);
		KH(&w, "example_addr", u->u->example_addr);
		KU(&w, "alloc_stack_id", u->u->alloc_stack);
		jw_key(&w, "alloc_stack");
		stack(&w, &u->alloc);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');

	jw_key(&w, "suspect_sites");
	jw_open(&w, '[');
	for (size_t i = 0; i < r->nsuspects; i++) {
		const struct rcp_rsuspect *s = &r->suspects[i];
		jw_open(&w, '{');
		KS(&w, "type", s->type);
		KU(&w, "unmatched", s->s->unmatched);
		KU(&w, "objects", s->s->objects);
		KU(&w, "stack_id", s->s->stack);
		jw_key(&w, "stack");
		stack(&w, &s->stack);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');

	jw_key(&w, "errors");
	errors(&w, r);
	KU(&w, "errors_omitted", r->sum.errors > r->nerrors ? r->sum.errors - r->nerrors : 0);

	jw_key(&w, "leaks");
	jw_open(&w, '[');
	for (size_t i = 0; i < r->nleaks; i++) {
		const struct rcp_rleak *l = &r->leaks[i];
		jw_open(&w, '{');
		KH(&w, "signature", l->sig);
		KBASE(&w, r, l->base);
		KU(&w, "blocks", l->blocks);
		KU(&w, "bytes", l->bytes);
		KH(&w, "example_addr", l->example_addr);
		KU(&w, "alloc_stack_id", l->stack);
		jw_key(&w, "alloc_stack");
		stack(&w, &l->alloc);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_key(&w, "findings");
	findings(&w, r);
	jw_key(&w, "suppressed");
	jw_open(&w, '{');
	KU(&w, "blocks", r->sum.suppressed_blocks);
	KU(&w, "bytes", r->sum.suppressed_bytes);
	KU(&w, "builtin_blocks", r->sum.suppressed_builtin_blocks);
	KU(&w, "cycles", r->sum.suppressed_cycles);
	KU(&w, "cycle_objects", r->sum.suppressed_cycle_objects);
	KU(&w, "unreleased_groups", r->sum.suppressed_unreleased_groups);
	KU(&w, "unreleased_objects", r->sum.suppressed_unreleased_objects);
	if (o && o->n == 1) {
		jw_key(&w, "rules");
		supp_rules(&w, o->user);
	}
	jw_close(&w, '}');
	if (o && o->n == 1 && o->base) {
		jw_key(&w, "baseline");
		baseline(&w, o->r, o->n, o->base);
	}

	jw_key(&w, "gc");
	jw_open(&w, '[');
	for (int g = 0; g < 3 && res; g++) {
		jw_open(&w, '{');
		KI(&w, "generation", g);
		KU(&w, "threshold", a->opt.thresholds[g]);
		KU(&w, "collections", res->gens[g].collections);
		KU(&w, "collected", res->gens[g].collected);
		KU(&w, "uncollectable", res->gens[g].uncollectable);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	if (res) {
		KU(&w, "gc_collections", res->collections);
		KU(&w, "rc_live_at_end", res->live_at_end);
		KU(&w, "suspect_objects", res->suspect_objects);
		KU(&w, "suspect_events", res->suspect_events);
		KU(&w, "rc_events_reordered", res->reordered);
		KB(&w, "rc_results_incomplete", res->incomplete);
	}
	KU(&w, "heap_live_at_end", a->heap.n);
	KU(&w, "heap_frees_reordered", a->heap.reordered);

	jw_key(&w, "snapshots");
	jw_open(&w, '[');
	for (size_t i = 0; i < a->nsnap; i++) {
		jw_open(&w, '{');
		KS(&w, "label", rcp_strtab_name(&a->strs, a->snaps[i].label));
		KU(&w, "ts", a->snaps[i].ts);
		KU(&w, "seq", a->snaps[i].seq);
		KU(&w, "tid", a->snaps[i].tid);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');

	jw_key(&w, "event_counts");
	jw_open(&w, '{');
	for (unsigned k = 1; k < RCP_EV__COUNT; k++) {
		jw_key_dyn(&w, rcp_kind_name(k));
		jw_u64(&w, a->counts[k]);
	}
	jw_close(&w, '}');

	jw_key(&w, "warnings");
	jw_open(&w, '[');
	for (size_t i = 0; i < a->diag.nkept; i++)
		jw_str(&w, a->diag.kept[i]);
	jw_close(&w, ']');
	KU(&w, "warnings_total", a->diag.nwarnings);
	jw_close(&w, '}');
	jb_flush(&w.out);
}

static void emit_multi(FILE *f, const struct rcp_report *const *r, size_t n,
		       const struct rcp_output *o);

void rcp_emit_json_multi(FILE *f, const struct rcp_report *const *r, size_t n)
{
	emit_multi(f, r, n, NULL);
}

void rcp_emit_json_out(FILE *f, const struct rcp_output *o)
{
	if (o->n == 1) {
		emit_one(f, o->r[0], 0, o);
		putc_unlocked('\n', f);
	} else {
		emit_multi(f, o->r, o->n, o);
	}
}

static void emit_multi(FILE *f, const struct rcp_report *const *r, size_t n,
		       const struct rcp_output *o)
{
	struct rcp_summary s;
	memset(&s, 0, sizeof(s));

	fputs("{\n  \"reports\": [", f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n    " : "\n    ", f);
		rcp_emit_json(f, r[i], 4);
		s.events += r[i]->sum.events;
		s.leaked_blocks += r[i]->sum.leaked_blocks;
		s.leaked_bytes += r[i]->sum.leaked_bytes;
		s.rc_objects += r[i]->sum.rc_objects;
		s.cycles += r[i]->sum.cycles;
		s.garbage_objects += r[i]->sum.garbage_objects;
		s.unreleased_objects += r[i]->sum.unreleased_objects;
		s.errors += r[i]->sum.errors;
		s.truncated |= r[i]->sum.truncated;
	}
	struct jw w;
	jw_init(&w, f, 2);
	jw_raw(&w, n ? "\n  ],\n  \"summary\": " : "],\n  \"summary\": ");
	summary(&w, &s);
	if (o) {
		jw_raw(&w, ",\n  \"suppression_rules\": ");
		supp_rules(&w, o->user);
	}
	if (o && o->base) {
		jw_raw(&w, ",\n  \"baseline\": ");
		baseline(&w, r, n, o->base);
	}
	jw_raw(&w, s.truncated ? ",\n  \"truncated\": true\n}\n"
			       : ",\n  \"truncated\": false\n}\n");
	jb_flush(&w.out);
}
