/* clock.c - choosing and calibrating the event clock, and the claims of
 * the stamp counter (see shim.h).
 *
 * shim_clock_init is called once from shim_start before recording is
 * switched on, so shim_clk is written before any other thread reads it
 * (the release store of shim_g.on publishes it).  No stdio, no malloc:
 * the clocksource name is read with open/read into a stack buffer.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "shim.h"

struct shim_clock shim_clk;
__thread uint64_t shim_tick;
__thread uint64_t shim_tick_id;

#if defined(__x86_64__)
/* The kernel's clocksource.  "tsc": CLOCK_MONOTONIC itself is the TSC, so
 * the TSC is as monotonic and as synchronized across CPUs as the clock we
 * would otherwise read (the kernel switches away from it - and we then
 * never start using it - when its watchdog or sync check fails).
 * "kvm-clock": a KVM guest's clock, the TSC scaled with parameters the
 * host publishes; see shim_clock_pick_tsc for when that is as good. */
static enum shim_clocksource kernel_clocksource(void)
{
	char buf[32];
	int fd = open("/sys/devices/system/clocksource/clocksource0/"
		      "current_clocksource", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SHIM_CS_OTHER;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n == 4 && memcmp(buf, "tsc\n", 4) == 0)
		return SHIM_CS_TSC;
	if (n == 10 && memcmp(buf, "kvm-clock\n", 10) == 0)
		return SHIM_CS_KVM;
	return SHIM_CS_OTHER;
}

/* The fewest TSC ticks one clock_gettime system call took, of 16 (the
 * vDSO's cost is pair's bracket). */
static uint64_t syscall_clock_ticks(void)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 16; i++) {
		struct timespec ts;
		uint64_t a = shim_rdtsc_ordered();
		syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
		uint64_t b = shim_rdtsc_ordered();
		if (b - a < best)
			best = b - a;
	}
	return best;
}

static int cpu_has_invariant_tsc(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
		return 0;
	__get_cpuid(0x80000007u, &a, &b, &c, &d);
	return (d >> 8) & 1;    /* EDX bit 8: invariant (constant+nonstop) */
}

/* One (tsc, ns) pair: the clock read bracketed by two TSC reads, the
 * tightest bracket of a few tries, the TSC taken at its middle.  Returns
 * that bracket's width: what one clock_gettime costs, in ticks. */
static uint64_t pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 16; i++) {
		uint64_t a = shim_rdtsc_ordered();
		uint64_t n = shim_now_monotonic();
		uint64_t b = shim_rdtsc_ordered();
		if (b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*ns = n;
		}
	}
	return best;
}
#endif

/* Under kvm-clock, the vDSO answers clock_gettime itself only while the
 * host sets PVCLOCK_TSC_STABLE_BIT, which KVM sets only when every vCPU's
 * TSC matches (its "master clock"): then kvm-clock is one linear function
 * of a TSC that is the same on all vCPUs, and reading the TSC directly
 * orders events across threads as well as CLOCK_MONOTONIC does.  Without
 * the bit the vDSO falls back to the system call (and the kernel keeps the
 * clock monotonic by other means, which the raw TSC would not share).  So:
 * the TSC when clock_gettime costs clearly less than entering the kernel
 * (on the KVM guest of the bench, ~110 ticks against ~2300). */
int shim_clock_pick_tsc(int invariant_tsc, enum shim_clocksource cs,
			uint64_t vdso_ticks, uint64_t syscall_ticks)
{
	if (!invariant_tsc)
		return 0;
	if (cs == SHIM_CS_TSC)
		return 1;
	return cs == SHIM_CS_KVM && vdso_ticks < syscall_ticks / 2;
}

static void clock_pick(void)
{
	shim_clk.use_tsc = 0;
#if defined(__x86_64__)
	const char *e = getenv("RCPROF_CLOCK");
	if (e && strcmp(e, "monotonic") == 0)
		return;
	int invariant = cpu_has_invariant_tsc();
	enum shim_clocksource cs = invariant ? kernel_clocksource() :
					       SHIM_CS_OTHER;
	uint64_t t1, n1, t2, n2;
	uint64_t vdso = pair(&t1, &n1);
	uint64_t sys = cs == SHIM_CS_KVM ? syscall_clock_ticks() : 0;
	if (!shim_clock_pick_tsc(invariant, cs, vdso, sys))
		return;
	/* 2 ms apart: the pairs are good to ~20 ns, so the frequency is
	 * good to ~10 ppm.  Asleep, not spinning: the pairs bracket their
	 * own reads, so how long the wait really took does not matter, and
	 * every process the shim starts in saves 2 ms of CPU. */
	for (uint64_t n; (n = shim_now_monotonic() - n1) < 2000000;) {
		struct timespec ts = { 0, (long)(2000000 - n) };
		nanosleep(&ts, NULL);   /* EINTR: the loop sleeps again */
	}
	pair(&t2, &n2);
	if (t2 <= t1 || n2 <= n1)
		return;
	unsigned __int128 m = ((unsigned __int128)(n2 - n1) << SHIM_CLOCK_SHIFT) /
			      (t2 - t1);
	if (m == 0 || m >> 63)
		return;         /* absurd frequency: keep clock_gettime */
	shim_clk.tsc0 = t1;
	shim_clk.ns0 = n1;
	shim_clk.mult = (uint64_t)m;
	shim_clk.use_tsc = 1;
#endif
}

/* The time for a claim: the fenced clock, whichever mode the process is
 * in (shim_now_real fences only once stamps are clocked). */
static uint64_t claim_time(void)
{
#if defined(__x86_64__)
	if (shim_likely(shim_clk.use_tsc))
		return shim_tsc_to_ns(shim_rdtsc_ordered());
#endif
	return shim_now_monotonic();
}

/* Move this thread's counter up to now: an add, not a store, since a
 * signal handler may count in between. */
static void tick_up_to(uint64_t now)
{
	uint64_t cur = __atomic_load_n(&shim_tick, __ATOMIC_RELAXED);
	if (now > cur)
		shim_tick_add(now - cur);
}

/* This thread's name for shim_clk.owner, handed out at its first need. */
static uint64_t tick_id(void)
{
	if (!shim_tick_id)
		shim_tick_id = __atomic_add_fetch(&shim_clk.ids, 1,
						  __ATOMIC_RELAXED);
	return shim_tick_id;
}

/* The process runs one thread, this one: it counts from now on, its
 * counter at the clock, with no claims behind it. */
static void count_alone(void)
{
	tick_up_to(claim_time());
	__atomic_store_n(&shim_clk.owner, tick_id(), __ATOMIC_RELAXED);
	__atomic_store_n(&shim_clk.claimed_at, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&shim_clk.close_claims, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&shim_clk.threads, 0, __ATOMIC_SEQ_CST);
}

void shim_clock_init(void)
{
	clock_pick();
	shim_clk.ids = 0;
	shim_tick_id = 0;
	count_alone();
}

uint64_t shim_clock_claim(void)
{
	if (shim_counting()) {
		uint64_t id = tick_id();
		/* up to the clock before the CAS too: a handler of ours that
		 * stamps between the CAS and the move below counts from
		 * here, not from where this thread last counted */
		tick_up_to(claim_time());
		uint64_t owner = __atomic_load_n(&shim_clk.owner,
						 __ATOMIC_RELAXED);
		int ours = __atomic_compare_exchange_n(&shim_clk.owner, &owner,
						       id, 0, __ATOMIC_SEQ_CST,
						       __ATOMIC_RELAXED) ||
			   owner == id;         /* a handler claimed */
		if (ours) {
			/* read after the CAS: past every stamp the owner
			 * before counted, whose check of the owner came
			 * before the CAS */
			uint64_t now = claim_time();
			uint64_t prev = __atomic_exchange_n(
				&shim_clk.claimed_at, now, __ATOMIC_RELAXED);
			if ((int64_t)(now - prev) >= SHIM_CLAIM_CLOSE_NS ||
			    __atomic_add_fetch(&shim_clk.close_claims, 1,
					       __ATOMIC_RELAXED) <
				    SHIM_CLAIM_CLOSE_MAX) {
				tick_up_to(now);
				return shim_count_stamp();
			}
		}
		/* claims as close as this cost more than the clock; a CAS
		 * lost to another thread's claim is as close as they come */
		shim_clock_threads();
	}
	return claim_time();
}

void shim_clock_fork_child(void)
{
	count_alone();
}

void shim_clock_resync(void)
{
	if (!shim_counting() || !shim_owns_counter())
		return;
	tick_up_to(shim_now_real());
}
