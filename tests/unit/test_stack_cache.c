/* test_stack_cache.c - the per-thread cache of call-site backtraces.
 *
 * Every stack the cache returns must be the one libunwind's fast path
 * (shim_backtrace) finds from the same place; the tests compare the
 * frames beyond the capturing function.  The dangerous cases are those
 * where a wrong stack would look right: another caller reaching the
 * capture with the same stack pointer, frames found through the frame
 * pointer (a VLA), and code changing under the cache (dlopen/dlclose).
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "recorder.h"
#include "stack_cache.h"
#include "suites.h"

enum { HOW_FAST, HOW_HIT, HOW_FILL };

struct capture {
	int how;
	uint32_t id;
	uint64_t sp;
	void *ips[SHIM_DEPTH_MAX];      /* what the cache's unwind kept */
	int n;
	void *fast[SHIM_DEPTH_MAX];     /* shim_backtrace from the same frame */
	int nfast;
	void *ra;                       /* the capturing function's caller */
};

static struct capture *cur;

static uint32_t test_intern(void *ctx, void **ips, int n)
{
	(void)ctx;
	memcpy(cur->ips, ips, sizeof(ips[0]) * (size_t)n);
	cur->n = n;
	return (uint32_t)shim_hash_ips(ips, n) | 1u;
}

/* A call that writes the stack below its caller, as the real allocator
 * does between the halves of a split lookup (the malloc hook). */
static __attribute__((noinline)) void scribble(void)
{
	volatile char buf[4096];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)i;
	__asm__ volatile("" ::: "memory");
}

/* What capture_stack_n in record.c does, with the fast path's frames
 * taken from the same frame for comparison.  split: the lookup in two
 * halves around scribble(), as malloc's hook splits it around the real
 * call. */
static __attribute__((noinline)) void capture(struct shim_thread *t,
					      uint32_t depth,
					      struct capture *c, int split)
{
	struct shim_regs regs;
	SHIM_CAPTURE_REGS(&regs);
	cur = c;
	c->n = 0;
	c->sp = regs.sp;
	c->ra = __builtin_return_address(0);
	c->nfast = shim_backtrace(c->fast, SHIM_DEPTH_MAX);
	int hit;
	if (split) {
		struct shim_sc_probe p;
		shim_sc_begin(t, &regs, depth, &p);
		scribble();
		hit = shim_sc_end(t, &regs, &p, &c->id);
	} else {
		hit = shim_sc_lookup(t, &regs, depth, &c->id);
	}
	if (hit)
		c->how = HOW_HIT;
	else if (shim_sc_fill(t, &regs, depth, c->ips, test_intern, NULL,
			      &c->id))
		c->how = HOW_FILL;
	else
		c->how = HOW_FAST;
	__asm__ volatile("" ::: "memory");   /* not a tail call */
}

static int index_of(void *const *ips, int n, void *ip)
{
	for (int i = 0; i < n; i++)
		if (ips[i] == ip)
			return i;
	return -1;
}

/* The frames from the capturing function's caller outwards agree. */
static void assert_same_as_fast(const struct capture *c)
{
	int i = index_of(c->ips, c->n, c->ra);
	int j = index_of(c->fast, c->nfast, c->ra);
	ck_assert_int_ge(i, 0);
	ck_assert_int_ge(j, 0);
	ck_assert_int_eq(c->n - i, c->nfast - j);
	for (int k = 0; k < c->n - i; k++)
		ck_assert_ptr_eq(c->ips[i + k], c->fast[j + k]);
}

/* Loops whose calls must all be one call site: the compiler must not
 * unroll or peel them, so the trip count is opaque. */
static volatile int opaque_count = 4;
#define SAME_SITE_LOOP(i, n) \
	for (int i = 0, n_ = (n) + opaque_count - 4; i < n_; i++)

static struct shim_thread *new_thread(void)
{
	static struct shim_thread t;
	memset(&t, 0, sizeof(t));
	shim_unwind_init();
	shim_sc_init(1);
	shim_sc_thread_start(&t);
	ck_assert_uint_ne(t.stack_hi, 0);
	return &t;
}

/* Two callers with the same frame layout: the capture sees the same
 * stack pointer from both. */
static __attribute__((noinline)) void via_a(struct shim_thread *t,
					    struct capture *c)
{
	capture(t, 64, c, 0);
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void via_b(struct shim_thread *t,
					    struct capture *c)
{
	capture(t, 64, c, 0);
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void chain(int n, int which,
					    struct shim_thread *t,
					    struct capture *c)
{
	if (n > 0)
		chain(n - 1, which, t, c);
	else if (which)
		via_b(t, c);
	else
		via_a(t, c);
	__asm__ volatile("" ::: "memory");
}

START_TEST(test_second_capture_hits)
{
	struct shim_thread *t = new_thread();
	struct capture c[2];
	SAME_SITE_LOOP(i, 2)
		chain(5, 0, t, &c[i]);
	struct capture c1 = c[0], c2 = c[1];
	ck_assert_int_eq(c1.how, HOW_FILL);
	assert_same_as_fast(&c1);
	ck_assert_int_eq(c2.how, HOW_HIT);
	ck_assert_uint_eq(c2.id, c1.id);
	ck_assert_uint_eq(c2.sp, c1.sp);
	struct shim_sc_stats st;
	shim_sc_stats(t, &st);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_uint_eq(st.fills, 1);
	/* one layout at this point: the plan covers it, 16 bytes do */
	ck_assert_uint_eq(st.compact_hits, 1);
}
END_TEST

static __attribute__((noinline)) void split_chain(int n, struct shim_thread *t,
						  struct capture *c)
{
	if (n > 0)
		split_chain(n - 1, t, c);
	else
		capture(t, 64, c, 1);
	__asm__ volatile("" ::: "memory");
}

START_TEST(test_split_lookup)
{
	struct shim_thread *t = new_thread();
	struct capture c[3];
	SAME_SITE_LOOP(i, 3)
		split_chain(3 + (i == 2), t, &c[i]);
	ck_assert_int_eq(c[0].how, HOW_FILL);
	assert_same_as_fast(&c[0]);
	/* the same site: the compact shortcut, read after the scribble */
	ck_assert_int_eq(c[1].how, HOW_HIT);
	ck_assert_uint_eq(c[1].id, c[0].id);
	/* one frame deeper: another sp, another point; filled, not hit */
	ck_assert_int_eq(c[2].how, HOW_FILL);
	ck_assert_uint_ne(c[2].id, c[0].id);
	assert_same_as_fast(&c[2]);
	struct shim_sc_stats st;
	shim_sc_stats(t, &st);
	ck_assert_uint_eq(st.compact_hits, 1);
	ck_assert_uint_eq(st.fills, 2);
}
END_TEST

/* Two frame layouts reaching the capture with the same sp: the frame
 * below lay() is 16 bytes in one and 208 in the other, and alloca in
 * lay() makes up the difference.  The second layout's reads are not all
 * among the first one's (its plan), so its words alone cannot vouch for
 * it: it must get a full record, never the compact shortcut. */
static __attribute__((noinline)) void lay_small(struct shim_thread *t,
						struct capture *c)
{
	volatile char pad[16];
	pad[0] = 1;
	capture(t, 64, c, 0);
	__asm__ volatile("" ::: "memory");
	(void)pad[0];
}

static __attribute__((noinline)) void lay_big(struct shim_thread *t,
					      struct capture *c)
{
	volatile char pad[208];
	pad[0] = 2;
	capture(t, 64, c, 0);
	__asm__ volatile("" ::: "memory");
	(void)pad[0];
}

static __attribute__((noinline)) void lay(int big, size_t extra,
					  struct shim_thread *t,
					  struct capture *c)
{
	char *room = __builtin_alloca(extra);
	room[0] = 0;
	__asm__ volatile("" : : "r"(room) : "memory");
	if (big)
		lay_big(t, c);
	else
		lay_small(t, c);
	__asm__ volatile("" ::: "memory");
}

START_TEST(test_other_layout_gets_full_record)
{
	struct shim_thread *t = new_thread();
	struct capture probe[2], c[4];
	SAME_SITE_LOOP(i, 2)            /* where each layout puts the sp */
		lay(i, 256, t, &probe[i]);
	ck_assert_uint_gt(probe[0].sp, probe[1].sp);
	size_t extra_small = 256 + (size_t)(probe[0].sp - probe[1].sp);
	t = new_thread();               /* forget the probes */
	SAME_SITE_LOOP(i, 4)            /* small, big, small, big */
		lay(i & 1, (i & 1) ? 256 : extra_small, t, &c[i]);
	ck_assert_uint_eq(c[0].sp, c[1].sp);    /* the case that matters */
	ck_assert_int_eq(c[0].how, HOW_FILL);
	ck_assert_int_eq(c[1].how, HOW_FILL);
	ck_assert_uint_ne(c[0].id, c[1].id);
	assert_same_as_fast(&c[0]);
	assert_same_as_fast(&c[1]);
	ck_assert_int_eq(c[2].how, HOW_HIT);
	ck_assert_int_eq(c[3].how, HOW_HIT);
	ck_assert_uint_eq(c[2].id, c[0].id);
	ck_assert_uint_eq(c[3].id, c[1].id);
	struct shim_sc_stats st;
	shim_sc_stats(t, &st);
	ck_assert_uint_eq(st.compact_hits, 1);  /* the small layout */
	ck_assert_uint_eq(st.shortcut_hits, 1); /* the big one: a record */
}
END_TEST

START_TEST(test_same_sp_other_caller)
{
	struct shim_thread *t = new_thread();
	struct capture c[4];
	SAME_SITE_LOOP(i, 4)            /* a, b, a, b */
		chain(3, i & 1, t, &c[i]);
	struct capture a1 = c[0], b1 = c[1], a2 = c[2], b2 = c[3];
	ck_assert_uint_eq(a1.sp, b1.sp);        /* the case that matters */
	ck_assert_int_eq(b1.how, HOW_FILL);     /* not a's stack */
	ck_assert_uint_ne(a1.id, b1.id);
	assert_same_as_fast(&a1);
	assert_same_as_fast(&b1);
	ck_assert_int_eq(a2.how, HOW_HIT);
	ck_assert_int_eq(b2.how, HOW_HIT);
	ck_assert_uint_eq(a2.id, a1.id);
	ck_assert_uint_eq(b2.id, b1.id);
}
END_TEST

/* A point that keeps seeing one site answers from its last stack after
 * a few compact hits; another caller reaching it with the same sp after
 * such a streak gets its own stack, and the streak's site its own again
 * after that. */
START_TEST(test_last_stack)
{
	struct shim_thread *t = new_thread();
	enum { N = 16 };
	struct capture c[N + 2];
	SAME_SITE_LOOP(i, N + 2)        /* a x N, b, a */
		chain(3, i == N, t, &c[i]);
	ck_assert_int_eq(c[0].how, HOW_FILL);
	for (int i = 1; i < N; i++) {
		ck_assert_int_eq(c[i].how, HOW_HIT);
		ck_assert_uint_eq(c[i].id, c[0].id);
	}
	struct shim_sc_stats st;
	shim_sc_stats(t, &st);
	ck_assert_uint_gt(st.last_hits, 0);
	ck_assert_uint_eq(st.last_hits + st.compact_hits, N);  /* and the last a */
	ck_assert_uint_eq(c[N].sp, c[0].sp);    /* the case that matters */
	ck_assert_int_eq(c[N].how, HOW_FILL);   /* b: not a's last stack */
	ck_assert_uint_ne(c[N].id, c[0].id);
	assert_same_as_fast(&c[N]);
	ck_assert_int_eq(c[N + 1].how, HOW_HIT);
	ck_assert_uint_eq(c[N + 1].id, c[0].id);
}
END_TEST

/* Depth of the chain above a common frame differs, the capture's sp is
 * the same: the outer frames must still be compared. */
static __attribute__((noinline)) void outer_a(struct shim_thread *t,
					      struct capture *c)
{
	chain(2, 0, t, c);
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void outer_b(struct shim_thread *t,
					      struct capture *c)
{
	chain(2, 0, t, c);
	__asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void outer(int which,
					    struct shim_thread *t,
					    struct capture *c)
{
	if (which)
		outer_b(t, c);
	else
		outer_a(t, c);
	__asm__ volatile("" ::: "memory");
}

START_TEST(test_outer_frames_differ)
{
	struct shim_thread *t = new_thread();
	struct capture c[3];
	SAME_SITE_LOOP(i, 3)            /* a, b, a */
		outer(i == 1, t, &c[i]);
	struct capture a = c[0], b = c[1], a2 = c[2];
	ck_assert_uint_eq(a.sp, b.sp);
	ck_assert_int_eq(b.how, HOW_FILL);
	ck_assert_uint_ne(a.id, b.id);
	assert_same_as_fast(&b);
	ck_assert_int_eq(a2.how, HOW_HIT);
	ck_assert_uint_eq(a2.id, a.id);
}
END_TEST

/* A VLA makes the compiler find the frame through %rbp. */
static __attribute__((noinline)) void with_vla(int words,
					       struct shim_thread *t,
					       struct capture *c)
{
	volatile long vla[words];
	vla[0] = words;
	chain(1, 0, t, c);
	__asm__ volatile("" ::: "memory");
	(void)vla[0];
}

START_TEST(test_frame_pointer_frames)
{
	struct shim_thread *t = new_thread();
	struct capture c[4];
	SAME_SITE_LOOP(i, 4)
		with_vla(i < 2 ? 4 : 40, t, &c[i]);
	ck_assert_int_eq(c[0].how, HOW_FILL);
	ck_assert_int_eq(c[1].how, HOW_HIT);
	ck_assert_uint_eq(c[1].id, c[0].id);
	ck_assert_uint_ne(c[2].sp, c[0].sp);
	ck_assert_int_eq(c[2].how, HOW_FILL);
	ck_assert_uint_eq(c[2].id, c[0].id);    /* same frames, other sp */
	ck_assert_int_eq(c[3].how, HOW_HIT);
	assert_same_as_fast(&c[0]);
	assert_same_as_fast(&c[2]);
}
END_TEST

static __attribute__((noinline)) void chain_after_dlopen(int dlopened,
							 struct shim_thread *t,
							 struct capture *c)
{
	if (dlopened)
		atomic_add_relaxed(&shim_dl_gen, 1);    /* as hook_dl.c does */
	chain(2, 0, t, c);
	__asm__ volatile("" ::: "memory");
}

START_TEST(test_loader_change_forgets)
{
	struct shim_thread *t = new_thread();
	struct capture c[3];
	SAME_SITE_LOOP(i, 3)
		chain_after_dlopen(i == 2, t, &c[i]);
	ck_assert_int_eq(c[1].how, HOW_HIT);
	ck_assert_int_eq(c[2].how, HOW_FILL);
	ck_assert_uint_eq(c[2].id, c[0].id);
}
END_TEST

START_TEST(test_depth_is_part_of_the_site)
{
	struct shim_thread *t = new_thread();
	struct capture deep, shallow;
	capture(t, 64, &deep, 0);
	capture(t, 2, &shallow, 0);
	ck_assert_int_eq(shallow.how, HOW_FILL);
	ck_assert_int_le(shallow.n, 2);
	ck_assert_int_gt(deep.n, shallow.n);
}
END_TEST

START_TEST(test_no_stack_bounds_no_cache)
{
	static struct shim_thread t;    /* never shim_sc_thread_start'ed */
	memset(&t, 0, sizeof(t));
	shim_unwind_init();
	shim_sc_init(1);
	t.sc_credit = 1 << 20;
	struct capture c;
	capture(&t, 64, &c, 0);
	ck_assert_int_eq(c.how, HOW_FAST);
}
END_TEST

START_TEST(test_fills_need_credit)
{
	struct shim_thread *t = new_thread();
	t->sc_credit = 0;
	struct capture c;
	chain(1, 0, t, &c);
	ck_assert_int_eq(c.how, HOW_FAST);
}
END_TEST

START_TEST(test_disabled)
{
	static struct shim_thread t;
	memset(&t, 0, sizeof(t));
	shim_unwind_init();
	shim_sc_init(0);
	shim_sc_thread_start(&t);
	struct capture c;
	SAME_SITE_LOOP(i, 2)
		chain(1, 0, &t, &c);
	ck_assert_int_eq(c.how, HOW_FAST);
}
END_TEST

/* A signal handler on an alternate stack: its sp is outside the thread's
 * stack, where the cache cannot know the memory stays mapped. */
static struct shim_thread *alt_t;
static struct capture alt_c[2];

static void on_alt(int sig)
{
	(void)sig;
	SAME_SITE_LOOP(i, 2)
		chain(1, 0, alt_t, &alt_c[i]);
}

START_TEST(test_alternate_stack_not_cached)
{
	alt_t = new_thread();
	stack_t ss = { .ss_size = 1 << 16 };
	ss.ss_sp = malloc(ss.ss_size);
	ck_assert_ptr_nonnull(ss.ss_sp);
	ck_assert_int_eq(sigaltstack(&ss, NULL), 0);
	struct sigaction sa = { .sa_handler = on_alt, .sa_flags = SA_ONSTACK };
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR2, &sa, NULL), 0);
	raise(SIGUSR2);
	ck_assert_int_eq(alt_c[0].how, HOW_FAST);
	ck_assert_int_eq(alt_c[1].how, HOW_FAST);
	ck_assert_int_gt(alt_c[1].nfast, 0);
}
END_TEST

Suite *stack_cache_suite(void)
{
	Suite *s = suite_create("stack_cache");
	TCase *tc = tcase_create("stack_cache");
	tcase_add_test(tc, test_second_capture_hits);
	tcase_add_test(tc, test_last_stack);
	tcase_add_test(tc, test_split_lookup);
	tcase_add_test(tc, test_same_sp_other_caller);
	tcase_add_test(tc, test_other_layout_gets_full_record);
	tcase_add_test(tc, test_outer_frames_differ);
	tcase_add_test(tc, test_frame_pointer_frames);
	tcase_add_test(tc, test_loader_change_forgets);
	tcase_add_test(tc, test_depth_is_part_of_the_site);
	tcase_add_test(tc, test_no_stack_bounds_no_cache);
	tcase_add_test(tc, test_fills_need_credit);
	tcase_add_test(tc, test_disabled);
	tcase_add_test(tc, test_alternate_stack_not_cached);
	suite_add_tcase(s, tc);
	return s;
}
