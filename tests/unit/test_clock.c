/* test_clock.c - the event clock (clock.c): when the TSC is trusted, and
 * that the clock chosen on this machine orders events across CPUs. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
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

/* The clock as the shim starts it in a process that runs one thread,
 * before this thread's first stamp. */
static void start_single_threaded(void)
{
	__atomic_store_n(&shim_clk.threads, 0, __ATOMIC_SEQ_CST);
	shim_clock_init();
	shim_tick_ok = 0;
}

/* Single-threaded stamps (shim_tick_add): one apart, never ahead of the
 * clock, moved up to it by a resync, and below every clock stamp taken
 * once a second thread runs. */
START_TEST(test_single_thread_counts)
{
	start_single_threaded();
	uint64_t first = shim_now(), prev = first;
	/* the first stamp found out that this is the main thread (check
	 * runs each test in a child process of its own) */
	ck_assert_int_eq(shim_tick_ok, 1);
	for (int i = 0; i < 200000; i++) {
		uint64_t now = i & 1 ? shim_now_before_release() : shim_now_rc();
		ck_assert_uint_eq(now, prev + 1);
		prev = now;
	}
	ck_assert_uint_le(prev, shim_now_real());
	uint64_t real = shim_now_real();
	shim_clock_resync();
	uint64_t after = shim_now();
	ck_assert_uint_gt(after, real);
	ck_assert_uint_le(after, shim_now_real() + 1);
	shim_clock_threads();
	uint64_t clocked = shim_now();
	ck_assert_uint_gt(clocked, after);
	ck_assert_uint_eq(shim_now_rc() >= clocked, 1);
	/* the counter no longer moves */
	ck_assert_uint_eq(__atomic_load_n(&shim_clk.tick, __ATOMIC_RELAXED),
			  after);
}
END_TEST

/* Only the main thread counts: another thread, one the shim did not see
 * created, switches the process to the clock with its first stamp, which
 * is the counter as it stands (in line with the main thread's counted
 * stamps), and leaves the counter alone; its next stamps are clocked. */
static void *stamp_twice(void *arg)
{
	uint64_t *st = arg;
	st[0] = shim_now_before_release();
	st[1] = shim_now();
	return NULL;
}

START_TEST(test_other_thread_reads_clock)
{
	start_single_threaded();
	uint64_t mine = shim_now();
	ck_assert_int_eq(shim_tick_ok, 1);
	uint64_t before = shim_now_real(), theirs[2] = { 0, 0 };
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, stamp_twice, theirs), 0);
	pthread_join(th, NULL);
	ck_assert_uint_eq(__atomic_load_n(&shim_clk.threads, __ATOMIC_RELAXED),
			  1);
	ck_assert_uint_eq(__atomic_load_n(&shim_clk.tick, __ATOMIC_RELAXED),
			  mine);
	ck_assert_uint_eq(theirs[0], mine);
	ck_assert_uint_ge(theirs[1] + 20000, before);
	ck_assert_uint_gt(shim_now(), mine);    /* clocked now */
}
END_TEST

/* A signal handler that stamps while the main thread stamps takes stamps
 * of its own: the counter's increment is one instruction, so none is
 * lost.  A split load, add and store would drop the handler's increment
 * when the signal lands between them, and hand its stamp out twice.  To
 * make that likely, another thread sends the signals one at a time at
 * varying moments and meanwhile keeps taking the counter's cache line
 * away (an atomic OR of 0 on its neighbour), so the main thread's loads
 * of the counter stall and the signal lands after one: with a split
 * increment this test failed in two of three runs. */
#define SIGNALS 10000
static uint64_t sig_stamps[SIGNALS];
static volatile sig_atomic_t sig_n;

static void on_tick_signal(int sig)
{
	(void)sig;
	if (sig_n < SIGNALS)
		sig_stamps[sig_n++] = shim_now();
}

struct sender {
	pid_t pid, tid;
	atomic_int stop;
};

static void *send_signals(void *arg)
{
	struct sender *sd = arg;
	uint32_t x = 12345;
	while (!atomic_load(&sd->stop) && sig_n < SIGNALS) {
		int seen = sig_n;
		tgkill(sd->pid, sd->tid, SIGUSR1);
		while (sig_n == seen && !atomic_load(&sd->stop))
			;
		/* let the main thread run a while, a varying time, so the
		 * next signal lands on a different instruction */
		x = x * 1103515245u + 12345u;
		for (uint32_t i = 0; i < (x >> 22); i++)
			__atomic_fetch_or(&shim_clk.threads, 0,
					  __ATOMIC_RELAXED);
	}
	return NULL;
}

START_TEST(test_single_thread_signal_safe)
{
	start_single_threaded();
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick_signal;
	sa.sa_flags = SA_RESTART;
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	struct sender sd = { getpid(), gettid(), 0 };
	pthread_t th;
	uint64_t first = shim_now(), prev = first, n = 1;
	ck_assert_int_eq(pthread_create(&th, NULL, send_signals, &sd), 0);
	uint64_t t0 = shim_now_monotonic();
	while (sig_n < SIGNALS && shim_now_monotonic() - t0 < 10000000000ull) {
		/* nothing but stamps, so most signals land inside one */
		uint64_t now = 0;
		for (int i = 0; i < 1000; i++)
			now = shim_now();
		n += 1000;
		ck_assert_uint_gt(now, prev);
		prev = now;
	}
	atomic_store(&sd.stop, 1);
	pthread_join(th, NULL);
	signal(SIGUSR1, SIG_IGN);
	ck_assert_int_gt(sig_n, 100);   /* the handler did interrupt */
	for (int i = 0; i < sig_n; i++)
		ck_assert_uint_gt(sig_stamps[i], first);
	/* every stamp handed out once: the main thread's n and the
	 * handler's sig_n, one apart */
	ck_assert_uint_eq(__atomic_load_n(&shim_clk.tick, __ATOMIC_RELAXED) -
			  first + 1, n + (uint64_t)sig_n);
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
	tcase_add_test(tc, test_single_thread_counts);
	tcase_add_test(tc, test_other_thread_reads_clock);
	tcase_add_test(tc, test_single_thread_signal_safe);
	suite_add_tcase(s, tc);
	return s;
}
