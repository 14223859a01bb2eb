/* test_sigmask.c - the shim's signal-mask changes (sigmask.c) keep glibc's
 * internal signals 32 and 33 as they are, where glibc's own
 * pthread_sigmask unblocks them. */
#include <check.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"
#include "suites.h"

#define BIT(sig) (1ull << ((sig) - 1))

static uint64_t kernel_mask(void)
{
	uint64_t m = 0;
	ck_assert_int_eq(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8), 0);
	return m;
}

static void kernel_set(uint64_t m)
{
	ck_assert_int_eq(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &m, NULL, 8),
			 0);
}

/* A thread like glibc's timer helper: signal 32 blocked, 33 not. */
START_TEST(test_block_all_and_restore_keep_internal)
{
	uint64_t start = BIT(32) | BIT(SIGUSR1);
	kernel_set(start);
	sigset_t saved;
	ck_assert_int_eq(shim_sigmask_block_all(&saved), 0);
	uint64_t during = kernel_mask();
	ck_assert_uint_ne(during & BIT(32), 0);         /* still blocked */
	ck_assert_uint_eq(during & BIT(33), 0);         /* still unblocked */
	ck_assert_uint_ne(during & BIT(SIGTERM), 0);    /* the rest blocked */
	ck_assert_uint_ne(during & BIT(40), 0);
	ck_assert_int_eq(shim_sigmask(SIG_SETMASK, &saved, NULL), 0);
	ck_assert_uint_eq(kernel_mask(), start);

	/* what glibc does instead: its restore unblocks 32 */
	ck_assert_int_eq(pthread_sigmask(SIG_SETMASK, &saved, NULL), 0);
	ck_assert_uint_eq(kernel_mask() & BIT(32), 0);
}
END_TEST

/* Blocking and unblocking sets (even ones naming 32 and 33) never change
 * 32 and 33; the old mask comes back with them as they were. */
START_TEST(test_block_unblock_leave_internal)
{
	kernel_set(BIT(33));
	sigset_t set, old;
	memset(&set, 0xff, sizeof(set));        /* 32 and 33 included */
	ck_assert_int_eq(shim_sigmask(SIG_BLOCK, &set, &old), 0);
	uint64_t m = kernel_mask();
	ck_assert_uint_eq(m & (BIT(32) | BIT(33)), BIT(33));
	uint64_t o;
	memcpy(&o, &old, sizeof(o));
	ck_assert_uint_eq(o, BIT(33));
	ck_assert_int_eq(shim_sigmask(SIG_UNBLOCK, &set, NULL), 0);
	ck_assert_uint_eq(kernel_mask(), BIT(33));
	kernel_set(0);
}
END_TEST

Suite *sigmask_suite(void)
{
	Suite *s = suite_create("sigmask");
	TCase *tc = tcase_create("sigmask");
	tcase_add_test(tc, test_block_all_and_restore_keep_internal);
	tcase_add_test(tc, test_block_unblock_leave_internal);
	suite_add_tcase(s, tc);
	return s;
}
