/* test_rc.c - librc.so, the plain runtime: counts, destructor, rc_set. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "rcprof.h"
#include "suites.h"

struct node {
	struct node *next;
	int value;
};

static int dtor_runs;
static void count_dtor(void *obj)
{
	(void)obj;
	dtor_runs++;
}

/* The seed example: counts 1,2,3,2,1 as references come and go, then the
 * destructor runs exactly once at zero. */
START_TEST(test_counts_up_and_down)
{
	dtor_runs = 0;
	struct node *n = rc_new(sizeof(*n), "node", count_dtor);
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(rc_refcount(n), 1);
	ck_assert_ptr_eq(rc_retain(n), n);
	ck_assert_int_eq(rc_refcount(n), 2);
	rc_retain(n);
	ck_assert_int_eq(rc_refcount(n), 3);
	rc_release(n);
	ck_assert_int_eq(rc_refcount(n), 2);
	rc_release(n);
	ck_assert_int_eq(rc_refcount(n), 1);
	ck_assert_int_eq(dtor_runs, 0);
	rc_release(n);
	ck_assert_int_eq(dtor_runs, 1);
}
END_TEST

START_TEST(test_new_is_zeroed_and_aligned)
{
	unsigned char *p = rc_new(1000, "blob", NULL);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq((uintptr_t)p % 16, 0);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(p[i], 0);
	rc_release(p);
}
END_TEST

START_TEST(test_new_too_big_fails)
{
	ck_assert_ptr_null(rc_new(SIZE_MAX - 8, "huge", NULL));
}
END_TEST

START_TEST(test_null_is_ignored)
{
	ck_assert_ptr_null(rc_retain(NULL));
	rc_release(NULL);
	ck_assert_int_eq(rc_refcount(NULL), 0);
}
END_TEST

START_TEST(test_set_retains_new_releases_old)
{
	dtor_runs = 0;
	struct node *a = rc_new(sizeof(*a), "node", count_dtor);
	struct node *b = rc_new(sizeof(*b), "node", count_dtor);
	struct node *c = rc_new(sizeof(*c), "node", count_dtor);
	rc_set(a, &a->next, b);
	ck_assert_ptr_eq(a->next, b);
	ck_assert_int_eq(rc_refcount(b), 2);
	rc_set(a, &a->next, c);
	ck_assert_ptr_eq(a->next, c);
	ck_assert_int_eq(rc_refcount(b), 1);
	ck_assert_int_eq(rc_refcount(c), 2);
	rc_set(a, &a->next, NULL);
	ck_assert_ptr_null(a->next);
	ck_assert_int_eq(rc_refcount(c), 1);
	rc_release(a);
	rc_release(b);
	rc_release(c);
	ck_assert_int_eq(dtor_runs, 3);
}
END_TEST

/* Storing what the slot already holds must not destroy it, even when the
 * slot holds the only reference. */
START_TEST(test_set_self_assignment)
{
	dtor_runs = 0;
	struct node *a = rc_new(sizeof(*a), "node", count_dtor);
	struct node *b = rc_new(sizeof(*b), "node", count_dtor);
	rc_set(a, &a->next, b);
	rc_release(b); /* now only a->next holds b */
	ck_assert_int_eq(rc_refcount(b), 1);
	rc_set(a, &a->next, a->next);
	ck_assert_int_eq(dtor_runs, 0);
	ck_assert_int_eq(rc_refcount(b), 1);
	ck_assert_ptr_eq(a->next, b);
	rc_set(a, &a->next, NULL);
	ck_assert_int_eq(dtor_runs, 1);
	rc_release(a);
	ck_assert_int_eq(dtor_runs, 2);
}
END_TEST

/* A self-reference keeps the object alive: refcounting alone leaks it, and
 * clearing the field breaks the cycle. */
START_TEST(test_self_reference)
{
	dtor_runs = 0;
	struct node *a = rc_new(sizeof(*a), "node", count_dtor);
	rc_set(a, &a->next, a);
	ck_assert_int_eq(rc_refcount(a), 2);
	rc_release(a);
	ck_assert_int_eq(dtor_runs, 0);
	ck_assert_int_eq(rc_refcount(a), 1);
	rc_set(a, &a->next, NULL); /* the last reference: frees a */
	ck_assert_int_eq(dtor_runs, 1);
}
END_TEST

enum { PAIRS = 1000000 };

static void *retain_release_loop(void *obj)
{
	for (int i = 0; i < PAIRS; i++) {
		rc_retain(obj);
		rc_release(obj);
	}
	return NULL;
}

START_TEST(test_two_threads_million_pairs)
{
	dtor_runs = 0;
	void *obj = rc_new(16, "shared", count_dtor);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, retain_release_loop, obj), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(rc_refcount(obj), 1);
	ck_assert_int_eq(dtor_runs, 0);
	rc_release(obj);
	ck_assert_int_eq(dtor_runs, 1);
}
END_TEST

static void free_child_dtor(void *obj)
{
	struct node *n = obj;
	dtor_runs++;
	rc_set(n, &n->next, NULL);
}

/* A destructor that releases what the object holds frees a whole chain. */
START_TEST(test_dtor_releases_chain)
{
	dtor_runs = 0;
	struct node *head = rc_new(sizeof(*head), "node", free_child_dtor);
	struct node *cur = head;
	for (int i = 0; i < 10; i++) {
		struct node *n = rc_new(sizeof(*n), "node", free_child_dtor);
		rc_set(cur, &cur->next, n);
		rc_release(n);
		cur = n;
	}
	rc_release(head);
	ck_assert_int_eq(dtor_runs, 11);
}
END_TEST

Suite *rc_suite(void)
{
	Suite *s = suite_create("rc");
	TCase *tc = tcase_create("runtime");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_counts_up_and_down);
	tcase_add_test(tc, test_new_is_zeroed_and_aligned);
	tcase_add_test(tc, test_new_too_big_fails);
	tcase_add_test(tc, test_null_is_ignored);
	tcase_add_test(tc, test_set_retains_new_releases_old);
	tcase_add_test(tc, test_set_self_assignment);
	tcase_add_test(tc, test_self_reference);
	tcase_add_test(tc, test_two_threads_million_pairs);
	tcase_add_test(tc, test_dtor_releases_chain);
	suite_add_tcase(s, tc);
	return s;
}
