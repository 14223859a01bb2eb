/* test_outputs.c - the CI features' pure parts: the type:/cycle: rule
 * kinds, the baseline JSON reader and key matching, DOT and URI
 * escaping. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "suites.h"
#include "suppress.h"

START_TEST(test_supp_kinds)
{
	struct rcp_supp s;
	size_t bad = 0;

	rcp_supp_init(&s);
	ck_assert_int_eq(rcp_supp_parse(&s, "leak:foo\ntype:node*\n# x\ncycle:0x00ff\ncycle:ABC\n", &bad), 0);
	ck_assert_uint_eq(s.n, 4);
	ck_assert_int_eq(s.rules[1].kind, RCP_SUPP_TYPE);
	ck_assert_int_eq(s.rules[2].kind, RCP_SUPP_CYCLE);
	ck_assert_uint_eq(s.rules[2].sig, 0xff);
	ck_assert_uint_eq(s.rules[3].sig, 0xabc);
	/* type: is a whole-name glob */
	ck_assert_int_eq(rcp_supp_match_type(&s, "node"), 1);
	ck_assert_int_eq(rcp_supp_match_type(&s, "node_cache"), 1);
	ck_assert_int_eq(rcp_supp_match_type(&s, "a_node"), -1);
	ck_assert_int_eq(rcp_supp_match_type(&s, NULL), -1);
	ck_assert_int_eq(rcp_supp_match_cycle(&s, 0xabc), 3);
	ck_assert_int_eq(rcp_supp_match_cycle(&s, 0xabd), -1);
	/* leak matching skips the other kinds */
	struct rcp_supp_frame f[] = { { "node", "x.c", "/app" } };
	ck_assert_int_eq(rcp_supp_match(&s, f, 1), -1);
	/* bad signatures and empty patterns */
	ck_assert_int_eq(rcp_supp_parse(&s, "cycle:xyz\n", &bad), -EINVAL);
	ck_assert_uint_eq(bad, 1);
	ck_assert_int_eq(rcp_supp_parse(&s, "\ncycle:12345678901234567\n", &bad), -EINVAL);
	ck_assert_uint_eq(bad, 2);
	ck_assert_int_eq(rcp_supp_parse(&s, "type:\n", &bad), -EINVAL);
	rcp_supp_free(&s);
}
END_TEST

static const char report_json[] =
	"{\"reports\": [{\"dump\": \"a\", \"cycles\": [{\"signature\": \"0x1\"}],\n"
	"  \"findings\": [{\"kind\": \"cycle\", \"signature\": \"0xabc\", \"site\": \"f\\\"q\","
	" \"type\": \"node\", \"count\": 2, \"bytes\": 64, \"extra\": [1, {\"x\": null}]},\n"
	"   {\"kind\": \"leak\", \"signature\": \"0x10\", \"site\": \"g\", \"type\": null,"
	" \"count\": 1, \"bytes\": 100}]},\n"
	" {\"findings\": [{\"kind\": \"bogus\", \"signature\": \"0x5\"},"
	"  {\"kind\": \"unreleased\", \"signature\": \"0xffffffffffffffff\", \"count\": 3}]}],"
	" \"summary\": {\"events\": 1}, \"truncated\": false}";

START_TEST(test_baseline_json)
{
	struct rcp_baseline b;
	char err[128];

	rcp_baseline_init(&b);
	ck_assert_int_eq(rcp_baseline_parse_json(&b, report_json, strlen(report_json),
						 err, sizeof(err)), 0);
	ck_assert_uint_eq(b.n, 3);      /* the unknown kind is skipped */
	struct rcp_bentry *e = rcp_baseline_find(&b, RCP_F_CYCLE, 0xabc);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->site, "f\"q");
	ck_assert_str_eq(e->type, "node");
	ck_assert_uint_eq(e->count, 2);
	ck_assert_uint_eq(e->bytes, 64);
	ck_assert_ptr_nonnull(rcp_baseline_find(&b, RCP_F_LEAK, 0x10));
	ck_assert_ptr_null(rcp_baseline_find(&b, RCP_F_CYCLE, 0x10)); /* kind matters */
	ck_assert_ptr_nonnull(rcp_baseline_find(&b, RCP_F_UNRELEASED, UINT64_MAX));
	ck_assert_uint_eq(rcp_baseline_gone(&b), 3);
	rcp_baseline_free(&b);

	/* every truncation is an error, never a crash */
	for (size_t n = 0; n < strlen(report_json); n++) {
		rcp_baseline_init(&b);
		ck_assert_int_eq(rcp_baseline_parse_json(&b, report_json, n, err, sizeof(err)),
				 -EINVAL);
		rcp_baseline_free(&b);
	}
	rcp_baseline_init(&b);
	ck_assert_int_eq(rcp_baseline_parse_json(&b, "{\"a\" 1}", 7, err, sizeof(err)), -EINVAL);
	ck_assert(strstr(err, "expected ':'") != NULL);
	rcp_baseline_free(&b);
}
END_TEST

static char *render(void (*fn)(FILE *, const char *), const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fn(f, s);
	fclose(f);
	return buf;
}

START_TEST(test_escaping)
{
	char *s = render(rcp_dot_string, "a\"b\\c\nd\te");
	ck_assert_str_eq(s, "\"a\\\"b\\\\c\\nd e\"");
	free(s);
	s = render(rcp_dot_string, NULL);
	ck_assert_str_eq(s, "\"\"");
	free(s);
	s = render(rcp_uri_path, "/src/my file%.c");
	ck_assert_str_eq(s, "file:///src/my%20file%25.c");
	free(s);
	s = render(rcp_uri_path, "rel/dir/x#y?.c");
	ck_assert_str_eq(s, "rel/dir/x%23y%3F.c");
	free(s);
	s = render(rcp_uri_path, "/\xc3\xa9.c");
	ck_assert_str_eq(s, "file:///%C3%A9.c");
	free(s);
}
END_TEST

Suite *outputs_suite(void)
{
	Suite *s = suite_create("outputs");
	TCase *tc = tcase_create("outputs");
	tcase_add_test(tc, test_supp_kinds);
	tcase_add_test(tc, test_baseline_json);
	tcase_add_test(tc, test_escaping);
	suite_add_tcase(s, tc);
	return s;
}
