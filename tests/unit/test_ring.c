/* test_ring.c - the shared ring (preload/shim/ring.c, stream.c): geometry,
 * wrap-around, back-pressure with waiting producers, exact counts with
 * several producers, direct writes when every slot is owned, partial
 * copies at a full drain. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim.h"
#include "shim_readback.h"
#include "suites.h"

struct fixture {
	struct shim_ring r;
	void *map;
	size_t len;
	int fd;
	char path[64];
};

static void fx_open(struct fixture *fx, uint32_t kb)
{
	uint32_t nslots, slot;
	shim_ring_geometry((uint64_t)kb * 1024, &nslots, &slot);
	fx->len = shim_ring_bytes(nslots, slot);
	fx->map = mmap(NULL, fx->len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(fx->map, MAP_FAILED);
	strcpy(fx->path, "/tmp/rcprof-test-ring.XXXXXX");
	fx->fd = mkstemp(fx->path);
	ck_assert_int_ge(fx->fd, 0);
	ck_assert_int_eq(shim_dump_write_header(fx->fd, 1), 0);
	shim_ring_init(&fx->r, fx->map, nslots, slot, (uint32_t)getpid(), fx->fd);
}

/* Everything to the dump, as the exit path does. */
static void fx_finish(struct fixture *fx)
{
	ck_assert_int_eq(shim_ring_lock(&fx->r, 0), 0);
	shim_ring_drain_sealed_locked(&fx->r);
	shim_ring_copy_owned_locked(&fx->r);
	shim_ring_unlock(&fx->r);
}

static void fx_close(struct fixture *fx, struct rb_dump *d)
{
	ck_assert_int_eq(rb_load(fx->path, d), 0);
	ck_assert_int_eq(d->bad, 0);
	close(fx->fd);
	unlink(fx->path);
	munmap(fx->map, fx->len);
}

static void put_value(struct shim_ring *r, struct shim_stream *s, uint64_t ts,
		      uint64_t v)
{
	uint8_t *w = shim_ev_begin(r, s, RCP_EV_SNAPSHOT, ts, 32);
	w = shim_put_u(w, v);
	shim_ev_commit(r, s, w);
}

START_TEST(test_geometry)
{
	uint32_t n, s;
	shim_ring_geometry(8192u * 1024, &n, &s);
	ck_assert_uint_ge(n, SHIM_SLOTS_MIN);
	ck_assert_uint_eq(s % 4096, 0);
	ck_assert_uint_le((uint64_t)n * s, 8192u * 1024);
	shim_ring_geometry(1024, &n, &s);        /* tiny: still 16 x 4 KiB */
	ck_assert_uint_eq(n, SHIM_SLOTS_MIN);
	ck_assert_uint_eq(s, SHIM_SLOT_MIN);
}
END_TEST

/* One stream writes ~40 ring's worth of events through a 16-slot ring. */
START_TEST(test_wrap_around)
{
	struct fixture fx;
	fx_open(&fx, 1);
	struct shim_stream *s = calloc(1, sizeof(*s));
	shim_stream_init(s, 42, 0);
	const uint64_t n = 200000;
	for (uint64_t i = 0; i < n; i++)
		put_value(&fx.r, s, 1000 + i * 3, i);
	fx_finish(&fx);
	uint64_t counts[32];
	shim_ring_counts(&fx.r, counts);
	ck_assert_uint_eq(counts[RCP_EV_SNAPSHOT], n);
	struct rb_dump d;
	fx_close(&fx, &d);
	ck_assert_uint_gt(s->seq, 16 * 10);     /* wrapped many times */
	struct rb_expect e = { 0, 0, 0 };
	ck_assert_int_eq(rb_walk_values(&d, 42, 0, rb_check_next, &e), (long)n);
	ck_assert_int_eq(e.bad, 0);
	/* The last chunk is still owned: it was copied, not sealed. */
	const struct rb_chunk *last = rb_find(&d, 42, 0, s->seq - 1);
	ck_assert_ptr_nonnull(last);
	ck_assert_uint_eq(last->flags, 0);
	rb_free(&d);
	free(s);
}
END_TEST

/* Pages of the mapping that have been touched (are resident). */
static size_t resident_pages(const struct fixture *fx)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (fx->len + page - 1) / page, res = 0;
	unsigned char *v = malloc(n);
	ck_assert_int_eq(mincore(fx->map, fx->len, v), 0);
	for (size_t i = 0; i < n; i++)
		res += v[i] & 1;
	free(v);
	return res;
}

/* A short run uses one slot, and neither claims nor drains look at the
 * others: a process that records little never touches (and makes the
 * kernel zero) the rest of the ring. */
START_TEST(test_short_run_touches_one_slot)
{
	struct fixture fx;
	fx_open(&fx, 1024);
	ck_assert_uint_ge(fx.r.nslots, 64);
	struct shim_stream *s = calloc(1, sizeof(*s));
	shim_stream_init(s, 7, 0);
	for (uint64_t i = 0; i < 10; i++)
		put_value(&fx.r, s, 1000 + i, i);
	shim_stream_seal(&fx.r, s);
	put_value(&fx.r, s, 2000, 10);          /* a second slot's worth */
	fx_finish(&fx);
	ck_assert_uint_le(fx.r.used_hi, 2);
	size_t slot_pages = fx.r.slot_size / (size_t)sysconf(_SC_PAGESIZE);
	ck_assert_uint_le(resident_pages(&fx), 1 + 2 * slot_pages);
	struct rb_dump d;
	fx_close(&fx, &d);
	struct rb_expect e = { 0, 0, 0 };
	ck_assert_int_eq(rb_walk_values(&d, 7, 0, rb_check_next, &e), 11);
	rb_free(&d);
	free(s);
}
END_TEST

struct producer {
	struct fixture *fx;
	uint32_t tid;
	uint64_t n;
	struct shim_stream *s;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	p->s = calloc(1, sizeof(*p->s));
	shim_stream_init(p->s, p->tid, 0);
	for (uint64_t i = 0; i < p->n; i++)
		put_value(&p->fx->r, p->s, shim_now(), i);
	shim_stream_seal(&p->fx->r, p->s);   /* as a dying thread does */
	return NULL;
}

/* 6 producers on a 16-slot ring: they run out of slots, drain for each
 * other or wait; every event of every producer arrives, in order. */
START_TEST(test_multi_producer_exact)
{
	struct fixture fx;
	fx_open(&fx, 1);
	enum { NP = 6 };
	struct producer p[NP];
	pthread_t th[NP];
	for (int i = 0; i < NP; i++) {
		p[i] = (struct producer){ &fx, 100 + (uint32_t)i, 60000 + (uint64_t)i * 1000, NULL };
		pthread_create(&th[i], NULL, produce, &p[i]);
	}
	for (int i = 0; i < NP; i++)
		pthread_join(th[i], NULL);
	fx_finish(&fx);
	uint64_t counts[32], total = 0;
	shim_ring_counts(&fx.r, counts);
	struct rb_dump d;
	fx_close(&fx, &d);
	for (int i = 0; i < NP; i++) {
		struct rb_expect e = { 0, 0, 0 };
		ck_assert_int_eq(rb_walk_values(&d, p[i].tid, 0, rb_check_next, &e),
				 (long)p[i].n);
		ck_assert_int_eq(e.bad, 0);
		total += p[i].n;
		free(p[i].s);
	}
	ck_assert_uint_eq(counts[RCP_EV_SNAPSHOT], total);
	/* Every chunk arrived sealed exactly once (no partial copies: all
	 * producers sealed before the final drain). */
	for (size_t i = 0; i < d.nchunks; i++)
		ck_assert_uint_eq(d.chunks[i].flags, RCP_CHUNK_SEALED);
	rb_free(&d);
}
END_TEST

/* More streams than slots, all holding a slot: the extra stream's events
 * go to the dump one by one (direct chunks), nothing is lost. */
START_TEST(test_all_owned_goes_direct)
{
	struct fixture fx;
	fx_open(&fx, 1);
	enum { NS = SHIM_SLOTS_MIN + 2 };
	struct shim_stream *s = calloc(NS, sizeof(*s));
	for (int i = 0; i < NS; i++) {
		shim_stream_init(&s[i], 200 + (uint32_t)i, 0);
		put_value(&fx.r, &s[i], 10, 0);
	}
	for (int i = 0; i < NS; i++)
		put_value(&fx.r, &s[i], 11, 1);
	fx_finish(&fx);
	struct rb_dump d;
	fx_close(&fx, &d);
	for (int i = 0; i < NS; i++) {
		struct rb_expect e = { 0, 0, 0 };
		ck_assert_int_eq(rb_walk_values(&d, 200 + (uint32_t)i, 0, rb_check_next, &e), 2);
		ck_assert_int_eq(e.bad, 0);
	}
	ck_assert_uint_eq(s[NS - 1].lost[RCP_EV_SNAPSHOT], 0);
	rb_free(&d);
	free(s);
}
END_TEST

/* A partial copy followed by the full chunk: the reader's rule "keep the
 * longest" gives every event once. */
START_TEST(test_partial_then_full)
{
	struct fixture fx;
	fx_open(&fx, 1);
	struct shim_stream *s = calloc(1, sizeof(*s));
	shim_stream_init(s, 7, 1);
	for (int i = 0; i < 10; i++)
		put_value(&fx.r, s, 5, (uint64_t)i);
	fx_finish(&fx);                 /* partial copy: 10 events */
	for (int i = 10; i < 25; i++)
		put_value(&fx.r, s, 6, (uint64_t)i);
	shim_stream_seal(&fx.r, s);     /* drained: the full chunk */
	struct rb_dump d;
	fx_close(&fx, &d);
	ck_assert_uint_eq(d.nrecords[RCP_REC_CHUNK], 2);
	struct rb_expect e = { 0, 0, 0 };
	ck_assert_int_eq(rb_walk_values(&d, 7, 1, rb_check_next, &e), 25);
	ck_assert_int_eq(e.bad, 0);
	rb_free(&d);
	free(s);
}
END_TEST

/* The flag: a second lock by the holder is refused, not deadlocked. */
START_TEST(test_lock_self_detect)
{
	struct fixture fx;
	fx_open(&fx, 1);
	ck_assert_int_eq(shim_ring_lock(&fx.r, 0), 0);
	ck_assert_int_eq(shim_ring_lock(&fx.r, 0), -EDEADLK);
	shim_ring_unlock(&fx.r);
	ck_assert_int_eq(shim_ring_lock(&fx.r, 1000), 0);
	shim_ring_unlock(&fx.r);
	struct rb_dump d;
	fx_close(&fx, &d);
	rb_free(&d);
}
END_TEST

/* finalized: every event is sealed and drained at once. */
START_TEST(test_finalized_drains_each_event)
{
	struct fixture fx;
	fx_open(&fx, 1);
	struct shim_stream *s = calloc(1, sizeof(*s));
	shim_stream_init(s, 9, 0);
	fx.r.finalized = SHIM_RING_FINAL;
	for (int i = 0; i < 5; i++)
		put_value(&fx.r, s, 1, (uint64_t)i);
	struct rb_dump d;
	fx_close(&fx, &d);
	ck_assert_uint_eq(d.nrecords[RCP_REC_CHUNK], 5);
	struct rb_expect e = { 0, 0, 0 };
	ck_assert_int_eq(rb_walk_values(&d, 9, 0, rb_check_next, &e), 5);
	rb_free(&d);
	free(s);
}
END_TEST

/* closed (a fatal signal's END): events stay in their slot, none is
 * written to the dump, where a drain would be cut short by the death. */
START_TEST(test_closed_drains_nothing)
{
	struct fixture fx;
	fx_open(&fx, 1);
	struct shim_stream *s = calloc(1, sizeof(*s));
	shim_stream_init(s, 9, 0);
	put_value(&fx.r, s, 1, 0);
	fx.r.finalized = SHIM_RING_CLOSED;
	for (int i = 1; i < 5; i++)
		put_value(&fx.r, s, 1, (uint64_t)i);
	struct rb_dump d;
	fx_close(&fx, &d);
	ck_assert_uint_eq(d.nrecords[RCP_REC_CHUNK], 0);
	rb_free(&d);
	free(s);
}
END_TEST

Suite *ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("ring");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_geometry);
	tcase_add_test(tc, test_wrap_around);
	tcase_add_test(tc, test_multi_producer_exact);
	tcase_add_test(tc, test_all_owned_goes_direct);
	tcase_add_test(tc, test_partial_then_full);
	tcase_add_test(tc, test_lock_self_detect);
	tcase_add_test(tc, test_finalized_drains_each_event);
	tcase_add_test(tc, test_closed_drains_nothing);
	tcase_add_test(tc, test_short_run_touches_one_slot);
	suite_add_tcase(s, tc);
	return s;
}
