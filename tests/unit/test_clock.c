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

/* The clock as the shim starts it: the calling thread owns the counter. */
static void start_counting(void)
{
	__atomic_store_n(&shim_clk.threads, 0, __ATOMIC_SEQ_CST);
	shim_clock_init();
}

/* Counted stamps (shim_tick_add): one apart, never ahead of the clock,
 * moved up to it by a resync, and below every clock stamp taken once the
 * process switched to the clock. */
START_TEST(test_single_thread_counts)
{
	start_counting();
	uint64_t first = shim_now(), prev = first;
	ck_assert_uint_eq(shim_clk.owner, shim_tick_id);
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
	ck_assert_uint_eq(__atomic_load_n(&shim_tick, __ATOMIC_RELAXED), after);
}
END_TEST

/* A fork child runs one thread: it counts again, past every stamp of
 * the parent, clocked or counted. */
START_TEST(test_fork_child_counts_again)
{
	start_counting();
	shim_clock_threads();
	uint64_t clocked = shim_now();
	shim_clock_fork_child();
	ck_assert_uint_eq(__atomic_load_n(&shim_clk.threads, __ATOMIC_RELAXED),
			  0);
	uint64_t first = shim_now();
	ck_assert_uint_gt(first, clocked);
	ck_assert_uint_eq(shim_now_rc(), first + 1);
	ck_assert_uint_eq(shim_clk.owner, shim_tick_id);
}
END_TEST

/* Another thread's stamps: its first one claims the counter and sorts
 * after everything the owner stamped before the thread was created, and
 * at or after the clock then; the owner's next stamp claims it back and
 * sorts after the other thread's.  Two claims far apart: still counting. */
static void *stamp_three(void *arg)
{
	uint64_t *st = arg;
	st[0] = shim_now_before_release();
	st[1] = shim_now();
	st[2] = shim_now_rc();
	st[3] = shim_tick_id;
	return NULL;
}

START_TEST(test_other_thread_claims)
{
	start_counting();
	uint64_t mine = shim_now(), main_id = shim_tick_id;
	usleep(SHIM_CLAIM_CLOSE_NS / 1000 * 2);
	uint64_t before = shim_now_real(), theirs[4] = { 0, 0, 0, 0 };
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, stamp_three, theirs), 0);
	pthread_join(th, NULL);
	ck_assert_uint_ne(theirs[3], 0);
	ck_assert_uint_ne(theirs[3], main_id);
	ck_assert_uint_gt(theirs[0], mine);
	ck_assert_uint_ge(theirs[0], before);
	ck_assert_uint_eq(theirs[1], theirs[0] + 1);    /* counted */
	ck_assert_uint_eq(theirs[2], theirs[1] + 1);
	ck_assert_uint_eq(__atomic_load_n(&shim_clk.owner, __ATOMIC_RELAXED),
			  theirs[3]);
	usleep(SHIM_CLAIM_CLOSE_NS / 1000 * 2);
	uint64_t back = shim_now();
	ck_assert_uint_gt(back, theirs[2]);
	ck_assert_uint_eq(__atomic_load_n(&shim_clk.owner, __ATOMIC_RELAXED),
			  main_id);
	ck_assert_uint_eq(shim_now(), back + 1);
	ck_assert_uint_eq(__atomic_load_n(&shim_clk.threads, __ATOMIC_RELAXED),
			  0);
}
END_TEST

/* A signal handler that stamps while the main thread stamps takes stamps
 * of its own: the counter's increment is one instruction, so none is
 * lost.  A split load, add and store would drop the handler's increment
 * when the signal lands between them, and hand its stamp out twice.  To
 * make that likely, another thread sends the signals one at a time at
 * varying moments and meanwhile keeps taking the counter's cache line
 * away (an atomic OR of 0 on the main thread's own shim_tick_id, its
 * neighbour in the thread's TLS), so the main thread's loads
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
	uint64_t *line;         /* the main thread's shim_tick_id */
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
			__atomic_fetch_or(sd->line, 0, __ATOMIC_RELAXED);
	}
	return NULL;
}

START_TEST(test_single_thread_signal_safe)
{
	start_counting();
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick_signal;
	sa.sa_flags = SA_RESTART;
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	struct sender sd = { getpid(), gettid(), 0, &shim_tick_id };
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
	ck_assert_uint_eq(__atomic_load_n(&shim_tick, __ATOMIC_RELAXED) -
			  first + 1, n + (uint64_t)sig_n);
}
END_TEST

/* Two threads on two CPUs take turns: each stamps, then hands the turn
 * over with a release store; the other stamps after it observed the turn.
 * Every stamp must be later than the one before it, the ordering the
 * analyzer's merge needs for a block freed on one CPU and reused on
 * another: with the clock in use (the TSC where clock.c trusts it), and
 * with counted stamps, where each turn is a claim of the counter. */
#define HANDOFFS 20000

struct pingpong {
	atomic_uint turn;
	unsigned n;             /* turns */
	unsigned pause_us;      /* before each stamp */
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
	for (unsigned i = pl->me; i < pp->n; i += 2) {
		/* spin, yielding now and then: with one CPU allowed both
		 * players share it */
		for (unsigned spins = 0;
		     atomic_load_explicit(&pp->turn, memory_order_acquire) != i;
		     spins++)
			if (spins > 1000)
				sched_yield();
		if (pp->pause_us)
			usleep(pp->pause_us);
		pp->stamp[i] = shim_now();
		atomic_store_explicit(&pp->turn, i + 1, memory_order_release);
	}
	return NULL;
}

/* n turns of two players, pause_us before each stamp; checks the order */
static void play_turns(unsigned n, unsigned pause_us)
{
	static struct pingpong pp;
	cpu_set_t allowed;
	ck_assert_int_eq(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
	int ncpu = 0;
	for (int c = 0; c < CPU_SETSIZE && ncpu < 2; c++)
		if (CPU_ISSET(c, &allowed))
			pp.cpu[ncpu++] = c;
	if (ncpu < 2)
		pp.cpu[1] = pp.cpu[0];  /* one CPU: still a valid check */
	atomic_init(&pp.turn, 0);
	pp.n = n;
	pp.pause_us = pause_us;
	pthread_t th[2];
	struct player pl[2] = { { &pp, 0 }, { &pp, 1 } };
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, play, &pl[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 1; i < n; i++)
		ck_assert_msg(pp.stamp[i] > pp.stamp[i - 1],
			      "stamp %u (cpu %d) %llu <= stamp %u %llu (tsc %d)",
			      i, pp.cpu[i & 1], (unsigned long long)pp.stamp[i],
			      i - 1, (unsigned long long)pp.stamp[i - 1],
			      shim_clk.use_tsc);
}

START_TEST(test_clock_orders_across_cpus)
{
	shim_clock_init();
	shim_clock_threads();
	play_turns(2 * HANDOFFS, 0);
}
END_TEST

/* Turns taken fast: the first ones are counted claims, then the close
 * claims switch the process to the clock; the order holds throughout. */
START_TEST(test_close_claims_switch_to_clock)
{
	start_counting();
	play_turns(2 * HANDOFFS, 0);
	ck_assert_uint_eq(__atomic_load_n(&shim_clk.threads, __ATOMIC_RELAXED),
			  1);
	ck_assert_uint_ge(shim_clk.close_claims, SHIM_CLAIM_CLOSE_MAX);
}
END_TEST

/* Turns taken slowly: every stamp is a claim, far from the one before;
 * the process keeps counting, and the order holds. */
START_TEST(test_far_claims_keep_counting)
{
	start_counting();
	play_turns(2 * 50, SHIM_CLAIM_CLOSE_NS / 1000 * 2);
	ck_assert_uint_eq(__atomic_load_n(&shim_clk.threads, __ATOMIC_RELAXED),
			  0);
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
	tcase_add_test(tc, test_close_claims_switch_to_clock);
	tcase_add_test(tc, test_far_claims_keep_counting);
	tcase_add_test(tc, test_single_thread_counts);
	tcase_add_test(tc, test_other_thread_claims);
	tcase_add_test(tc, test_fork_child_counts_again);
	tcase_add_test(tc, test_single_thread_signal_safe);
	suite_add_tcase(s, tc);
	return s;
}
