/* test_report.c - the emitters: the JSON string escaper, the structure of
 * the JSON report (checked by a small JSON parser), the contract's summary
 * keys, the multi-dump object, and the text report. */
#include <check.h>
#include <ctype.h>
#include <stdio.h>

#include "analyzer_util.h"
#include "suites.h"

static char *escape(const char *s, size_t len)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	rcp_json_string(f, s, len);
	fclose(f);
	return out;
}

START_TEST(test_escape)
{
	static const struct { const char *in; size_t len; const char *out; } cases[] = {
		{ "plain", 5, "\"plain\"" },
		{ "q\"b\\s/", 6, "\"q\\\"b\\\\s/\"" },
		{ "\n\t\r\b\f", 5, "\"\\n\\t\\r\\b\\f\"" },
		{ "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
		{ "a\0b", 3, "\"a\\u0000b\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
		{ "\xff\xfe", 2, "\"\\u00ff\\u00fe\"" },
		{ "\xc3", 1, "\"\\u00c3\"" },                    /* cut sequence */
		{ "\xc0\xaf", 2, "\"\\u00c0\\u00af\"" },         /* overlong */
		{ "\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\"" }, /* surrogate */
		{ "\xf4\x90\x80\x80", 4, "\"\\u00f4\\u0090\\u0080\\u0080\"" }, /* > U+10FFFF */
		{ "", 0, "\"\"" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *o = escape(cases[i].in, cases[i].len);
		ck_assert_msg(strcmp(o, cases[i].out) == 0, "case %zu: %s", i, o);
		free(o);
	}
}
END_TEST

/* ---- a strict little JSON parser ---------------------------------------- */

struct jp {
	const char *p;
	int depth;
};

static void ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
		j->p++;
}

static int value(struct jp *j);

static int string(struct jp *j)
{
	if (*j->p != '"')
		return -1;
	j->p++;
	while (*j->p != '"') {
		unsigned char c = (unsigned char)*j->p;
		if (c == 0 || c < 0x20)
			return -1;
		if (c == '\\') {
			j->p++;
			if (*j->p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)j->p[i]))
						return -1;
				j->p += 4;
			} else if (!strchr("\"\\/bfnrt", *j->p)) {
				return -1;
			}
		}
		j->p++;
	}
	j->p++;
	return 0;
}

static int number(struct jp *j)
{
	const char *s = j->p;
	if (*j->p == '-')
		j->p++;
	if (!isdigit((unsigned char)*j->p))
		return -1;
	if (*j->p == '0' && isdigit((unsigned char)j->p[1]))
		return -1;
	while (isdigit((unsigned char)*j->p))
		j->p++;
	return j->p > s ? 0 : -1;
}

static int value(struct jp *j)
{
	ws(j);
	if (++j->depth > 64)
		return -1;
	int rc = 0;
	if (*j->p == '{' || *j->p == '[') {
		char close = *j->p == '{' ? '}' : ']';
		int obj = *j->p == '{';
		j->p++;
		ws(j);
		if (*j->p == close) {
			j->p++;
		} else {
			for (;;) {
				ws(j);
				if (obj) {
					if (string(j))
						return -1;
					ws(j);
					if (*j->p++ != ':')
						return -1;
				}
				if (value(j))
					return -1;
				ws(j);
				if (*j->p == ',') {
					j->p++;
					continue;
				}
				if (*j->p++ != close)
					return -1;
				break;
			}
		}
	} else if (*j->p == '"') {
		rc = string(j);
	} else if (!strncmp(j->p, "true", 4)) {
		j->p += 4;
	} else if (!strncmp(j->p, "false", 5)) {
		j->p += 5;
	} else if (!strncmp(j->p, "null", 4)) {
		j->p += 4;
	} else {
		rc = number(j);
	}
	j->depth--;
	return rc;
}

static int json_valid(const char *s)
{
	struct jp j = { s, 0 };
	if (value(&j))
		return 0;
	ws(&j);
	return *j.p == '\0';
}

START_TEST(test_json_parser_self_check)
{
	ck_assert(json_valid("{\"a\": [1, -2, true, null, \"x\\u00ff\"]}"));
	ck_assert(!json_valid("{\"a\": [1, 2,]}"));
	ck_assert(!json_valid("{\"a\" 1}"));
	ck_assert(!json_valid("{\"a\": \"\x01\"}"));
	ck_assert(!json_valid("[1] 2"));
}
END_TEST

/* A dump with a cycle, an unreleased object, errors, a leak, odd names. */
static void rich_dump(struct dg *g)
{
	struct dgc c;
	uint64_t ips[] = { 0x1000, 0x2000, 0x3000 };

	dg_init(g, 0);
	dg_process(g, 9, "/bin/we\"ird\n\xff");
	dgc_begin(&c, 9, 0, 0);
	dgc_string(&c, 1, 1, "node\"\\\x01\xc3");
	dgc_string(&c, 1, 2, "label");
	dgc_stack(&c, 1, 3, 3, ips);
	dgc_rc_new(&c, 2, 0x100, 32, 1, 1, 3, 0);
	dgc_rc_new(&c, 3, 0x200, 32, 1, 1, 3, 0);
	dgc_edge(&c, 4, 0x100, 8, 0x200);
	dgc_rc_count(&c, RCP_EV_RC_RETAIN, 4, 0x200, 2, 3);
	dgc_edge(&c, 5, 0x200, 8, 0x100);
	dgc_rc_count(&c, RCP_EV_RC_RETAIN, 5, 0x100, 2, 3);
	dgc_rc_count(&c, RCP_EV_RC_RELEASE, 6, 0x200, 1, 3);
	dgc_rc_count(&c, RCP_EV_RC_RELEASE, 7, 0x100, 1, 3);
	dgc_rc_new(&c, 8, 0x300, 16, 1, 1, 3, 0);       /* unreleased */
	dgc_simple(&c, RCP_EV_SNAPSHOT, 9, 2, 0);
	dgc_malloc(&c, 10, 0x9000, 77, 3);              /* leak */
	dgc_free(&c, 11, 0x8000);                       /* invalid free */
	dgc_simple(&c, RCP_EV_LOST, 12, RCP_EV_MALLOC, 3);
	dg_chunk(g, &c);
	/* no END: truncated */
}

/* The report as JSON or as text, in a malloc'ed string. */
static char *report_as(const struct rcp_report *r, int json)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	if (json)
		rcp_emit_json(f, r, 0);
	else
		rcp_emit_text(f, r);
	fclose(f);
	return out;
}

static char *report_json(const struct rcp_report *r)
{
	return report_as(r, 1);
}

static char *report_text(const struct rcp_report *r)
{
	return report_as(r, 0);
}

START_TEST(test_json_report)
{
	struct dg g;
	struct rcp_analysis a;
	struct rcp_report r;
	uint8_t *copy;

	rich_dump(&g);
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_int_eq(rcp_report_build(&r, &a), 0);
	char *js = report_json(&r);
	ck_assert_msg(json_valid(js), "invalid JSON:\n%s", js);
	/* the contract's summary keys, as integers, and truncated */
	const char *sum = strstr(js, "\"summary\": {");
	ck_assert_ptr_nonnull(sum);
	static const char *const keys[] = {
		"\"events\": 16", "\"leaked_blocks\": 1", "\"leaked_bytes\": 77",
		"\"rc_objects\": 3", "\"cycles\": 1", "\"garbage_objects\": 2",
		"\"unreleased_objects\": 1", "\"errors\": 1", "\"truncated\": true",
	};
	const char *end = strchr(sum, '}');
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *k = strstr(sum, keys[i]);
		ck_assert_msg(k && k < end, "summary lacks %s", keys[i]);
	}
	ck_assert_ptr_nonnull(strstr(js, "\"type\": \"node\\\"\\\\\\u0001\\u00c3\""));
	ck_assert_ptr_nonnull(strstr(js, "\"kind\": \"invalid_free\""));
	ck_assert_ptr_nonnull(strstr(js, "\"label\": \"label\""));
	ck_assert_ptr_nonnull(strstr(js, "could not record 3 malloc events"));
	free(js);

	/* several reports: {"reports": [...], "summary": {sums}, ...} */
	const struct rcp_report *two[2] = { &r, &r };
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	rcp_emit_json_multi(f, two, 2);
	fclose(f);
	ck_assert_msg(json_valid(out), "invalid multi JSON:\n%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"leaked_bytes\": 154"));
	free(out);

	/* and the text report says the same */
	out = report_text(&r);
	ck_assert_ptr_nonnull(strstr(out, "1 garbage cycle"));
	ck_assert_ptr_nonnull(strstr(out, "the release that made it garbage"));
	ck_assert_ptr_nonnull(strstr(out, "TRUNCATED"));
	ck_assert_ptr_nonnull(strstr(out, "77 bytes in 1 block"));
	free(out);

	rcp_report_free(&r);
	rcp_analysis_free(&a);
	free(copy);
	dg_free(&g);
}
END_TEST

/* Three rings of two nodes from one site (one signature) and a
 * self-referencing node: the text report shows the rings once, counted,
 * before the single node, and the JSON keeps all four. */
START_TEST(test_text_groups_cycles)
{
	struct dg g;
	struct dgc c;
	uint64_t ips[] = { 0x1000, 0x2000 };
	uint64_t ts = 2;

	dg_init(&g, 0);
	dg_process(&g, 9, "/bin/rings");
	dgc_begin(&c, 9, 0, 0);
	dgc_string(&c, 1, 1, "ring");
	dgc_string(&c, 1, 2, "solo");
	dgc_stack(&c, 1, 3, 2, ips);
	for (uint64_t k = 0; k < 3; k++) {
		uint64_t a = 0x1000 * (k + 1), b = a + 0x100;
		dgc_rc_new(&c, ts++, a, 32, 1, 1, 3, 0);
		dgc_rc_new(&c, ts++, b, 32, 1, 1, 3, 0);
		dgc_edge(&c, ts++, a, 8, b);
		dgc_rc_count(&c, RCP_EV_RC_RETAIN, ts++, b, 2, 3);
		dgc_edge(&c, ts++, b, 8, a);
		dgc_rc_count(&c, RCP_EV_RC_RETAIN, ts++, a, 2, 3);
		dgc_rc_count(&c, RCP_EV_RC_RELEASE, ts++, b, 1, 3);
		dgc_rc_count(&c, RCP_EV_RC_RELEASE, ts++, a, 1, 3);
	}
	dgc_rc_new(&c, ts++, 0x9000, 500, 2, 1, 3, 0);
	dgc_edge(&c, ts++, 0x9000, 8, 0x9000);
	dgc_rc_count(&c, RCP_EV_RC_RETAIN, ts++, 0x9000, 2, 3);
	dgc_rc_count(&c, RCP_EV_RC_RELEASE, ts++, 0x9000, 1, 3);
	dg_chunk(&g, &c);
	dg_end(&g, RCP_END_EXIT, 0, ts);

	struct rcp_analysis a;
	struct rcp_report r;
	uint8_t *copy;
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_int_eq(rcp_report_build(&r, &a), 0);
	ck_assert_uint_eq(r.ncycles, 4);
	char *js = report_json(&r);
	ck_assert_ptr_nonnull(strstr(js, "\"cycles\": 4"));
	free(js);

	char *out = report_text(&r);
	ck_assert_msg(strstr(out, "== 4 garbage cycles of 2 kinds"), "%s", out);
	/* the solo node's 500 bytes outweigh the rings' 3 x 64 */
	const char *solo = strstr(out, "cycle 1: 1 object (solo");
	const char *rings = strstr(out, "cycle 2: 2 objects (ring");
	ck_assert_msg(solo && rings && solo < rings, "%s", out);
	ck_assert_ptr_nonnull(strstr(rings, "3 cycles like this (same types, same allocation sites), 192 bytes in all"));
	ck_assert_ptr_null(strstr(out, "cycle 3:"));
	/* the solo node is one of its kind: no count */
	ck_assert_ptr_eq(strstr(solo, "like this"), strstr(rings, "like this"));
	free(out);
	rcp_report_free(&r);
	rcp_analysis_free(&a);
	free(copy);
	dg_free(&g);
}
END_TEST

/* Every prefix of the rich dump still gives valid JSON. */
START_TEST(test_json_every_prefix)
{
	struct dg g;

	rich_dump(&g);
	for (size_t len = sizeof(struct rcp_file_header); len <= g.len; len++) {
		struct rcp_analysis a;
		struct rcp_report r;
		uint8_t *copy;
		ck_assert_int_eq(au_analyze(&a, g.buf, len, &copy), 0);
		ck_assert_int_eq(rcp_report_build(&r, &a), 0);
		char *js = report_json(&r);
		ck_assert_msg(json_valid(js), "invalid JSON at len %zu", len);
		free(js);
		rcp_report_free(&r);
		rcp_analysis_free(&a);
		free(copy);
	}
	dg_free(&g);
}
END_TEST

Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("emit");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_json_parser_self_check);
	tcase_add_test(tc, test_json_report);
	tcase_add_test(tc, test_json_every_prefix);
	tcase_add_test(tc, test_text_groups_cycles);
	suite_add_tcase(s, tc);
	return s;
}
