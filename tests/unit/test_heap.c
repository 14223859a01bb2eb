/* test_heap.c - plain heap replay: leaks grouped by stack, double and
 * invalid frees, realloc, allocation over a live block, refcounted blocks
 * left out, the bounded quarantine and the sweep of forgotten frees; and
 * the parent chain of a fork. */
#include <check.h>
#include <stdio.h>
#include <unistd.h>

#include "analyzer_util.h"
#include "heap.h"
#include "suites.h"

static struct rcp_where at(uint64_t ts, uint32_t stack)
{
	struct rcp_where w = { ts, ts, 1, stack };
	return w;
}

/* A heap as the replay makes it: reserved (run 1 of a loop test) for a
 * dump that says it holds many frees, or left to grow (run 0).  The
 * results must not depend on it. */
static void init_heap(struct rcp_heap *h, int reserved)
{
	ck_assert_int_eq(rcp_heap_init(h), 0);
	if (!reserved)
		return;
	ck_assert_int_eq(rcp_heap_reserve(h, 10 * (uint64_t)RCP_QUARANTINE), 0);
	ck_assert_uint_eq(h->cap, 4 * (size_t)RCP_QUARANTINE);
	ck_assert_ptr_nonnull(h->ring);
}

/* Too few frees to fill the quarantine, or a heap already in use: the
 * reservation changes nothing; enough frees: the table is a quarter-full
 * size for them and blocks go in and out as before. */
START_TEST(test_reserve)
{
	struct rcp_heap h;
	struct rcp_where w = at(1, 0);

	ck_assert_int_eq(rcp_heap_init(&h), 0);
	ck_assert_int_eq(rcp_heap_reserve(&h, RCP_QUARANTINE - 1), 0);
	ck_assert_uint_eq(h.cap, 1024);
	ck_assert_ptr_null(h.ring);
	ck_assert_int_eq(rcp_heap_alloc(&h, 0x100, 8, &w), 0);
	ck_assert_int_eq(rcp_heap_reserve(&h, 100 * (uint64_t)RCP_QUARANTINE), 0);
	ck_assert_uint_eq(h.cap, 1024);
	rcp_heap_free_all(&h);

	init_heap(&h, 1);
	for (uint64_t i = 1; i <= 3 * (uint64_t)RCP_QUARANTINE; i++) {
		ck_assert_int_eq(rcp_heap_alloc(&h, i * 16, i, &w), 0);
		if (i % 3)
			rcp_heap_release(&h, i * 16, &w);
	}
	ck_assert_uint_eq(h.n, RCP_QUARANTINE);
	ck_assert_uint_eq(rcp_heap_find(&h, 3 * 16)->size, 3);
	ck_assert_ptr_null(rcp_heap_find(&h, 16));
	rcp_heap_release(&h, 16, &w);           /* forgotten: invalid */
	rcp_heap_release(&h, (3 * (uint64_t)RCP_QUARANTINE - 1) * 16, &w);
	ck_assert_uint_eq(h.nerrors, 2);
	ck_assert_int_eq(h.errors[0].kind, RCP_ERR_INVALID_FREE);
	ck_assert_int_eq(h.errors[1].kind, RCP_ERR_DOUBLE_FREE);
	rcp_heap_free_all(&h);
}
END_TEST

START_TEST(test_table_many_blocks)
{
	struct rcp_heap h;
	struct rcp_where w = at(1, 0);

	ck_assert_int_eq(rcp_heap_init(&h), 0);
	/* grow through several rehashes, delete every other, look all up */
	for (uint64_t i = 1; i <= 100000; i++)
		ck_assert_int_eq(rcp_heap_alloc(&h, i * 16, i, &w), 0);
	for (uint64_t i = 1; i <= 100000; i += 2)
		rcp_heap_release(&h, i * 16, &w);
	ck_assert_uint_eq(h.n, 50000);
	for (uint64_t i = 1; i <= 100000; i++) {
		const struct rcp_block *b = rcp_heap_find(&h, i * 16);
		if (i % 2)
			ck_assert_ptr_null(b);
		else
			ck_assert_uint_eq(b->size, i);
	}
	ck_assert_uint_eq(h.nerrors, 0);
	size_t live = 0;
	rcp_heap_foreach(&h, b)
		live++;
	ck_assert_uint_eq(live, 50000);
	rcp_heap_free_all(&h);
}
END_TEST

/* The longest run of occupied slots: what a probe that misses can walk. */
static size_t longest_run(const struct rcp_heap *h)
{
	size_t best = 0, run = 0;
	for (size_t pass = 0; pass < 2; pass++)         /* runs wrap around */
		for (size_t i = 0; i < h->cap; i++) {
			run = h->tab[i].addr ? run + 1 : 0;
			if (run > best)
				best = run;
		}
	return best < h->cap ? best : h->cap;
}

/* 256 Ki 64-byte blocks (16 MiB) where ASLR may put them, then blocks in
 * between.  At the first base, four 4 MiB regions of the local hash share
 * stretches of the table and their blocks form a run of 81 920 occupied
 * slots, which the blocks in between then probe across (the bench's 1 M
 * object graph took 17 s instead of 2.5 s on such a layout): the table
 * must notice, switch to the scattering hash and still find every block.
 * At the second it keeps the local hash. */
START_TEST(test_table_no_long_runs)
{
	const uint64_t n = 1u << 18;
	const uint64_t bases[] = { 59, 1 };
	for (size_t k = 0; k < 2; k++) {
		struct rcp_heap h;
		struct rcp_where w = at(1, 0);
		uint64_t base = 0x555555554000ull + bases[k] * 0x3a5c7000ull;
		ck_assert_int_eq(rcp_heap_init(&h), 0);
		for (uint64_t i = 0; i < n; i++)
			ck_assert_int_eq(rcp_heap_alloc(&h, base + i * 64, i, &w), 0);
		for (uint64_t i = 0; i < n / 8; i++)
			ck_assert_int_eq(rcp_heap_alloc(&h, base + i * 64 + 32, 1, &w), 0);
		size_t run = longest_run(&h);
		ck_assert_msg(run < 4096, "base %zu: a run of %zu occupied slots",
			      k, run);
		ck_assert_int_eq(h.scatter, k == 0);
		for (uint64_t i = 0; i < n; i += 7) {
			const struct rcp_block *b = rcp_heap_find(&h, base + i * 64);
			ck_assert_uint_eq(b->size, i);
			b = rcp_heap_find(&h, base + i * 64 + 32);
			if (i < n / 8)
				ck_assert_uint_eq(b->size, 1);
			else
				ck_assert_ptr_null(b);
		}
		for (uint64_t i = 0; i < n / 8; i++)
			rcp_heap_release(&h, base + i * 64 + 32, &w);
		ck_assert_uint_eq(h.n, n);
		ck_assert_uint_eq(h.nerrors, 0);
		rcp_heap_free_all(&h);
	}
}
END_TEST

START_TEST(test_double_and_invalid_free)
{
	struct rcp_heap h;
	struct rcp_where w1 = at(1, 11), w2 = at(2, 22), w3 = at(3, 33);

	ck_assert_int_eq(rcp_heap_init(&h), 0);
	rcp_heap_alloc(&h, 0x100, 8, &w1);
	rcp_heap_release(&h, 0x100, &w2);
	rcp_heap_release(&h, 0x100, &w3);       /* double */
	rcp_heap_release(&h, 0x999, &w3);       /* invalid */
	rcp_heap_release(&h, 0, &w3);           /* free(NULL): fine */
	ck_assert_uint_eq(h.nerrors, 2);
	ck_assert_int_eq(h.errors[0].kind, RCP_ERR_DOUBLE_FREE);
	ck_assert_int_eq(h.errors[0].has_earlier, 1);
	ck_assert_uint_eq(h.errors[0].earlier.stack, 22);
	ck_assert_uint_eq(h.errors[0].at.stack, 33);
	ck_assert_int_eq(h.errors[1].kind, RCP_ERR_INVALID_FREE);
	/* reallocated at the same address, freed once: no error */
	rcp_heap_alloc(&h, 0x100, 8, &w1);
	rcp_heap_release(&h, 0x100, &w2);
	ck_assert_uint_eq(h.nerrors, 2);
	/* allocation over a live block: tolerated, replaces it */
	rcp_heap_alloc(&h, 0x200, 8, &w1);
	rcp_heap_alloc(&h, 0x200, 99, &w1);
	ck_assert_uint_eq(h.replaced, 1);
	ck_assert_uint_eq(rcp_heap_find(&h, 0x200)->size, 99);
	ck_assert_uint_eq(h.nerrors, 2);
	rcp_heap_free_all(&h);
}
END_TEST

/* Thread 2's allocation stamped before thread 1's free of the block it
 * got (an unfenced stamp, see RCP_HEAP_SKEW_NS): the free that comes
 * within the skew belonged before the allocation and is absorbed, also
 * when thread 2 has freed the new block in between.  Later, or from the
 * allocating thread itself, it is the new block's free as before. */
START_TEST(test_late_free_absorbed)
{
	struct rcp_heap h;
	struct rcp_where a1 = { 1000, 1, 1, 11 };
	struct rcp_where b_alloc = { 5000, 2, 2, 22 };
	struct rcp_where a_free = { 5300, 3, 1, 0 };

	ck_assert_int_eq(rcp_heap_init(&h), 0);
	/* live block replaced, its late free absorbed: the new one lives */
	rcp_heap_alloc(&h, 0x100, 8, &a1);
	rcp_heap_alloc(&h, 0x100, 16, &b_alloc);
	rcp_heap_release(&h, 0x100, &a_free);
	ck_assert_uint_eq(h.reordered, 1);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_uint_eq(rcp_heap_find(&h, 0x100)->size, 16);
	ck_assert_uint_eq(rcp_heap_find(&h, 0x100)->stack, 22);
	/* the new block's own free, later: a plain free */
	struct rcp_where b_free = { 9000, 4, 2, 0 };
	rcp_heap_release(&h, 0x100, &b_free);
	ck_assert_uint_eq(h.n, 0);
	ck_assert_uint_eq(h.nerrors, 0);

	/* the new block allocated and freed before the late free sorts */
	rcp_heap_alloc(&h, 0x200, 8, &a1);
	struct rcp_where b2 = { 20000, 5, 2, 22 }, b2f = { 20100, 6, 2, 0 };
	struct rcp_where a2f = { 20200, 7, 1, 0 };
	rcp_heap_alloc(&h, 0x200, 8, &b2);
	rcp_heap_release(&h, 0x200, &b2f);
	rcp_heap_release(&h, 0x200, &a2f);
	ck_assert_uint_eq(h.reordered, 2);
	ck_assert_uint_eq(h.nerrors, 0);
	ck_assert_uint_eq(h.n, 0);

	/* past the skew: the new block is freed, its next free is double */
	rcp_heap_alloc(&h, 0x300, 8, &a1);
	struct rcp_where b3 = { 30000, 8, 2, 22 };
	struct rcp_where a3f = { 30000 + RCP_HEAP_SKEW_NS + 1, 9, 1, 0 };
	struct rcp_where b3f = { 50000, 10, 2, 0 };
	rcp_heap_alloc(&h, 0x300, 8, &b3);
	rcp_heap_release(&h, 0x300, &a3f);
	rcp_heap_release(&h, 0x300, &b3f);
	ck_assert_uint_eq(h.reordered, 2);
	ck_assert_uint_eq(h.nerrors, 1);
	ck_assert_int_eq(h.errors[0].kind, RCP_ERR_DOUBLE_FREE);

	/* the replacing thread's own free is never late */
	rcp_heap_alloc(&h, 0x400, 8, &a1);
	struct rcp_where b4 = { 60000, 11, 2, 22 }, b4f = { 60100, 12, 2, 0 };
	rcp_heap_alloc(&h, 0x400, 8, &b4);
	rcp_heap_release(&h, 0x400, &b4f);
	ck_assert_uint_eq(h.reordered, 2);
	ck_assert_ptr_null(rcp_heap_find(&h, 0x400));
	ck_assert_uint_eq(h.nerrors, 1);
	rcp_heap_free_all(&h);
}
END_TEST

/* A block a realloc moved away from is freed by that realloc: its
 * REALLOC_FROM has no backtrace, the REALLOC_TO after it in the same
 * thread has the realloc's, and a second free of the old block names it.
 * Another thread's REALLOC_FROM in between loses it (no backtrace rather
 * than a wrong one). */
START_TEST(test_realloc_names_earlier_free)
{
	struct rcp_heap h;
	struct rcp_where a1 = at(1, 11), from = at(2, 0), to = at(3, 44);
	struct rcp_where bad = at(4, 0);

	ck_assert_int_eq(rcp_heap_init(&h), 0);
	rcp_heap_alloc(&h, 0x100, 8, &a1);
	rcp_heap_release(&h, 0x100, &from);
	rcp_heap_realloc_from(&h, 0x100, &from);
	rcp_heap_alloc(&h, 0x800, 4000, &to);
	rcp_heap_realloc_to(&h, to.tid, to.stack);
	rcp_heap_release(&h, 0x100, &bad);
	ck_assert_uint_eq(h.nerrors, 1);
	ck_assert_int_eq(h.errors[0].kind, RCP_ERR_DOUBLE_FREE);
	ck_assert_int_eq(h.errors[0].has_earlier, 1);
	ck_assert_uint_eq(h.errors[0].earlier.stack, 44);

	struct rcp_where other = { 6, 6, 2, 0 };
	rcp_heap_alloc(&h, 0x200, 8, &a1);
	rcp_heap_alloc(&h, 0x300, 8, &a1);
	from = at(5, 0);
	rcp_heap_release(&h, 0x200, &from);
	rcp_heap_realloc_from(&h, 0x200, &from);
	rcp_heap_release(&h, 0x300, &other);    /* thread 2's realloc */
	rcp_heap_realloc_from(&h, 0x300, &other);
	rcp_heap_alloc(&h, 0x900, 64, &to);     /* thread 1's REALLOC_TO */
	rcp_heap_realloc_to(&h, to.tid, to.stack);
	rcp_heap_release(&h, 0x200, &bad);
	ck_assert_uint_eq(h.nerrors, 2);
	ck_assert_uint_eq(h.errors[1].earlier.stack, 0);
	rcp_heap_free_all(&h);
}
END_TEST

/* The quarantine is bounded: an old free is forgotten (its second free is
 * then "invalid"), a recent one is still a double free. */
START_TEST(test_quarantine_bounded)
{
	struct rcp_heap h;
	struct rcp_where w = at(1, 0);
	const uint64_t n = RCP_QUARANTINE + 1000;

	init_heap(&h, _i);
	for (uint64_t i = 1; i <= n; i++) {
		rcp_heap_alloc(&h, i * 32, 8, &w);
		rcp_heap_release(&h, i * 32, &w);
	}
	ck_assert_uint_eq(h.qn, RCP_QUARANTINE);
	rcp_heap_release(&h, 32, &w);
	rcp_heap_release(&h, n * 32, &w);
	ck_assert_uint_eq(h.nerrors, 2);
	ck_assert_int_eq(h.errors[0].kind, RCP_ERR_INVALID_FREE);
	ck_assert_int_eq(h.errors[1].kind, RCP_ERR_DOUBLE_FREE);
	rcp_heap_free_all(&h);
}
END_TEST

/* Forgotten frees stay in the table until it fills, then are swept: the
 * table does not grow with the number of distinct addresses freed, and
 * a forgotten address behaves as never seen (its free is invalid, its
 * reallocation a fresh block). */
START_TEST(test_quarantine_sweep)
{
	struct rcp_heap h;
	struct rcp_where w = at(1, 0);
	const uint64_t n = 8 * (uint64_t)RCP_QUARANTINE;

	ck_assert_int_eq(rcp_heap_init(&h), 0);
	ck_assert_int_eq(rcp_heap_alloc(&h, 16, 1, &w), 0);   /* stays live */
	for (uint64_t i = 1; i <= n; i++) {
		ck_assert_int_eq(rcp_heap_alloc(&h, 16 + i * 32, 8, &w), 0);
		rcp_heap_release(&h, 16 + i * 32, &w);
	}
	ck_assert_uint_le(h.cap, 4 * (size_t)RCP_QUARANTINE + 1024);
	ck_assert_uint_eq(h.n, 1);
	ck_assert_ptr_nonnull(rcp_heap_find(&h, 16));
	/* the oldest free was forgotten, the newest is remembered */
	rcp_heap_release(&h, 16 + 32, &w);
	rcp_heap_release(&h, 16 + n * 32, &w);
	ck_assert_uint_eq(h.nerrors, 2);
	ck_assert_int_eq(h.errors[0].kind, RCP_ERR_INVALID_FREE);
	ck_assert_int_eq(h.errors[1].kind, RCP_ERR_DOUBLE_FREE);
	/* reallocating a forgotten address makes a live block again */
	ck_assert_int_eq(rcp_heap_alloc(&h, 16 + 64, 5, &w), 0);
	ck_assert_uint_eq(h.n, 2);
	ck_assert_uint_eq(rcp_heap_find(&h, 16 + 64)->size, 5);
	rcp_heap_release(&h, 16 + 64, &w);
	ck_assert_uint_eq(h.nerrors, 2);
	ck_assert_uint_eq(h.n, 1);
	rcp_heap_free_all(&h);
}
END_TEST

/* While the ring is full every free forgets the oldest free first, even
 * one that fails; the slot it frees is taken by the next successful free,
 * and until then failed frees forget nothing more. */
START_TEST(test_quarantine_full_error)
{
	struct rcp_heap h;
	struct rcp_where w = at(1, 0);
	const uint64_t q = RCP_QUARANTINE;

	init_heap(&h, _i);
	for (uint64_t i = 1; i <= q; i++) {
		ck_assert_int_eq(rcp_heap_alloc(&h, i * 32, 8, &w), 0);
		rcp_heap_release(&h, i * 32, &w);
	}
	rcp_heap_release(&h, 0x7000000, &w);    /* invalid; forgets #1 */
	ck_assert_int_eq(rcp_heap_alloc(&h, 0x8000000, 8, &w), 0);
	rcp_heap_release(&h, 0x8000000, &w);    /* into #1's slot */
	rcp_heap_release(&h, 32, &w);           /* forgets #2; #1 invalid */
	rcp_heap_release(&h, 64, &w);           /* #2 invalid */
	rcp_heap_release(&h, 96, &w);           /* #3 still remembered */
	ck_assert_uint_eq(h.nerrors, 4);
	ck_assert_int_eq(h.errors[0].kind, RCP_ERR_INVALID_FREE);
	ck_assert_int_eq(h.errors[1].kind, RCP_ERR_INVALID_FREE);
	ck_assert_int_eq(h.errors[2].kind, RCP_ERR_INVALID_FREE);
	ck_assert_int_eq(h.errors[3].kind, RCP_ERR_DOUBLE_FREE);
	rcp_heap_free_all(&h);
}
END_TEST

START_TEST(test_replay_leaks_realloc_rc)
{
	struct dg g;
	struct dgc c;
	struct rcp_analysis a;
	struct rcp_report r;
	uint8_t *copy;

	dg_init(&g, 0);
	dg_process(&g, 1, "x");
	dgc_begin(&c, 1, 0, 0);
	dgc_malloc(&c, 1, 0x1000, 100, 5);      /* leak, stack 5 */
	dgc_malloc(&c, 2, 0x2000, 100, 5);      /* leak, stack 5 */
	dgc_malloc(&c, 3, 0x3000, 10, 6);       /* realloc'ed to 0x4000 */
	dgc_realloc(&c, 4, 0x3000, 0x4000, 500, 7);
	dgc_malloc(&c, 5, 0x5000, 64, 8);       /* holds an rc object */
	dgc_rc_new(&c, 6, 0x5010, 48, 0, 1, 8, 16);
	dgc_malloc(&c, 7, 0x6000, 1, 9);        /* freed */
	dgc_free(&c, 8, 0x6000);
	dgc_free(&c, 9, 0x6000);                /* double free */
	dg_chunk(&g, &c);
	dg_end(&g, RCP_END_EXIT, 0, 100);
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_int_eq(rcp_report_build(&r, &a), 0);
	ck_assert_uint_eq(r.sum.leaked_blocks, 3);
	ck_assert_uint_eq(r.sum.leaked_bytes, 700);
	ck_assert_uint_eq(r.nleaks, 2);
	ck_assert_uint_eq(r.leaks[0].stack, 7);         /* most bytes first */
	ck_assert_uint_eq(r.leaks[0].bytes, 500);
	ck_assert_uint_eq(r.leaks[1].stack, 5);
	ck_assert_uint_eq(r.leaks[1].blocks, 2);
	ck_assert_uint_eq(r.sum.rc_objects, 1);
	ck_assert_uint_eq(r.sum.errors, 1);
	ck_assert_int_eq(r.errors[0].e.kind, RCP_ERR_DOUBLE_FREE);
	rcp_report_free(&r);
	rcp_analysis_free(&a);
	free(copy);
	dg_free(&g);
}
END_TEST

/* ---- fork: the parent's history before the fork is replayed first ---------- */

START_TEST(test_parent_chain)
{
	char dir[64], ppath[128], cpath[128];
	struct dg pg, cg;
	struct dgc c;
	struct rcp_analysis a;
	struct rcp_report r;
	uint64_t ips[] = { 0x1234 };

	au_tmpdir(dir, sizeof(dir));
	snprintf(ppath, sizeof(ppath), "%s/parent.bin", dir);
	snprintf(cpath, sizeof(cpath), "%s/child.bin", dir);

	/* parent: a block and a string before the fork, more after it */
	dg_init(&pg, 0);
	dg_process(&pg, 100, "p");
	dgc_begin(&c, 100, 0, 0);
	dgc_string(&c, 1, 3, "inherited");
	dgc_malloc(&c, 10, 0xa000, 40, 4);
	dgc_malloc(&c, 11, 0xb000, 40, 4);
	dgc_simple(&c, RCP_EV_FORK, 50, 200, 0);
	dgc_malloc(&c, 60, 0xc000, 40, 4);      /* after the fork: not inherited */
	dgc_stack(&c, 61, 4, 1, ips);
	dg_chunk(&pg, &c);
	dg_end(&pg, RCP_END_EXIT, 0, 100);
	ck_assert_int_eq(dg_write_file(ppath, pg.buf, pg.len), 0);

	/* child: frees the inherited block; the path is relative to its dir */
	dg_init(&cg, 0);
	dg_process(&cg, 200, "p");
	dg_parent(&cg, 100, "parent.bin", 45);
	dgc_begin(&c, 200, 0, 45);
	dgc_free(&c, 70, 0xa000);
	dgc_rc_new(&c, 71, 0xd000, 8, 3, 1, 0, 0);
	dg_chunk(&cg, &c);
	dg_end(&cg, RCP_END_EXIT, 0, 100);
	ck_assert_int_eq(dg_write_file(cpath, cg.buf, cg.len), 0);

	ck_assert_int_eq(au_analyze_file(&a, cpath), 0);
	ck_assert_uint_eq(a.nparents, 1);
	ck_assert_int_eq(a.parent_unreadable, 0);
	ck_assert_uint_eq(a.events, 2);
	ck_assert_uint_eq(a.parent_counts[RCP_EV_MALLOC], 2);
	ck_assert_ptr_null(rcp_heap_find(&a.heap, 0xa000));
	ck_assert_ptr_nonnull(rcp_heap_find(&a.heap, 0xb000));
	ck_assert_ptr_null(rcp_heap_find(&a.heap, 0xc000));
	ck_assert_uint_eq(a.heap.nerrors, 0);
	ck_assert_int_eq(rcp_report_build(&r, &a), 0);
	ck_assert_uint_eq(r.sum.leaked_blocks, 1);
	rcp_report_free(&r);
	rcp_analysis_free(&a);

	/* parent gone: warning, tolerate unknown frees */
	ck_assert_int_eq(unlink(ppath), 0);
	ck_assert_int_eq(au_analyze_file(&a, cpath), 0);
	ck_assert_int_eq(a.parent_unreadable, 1);
	ck_assert_uint_eq(a.heap.nerrors, 0);
	ck_assert_uint_ge(a.diag.nwarnings, 1);
	rcp_analysis_free(&a);

	/* a parent chain that loops (the child names itself) */
	dg_free(&cg);
	dg_init(&cg, 0);
	dg_process(&cg, 200, "p");
	dg_parent(&cg, 100, cpath, 45);
	dg_end(&cg, RCP_END_EXIT, 0, 100);
	ck_assert_int_eq(dg_write_file(cpath, cg.buf, cg.len), 0);
	ck_assert_int_eq(au_analyze_file(&a, cpath), 0);
	ck_assert_int_eq(a.parent_unreadable, 1);
	ck_assert_uint_eq(a.nparents, 0);
	rcp_analysis_free(&a);

	dg_free(&pg);
	dg_free(&cg);
	au_rmdir(dir);
}
END_TEST

Suite *heap_suite(void)
{
	Suite *s = suite_create("heap");
	TCase *tc = tcase_create("replay");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_table_many_blocks);
	tcase_add_test(tc, test_table_no_long_runs);
	tcase_add_test(tc, test_double_and_invalid_free);
	tcase_add_test(tc, test_realloc_names_earlier_free);
	tcase_add_test(tc, test_late_free_absorbed);
	tcase_add_test(tc, test_reserve);
	tcase_add_loop_test(tc, test_quarantine_bounded, 0, 2);
	tcase_add_test(tc, test_quarantine_sweep);
	tcase_add_loop_test(tc, test_quarantine_full_error, 0, 2);
	tcase_add_test(tc, test_replay_leaks_realloc_rc);
	tcase_add_test(tc, test_parent_chain);
	suite_add_tcase(s, tc);
	return s;
}
