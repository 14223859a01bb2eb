/* test_gc_crosscheck.c - rcobj against a second, independent algorithm on
 * thousands of random graphs.
 *
 * The model (rcsim.h) replays librc's behaviour and decides garbage by
 * brute force: an object is alive iff it is reachable through slots from
 * an object whose count exceeds its number of incoming slots.  Cycles are
 * counted from a transitive closure (Floyd-Warshall on bit masks): an
 * object is on an edge cycle iff it reaches itself, and two such objects
 * are in the same cycle iff they reach each other.  The culprit is checked
 * against the brute-force history: the event after which every member of
 * the cycle stayed garbage.  Every graph is replayed under several
 * generational thresholds: the final answer must not depend on them, and a
 * generational collection may only ever find what was garbage then.
 */
#include <check.h>
#include <limits.h>
#include <stdlib.h>

#include "rcobj.h"
#include "rcsim.h"
#include "suites.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static int rnd_below(int n)
{
	return (int)(rnd() % (uint64_t)n);
}

struct locals {
	int ids[1024];
	int n;
};

/* A random non-garbage, non-freed object, or -1. */
static int pick_alive(const struct sim *s)
{
	uint64_t g = sim_garbage(s);
	int cand[SIM_MAX], n = 0;
	for (int i = 0; i < s->n; i++)
		if (!s->freed[i] && !(g >> i & 1))
			cand[n++] = i;
	return n ? cand[rnd_below(n)] : -1;
}

static void release_local(struct sim *s, struct locals *l)
{
	if (!l->n)
		return;
	int k = rnd_below(l->n);
	int id = l->ids[k];
	l->ids[k] = l->ids[--l->n];
	sim_release(s, id, 50 + (uint32_t)rnd_below(4));
}

static int new_obj(struct sim *s, struct locals *l)
{
	int id = sim_new(s, 1 + (uint32_t)rnd_below(3), 1 + (uint32_t)rnd_below(4));
	l->ids[l->n++] = id;
	return id;
}

/* Build one random history; deterministic for a seed. */
static void generate(struct sim *s, uint64_t seed)
{
	struct locals l = { .n = 0 };
	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
	int shape = rnd_below(4);
	int n0 = 2 + rnd_below(shape == 3 ? 40 : 20);
	for (int i = 0; i < n0; i++)
		new_obj(s, &l);
	if (shape <= 1) {
		/* rings (some of length 1: self edges), tails, rings into rings */
		int i = 0;
		int prev_ring = -1;
		while (i < s->n) {
			int len = 1 + rnd_below(5);
			if (i + len > s->n)
				len = s->n - i;
			for (int k = 0; k < len; k++)
				sim_set(s, i + k, 0, i + (k + 1) % len, 9);
			if (prev_ring >= 0 && rnd_below(2))
				sim_set(s, prev_ring, 1, i, 9);
			if (i + len < s->n && rnd_below(2)) {
				sim_set(s, i + len - 1, 2, i + len, 9);  /* tail */
				len++;
			}
			prev_ring = i;
			i += len;
		}
	}
	int nops = 10 + rnd_below(shape == 2 ? 80 : 40);
	for (int op = 0; op < nops && s->seq < SIM_MAX_EV - 400; op++) {
		int what = rnd_below(100);
		if (what < 30) {
			release_local(s, &l);
		} else if (what < 40) {
			int id = pick_alive(s);
			if (id >= 0 && l.n < 1000) {
				sim_retain(s, id, 60);          /* undeclared */
				l.ids[l.n++] = id;
			}
		} else if (what < 80) {
			int o = pick_alive(s);
			int t = rnd_below(5) ? pick_alive(s) : -1;
			if (o >= 0)
				sim_set(s, o, rnd_below(SIM_SLOTS), t, 70);
		} else if (what < 88) {
			int t = rnd_below(3) ? pick_alive(s) : -1;
			sim_set(s, -1, rnd_below(SIM_SLOTS), t, 80);   /* static */
		} else if (s->n < SIM_MAX - 1) {
			new_obj(s, &l);
		}
	}
	/* drop most remaining locals */
	int keep = rnd_below(4) == 0 ? rnd_below(3) : 0;
	while (l.n > keep)
		release_local(s, &l);
}

struct outcome {
	uint64_t garbage;       /* mask */
	size_t ncycles;
	uint64_t keys[SIM_MAX]; /* per cycle: signature ^ culprit, sorted */
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int id_of(const struct sim *s, uint64_t addr)
{
	uint64_t d = addr - s->base;
	ck_assert_uint_eq(d % s->stride, 0);
	ck_assert_uint_lt(d / s->stride, (uint64_t)s->n);
	return (int)(d / s->stride);
}

/* Check one rcobj run of the history against the model. */
static void check_run(struct sim *s, const struct rcobj_results *res,
		      struct outcome *out, int check_culprits)
{
	uint64_t g = sim_garbage(s);
	uint64_t live = 0;
	for (int i = 0; i < s->n; i++)
		if (!s->freed[i])
			live |= 1ull << i;

	/* transitive closure of the garbage subgraph */
	uint64_t reach[SIM_MAX] = {0};
	for (int i = 0; i < s->n; i++)
		if (g >> i & 1)
			for (int k = 0; k < SIM_SLOTS; k++)
				if (s->slot[i][k] >= 0 && (g >> s->slot[i][k] & 1))
					reach[i] |= 1ull << s->slot[i][k];
	for (int k = 0; k < s->n; k++)
		for (int i = 0; i < s->n; i++)
			if (reach[i] >> k & 1)
				reach[i] |= reach[k];
	uint64_t on_cycle = 0, seen = 0;
	size_t nscc = 0;
	for (int i = 0; i < s->n; i++)
		if ((g >> i & 1) && (reach[i] >> i & 1))
			on_cycle |= 1ull << i;
	for (int i = 0; i < s->n; i++) {
		if (!(on_cycle >> i & 1) || (seen >> i & 1))
			continue;
		nscc++;
		for (int j = 0; j < s->n; j++)
			if ((on_cycle >> j & 1) && (reach[i] >> j & 1) &&
			    (reach[j] >> i & 1))
				seen |= 1ull << j;
		seen |= 1ull << i;
	}

	ck_assert_uint_eq(res->nerrors, 0);
	ck_assert_uint_eq(res->rc_objects, (uint64_t)s->n);
	ck_assert_uint_eq(res->live_at_end, (uint64_t)__builtin_popcountll(live));
	ck_assert_uint_eq(res->garbage_objects, (uint64_t)__builtin_popcountll(g));
	ck_assert_uint_eq(res->unreleased_objects,
			  (uint64_t)__builtin_popcountll(live & ~g));
	ck_assert_uint_eq(res->ncycles, nscc);

	uint64_t members = 0;
	uint64_t collected = 0;
	for (int k = 0; k < 3; k++)
		collected += res->gens[k].collected;
	ck_assert_uint_le(collected, res->garbage_objects);
	for (size_t c = 0; c < res->ncycles; c++) {
		const struct rcobj_cycle *cy = &res->cycles[c];
		uint64_t m = 0, cyc = 0;
		for (size_t k = 0; k < cy->nmembers; k++) {
			int id = id_of(s, cy->members[k].addr);
			ck_assert(!(members >> id & 1));
			ck_assert_int_eq(cy->members[k].in_cycle,
					 (int)(on_cycle >> id & 1));
			m |= 1ull << id;
			if (cy->members[k].in_cycle)
				cyc |= 1ull << id;
		}
		members |= m;
		/* one SCC per cycle; every other member hangs off it */
		ck_assert(cyc != 0);
		int first = __builtin_ctzll(cyc);
		uint64_t from_scc = reach[first];
		for (int i = 0; i < s->n; i++)
			if (cyc >> i & 1) {
				ck_assert(reach[i] >> first & 1);
				ck_assert(reach[first] >> i & 1);
			}
		ck_assert((m & ~cyc & ~from_scc) == 0);

		/* a generational collection found it while it was garbage */
		if (cy->found_gen >= 0) {
			uint64_t fseq = cy->found_ts / 10;
			ck_assert_uint_ge(fseq, 2);
			ck_assert((s->garbage_after[fseq - 1] & m) == m);
		}

		if (check_culprits) {
			uint64_t k = s->seq;
			while (k >= 1 && (s->garbage_after[k] & m) == m)
				k--;
			uint64_t ev = k + 1;    /* it made the cycle garbage */
			ck_assert_uint_le(ev, s->seq);
			ck_assert_int_eq(s->ev[ev].kind, SIM_EV_RELEASE);
			ck_assert_int_eq(cy->has_culprit, 1);
			if (s->ev[ev].paired) {
				ck_assert_int_eq(s->ev[ev - 1].kind, SIM_EV_EDGE);
				ck_assert_uint_eq(cy->culprit.seq, ev - 1);
				ck_assert_int_eq(cy->culprit_is_edge_clear, 1);
			} else {
				ck_assert_uint_eq(cy->culprit.seq, ev);
				ck_assert_int_eq(cy->culprit_is_edge_clear, 0);
			}
			ck_assert_uint_eq(cy->culprit_obj,
					  sim_addr(s, s->ev[ev].obj));
		}
		out->keys[c] = cy->signature * 31 + cy->culprit.seq;
	}
	ck_assert_uint_eq(members, g);
	out->garbage = g;
	out->ncycles = res->ncycles;
	qsort(out->keys, out->ncycles, sizeof(out->keys[0]), cmp_u64);
}

static const unsigned thresholds[][3] = {
	{ UINT_MAX, 10, 10 },   /* the final pass only */
	{ 1, 1, 1 },
	{ 3, 2, 2 },
	{ 700, 10, 10 },
	{ 2, 5, 1 },
};

static void crosscheck(uint64_t seed, int report_counts)
{
	struct outcome first = {0};
	for (size_t t = 0; t < sizeof(thresholds) / sizeof(thresholds[0]); t++) {
		struct rcobj_config cfg = {
			.thresholds = { thresholds[t][0], thresholds[t][1],
					thresholds[t][2] } };
		struct rcobj *r = rcobj_create(&cfg);
		ck_assert_ptr_nonnull(r);
		static struct sim s;
		sim_init(&s, r, 0x10000000 + (seed % 7) * 0x100000, 0x40 + 0x10 * (seed % 3));
		s.report_counts = report_counts;
		s.track = 1;
		generate(&s, seed);
		const struct rcobj_results *res = rcobj_finish(r);
		ck_assert_ptr_nonnull(res);
		struct outcome o = {0};
		check_run(&s, res, &o, 1);
		if (t == 0) {
			first = o;
		} else {
			ck_assert_uint_eq(o.garbage, first.garbage);
			ck_assert_uint_eq(o.ncycles, first.ncycles);
			for (size_t c = 0; c < o.ncycles; c++)
				ck_assert_uint_eq(o.keys[c], first.keys[c]);
		}
		rcobj_destroy(r);
	}
}

START_TEST(test_crosscheck_random)
{
	for (uint64_t seed = 1; seed <= 1500; seed++)
		crosscheck(seed + (uint64_t)_i * 1500, (int)(seed & 1));
}
END_TEST

Suite *gc_crosscheck_suite(void)
{
	Suite *s = suite_create("gc_crosscheck");
	TCase *tc = tcase_create("random");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_crosscheck_random, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
