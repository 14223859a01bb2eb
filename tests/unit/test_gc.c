/* test_gc.c - rcobj: the replay, CPython's cycle detection, cycles and
 * their ownership, culprits, signatures, generations, misuse, suspects. */
#include <check.h>
#include <limits.h>
#include <stdlib.h>

#include "rcobj.h"
#include "rcsim.h"
#include "suites.h"

enum { T_NODE = 1, T_LEAF = 2, T_OTHER = 3 };

static struct rcobj *mk(unsigned t0, unsigned t1, unsigned t2)
{
	struct rcobj_config cfg = { .thresholds = { t0, t1, t2 } };
	struct rcobj *r = rcobj_create(&cfg);
	ck_assert_ptr_nonnull(r);
	return r;
}

/* Never collect before the end. */
static struct rcobj *mk_final_only(void)
{
	return mk(UINT_MAX, 10, 10);
}

static const struct rcobj_cycle *cycle_with(const struct rcobj_results *res,
					    uint64_t addr, int *in_cycle)
{
	for (size_t i = 0; i < res->ncycles; i++)
		for (size_t k = 0; k < res->cycles[i].nmembers; k++)
			if (res->cycles[i].members[k].addr == addr) {
				if (in_cycle)
					*in_cycle = res->cycles[i].members[k].in_cycle;
				return &res->cycles[i];
			}
	return NULL;
}

START_TEST(test_self_reference)
{
	struct rcobj *r = mk_final_only();
	struct sim s;
	sim_init(&s, r, 0x10000, 0x40);
	int a = sim_new(&s, T_NODE, 7);
	sim_set(&s, a, 0, a, 8);
	sim_release(&s, a, 9);
	uint64_t rel_seq = s.seq;
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 1);
	ck_assert_uint_eq(res->garbage_objects, 1);
	ck_assert_uint_eq(res->unreleased_objects, 0);
	ck_assert_uint_eq(res->rc_objects, 1);
	ck_assert_uint_eq(res->live_at_end, 1);
	const struct rcobj_cycle *c = &res->cycles[0];
	ck_assert_uint_eq(c->nmembers, 1);
	ck_assert_int_eq(c->members[0].in_cycle, 1);
	ck_assert_int_eq(c->members[0].refcount, 1);
	ck_assert_uint_eq(c->members[0].alloc_stack, 7);
	ck_assert_uint_eq(c->nedges, 1);
	ck_assert_int_eq(c->edges[0].slot_off, sim_off(0));
	ck_assert_uint_eq(c->bytes, 48);
	ck_assert_int_eq(c->has_culprit, 1);
	ck_assert_uint_eq(c->culprit.seq, rel_seq);
	ck_assert_uint_eq(c->culprit.stack, 9);
	ck_assert_int_eq(c->culprit_is_edge_clear, 0);
	ck_assert_int_eq(c->found_gen, -1);
	ck_assert_uint_eq(res->nerrors, 0);
	rcobj_destroy(r);
}
END_TEST

/* The example of the brief: release(b) leaves b held by a; release(a) is
 * the release that made the cycle garbage. */
START_TEST(test_two_node_cycle_culprit)
{
	struct rcobj *r = mk_final_only();
	struct sim s;
	sim_init(&s, r, 0x20000, 0x40);
	int a = sim_new(&s, T_NODE, 1);
	int b = sim_new(&s, T_NODE, 2);
	sim_set(&s, a, 0, b, 3);
	sim_set(&s, b, 0, a, 4);
	sim_release(&s, b, 5);
	uint64_t rb = s.seq;
	sim_release(&s, a, 6);
	uint64_t ra = s.seq;
	ck_assert_uint_ne(ra, rb);
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 1);
	ck_assert_uint_eq(res->garbage_objects, 2);
	const struct rcobj_cycle *c = &res->cycles[0];
	ck_assert_uint_eq(c->nmembers, 2);
	ck_assert_uint_eq(c->nedges, 2);
	ck_assert_int_eq(c->has_culprit, 1);
	ck_assert_uint_eq(c->culprit.seq, ra);
	ck_assert_uint_eq(c->culprit.stack, 6);
	ck_assert_uint_eq(c->culprit_obj, sim_addr(&s, a));
	ck_assert_int_eq(c->culprit_is_edge_clear, 0);
	/* rcobj_finish twice: same results */
	ck_assert_ptr_eq(rcobj_finish(r), res);
	rcobj_destroy(r);
}
END_TEST

START_TEST(test_ring_with_tail)
{
	struct rcobj *r = mk_final_only();
	struct sim s;
	sim_init(&s, r, 0x30000, 0x40);
	int a = sim_new(&s, T_NODE, 1), b = sim_new(&s, T_NODE, 1);
	int c = sim_new(&s, T_NODE, 1), t = sim_new(&s, T_LEAF, 2);
	int t2 = sim_new(&s, T_LEAF, 3);
	sim_set(&s, a, 0, b, 1);
	sim_set(&s, b, 0, c, 1);
	sim_set(&s, c, 0, a, 1);
	sim_set(&s, c, 1, t, 1);
	sim_set(&s, t, 0, t2, 1);       /* a tail two long */
	for (int i = 0; i < 5; i++)
		sim_release(&s, i, 9);
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 1);
	ck_assert_uint_eq(res->garbage_objects, 5);
	const struct rcobj_cycle *cy = &res->cycles[0];
	ck_assert_uint_eq(cy->nmembers, 5);
	ck_assert_uint_eq(cy->nedges, 5);
	int in;
	ck_assert_ptr_eq(cycle_with(res, sim_addr(&s, t), &in), cy);
	ck_assert_int_eq(in, 0);
	ck_assert_ptr_eq(cycle_with(res, sim_addr(&s, t2), &in), cy);
	ck_assert_int_eq(in, 0);
	ck_assert_ptr_eq(cycle_with(res, sim_addr(&s, b), &in), cy);
	ck_assert_int_eq(in, 1);
	rcobj_destroy(r);
}
END_TEST

/* Ring R1 -> ring R2: two cycles.  R2 keeps its own tail; a tail that
 * hangs from both belongs to the upstream R1.  R2 was held by R1, so its
 * culprit is R1's, even though R2's own references went first. */
START_TEST(test_ring_into_ring)
{
	struct rcobj *r = mk_final_only();
	struct sim s;
	sim_init(&s, r, 0x40000, 0x40);
	int a = sim_new(&s, T_NODE, 1), b = sim_new(&s, T_NODE, 1);
	int c = sim_new(&s, T_OTHER, 2), d = sim_new(&s, T_OTHER, 2);
	int t_own = sim_new(&s, T_LEAF, 3), t_both = sim_new(&s, T_LEAF, 4);
	sim_set(&s, a, 0, b, 1);
	sim_set(&s, b, 0, a, 1);
	sim_set(&s, c, 0, d, 1);
	sim_set(&s, d, 0, c, 1);
	sim_set(&s, a, 1, c, 1);        /* R1 -> R2 */
	sim_set(&s, d, 1, t_own, 1);
	sim_set(&s, c, 1, t_both, 1);
	sim_set(&s, b, 1, t_both, 1);
	sim_release(&s, t_own, 5);
	sim_release(&s, t_both, 5);
	sim_release(&s, c, 5);
	sim_release(&s, d, 5);          /* R2 still held through a */
	sim_release(&s, b, 6);
	sim_release(&s, a, 7);          /* the culprit of both */
	uint64_t ra = s.seq;
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 2);
	ck_assert_uint_eq(res->garbage_objects, 6);
	int in;
	const struct rcobj_cycle *r1 = cycle_with(res, sim_addr(&s, a), &in);
	const struct rcobj_cycle *r2 = cycle_with(res, sim_addr(&s, c), &in);
	ck_assert_ptr_nonnull(r1);
	ck_assert_ptr_nonnull(r2);
	ck_assert_ptr_ne(r1, r2);
	ck_assert_ptr_eq(cycle_with(res, sim_addr(&s, b), NULL), r1);
	ck_assert_ptr_eq(cycle_with(res, sim_addr(&s, d), NULL), r2);
	ck_assert_ptr_eq(cycle_with(res, sim_addr(&s, t_own), &in), r2);
	ck_assert_int_eq(in, 0);
	ck_assert_ptr_eq(cycle_with(res, sim_addr(&s, t_both), &in), r1);
	ck_assert_int_eq(in, 0);
	ck_assert_uint_eq(r1->nmembers, 3);
	ck_assert_uint_eq(r2->nmembers, 3);
	/* edges listed are those inside each cycle's group */
	ck_assert_uint_eq(r1->nedges, 3);       /* a->b, b->a, b->t_both */
	ck_assert_uint_eq(r2->nedges, 3);       /* c->d, d->c, d->t_own */
	ck_assert_int_eq(r1->has_culprit, 1);
	ck_assert_int_eq(r2->has_culprit, 1);
	ck_assert_uint_eq(r1->culprit.seq, ra);
	ck_assert_uint_eq(r2->culprit.seq, ra);
	ck_assert_uint_eq(r2->culprit_obj, sim_addr(&s, a));
	rcobj_destroy(r);
}
END_TEST

START_TEST(test_outside_hold_keeps_cycle)
{
	struct rcobj *r = mk_final_only();
	struct sim s;
	sim_init(&s, r, 0x50000, 0x40);
	int h = sim_new(&s, T_OTHER, 1);
	int a = sim_new(&s, T_NODE, 2), b = sim_new(&s, T_NODE, 2);
	sim_set(&s, a, 0, b, 3);
	sim_set(&s, b, 0, a, 3);
	sim_set(&s, h, 0, a, 3);
	sim_release(&s, a, 4);
	sim_release(&s, b, 4);
	/* h is still held by its creator: nothing is garbage */
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 0);
	ck_assert_uint_eq(res->garbage_objects, 0);
	ck_assert_uint_eq(res->unreleased_objects, 3);
	ck_assert_uint_eq(res->nunreleased, 2);
	ck_assert_uint_eq(res->unreleased[0].count, 2);   /* two nodes first */
	ck_assert_uint_eq(res->unreleased[0].type, T_NODE);
	ck_assert_uint_eq(res->unreleased[0].bytes, 96);
	ck_assert_uint_eq(res->unreleased[1].count, 1);
	ck_assert_uint_eq(res->unreleased[1].type, T_OTHER);
	ck_assert(rcobj_is_live(r, sim_addr(&s, a)));
	ck_assert(!rcobj_is_live(r, 0x999));
	rcobj_destroy(r);
}
END_TEST

/* A counted reference with no declared edge counts as held from outside:
 * it hides the cycle, never invents one. */
START_TEST(test_undeclared_reference_hides_cycle)
{
	struct rcobj *r = mk(1, 1, 1);
	struct sim s;
	sim_init(&s, r, 0x60000, 0x40);
	int a = sim_new(&s, T_NODE, 1), b = sim_new(&s, T_NODE, 1);
	sim_set(&s, a, 0, b, 2);
	sim_set(&s, b, 0, a, 2);
	sim_retain(&s, a, 3);           /* stored somewhere undeclared */
	sim_release(&s, a, 4);
	sim_release(&s, b, 4);
	for (int i = 0; i < 20; i++)
		sim_new(&s, T_LEAF, 5);         /* drive collections */
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 0);
	ck_assert_uint_eq(res->garbage_objects, 0);
	ck_assert_uint_eq(res->unreleased_objects, 22);
	for (int g = 0; g < 3; g++)
		ck_assert_uint_eq(res->gens[g].collected, 0);
	rcobj_destroy(r);
}
END_TEST

START_TEST(test_edge_clear_breaks_cycle)
{
	struct rcobj *r = mk_final_only();
	struct sim s;
	sim_init(&s, r, 0x70000, 0x40);
	int a = sim_new(&s, T_NODE, 1), b = sim_new(&s, T_NODE, 1);
	sim_set(&s, a, 0, b, 2);
	sim_set(&s, b, 0, a, 2);
	sim_set(&s, b, 0, -1, 3);       /* break it */
	sim_release(&s, b, 4);
	sim_release(&s, a, 4);          /* frees a, then b */
	ck_assert(s.freed[a] && s.freed[b]);
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 0);
	ck_assert_uint_eq(res->live_at_end, 0);
	ck_assert_uint_eq(res->nerrors, 0);
	rcobj_destroy(r);
}
END_TEST

/* An owner freed without clearing its slots (plain releases in its
 * destructor): the free drops its edges, the cycle it held is garbage,
 * and the culprit is the plain release done by that destructor. */
START_TEST(test_freed_owner_drops_edges)
{
	struct rcobj *r = mk_final_only();
	struct sim s;
	sim_init(&s, r, 0x80000, 0x40);
	int h = sim_new(&s, T_OTHER, 1);
	int a = sim_new(&s, T_NODE, 1), b = sim_new(&s, T_NODE, 1);
	sim_set(&s, a, 0, b, 2);
	sim_set(&s, b, 0, a, 2);
	sim_set(&s, h, 0, a, 2);
	sim_set(&s, h, 1, b, 2);
	sim_release(&s, a, 3);
	sim_release(&s, b, 3);
	sim_free_plain(&s, h, 9);
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 1);
	ck_assert_uint_eq(res->garbage_objects, 2);
	const struct rcobj_cycle *c = &res->cycles[0];
	ck_assert_int_eq(c->has_culprit, 1);
	ck_assert_int_eq(c->culprit_is_edge_clear, 0);
	ck_assert_uint_eq(c->culprit.stack, 9);
	ck_assert_uint_eq(c->culprit_obj, sim_addr(&s, b));
	ck_assert_uint_eq(res->nerrors, 0);
	ck_assert(!rcobj_is_live(r, sim_addr(&s, h)));
	rcobj_destroy(r);
}
END_TEST

/* The last outside reference was a slot of an outside object, cleared by
 * rc_set(h, &h->x, NULL): the culprit is that edge clear. */
START_TEST(test_culprit_edge_clear)
{
	struct rcobj *r = mk_final_only();
	struct sim s;
	sim_init(&s, r, 0x90000, 0x40);
	int h = sim_new(&s, T_OTHER, 1);
	int a = sim_new(&s, T_NODE, 1), b = sim_new(&s, T_NODE, 1);
	sim_set(&s, a, 0, b, 2);
	sim_set(&s, b, 0, a, 2);
	sim_set(&s, h, 0, a, 2);
	sim_release(&s, a, 3);
	sim_release(&s, b, 3);
	sim_set(&s, h, 0, -1, 42);      /* edge event, then release of a */
	uint64_t edge_seq = s.seq - 1;
	ck_assert_int_eq(s.ev[edge_seq].kind, SIM_EV_EDGE);
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 1);
	const struct rcobj_cycle *c = &res->cycles[0];
	ck_assert_int_eq(c->has_culprit, 1);
	ck_assert_int_eq(c->culprit_is_edge_clear, 1);
	ck_assert_uint_eq(c->culprit.seq, edge_seq);
	ck_assert_uint_eq(c->culprit.stack, 42);
	ck_assert_uint_eq(c->culprit_obj, sim_addr(&s, a));
	ck_assert_uint_eq(res->unreleased_objects, 1);  /* h */
	rcobj_destroy(r);
}
END_TEST

/* An internal rearrangement (a slot of a member overwritten) is not the
 * culprit even when it is the last release of a member. */
START_TEST(test_culprit_ignores_internal_rearrangement)
{
	struct rcobj *r = mk_final_only();
	struct sim s;
	sim_init(&s, r, 0xa0000, 0x40);
	int a = sim_new(&s, T_NODE, 1), b = sim_new(&s, T_NODE, 1);
	int c = sim_new(&s, T_NODE, 1);
	sim_set(&s, a, 0, b, 2);
	sim_set(&s, b, 0, c, 2);
	sim_set(&s, c, 0, a, 2);
	sim_set(&s, a, 1, c, 2);
	sim_release(&s, b, 3);
	sim_release(&s, c, 3);
	sim_release(&s, a, 4);          /* culprit */
	uint64_t ra = s.seq;
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 1);
	ck_assert_uint_eq(res->cycles[0].culprit.seq, ra);
	rcobj_destroy(r);

	/* Same, but after c's outside reference went, a's extra slot moves
	 * from c to b: c's last release is then internal (by member a), and
	 * the culprit is still the release of a. */
	r = mk_final_only();
	sim_init(&s, r, 0xa0000, 0x40);
	a = sim_new(&s, T_NODE, 1);
	b = sim_new(&s, T_NODE, 1);
	c = sim_new(&s, T_NODE, 1);
	sim_set(&s, a, 0, b, 2);
	sim_set(&s, b, 0, c, 2);
	sim_set(&s, c, 0, a, 2);
	sim_set(&s, a, 1, c, 2);
	sim_release(&s, b, 3);
	sim_release(&s, c, 3);
	sim_set(&s, a, 1, b, 8);
	ck_assert(s.ev[s.seq].kind == SIM_EV_RELEASE && s.ev[s.seq].obj == c);
	sim_release(&s, a, 4);
	ra = s.seq;
	res = rcobj_finish(r);
	ck_assert_uint_eq(res->cycles[0].culprit.seq, ra);
	rcobj_destroy(r);
}
END_TEST

/* Test hasher: string id -> name, different ids in different "runs". */
struct names {
	const char *by_id[16];
};

static uint64_t fnv(const char *p)
{
	uint64_t h = 0xcbf29ce484222325ull;
	while (*p)
		h = (h ^ (unsigned char)*p++) * 0x100000001b3ull;
	return h;
}

static uint64_t name_hash(void *ud, uint32_t id)
{
	const struct names *n = ud;
	return fnv(id < 16 && n->by_id[id] ? n->by_id[id] : "?");
}

static uint64_t site_hash(void *ud, uint32_t stack)
{
	(void)ud;
	return stack * 0x9e3779b97f4a7c15ull + 1;  /* "symbolized" site */
}

/* A 3-ring of (node, node, leaf) built in the given order at the given
 * addresses; returns the signature. */
static uint64_t ring_signature(uint64_t base, uint64_t stride, int reverse,
			       uint32_t node_id, uint32_t leaf_id,
			       struct names *nm, int len)
{
	struct rcobj_config cfg = { .thresholds = { UINT_MAX, 10, 10 },
				    .hasher = { nm, site_hash, name_hash } };
	struct rcobj *r = rcobj_create(&cfg);
	struct sim s;
	sim_init(&s, r, base, stride);
	int ids[8];
	for (int i = 0; i < len; i++)
		ids[i] = sim_new(&s, i == len - 1 ? leaf_id : node_id,
				 i == len - 1 ? 20 : 10);
	for (int i = 0; i < len; i++) {
		int j = reverse ? len - 1 - i : i;
		sim_set(&s, ids[j], 0, ids[(j + 1) % len], 30);
	}
	sim_set(&s, ids[0], 2, ids[1], 30);     /* a chord: some asymmetry */
	for (int i = 0; i < len; i++)
		sim_release(&s, ids[reverse ? i : len - 1 - i], 31);
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 1);
	uint64_t sig = res->cycles[0].signature;
	/* canonical order: by type hash then site hash, never address */
	for (size_t k = 1; k < res->cycles[0].nmembers; k++) {
		uint64_t p = name_hash(nm, res->cycles[0].members[k - 1].type);
		uint64_t q = name_hash(nm, res->cycles[0].members[k].type);
		ck_assert(p <= q);
	}
	rcobj_destroy(r);
	return sig;
}

START_TEST(test_signature_stable)
{
	struct names run1 = {{0}}, run2 = {{0}}, run3 = {{0}};
	run1.by_id[1] = "node";
	run1.by_id[2] = "leaf";
	run2.by_id[5] = "node";
	run2.by_id[9] = "leaf";
	run3.by_id[1] = "node";
	run3.by_id[2] = "other";
	uint64_t s1 = ring_signature(0x100000, 0x40, 0, 1, 2, &run1, 3);
	uint64_t s2 = ring_signature(0x7f0000000000, 0x1a0, 1, 5, 9, &run2, 3);
	uint64_t s3 = ring_signature(0x100000, 0x40, 0, 1, 2, &run3, 3);
	uint64_t s4 = ring_signature(0x100000, 0x40, 0, 1, 2, &run1, 4);
	uint64_t s5 = ring_signature(0x5550000, 0x80, 1, 1, 2, &run1, 4);
	ck_assert_uint_eq(s1, s2);      /* other addresses, order, ids */
	ck_assert_uint_ne(s1, s3);      /* other type */
	ck_assert_uint_ne(s1, s4);      /* other structure */
	ck_assert_uint_eq(s4, s5);
}
END_TEST

/* Two rings of identical nodes in one run: same signature, members in
 * ring order. */
START_TEST(test_signature_same_run)
{
	struct rcobj *r = mk_final_only();
	struct sim s;
	sim_init(&s, r, 0xb0000, 0x40);
	int x[4], y[4];
	for (int i = 0; i < 4; i++)
		x[i] = sim_new(&s, T_NODE, 1);
	for (int i = 0; i < 4; i++)
		y[i] = sim_new(&s, T_NODE, 1);
	for (int i = 0; i < 4; i++)
		sim_set(&s, x[i], 0, x[(i + 1) % 4], 2);
	for (int i = 3; i >= 0; i--)
		sim_set(&s, y[i], 0, y[(i + 3) % 4], 2);   /* other direction */
	for (int i = 0; i < 4; i++) {
		sim_release(&s, x[i], 3);
		sim_release(&s, y[i], 3);
	}
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 2);
	ck_assert_uint_eq(res->cycles[0].signature, res->cycles[1].signature);
	for (int c = 0; c < 2; c++) {
		const struct rcobj_cycle *cy = &res->cycles[c];
		/* consecutive members follow the ring's edges */
		for (size_t k = 0; k + 1 < cy->nmembers; k++) {
			int found = 0;
			for (size_t e = 0; e < cy->nedges; e++)
				if (cy->edges[e].owner == cy->members[k].addr &&
				    cy->edges[e].target == cy->members[k + 1].addr)
					found = 1;
			ck_assert(found);
		}
	}
	rcobj_destroy(r);
}
END_TEST

/* CPython's counters, modelled independently: allocations only. */
static void model_collections(int nalloc, unsigned t0, unsigned t1, unsigned t2,
			      uint64_t out[3])
{
	uint64_t cnt[3] = {0};
	unsigned th[3] = { t0, t1, t2 };
	out[0] = out[1] = out[2] = 0;
	for (int i = 0; i < nalloc; i++) {
		if (++cnt[0] <= th[0])
			continue;
		int g = 2;
		while (g > 0 && cnt[g] <= th[g])
			g--;
		out[g]++;
		if (g < 2)
			cnt[g + 1]++;
		for (int k = 0; k <= g; k++)
			cnt[k] = 0;
	}
}

START_TEST(test_generational_found_and_stats)
{
	struct rcobj *r = mk(3, 2, 2);
	struct sim s;
	sim_init(&s, r, 0xc0000, 0x40);
	int a = sim_new(&s, T_NODE, 1), b = sim_new(&s, T_NODE, 1);
	sim_set(&s, a, 0, b, 2);
	sim_set(&s, b, 0, a, 2);
	sim_release(&s, a, 3);
	sim_release(&s, b, 3);          /* garbage from here, 2 allocs so far */
	int keep = sim_new(&s, T_LEAF, 4);      /* 3 */
	(void)keep;
	sim_new(&s, T_LEAF, 4);                 /* 4: > 3, first gen0 collection */
	uint64_t trig_ts = s.seq * 10;
	for (int i = 0; i < 40; i++)
		sim_new(&s, T_LEAF, 5);
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 1);
	const struct rcobj_cycle *c = &res->cycles[0];
	ck_assert_int_eq(c->found_gen, 0);
	ck_assert_uint_eq(c->found_collection, 1);
	ck_assert_uint_eq(c->found_ts, trig_ts);
	uint64_t want[3];
	model_collections(44, 3, 2, 2, want);
	for (int g = 0; g < 3; g++)
		ck_assert_uint_eq(res->gens[g].collections, want[g]);
	ck_assert_uint_eq(res->collections, want[0] + want[1] + want[2]);
	ck_assert_uint_eq(res->gens[0].collected, 2);
	ck_assert_uint_eq(res->gens[1].collected + res->gens[2].collected, 0);
	ck_assert_uint_eq(res->gens[0].uncollectable, 0);
	rcobj_destroy(r);
}
END_TEST

/* A cycle that survives young collections is promoted; once released it
 * is found only by a collection of the generation it reached. */
START_TEST(test_generational_promotion)
{
	struct rcobj *r = mk(1, 1, 1);
	struct sim s;
	sim_init(&s, r, 0xd0000, 0x40);
	int a = sim_new(&s, T_NODE, 1), b = sim_new(&s, T_NODE, 1);
	sim_set(&s, a, 0, b, 2);
	sim_set(&s, b, 0, a, 2);
	sim_release(&s, b, 3);
	for (int i = 0; i < 30; i++)
		sim_new(&s, T_LEAF, 4);         /* a, b reach gen 2 */
	sim_release(&s, a, 5);
	for (int i = 0; i < 30; i++)
		sim_new(&s, T_LEAF, 4);
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 1);
	ck_assert_int_eq(res->cycles[0].found_gen, 2);
	ck_assert_uint_eq(res->gens[2].collected, 2);
	ck_assert_uint_eq(res->gens[0].collected + res->gens[1].collected, 0);
	uint64_t want[3];
	model_collections(62, 1, 1, 1, want);
	for (int g = 0; g < 3; g++)
		ck_assert_uint_eq(res->gens[g].collections, want[g]);
	rcobj_destroy(r);
}
END_TEST

/* Deallocations count down gen0 like CPython: alloc/free pairs never
 * trigger a collection. */
START_TEST(test_generational_dealloc_counts)
{
	struct rcobj *r = mk(5, 10, 10);
	struct sim s;
	sim_init(&s, r, 0xe0000, 0x40);
	for (int i = 0; i < 50; i++)
		sim_release(&s, sim_new(&s, T_LEAF, 1), 2);
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->collections, 0);
	ck_assert_uint_eq(res->rc_objects, 50);
	ck_assert_uint_eq(res->live_at_end, 0);
	rcobj_destroy(r);
}
END_TEST

/* A found object the program touches again was not garbage: it is
 * unmarked (with what it reaches), and found again later. */
START_TEST(test_found_then_touched)
{
	struct rcobj *r = mk(5, 100, 100);
	struct sim s;
	sim_init(&s, r, 0xf0000, 0x40);
	int a = sim_new(&s, T_NODE, 1), b = sim_new(&s, T_NODE, 1);
	sim_set(&s, a, 0, b, 2);
	sim_set(&s, b, 0, a, 2);
	sim_release(&s, a, 3);
	sim_release(&s, b, 3);
	for (int i = 0; i < 4; i++)
		sim_new(&s, T_LEAF, 4);         /* the 6th allocation collects */
	/* an undeclared pointer resurrects a (and b, which a reaches) */
	sim_retain(&s, a, 5);
	sim_release(&s, a, 6);          /* garbage again, in gen0 */
	uint64_t ra = s.seq;
	for (int i = 0; i < 6; i++)
		sim_new(&s, T_LEAF, 4);
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->ncycles, 1);
	const struct rcobj_cycle *c = &res->cycles[0];
	ck_assert_int_eq(c->found_gen, 0);
	ck_assert_uint_eq(c->found_collection, 2);
	ck_assert_uint_gt(c->found_ts, ra * 10);
	ck_assert_uint_eq(c->culprit.seq, ra);
	ck_assert_uint_eq(res->gens[0].collections, 2);
	ck_assert_uint_eq(res->gens[0].collected, 4);   /* found twice */
	rcobj_destroy(r);
}
END_TEST

/* ---- misuse ---------------------------------------------------------------- */

static struct rcp_where at(uint64_t seq, uint32_t stack)
{
	return (struct rcp_where){ .ts = seq * 10, .seq = seq, .tid = 1,
				   .stack = stack };
}

START_TEST(test_misuse)
{
	struct rcobj *r = mk_final_only();
	struct rcp_where w;
	w = at(1, 1);
	rcobj_on_new(r, 0x100, 16, T_NODE, 1, &w);
	w = at(2, 2);
	rcobj_on_release(r, 0x100, 0, &w);
	w = at(3, 3);
	rcobj_on_free(r, 0x100, &w);            /* the free */
	w = at(10, 10);
	rcobj_on_release(r, 0x100, RCP_COUNT_UNKNOWN, &w);
	w = at(20, 20);
	rcobj_on_retain(r, 0x100, RCP_COUNT_UNKNOWN, &w);
	w = at(30, 30);
	rcobj_on_free(r, 0x100, &w);
	w = at(40, 40);
	rcobj_on_retain(r, 0x200, RCP_COUNT_UNKNOWN, &w);
	w = at(50, 50);
	rcobj_on_new(r, 0x300, 16, T_LEAF, 1, &w);
	w = at(51, 51);
	rcobj_on_release(r, 0x300, -1, &w);     /* recorded below zero */
	w = at(52, 52);
	rcobj_on_edge(r, 0x100, 8, 0x300, &w);  /* slot of a freed owner */
	/* rc_set(owner, slot, freed): retain + edge + release: one error */
	w = at(60, 60);
	rcobj_on_retain(r, 0x100, RCP_COUNT_UNKNOWN, &w);
	w = at(61, 60);
	rcobj_on_edge(r, 0x300, 8, 0x100, &w);
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->nerrors, 7);
	enum rcp_error_kind kinds[] = {
		RCP_ERR_RELEASE_FREED, RCP_ERR_RETAIN_FREED, RCP_ERR_RC_DOUBLE_FREE,
		RCP_ERR_UNKNOWN_OBJECT, RCP_ERR_NEGATIVE_COUNT, RCP_ERR_EDGE_FREED,
		RCP_ERR_RETAIN_FREED,
	};
	uint64_t seqs[] = { 10, 20, 30, 40, 51, 52, 60 };
	for (size_t i = 0; i < 7; i++) {
		ck_assert_int_eq(res->errors[i].kind, kinds[i]);
		ck_assert_uint_eq(res->errors[i].at.seq, seqs[i]);
	}
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(res->errors[i].has_earlier, 1);
		ck_assert_uint_eq(res->errors[i].earlier.seq, 3);
		ck_assert_uint_eq(res->errors[i].earlier.stack, 3);
		ck_assert_uint_eq(res->errors[i].addr, 0x100);
		ck_assert_uint_eq(res->errors[i].type, T_NODE);
	}
	ck_assert_int_eq(res->errors[3].has_earlier, 0);
	ck_assert_uint_eq(res->errors[4].type, T_LEAF);
	ck_assert_int_eq(res->errors[5].has_earlier, 1);
	rcobj_destroy(r);
}
END_TEST

/* With RCPROF_FREE_STACKS the release that drops a count to 0 keeps a
 * backtrace and the free has none: the release is where the object was
 * freed, also when a destructor's releases and frees nest inside. */
START_TEST(test_freed_by_release)
{
	struct rcobj *r = mk_final_only();
	struct rcp_where w;
	w = at(1, 1);
	rcobj_on_new(r, 0x100, 16, T_NODE, 1, &w);
	w = at(2, 1);
	rcobj_on_new(r, 0x200, 16, T_LEAF, 1, &w);
	w = at(3, 1);
	rcobj_on_new(r, 0x300, 16, T_LEAF, 1, &w);
	w = at(10, 10);
	rcobj_on_release(r, 0x100, 0, &w);      /* frees 0x100 ... */
	w = at(11, 11);
	rcobj_on_release(r, 0x200, 0, &w);      /* ... whose dtor frees 0x200 */
	w = at(12, 0);
	rcobj_on_free(r, 0x200, &w);
	w = at(13, 0);
	rcobj_on_release(r, 0x300, 0, &w);      /* no backtrace: the free's */
	w = at(14, 0);
	rcobj_on_free(r, 0x300, &w);
	w = at(15, 0);
	rcobj_on_free(r, 0x100, &w);
	w = at(20, 20);
	rcobj_on_release(r, 0x100, RCP_COUNT_UNKNOWN, &w);
	w = at(21, 21);
	rcobj_on_release(r, 0x200, RCP_COUNT_UNKNOWN, &w);
	w = at(22, 22);
	rcobj_on_release(r, 0x300, RCP_COUNT_UNKNOWN, &w);
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->nerrors, 3);
	const uint64_t seq[] = { 10, 11, 14 };
	const uint32_t stack[] = { 10, 11, 0 };
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(res->errors[i].kind, RCP_ERR_RELEASE_FREED);
		ck_assert_int_eq(res->errors[i].has_earlier, 1);
		ck_assert_uint_eq(res->errors[i].earlier.seq, seq[i]);
		ck_assert_uint_eq(res->errors[i].earlier.stack, stack[i]);
	}
	rcobj_destroy(r);
}
END_TEST

START_TEST(test_tolerate_unknown_and_counts)
{
	struct rcobj_config cfg = { .thresholds = { UINT_MAX, 10, 10 },
				    .tolerate_unknown = 1 };
	struct rcobj *r = rcobj_create(&cfg);
	struct rcp_where w = at(1, 1);
	rcobj_on_retain(r, 0x500, 3, &w);
	rcobj_on_release(r, 0x500, 2, &w);
	rcobj_on_edge(r, 0x500, 8, 0x600, &w);  /* untracked: ignored */
	w = at(2, 2);
	rcobj_on_new(r, 0x700, 8, T_NODE, 1, &w);
	/* recorded counts are trusted (another thread's retains) */
	w = at(3, 3);
	rcobj_on_retain(r, 0x700, 5, &w);
	/* a slot of a non-rc struct pointing at 0x700: outside reference */
	rcobj_on_edge(r, 0x9000, 0, 0x700, &w);
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->nerrors, 0);
	ck_assert_uint_eq(res->nunreleased, 1);
	ck_assert_uint_eq(res->unreleased[0].example_addr, 0x700);
	ck_assert_uint_eq(res->rc_objects, 1);
	rcobj_destroy(r);
}
END_TEST

/* A slot still naming an object freed meanwhile, overwritten later. */
START_TEST(test_dangling_slot_overwrite)
{
	struct rcobj *r = mk_final_only();
	struct rcp_where w = at(1, 1);
	rcobj_on_new(r, 0x100, 16, T_NODE, 1, &w);
	rcobj_on_new(r, 0x200, 16, T_NODE, 1, &w);
	w = at(2, 2);
	rcobj_on_edge(r, 0x100, 8, 0x200, &w);  /* note_edge: no retain */
	w = at(3, 3);
	rcobj_on_free(r, 0x200, &w);            /* freed under the edge */
	w = at(4, 4);
	rcobj_on_new(r, 0x400, 16, T_NODE, 1, &w);  /* reuses the pool entry */
	w = at(5, 5);
	rcobj_on_edge(r, 0x100, 8, 0, &w);      /* pool entry reused: quiet */
	w = at(6, 6);
	rcobj_on_edge(r, 0x100, 8, 0x400, &w);
	w = at(7, 7);
	rcobj_on_free(r, 0x400, &w);
	w = at(8, 8);
	rcobj_on_edge(r, 0x100, 8, 0, &w);      /* dangling: misuse */
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->nerrors, 1);
	ck_assert_int_eq(res->errors[0].kind, RCP_ERR_EDGE_FREED);
	ck_assert_uint_eq(res->errors[0].addr, 0x400);
	ck_assert_uint_eq(res->errors[0].earlier.seq, 7);
	rcobj_destroy(r);
}
END_TEST

/* ---- clock skew between threads (rcobj_skew.c) ------------------------- */

static struct rcp_where atx(uint64_t seq, uint64_t ts, uint32_t tid)
{
	return (struct rcp_where){ .ts = ts, .seq = seq, .tid = tid,
				   .stack = (uint32_t)seq };
}

/* Thread 2's retain and release of an object thread 1 creates and hands
 * over, stamped 40 ns before the creation: replayed on it, no misuse.
 * The same events from the creating thread itself are misuse (one
 * thread's events keep their order), as are events that wait longer than
 * the skew. */
START_TEST(test_skew_handover_before_new)
{
	struct rcobj *r = mk_final_only();
	struct rcp_where w;
	w = atx(1, 1000, 1);
	rcobj_on_new(r, 0x100, 16, T_NODE, 1, &w);      /* an earlier object */
	w = atx(2, 1100, 1);
	rcobj_on_release(r, 0x100, 0, &w);
	w = atx(3, 1200, 1);
	rcobj_on_free(r, 0x100, &w);
	w = atx(4, 5000, 2);
	rcobj_on_retain(r, 0x100, 2, &w);               /* early stamps */
	w = atx(5, 5010, 2);
	rcobj_on_release(r, 0x100, 1, &w);
	w = atx(6, 5040, 1);
	rcobj_on_new(r, 0x100, 16, T_NODE, 1, &w);      /* the handed-over one */
	w = atx(7, 6000, 1);
	rcobj_on_retain(r, 0x200, 2, &w);               /* same thread: misuse */
	w = atx(8, 6100, 1);
	rcobj_on_new(r, 0x200, 16, T_NODE, 1, &w);
	w = atx(9, 7000, 2);
	rcobj_on_release(r, 0x300, 1, &w);              /* waits too long */
	w = atx(10, 7000 + 10001, 1);
	rcobj_on_new(r, 0x300, 16, T_LEAF, 1, &w);
	w = atx(11, 30000, 2);
	rcobj_on_release(r, 0x400, 1, &w);              /* never created */
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->nerrors, 3);
	ck_assert_int_eq(res->errors[0].kind, RCP_ERR_UNKNOWN_OBJECT);
	ck_assert_uint_eq(res->errors[0].at.seq, 7);
	ck_assert_int_eq(res->errors[1].kind, RCP_ERR_UNKNOWN_OBJECT);
	ck_assert_uint_eq(res->errors[1].at.seq, 9);
	ck_assert_int_eq(res->errors[2].kind, RCP_ERR_UNKNOWN_OBJECT);
	ck_assert_uint_eq(res->errors[2].at.seq, 11);
	ck_assert_uint_eq(res->reordered, 2);
	/* 0x100: created with 1, +1 -1: one reference, unreleased */
	ck_assert_uint_eq(res->live_at_end, 3);
	int found = 0;
	for (size_t i = 0; i < res->nunreleased; i++)
		if (res->unreleased[i].example_addr == 0x100)
			found = 1;
	ck_assert_int_eq(found, 1);
	rcobj_destroy(r);
}
END_TEST

/* Thread 1's release that left 1 reference, stamped after thread 2's
 * last release and the free: a late event, dropped; also with no count
 * (rcprof_note_release called after the program's own decrement).  The same from the
 * freeing thread, after the skew, or with a count read from freed memory
 * is misuse. */
START_TEST(test_skew_late_release)
{
	struct rcobj *r = mk_final_only();
	struct rcp_where w;
	uint64_t addr[5] = { 0x100, 0x200, 0x300, 0x400, 0x500 };
	uint64_t late[5] = { 2300, 2300, 2200 + 10001, 2300, 2300 };
	uint32_t late_tid[5] = { 1, 2, 1, 1, 1 };
	int64_t late_count[5] = { 1, 1, 1, (int64_t)1 << 40,
				  RCP_COUNT_UNKNOWN /* rcprof_note_release */ };
	for (int i = 0; i < 5; i++) {
		uint64_t s = 10 * (uint64_t)i;
		w = atx(s + 1, 1000, 1);
		rcobj_on_new(r, addr[i], 16, T_NODE, 1, &w);
		w = atx(s + 2, 1100, 1);
		rcobj_on_retain(r, addr[i], 2, &w);     /* handed to thread 2 */
		w = atx(s + 3, 2100, 2);
		rcobj_on_release(r, addr[i], 0, &w);    /* stamped first */
		w = atx(s + 4, 2200, 2);
		rcobj_on_free(r, addr[i], &w);
		w = atx(s + 5, late[i], late_tid[i]);
		rcobj_on_release(r, addr[i], late_count[i], &w);
	}
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->nerrors, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(res->errors[i].kind, RCP_ERR_RELEASE_FREED);
		ck_assert_int_eq(res->errors[i].has_earlier, 1);
	}
	ck_assert_uint_eq(res->errors[0].addr, 0x200);
	ck_assert_uint_eq(res->errors[1].addr, 0x300);
	ck_assert_uint_eq(res->errors[2].addr, 0x400);
	ck_assert_uint_eq(res->reordered, 2);
	ck_assert_uint_eq(res->live_at_end, 0);
	rcobj_destroy(r);
}
END_TEST

/* A self-referencing object that two threads release last, at once:
 * thread 1 decrements first (3 -> 2), then thread 2 (2 -> 1), but both
 * stamp before their decrement, and thread 2's stamp sorts first.  Taking
 * the last count_after would leave 2 and call the object held from
 * outside; the replayed sum leaves 1, its own edge: garbage. */
START_TEST(test_skew_counts_order_free)
{
	struct rcobj *r = mk_final_only();
	struct rcp_where w;
	w = atx(1, 100, 1);
	rcobj_on_new(r, 0x100, 16, T_NODE, 1, &w);
	w = atx(2, 110, 1);
	rcobj_on_retain(r, 0x100, 2, &w);
	rcobj_on_edge(r, 0x100, 8, 0x100, &w);          /* self edge */
	w = atx(3, 120, 1);
	rcobj_on_retain(r, 0x100, 3, &w);               /* for thread 2 */
	w = atx(4, 200, 2);
	rcobj_on_release(r, 0x100, 1, &w);              /* decremented last */
	w = atx(5, 205, 1);
	rcobj_on_release(r, 0x100, 2, &w);
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->nerrors, 0);
	ck_assert_uint_eq(res->ncycles, 1);
	ck_assert_uint_eq(res->cycles[0].members[0].refcount, 1);
	ck_assert_uint_eq(res->unreleased_objects, 0);
	rcobj_destroy(r);
}
END_TEST

START_TEST(test_suspect_pairing)
{
	struct rcobj *r = mk_final_only();
	rcobj_on_suspect(r, T_NODE);
	struct sim s;
	sim_init(&s, r, 0x200000, 0x40);
	int objs[3];
	for (int i = 0; i < 3; i++) {
		objs[i] = sim_new(&s, T_NODE, 100);     /* never released */
		sim_retain(&s, objs[i], 200);           /* never released */
		sim_retain(&s, objs[i], 300);
		sim_retain(&s, objs[i], 300);
		sim_release(&s, objs[i], 400);          /* pops one 300 */
	}
	sim_retain(&s, objs[0], 500);
	sim_release(&s, objs[0], 600);
	int gone = sim_new(&s, T_NODE, 700);            /* freed: no report */
	sim_release(&s, gone, 800);
	int other = sim_new(&s, T_LEAF, 900);           /* not a suspect */
	(void)other;
	const struct rcobj_results *res = rcobj_finish(r);
	ck_assert_uint_eq(res->suspect_objects, 4);
	ck_assert_uint_eq(res->suspect_events, 3 * 5 + 2 + 2);
	ck_assert_uint_eq(res->nsuspect_sites, 3);
	uint32_t stacks[3] = { res->suspect_sites[0].stack,
			       res->suspect_sites[1].stack,
			       res->suspect_sites[2].stack };
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(res->suspect_sites[i].type, T_NODE);
		ck_assert_uint_eq(res->suspect_sites[i].unmatched, 3);
		ck_assert_uint_eq(res->suspect_sites[i].objects, 3);
	}
	ck_assert(stacks[0] == 100 && stacks[1] == 200 && stacks[2] == 300);
	rcobj_destroy(r);
}
END_TEST

Suite *gc_suite(void)
{
	Suite *s = suite_create("gc");
	TCase *tc = tcase_create("cycles");
	tcase_add_test(tc, test_self_reference);
	tcase_add_test(tc, test_two_node_cycle_culprit);
	tcase_add_test(tc, test_ring_with_tail);
	tcase_add_test(tc, test_ring_into_ring);
	tcase_add_test(tc, test_outside_hold_keeps_cycle);
	tcase_add_test(tc, test_undeclared_reference_hides_cycle);
	tcase_add_test(tc, test_edge_clear_breaks_cycle);
	tcase_add_test(tc, test_freed_owner_drops_edges);
	tcase_add_test(tc, test_culprit_edge_clear);
	tcase_add_test(tc, test_culprit_ignores_internal_rearrangement);
	tcase_add_test(tc, test_signature_stable);
	tcase_add_test(tc, test_signature_same_run);
	suite_add_tcase(s, tc);
	tc = tcase_create("generations");
	tcase_add_test(tc, test_generational_found_and_stats);
	tcase_add_test(tc, test_generational_promotion);
	tcase_add_test(tc, test_generational_dealloc_counts);
	tcase_add_test(tc, test_found_then_touched);
	suite_add_tcase(s, tc);
	tc = tcase_create("misuse");
	tcase_add_test(tc, test_misuse);
	tcase_add_test(tc, test_freed_by_release);
	tcase_add_test(tc, test_tolerate_unknown_and_counts);
	tcase_add_test(tc, test_dangling_slot_overwrite);
	tcase_add_test(tc, test_skew_handover_before_new);
	tcase_add_test(tc, test_skew_late_release);
	tcase_add_test(tc, test_skew_counts_order_free);
	tcase_add_test(tc, test_suspect_pairing);
	suite_add_tcase(s, tc);
	return s;
}
