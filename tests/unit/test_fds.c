/* test_fds.c - the recorder's own descriptors (fds.c): moved high, above
 * the soft limit when there is room, and the ranges a close_range() of the
 * program is cut into around them. */
#include <check.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "shim.h"
#include "suites.h"

static size_t split(unsigned first, unsigned last, const int *own, int nown,
		    unsigned (*out)[2])
{
	return shim_fd_split_range(first, last, own, nown, out);
}

START_TEST(test_split_range)
{
	unsigned r[SHIM_OWN_FDS + 1][2];
	int none[1] = { -1 };
	ck_assert_uint_eq(split(3, ~0u, none, 1, r), 1);
	ck_assert_uint_eq(r[0][0], 3);
	ck_assert_uint_eq(r[0][1], ~0u);

	/* unsorted, two adjacent, one outside the range */
	int own[4] = { 515, 512, 2, 513 };
	ck_assert_uint_eq(split(3, ~0u, own, 4, r), 3);
	ck_assert_uint_eq(r[0][0], 3);
	ck_assert_uint_eq(r[0][1], 511);
	ck_assert_uint_eq(r[1][0], 514);
	ck_assert_uint_eq(r[1][1], 514);
	ck_assert_uint_eq(r[2][0], 516);
	ck_assert_uint_eq(r[2][1], ~0u);

	/* ours at both ends of the range, and a range of ours only */
	int ends[2] = { 10, 20 };
	ck_assert_uint_eq(split(10, 20, ends, 2, r), 1);
	ck_assert_uint_eq(r[0][0], 11);
	ck_assert_uint_eq(r[0][1], 19);
	int one[1] = { 7 };
	ck_assert_uint_eq(split(7, 7, one, 1, r), 0);
	ck_assert_uint_eq(split(6, 7, one, 1, r), 1);
	ck_assert_uint_eq(r[0][0], 6);
	ck_assert_uint_eq(r[0][1], 6);
}
END_TEST

START_TEST(test_own_registry)
{
	int fds[SHIM_OWN_FDS];
	for (int i = 0; i < SHIM_OWN_FDS; i++) {
		ck_assert_int_eq(shim_fd_own(1000 + i), 0);
		ck_assert(shim_fd_is_own(1000 + i));
	}
	ck_assert_int_eq(shim_fd_own(1000), 0);         /* already there */
	ck_assert_int_eq(shim_fd_own(2000), -1);        /* full */
	ck_assert(!shim_fd_is_own(2000));
	ck_assert_int_eq(shim_fd_own_list(fds), SHIM_OWN_FDS);
	shim_fd_disown(1003);
	ck_assert(!shim_fd_is_own(1003));
	ck_assert_int_eq(shim_fd_own_list(fds), SHIM_OWN_FDS - 1);
	for (int i = 0; i < SHIM_OWN_FDS; i++)
		shim_fd_disown(1000 + i);
	ck_assert_int_eq(shim_fd_own_list(fds), 0);
	ck_assert(!shim_fd_is_own(-1));
}
END_TEST

/* Moved to 512 or above, the old number free again, the flag as asked. */
START_TEST(test_place_high)
{
	struct rlimit rl;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	int fd = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	int nfd = shim_fd_place_high(fd, 1);
	ck_assert_int_ne(nfd, fd);
	ck_assert_int_ge(nfd, rl.rlim_cur < 1024 ? (int)rl.rlim_cur / 2 : 512);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(fcntl(nfd, F_GETFD), FD_CLOEXEC);
	close(nfd);

	fd = open("/dev/null", O_RDONLY);
	nfd = shim_fd_place_high(fd, 0);
	ck_assert_int_eq(fcntl(nfd, F_GETFD), 0);
	close(nfd);

	struct rlimit after;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &after), 0);
	ck_assert_uint_eq(after.rlim_cur, rl.rlim_cur);
	ck_assert_uint_eq(after.rlim_max, rl.rlim_max);
}
END_TEST

/* With room below the hard limit: above the soft one, which is then what
 * it was.  (Skipped where the hard limit leaves no room.) */
START_TEST(test_limits_ok)
{
	/* room above the soft limit */
	ck_assert(shim_fd_limit_ok(8, 20000));
	ck_assert(shim_fd_limit_ok(1024, 1040));
	ck_assert(shim_fd_limit_ok(16, RLIM_INFINITY));
	ck_assert(shim_fd_limit_ok(RLIM_INFINITY, RLIM_INFINITY));
	/* soft == hard: below the limit, only when it is not small */
	ck_assert(!shim_fd_limit_ok(8, 8));
	ck_assert(!shim_fd_limit_ok(63, 63));
	ck_assert(!shim_fd_limit_ok(16, 520));  /* 512 + 16 does not fit */
	ck_assert(shim_fd_limit_ok(64, 64));
	ck_assert(shim_fd_limit_ok(1024, 1024));
	ck_assert(shim_fd_limit_ok(20000, 20000)); /* above 8192: below */
	/* memory limits: none, or at least 1 GiB */
	ck_assert(shim_mem_limit_ok(RLIM_INFINITY));
	ck_assert(shim_mem_limit_ok(1ull << 30));
	ck_assert(!shim_mem_limit_ok((1ull << 30) - 1));
	ck_assert(!shim_mem_limit_ok(40000ull * 1024));
}
END_TEST

START_TEST(test_place_above_soft_limit)
{
	struct rlimit rl;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 1100)
		return;
	for (rlim_t soft = 100; soft <= 1024; soft += 924) {
		struct rlimit low = { soft, rl.rlim_max };
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
		int fd = open("/dev/null", O_RDONLY);
		int nfd = shim_fd_place_high(fd, 1);
		struct rlimit now;
		ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &now), 0);
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
		ck_assert_uint_eq(now.rlim_cur, soft);
		ck_assert_int_ge(nfd, soft > 512 ? (int)soft : 512);
		ck_assert_int_ge(nfd, (int)soft);
		close(nfd);
	}
}
END_TEST

Suite *fds_suite(void)
{
	Suite *s = suite_create("fds");
	TCase *tc = tcase_create("fds");
	tcase_add_test(tc, test_split_range);
	tcase_add_test(tc, test_own_registry);
	tcase_add_test(tc, test_place_high);
	tcase_add_test(tc, test_place_above_soft_limit);
	tcase_add_test(tc, test_limits_ok);
	suite_add_tcase(s, tc);
	return s;
}
