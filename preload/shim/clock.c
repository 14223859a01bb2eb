/* clock.c - choosing and calibrating the event clock (see shim.h).
 *
 * Pure: called once from shim_start before recording is switched on, so
 * shim_clk is written before any other thread reads it (the release store
 * of shim_g.on publishes it).  No stdio, no malloc: the clocksource name
 * is read with open/read into a stack buffer.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "shim.h"

struct shim_clock shim_clk;

#if defined(__x86_64__)
/* The kernel's clocksource is "tsc": CLOCK_MONOTONIC itself is the TSC, so
 * the TSC is as monotonic and as synchronized across CPUs as the clock we
 * would otherwise read (the kernel switches away from it - and we then
 * never start using it - when its watchdog or sync check fails). */
static int kernel_uses_tsc(void)
{
	char buf[32];
	int fd = open("/sys/devices/system/clocksource/clocksource0/"
		      "current_clocksource", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n == 4 && memcmp(buf, "tsc\n", 4) == 0;
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
 * tightest bracket of a few tries, the TSC taken at its middle. */
static void pair(uint64_t *tsc, uint64_t *ns)
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
}
#endif

void shim_clock_init(void)
{
	shim_clk.use_tsc = 0;
#if defined(__x86_64__)
	const char *e = getenv("RCPROF_CLOCK");
	if (e && strcmp(e, "monotonic") == 0)
		return;
	if (!cpu_has_invariant_tsc() || !kernel_uses_tsc())
		return;
	uint64_t t1, n1, t2, n2;
	pair(&t1, &n1);
	/* 2 ms of spinning: the pairs are good to ~20 ns, so the frequency
	 * is good to ~10 ppm. */
	while (shim_now_monotonic() - n1 < 2000000)
		;
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
