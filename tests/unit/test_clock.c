/* test_clock.c - the event clock (clock.c): when the TSC is trusted, and
 * that the clock chosen on this machine orders events across CPUs. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "recorder.h"
#include "suites.h"

START_TEST(test_pick_tsc)
{
	/* clocksource "tsc": the kernel already relies on it */
	ck_assert_int_eq(shim_clock_pick_tsc(1, SHIM_CS_TSC, 0, 0), 1);
	ck_assert_int_eq(shim_clock_pick_tsc(0, SHIM_CS_TSC, 0, 0), 0);
	/* kvm-clock: only while the vDSO serves it (stable TSC bit) */
	ck_assert_int_eq(shim_clock_pick_tsc(1, SHIM_CS_KVM, 110, 2300), 1);
	ck_assert_int_eq(shim_clock_pick_tsc(1, SHIM_CS_KVM, 2250, 2300), 0);
	ck_assert_int_eq(shim_clock_pick_tsc(1, SHIM_CS_KVM, 1150, 2300), 0);
	ck_assert_int_eq(shim_clock_pick_tsc(0, SHIM_CS_KVM, 110, 2300), 0);
	/* hpet, acpi_pm, xen, hyperv...: clock_gettime */
	ck_assert_int_eq(shim_clock_pick_tsc(1, SHIM_CS_OTHER, 110, 2300), 0);
}
END_TEST

/* The converted clock follows CLOCK_MONOTONIC and never runs backwards
 * on one thread. */
START_TEST(test_clock_tracks_monotonic)
{
	shim_clock_init();
	__atomic_store_n(&shim_clk.threads, 1, __ATOMIC_SEQ_CST);
	uint64_t prev = shim_now();
	for (int i = 0; i < 200000; i++) {
		uint64_t now = shim_now();
		ck_assert_uint_ge(now, prev);
		prev = now;
	}
	uint64_t a = shim_now_monotonic(), b = shim_now(),
		 c = shim_now_monotonic();
	/* b was read between a and c, give or take the calibration error
	 * (a few ppm of the time since start-up) and 20 us of slack */
	ck_assert_uint_ge(b + 20000, a);
	ck_assert_uint_le(b, c + 20000);
}
END_TEST

/* Two threads on two CPUs take turns: each stamps, then hands the turn
 * over with a release store; the other stamps after it observed the turn.
 * With the clock in use (the TSC where clock.c trusts it), every stamp is
 * later than the one before it, the ordering the analyzer's merge needs
 * for a block freed on one CPU and reused on another. */
#define HANDOFFS 20000

struct pingpong {
	atomic_uint turn;
	uint64_t stamp[2 * HANDOFFS];
	int cpu[2];
};

struct player {
	struct pingpong *pp;
	unsigned me;
};

static void *play(void *arg)
{
	struct player *pl = arg;
	struct pingpong *pp = pl->pp;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(pp->cpu[pl->me], &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	for (unsigned i = pl->me; i < 2 * HANDOFFS; i += 2) {
		/* spin, yielding now and then: with one CPU allowed both
		 * players share it */
		for (unsigned spins = 0;
		     atomic_load_explicit(&pp->turn, memory_order_acquire) != i;
		     spins++)
			if (spins > 1000)
				sched_yield();
		pp->stamp[i] = shim_now();
		atomic_store_explicit(&pp->turn, i + 1, memory_order_release);
	}
	return NULL;
}

START_TEST(test_clock_orders_across_cpus)
{
	cpu_set_t allowed;
	ck_assert_int_eq(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
	static struct pingpong pp;
	int n = 0;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &allowed))
			pp.cpu[n++] = c;
	if (n < 2)
		pp.cpu[1] = pp.cpu[0];  /* one CPU: still a valid check */
	shim_clock_init();
	shim_clock_threads();
	atomic_init(&pp.turn, 0);
	pthread_t th[2];
	struct player pl[2] = { { &pp, 0 }, { &pp, 1 } };
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, play, &pl[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 1; i < 2 * HANDOFFS; i++)
		ck_assert_msg(pp.stamp[i] >= pp.stamp[i - 1],
			      "stamp %u (cpu %d) %llu < stamp %u %llu (tsc %d)",
			      i, pp.cpu[i & 1], (unsigned long long)pp.stamp[i],
			      i - 1, (unsigned long long)pp.stamp[i - 1],
			      shim_clk.use_tsc);
}
END_TEST

Suite *clock_suite(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("clock");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pick_tsc);
	tcase_add_test(tc, test_clock_tracks_monotonic);
	tcase_add_test(tc, test_clock_orders_across_cpus);
	suite_add_tcase(s, tc);
	return s;
}
