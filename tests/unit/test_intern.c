/* test_intern.c - stack and string interning (preload/shim/intern.c), the
 * suspect-object address set, and backtrace capture (unwind.c). */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>

#include "shim.h"
#include "suites.h"

START_TEST(test_same_key_same_id)
{
	struct shim_intern t;
	ck_assert_int_eq(shim_intern_init(&t, 10), 0);
	int is_new;
	uint32_t a = shim_intern_get(&t, 12345, &is_new);
	ck_assert_int_eq(is_new, 1);
	ck_assert_uint_ge(a, 1);
	ck_assert_uint_eq(shim_intern_get(&t, 12345, &is_new), a);
	ck_assert_int_eq(is_new, 0);
	uint32_t b = shim_intern_get(&t, 999, &is_new);
	ck_assert_int_eq(is_new, 1);
	ck_assert_uint_ne(a, b);
	/* key 0 is legal (mapped away from "empty") */
	uint32_t z = shim_intern_get(&t, 0, &is_new);
	ck_assert_int_eq(is_new, 1);
	ck_assert_uint_eq(shim_intern_get(&t, 0, &is_new), z);
	ck_assert_int_eq(is_new, 0);
	shim_intern_destroy(&t);
}
END_TEST

/* A full table keeps handing out fresh ids (defined at every use) instead
 * of dropping stacks. */
START_TEST(test_overflow_ids)
{
	struct shim_intern t;
	ck_assert_int_eq(shim_intern_init(&t, 4), 0);   /* 510 slots in all */
	ck_assert_uint_eq(t.cap, 510);
	int is_new, fresh = 0;
	uint32_t max = 0;
	for (uint64_t k = 1; k <= 600; k++) {
		uint32_t id = shim_intern_get(&t, k * 0x9e3779b97f4a7c15ULL, &is_new);
		fresh += is_new;
		if (id > max)
			max = id;
	}
	ck_assert_int_eq(fresh, 600);
	ck_assert_uint_gt(max, t.cap);
	ck_assert_uint_eq(t.level, SHIM_INTERN_LEVELS - 1);
	/* Keys that made it into the table are still found, in the first
	 * level and in the last. */
	uint32_t first = shim_intern_get(&t, 1 * 0x9e3779b97f4a7c15ULL, &is_new);
	ck_assert_int_eq(is_new, 0);
	ck_assert_uint_eq(first, 1);
	uint32_t later = shim_intern_get(&t, 440 * 0x9e3779b97f4a7c15ULL, &is_new);
	ck_assert_int_eq(is_new, 0);
	ck_assert_uint_eq(later, 440);
	shim_intern_destroy(&t);
}
END_TEST

/* Keys are found again whatever level they went to, with their ids in
 * the order they were first seen, and the memory touched grows with the
 * keys: the first few thousand stay in the first 1/256 of the table. */
START_TEST(test_levels)
{
	struct shim_intern t;
	ck_assert_int_eq(shim_intern_init(&t, 20), 0);
	ck_assert_uint_eq(t.base_log2, 12);
	int is_new;
	for (uint64_t k = 1; k <= 3000; k++) {
		ck_assert_uint_eq(shim_intern_get(&t, shim_hash_bytes(&k, sizeof(k)),
						  &is_new), k);
		ck_assert_int_eq(is_new, 1);
	}
	ck_assert_uint_eq(t.level, 0);
	for (uint64_t k = 3001; k <= 60000; k++)
		shim_intern_get(&t, shim_hash_bytes(&k, sizeof(k)), &is_new);
	ck_assert_uint_ge(t.level, 3);
	for (uint64_t k = 1; k <= 60000; k += 7) {
		ck_assert_uint_eq(shim_intern_get(&t, shim_hash_bytes(&k, sizeof(k)),
						  &is_new), k);
		ck_assert_int_eq(is_new, 0);
	}
	shim_intern_destroy(&t);
}
END_TEST

struct racer {
	struct shim_intern *t;
	int wins;
	uint32_t ids[2000];
};

static void *race(void *arg)
{
	struct racer *r = arg;
	for (uint64_t k = 0; k < 2000; k++) {
		int is_new;
		r->ids[k] = shim_intern_get(r->t, shim_hash_bytes(&k, sizeof(k)), &is_new);
		r->wins += is_new;
	}
	return NULL;
}

/* Four threads intern the same 2000 keys into a table of cap_log2; returns
 * the total of is_new. */
static int race4(struct shim_intern *t, unsigned cap_log2, struct racer *r)
{
	ck_assert_int_eq(shim_intern_init(t, cap_log2), 0);
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		r[i].t = t;
		r[i].wins = 0;
		pthread_create(&th[i], NULL, race, &r[i]);
	}
	int wins = 0;
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		wins += r[i].wins;
	}
	return wins;
}

/* Distinct table ids the threads got for key k. */
static int table_ids(const struct shim_intern *t, const struct racer *r, int k)
{
	uint32_t seen[4];
	int n = 0;
	for (int i = 0; i < 4; i++) {
		uint32_t id = r[i].ids[k];
		ck_assert_uint_ne(id, 0);
		if (id > t->cap)
			continue;
		int dup = 0;
		for (int j = 0; j < n; j++)
			dup |= seen[j] == id;
		if (!dup)
			seen[n++] = id;
	}
	return n;
}

/* Each key is new exactly once and every thread gets the same id for it,
 * while the keys stay in one level. */
START_TEST(test_concurrent_insert)
{
	struct shim_intern t;
	static struct racer r[4];
	int wins = race4(&t, 20, r);
	/* A thread that finds a key whose winner has not stored its id yet
	 * (the winner was preempted) gets an overflow id (> cap) and defines
	 * the key again: more wins than keys are allowed, fewer are not, and
	 * all table ids of one key agree. */
	ck_assert_int_ge(wins, 2000);
	for (int k = 0; k < 2000; k++)
		ck_assert_int_le(table_ids(&t, r, k), 1);
	shim_intern_destroy(&t);
}
END_TEST

/* The same through seven level switches: a key inserted while the level
 * switches may get a second id (defined again), never none. */
START_TEST(test_concurrent_levels)
{
	struct shim_intern t;
	static struct racer r[4];
	int wins = race4(&t, 12, r);
	ck_assert_uint_ge(t.level, 6);
	ck_assert_int_ge(wins, 2000);
	for (int k = 0; k < 2000; k++)
		ck_assert_int_le(table_ids(&t, r, k), 2);
	shim_intern_destroy(&t);
}
END_TEST

START_TEST(test_hashes)
{
	void *a[3] = { (void *)0x1000, (void *)0x2000, (void *)0x3000 };
	void *b[3] = { (void *)0x2000, (void *)0x1000, (void *)0x3000 };
	ck_assert_uint_ne(shim_hash_ips(a, 3), shim_hash_ips(b, 3));
	ck_assert_uint_ne(shim_hash_ips(a, 3), shim_hash_ips(a, 2));
	ck_assert_uint_eq(shim_hash_ips(a, 3), shim_hash_ips(a, 3));
	ck_assert_uint_ne(shim_hash_bytes("node", 4), shim_hash_bytes("nodf", 4));
	ck_assert_uint_eq(shim_hash_bytes("node", 4), shim_hash_bytes("node", 4));
}
END_TEST

START_TEST(test_addrset)
{
	struct shim_addrset s;
	ck_assert_int_eq(shim_addrset_init(&s, 8), 0);
	ck_assert_int_eq(shim_addrset_has(&s, 0x1234), 0);
	shim_addrset_add(&s, 0x1234);
	shim_addrset_add(&s, 0x5678);
	shim_addrset_add(&s, 0);               /* reserved values still work */
	shim_addrset_add(&s, 1);
	ck_assert_int_eq(shim_addrset_has(&s, 0x1234), 1);
	ck_assert_int_eq(shim_addrset_has(&s, 0), 1);
	ck_assert_int_eq(shim_addrset_has(&s, 1), 1);
	shim_addrset_del(&s, 0x1234);
	ck_assert_int_eq(shim_addrset_has(&s, 0x1234), 0);
	ck_assert_int_eq(shim_addrset_has(&s, 0x5678), 1);
	/* churn: tombstones are reused, the set never fills up */
	for (uint64_t i = 0; i < 100000; i++) {
		shim_addrset_add(&s, 0x10000 + i * 16);
		ck_assert_int_eq(shim_addrset_has(&s, 0x10000 + i * 16), 1);
		shim_addrset_del(&s, 0x10000 + i * 16);
	}
	ck_assert_int_eq(shim_addrset_has(&s, 0x5678), 1);
	shim_addrset_destroy(&s);
}
END_TEST

static __attribute__((noinline)) int capture_here(void **ips, int max)
{
	int n = shim_backtrace(ips, max);
	__asm__ volatile("" ::: "memory");   /* not a tail call */
	return n;
}

START_TEST(test_backtrace)
{
	void *ips[SHIM_DEPTH_MAX];
	shim_unwind_init();
	int n = capture_here(ips, 64);
	ck_assert_int_gt(n, 2);
	ck_assert_int_le(n, 64);
	ck_assert_int_le(capture_here(ips, 2), 2);
	ck_assert_int_eq(capture_here(ips, 0), 0);
	/* the same call site twice: the same stack */
	void *again[SHIM_DEPTH_MAX];
	int nn[2];
	for (int i = 0; i < 2; i++)
		nn[i] = capture_here(i ? again : ips, 64);
	ck_assert_int_eq(nn[0], nn[1]);
	ck_assert_uint_eq(shim_hash_ips(ips, nn[0]), shim_hash_ips(again, nn[1]));
}
END_TEST

Suite *intern_suite(void)
{
	Suite *s = suite_create("intern");
	TCase *tc = tcase_create("intern");
	tcase_add_test(tc, test_same_key_same_id);
	tcase_add_test(tc, test_overflow_ids);
	tcase_add_test(tc, test_levels);
	tcase_add_test(tc, test_concurrent_insert);
	tcase_add_test(tc, test_concurrent_levels);
	tcase_add_test(tc, test_hashes);
	tcase_add_test(tc, test_addrset);
	tcase_add_test(tc, test_backtrace);
	suite_add_tcase(s, tc);
	return s;
}
