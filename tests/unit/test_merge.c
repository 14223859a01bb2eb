/* test_merge.c - streams and the k-way merge: ts order across threads,
 * ties by stream then position, seq order and gaps, cut and unknown
 * events, duplicate chunks (the longest copy wins). */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>

#include "analyzer_util.h"
#include "streams.h"
#include "suites.h"

/* Runs the merge over a dump and collects (ts, tid, addr) of each event. */
struct seen {
	size_t n;
	uint64_t ts[256], addr[256];
	uint32_t tid[256];
};

static void merge_all(const struct dg *g, struct seen *out, struct rcp_diag *diag)
{
	struct rcp_dump d;
	struct rcp_streams ss;
	struct rcp_merge m;
	const struct rcp_event *ev;
	char err[128];

	memset(out, 0, sizeof(*out));
	ck_assert_int_eq(rcp_dump_open_mem(&d, "m", g->buf, g->len, diag, err, sizeof(err)), 0);
	ck_assert_int_eq(rcp_streams_build(&ss, &d, diag), 0);
	ck_assert_int_eq(rcp_merge_init(&m, &ss), 0);
	while ((ev = rcp_merge_next(&m)) != NULL) {
		ck_assert_uint_lt(out->n, 256);
		out->ts[out->n] = ev->ts;
		out->tid[out->n] = ev->tid;
		out->addr[out->n] = ev->addr;
		out->n++;
	}
	rcp_merge_free(&m);
	rcp_streams_free(&ss);
	rcp_dump_close(&d);
}

START_TEST(test_interleaved_threads)
{
	struct dg g;
	struct dgc c;
	struct seen s;
	struct rcp_diag diag;

	/* 3 threads, 2 chunks each, written in a scrambled record order;
	 * thread t's events at ts = 10*i + t */
	dg_init(&g, 0);
	dg_process(&g, 1, "x");
	for (int chunk = 1; chunk >= 0; chunk--) {
		for (uint32_t t = 3; t >= 1; t--) {
			dgc_begin(&c, t, (uint64_t)chunk, (uint64_t)chunk * 100);
			for (int i = 0; i < 5; i++) {
				uint64_t ts = (uint64_t)chunk * 100 + 10 * (uint64_t)i + t;
				dgc_malloc(&c, ts, 0x1000 * t + (uint64_t)(chunk * 5 + i) * 16, 8, 0);
			}
			dg_chunk(&g, &c);
		}
	}
	dg_end(&g, RCP_END_EXIT, 0, 1000);
	rcp_diag_init(&diag, 1);
	merge_all(&g, &s, &diag);
	ck_assert_uint_eq(s.n, 30);
	for (size_t i = 1; i < s.n; i++)
		ck_assert_uint_lt(s.ts[i - 1], s.ts[i]);
	/* addresses decoded with a per-chunk prev_addr */
	for (size_t i = 0; i < s.n; i++) {
		uint64_t ts = s.ts[i], t = s.tid[i];
		uint64_t chunk = ts / 100, k = (ts % 100 - t) / 10;
		ck_assert_uint_eq(s.addr[i], 0x1000 * t + (chunk * 5 + k) * 16);
	}
	ck_assert_uint_eq(diag.nwarnings, 0);
	rcp_diag_free(&diag);
	dg_free(&g);
}
END_TEST

START_TEST(test_ties_stream_then_position)
{
	struct dg g;
	struct dgc c;
	struct seen s;
	struct rcp_diag diag;

	dg_init(&g, 0);
	dg_process(&g, 1, "x");
	dgc_begin(&c, 20, 0, 0);
	dgc_malloc(&c, 5, 0x201, 1, 0);
	dgc_malloc(&c, 5, 0x202, 1, 0);
	dg_chunk(&g, &c);
	dgc_begin(&c, 10, 0, 0);
	dgc_malloc(&c, 5, 0x101, 1, 0);
	dgc_malloc(&c, 5, 0x102, 1, 0);
	dg_chunk(&g, &c);
	rcp_diag_init(&diag, 1);
	merge_all(&g, &s, &diag);
	ck_assert_uint_eq(s.n, 4);
	ck_assert_uint_eq(s.addr[0], 0x101);
	ck_assert_uint_eq(s.addr[1], 0x102);
	ck_assert_uint_eq(s.addr[2], 0x201);
	ck_assert_uint_eq(s.addr[3], 0x202);
	rcp_diag_free(&diag);
	dg_free(&g);
}
END_TEST

/* seq 0, 2 (1 missing): a warning; both chunks still decoded.  A second,
 * shorter copy of chunk 0 is ignored. */
START_TEST(test_gap_and_duplicates)
{
	struct dg g;
	struct dgc c;
	struct seen s;
	struct rcp_diag diag;

	dg_init(&g, 0);
	dg_process(&g, 1, "x");
	dgc_begin(&c, 1, 2, 50);
	dgc_malloc(&c, 51, 0x300, 1, 0);
	dg_chunk(&g, &c);
	dgc_begin(&c, 1, 0, 0);
	dgc_malloc(&c, 1, 0x100, 1, 0);
	size_t one = c.len;
	dgc_malloc(&c, 2, 0x110, 1, 0);
	dg_chunk_part(&g, &c, one);
	dg_chunk(&g, &c);
	dg_chunk_part(&g, &c, one);
	rcp_diag_init(&diag, 1);
	merge_all(&g, &s, &diag);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_uint_eq(s.addr[2], 0x300);
	ck_assert_uint_eq(diag.nwarnings, 1);
	ck_assert_ptr_nonnull(strstr(diag.kept[0], "chunks 1..1 missing"));
	rcp_diag_free(&diag);
	dg_free(&g);
}
END_TEST

/* An event cut at the end of a middle chunk is dropped with a warning; an
 * unknown kind stops its chunk only. */
START_TEST(test_cut_and_unknown)
{
	struct dg g;
	struct dgc c;
	struct seen s;
	struct rcp_diag diag;

	dg_init(&g, 0);
	dg_process(&g, 1, "x");
	dgc_begin(&c, 1, 0, 0);
	dgc_malloc(&c, 1, 0x100, 1, 0);
	size_t one = c.len;
	dgc_malloc(&c, 2, 0x200, 1, 0);
	dg_chunk_part(&g, &c, c.len - 1);
	(void)one;
	dgc_begin(&c, 1, 1, 10);
	dgc_malloc(&c, 11, 0x300, 1, 0);
	c.data[c.len++] = 0x7e;         /* unknown kind */
	dgc_malloc(&c, 12, 0x400, 1, 0);
	dg_chunk(&g, &c);
	dgc_begin(&c, 1, 2, 20);
	dgc_malloc(&c, 21, 0x500, 1, 0);
	dg_chunk(&g, &c);
	rcp_diag_init(&diag, 1);
	merge_all(&g, &s, &diag);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_uint_eq(s.addr[0], 0x100);
	ck_assert_uint_eq(s.addr[1], 0x300);
	ck_assert_uint_eq(s.addr[2], 0x500);
	ck_assert_uint_eq(diag.nwarnings, 2);
	rcp_diag_free(&diag);
	dg_free(&g);
}
END_TEST

/* --dump-events prints the merged stream, one event a line. */
START_TEST(test_dump_events_output)
{
	struct dg g;
	struct dgc c;
	struct rcp_analysis a;
	struct rcp_options o;
	char err[128], *text = NULL;
	size_t len = 0;

	dg_init(&g, 0);
	dg_process(&g, 1, "x");
	dgc_begin(&c, 2, 0, 0);
	dgc_malloc(&c, 7, 0x100, 16, 3);
	dg_chunk(&g, &c);
	dgc_begin(&c, 1, 0, 0);
	dgc_string(&c, 5, 1, "a\"b");
	dgc_edge(&c, 8, 0x100, 8, 0);
	dg_chunk(&g, &c);
	rcp_options_default(&o);
	o.quiet = 1;
	o.dump_events = open_memstream(&text, &len);
	ck_assert_int_eq(rcp_analyze_mem(&a, g.buf, g.len, &o, err, sizeof(err)), 0);
	fclose(o.dump_events);
	ck_assert_str_eq(text,
			 "5 1 string id=1 \"a\\x22b\"\n"
			 "7 2 malloc addr=0x100 size=16 stack=3 flavor=0\n"
			 "8 1 edge owner=0x100 slot_off=8 target=none\n");
	free(text);
	rcp_analysis_free(&a);
	dg_free(&g);
}
END_TEST

/* Varint edge cases: 10-byte varints, overlong ones are cut. */
START_TEST(test_decode_varints)
{
	uint8_t buf[64];
	const uint8_t *p = buf;
	struct rcp_dec_state st = { 0, 0 };
	struct rcp_event ev;
	size_t n = 0;

	buf[n++] = RCP_EV_MALLOC;
	n += rcp_put_u64(buf + n, UINT64_MAX);          /* dts */
	n += rcp_put_s64(buf + n, INT64_MIN);           /* addr */
	n += rcp_put_u64(buf + n, UINT64_MAX);          /* size */
	buf[n++] = 0;
	buf[n++] = 0;
	ck_assert_int_eq(rcp_decode(&p, buf + n, &st, &ev), RCP_DEC_OK);
	ck_assert_uint_eq(ev.ts, UINT64_MAX);
	ck_assert_uint_eq(ev.addr, (uint64_t)INT64_MIN);
	ck_assert_uint_eq(ev.size, UINT64_MAX);
	ck_assert_ptr_eq(p, buf + n);
	/* 11 continuation bytes: not a varint */
	memset(buf, 0xff, sizeof(buf));
	buf[0] = RCP_EV_FREE;
	p = buf;
	ck_assert_int_eq(rcp_decode(&p, buf + sizeof(buf), &st, &ev), RCP_DEC_CUT);
	/* STACK claiming more frames than bytes left */
	n = 0;
	buf[n++] = RCP_EV_STACK;
	buf[n++] = 0;
	buf[n++] = 1;
	n += rcp_put_u64(buf + n, 1ull << 40);
	p = buf;
	ck_assert_int_eq(rcp_decode(&p, buf + n, &st, &ev), RCP_DEC_CUT);
}
END_TEST

Suite *merge_suite(void)
{
	Suite *s = suite_create("merge");
	TCase *tc = tcase_create("streams");
	tcase_add_test(tc, test_interleaved_threads);
	tcase_add_test(tc, test_ties_stream_then_position);
	tcase_add_test(tc, test_gap_and_duplicates);
	tcase_add_test(tc, test_cut_and_unknown);
	tcase_add_test(tc, test_dump_events_output);
	tcase_add_test(tc, test_decode_varints);
	suite_add_tcase(s, tc);
	return s;
}
