/* test_suppress.c - the suppression pattern language and the built-in
 * rules for the C library's own buffers. */
#include <check.h>
#include <errno.h>

#include "suites.h"
#include "suppress.h"

START_TEST(test_patterns)
{
	/* unanchored: substring */
	ck_assert(rcp_supp_pattern_match("doalloc", "_IO_file_doallocate"));
	ck_assert(rcp_supp_pattern_match("_IO_file_doallocate", "_IO_file_doallocate"));
	ck_assert(!rcp_supp_pattern_match("doalloc", "malloc"));
	/* wildcards */
	ck_assert(rcp_supp_pattern_match("ld-linux*.so", "/lib64/ld-linux-x86-64.so.2"));
	ck_assert(rcp_supp_pattern_match("a*b*c", "xxaYYbZZcxx"));
	ck_assert(!rcp_supp_pattern_match("a*b*c", "xxaYYcZZbxx"));
	ck_assert(rcp_supp_pattern_match("*", "anything"));
	ck_assert(rcp_supp_pattern_match("**x", "abx"));
	/* anchors */
	ck_assert(rcp_supp_pattern_match("^_dl_", "_dl_allocate_tls"));
	ck_assert(!rcp_supp_pattern_match("^_dl_", "x_dl_allocate_tls"));
	ck_assert(rcp_supp_pattern_match("tls$", "_dl_allocate_tls"));
	ck_assert(!rcp_supp_pattern_match("tls$", "_dl_allocate_tls_init"));
	ck_assert(rcp_supp_pattern_match("^fopen$", "fopen"));
	ck_assert(!rcp_supp_pattern_match("^fopen$", "fopen64"));
	ck_assert(rcp_supp_pattern_match("^f*64$", "fopen64"));
	/* nothing matches NULL or an empty pattern */
	ck_assert(!rcp_supp_pattern_match("x", NULL));
	ck_assert(!rcp_supp_pattern_match("", "x"));
}
END_TEST

START_TEST(test_parse)
{
	struct rcp_supp s;
	size_t bad = 0;

	rcp_supp_init(&s);
	ck_assert_int_eq(rcp_supp_parse(&s, "# comment\n\n  leak:foo  \nleak:bar*baz\r\n", &bad), 0);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.rules[0].pattern, "foo");
	ck_assert_str_eq(s.rules[1].pattern, "bar*baz");
	ck_assert_int_eq(rcp_supp_parse(&s, "leak:ok\nrace:x\n", &bad), -EINVAL);
	ck_assert_uint_eq(bad, 2);
	ck_assert_int_eq(rcp_supp_parse(&s, "leak:\n", &bad), -EINVAL);
	rcp_supp_free(&s);
}
END_TEST

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#define APP "/home/u/app"

/* User rules: any frame, function, file or module. */
START_TEST(test_user_rules)
{
	struct rcp_supp s;
	struct rcp_supp_frame f[] = {
		{ "make_buf", "/src/buf.c", APP },
		{ "main", "/src/main.c", APP },
		{ "__libc_start_main", NULL, LIBC },
	};

	rcp_supp_init(&s);
	ck_assert_int_eq(rcp_supp_parse(&s, "leak:main.c\n", NULL), 0);
	ck_assert_int_eq(rcp_supp_match(&s, f, 3), 0);
	ck_assert_uint_eq(s.rules[0].hits, 1);
	rcp_supp_free(&s);
	rcp_supp_init(&s);
	ck_assert_int_eq(rcp_supp_parse(&s, "leak:^other\nleak:app$\n", NULL), 0);
	ck_assert_int_eq(rcp_supp_match(&s, f, 3), 1);
	rcp_supp_free(&s);
}
END_TEST

/* Built-in rules: only the C library's own allocations. */
START_TEST(test_builtin_rules)
{
	struct rcp_supp s;
	struct rcp_supp_frame stdio_buf[] = {
		{ "_IO_file_doallocate", NULL, LIBC },
		{ "_IO_doallocbuf", NULL, LIBC },
		{ "puts", NULL, LIBC },
		{ "main", "demo.c", APP },
		{ "__libc_start_main", NULL, LIBC },
	};
	struct rcp_supp_frame user_leak[] = {
		{ "make_greeting", "demo.c", APP },
		{ "main", "demo.c", APP },
		{ "__libc_start_call_main", NULL, LIBC },
		{ "__libc_start_main", NULL, LIBC },
	};
	struct rcp_supp_frame user_strdup[] = {
		{ "strdup", NULL, LIBC },
		{ "main", "demo.c", APP },
		{ "__libc_start_main", NULL, LIBC },
	};
	struct rcp_supp_frame tls[] = {
		{ "_dl_allocate_tls", NULL, "/lib64/ld-linux-x86-64.so.2" },
		{ "pthread_create", NULL, LIBC },
		{ "spawn", "t.c", APP },
	};
	struct rcp_supp_frame fopen_file[] = {
		{ "fopen", NULL, LIBC },
		{ "open_log", "log.c", APP },
	};

	rcp_supp_init(&s);
	ck_assert_int_eq(rcp_supp_builtin(&s), 0);
	ck_assert_int_ge(rcp_supp_match(&s, stdio_buf, 5), 0);
	ck_assert_int_eq(rcp_supp_match(&s, user_leak, 4), -1);
	ck_assert_int_eq(rcp_supp_match(&s, user_strdup, 3), -1);
	ck_assert_int_ge(rcp_supp_match(&s, tls, 3), 0);
	ck_assert_int_ge(rcp_supp_match(&s, fopen_file, 2), 0);
	ck_assert_int_eq(rcp_supp_match(&s, NULL, 0), -1);
	rcp_supp_free(&s);

	ck_assert(rcp_supp_is_system_module(LIBC));
	ck_assert(rcp_supp_is_system_module("/lib64/ld-linux-x86-64.so.2"));
	ck_assert(!rcp_supp_is_system_module("/usr/lib/libcrypto.so.3"));
	ck_assert(!rcp_supp_is_system_module(NULL));
}
END_TEST

Suite *suppress_suite(void)
{
	Suite *s = suite_create("suppress");
	TCase *tc = tcase_create("patterns");
	tcase_add_test(tc, test_patterns);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_user_rules);
	tcase_add_test(tc, test_builtin_rules);
	suite_add_tcase(s, tc);
	return s;
}
