/* test_dump.c - the dump reader: valid dumps, truncation at every byte,
 * bit flips, bad magic/version, missing files, the ring file. */
#include <check.h>
#include <stdio.h>
#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#include "analyzer_util.h"
#include "suites.h"

/* A small dump: two threads, strings, a stack, a few heap and rc events. */
static void small_dump(struct dg *g, int with_end)
{
	struct dgc c;
	uint64_t ips[] = { 0x401234, 0x401300 };

	dg_init(g, 1000);
	dg_process(g, 4242, "/usr/bin/victim");
	dgc_begin(&c, 4242, 0, 1000);
	dgc_string(&c, 1001, 1, "node");
	dgc_stack(&c, 1002, 7, 2, ips);
	dgc_malloc(&c, 1003, 0x10000, 64, 7);
	dgc_malloc(&c, 1005, 0x10100, 32, 7);
	dgc_free(&c, 1007, 0x10100);
	dgc_rc_new(&c, 1009, 0x20010, 48, 1, 1, 7, 16);
	dg_chunk(g, &c);
	dgc_begin(&c, 4243, 0, 1000);
	dgc_simple(&c, RCP_EV_THREAD, 1004, 4242, 0);
	dgc_malloc(&c, 1006, 0x30000, 100, 0);
	dgc_rc_count(&c, RCP_EV_RC_RETAIN, 1010, 0x20010, 2, 0);
	dg_chunk(g, &c);
	dgc_begin(&c, 4242, 1, 1011);
	dgc_rc_count(&c, RCP_EV_RC_RELEASE, 1012, 0x20010, 1, 0);
	dgc_free(&c, 1013, 0x30000);
	dg_chunk(g, &c);
	if (with_end)
		dg_end(g, RCP_END_EXIT, 0, 2000);
}

START_TEST(test_valid_dump)
{
	struct dg g;
	struct rcp_analysis a;
	struct rcp_report r;
	uint8_t *copy;

	small_dump(&g, 1);
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_int_eq(a.dump.truncated, 0);
	ck_assert_int_eq(a.dump.has_end, 1);
	ck_assert_int_eq(a.dump.process.pid, 4242);
	ck_assert_uint_eq(a.events, 11);
	ck_assert_uint_eq(a.counts[RCP_EV_MALLOC], 3);
	ck_assert_uint_eq(a.counts[RCP_EV_FREE], 2);
	ck_assert_uint_eq(a.diag.nwarnings, 0);
	ck_assert_int_eq(rcp_report_build(&r, &a), 0);
	ck_assert_uint_eq(r.sum.leaked_blocks, 1);
	ck_assert_uint_eq(r.sum.leaked_bytes, 64);
	ck_assert_uint_eq(r.sum.rc_objects, 1);
	ck_assert_uint_eq(r.sum.errors, 0);
	rcp_report_free(&r);
	rcp_analysis_free(&a);
	free(copy);
	dg_free(&g);
}
END_TEST

/* Every prefix of the dump: never a crash, the event count only grows
 * with the prefix, and every prefix short of the whole file is truncated. */
START_TEST(test_truncated_every_offset)
{
	struct dg g;
	uint64_t prev = 0;

	small_dump(&g, 1);
	for (size_t len = 0; len <= g.len; len++) {
		struct rcp_analysis a;
		uint8_t *copy;
		int rc = au_analyze(&a, g.buf, len, &copy);
		if (len < sizeof(struct rcp_file_header)) {
			ck_assert_int_lt(rc, 0);
		} else {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_ge(a.events, prev);
			prev = a.events;
			ck_assert_int_eq(a.dump.truncated, len < g.len);
		}
		rcp_analysis_free(&a);
		free(copy);
	}
	ck_assert_uint_eq(prev, 11);
	dg_free(&g);
}
END_TEST

START_TEST(test_bit_flips)
{
	struct dg g;

	small_dump(&g, 1);
	for (size_t i = 0; i < g.len; i++) {
		for (int v = 0; v < 2; v++) {
			struct rcp_analysis a;
			struct rcp_report r;
			uint8_t *copy;
			uint8_t save = g.buf[i];
			g.buf[i] = v ? (uint8_t)(save ^ (1u << (i % 8))) : 0xff;
			int rc = au_analyze(&a, g.buf, g.len, &copy);
			g.buf[i] = save;
			if (rc == 0) {
				ck_assert_int_eq(rcp_report_build(&r, &a), 0);
				FILE *f = fopen("/dev/null", "w");
				rcp_emit_json(f, &r, 0);
				rcp_emit_text(f, &r);
				fclose(f);
				rcp_report_free(&r);
			}
			rcp_analysis_free(&a);
			free(copy);
		}
	}
	dg_free(&g);
}
END_TEST

START_TEST(test_bad_magic_and_version)
{
	struct dg g;
	struct rcp_analysis a;
	uint8_t *copy;

	small_dump(&g, 1);
	g.buf[0] = 'X';
	ck_assert_int_lt(au_analyze(&a, g.buf, g.len, &copy), 0);
	rcp_analysis_free(&a);
	free(copy);
	g.buf[0] = 'R';
	/* versions 1 (no FREE_STACK yet) to 3 are read, 0 and 4 are not */
	static const struct { uint8_t version; int ok; } v[] = {
		{ 0, 0 }, { 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 0 },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		g.buf[8] = v[i].version;
		int rc = au_analyze(&a, g.buf, g.len, &copy);
		if (v[i].ok)
			ck_assert_int_eq(rc, 0);
		else
			ck_assert_int_lt(rc, 0);
		rcp_analysis_free(&a);
		free(copy);
	}
	dg_free(&g);
}
END_TEST

START_TEST(test_missing_file)
{
	struct rcp_analysis a;
	struct rcp_options o;
	char err[256];

	rcp_options_default(&o);
	o.quiet = 1;
	ck_assert_int_eq(rcp_analyze(&a, "/nonexistent/x.bin", &o, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.bin"));
	ck_assert_ptr_null(strchr(err, '\n'));
	rcp_analysis_free(&a);
}
END_TEST

/* A record whose length runs past the end, and an absurd length. */
START_TEST(test_bad_record_length)
{
	struct dg g;
	struct rcp_analysis a;
	uint8_t *copy;
	struct rcp_record_header rh = { 99, RCP_RECORD_MAX + 1 };

	small_dump(&g, 0);
	size_t good = g.len;
	dg_put(&g, &rh, sizeof(rh));
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_int_eq(a.dump.truncated, 1);
	ck_assert_uint_eq(a.dump.truncated_at, good);
	ck_assert_uint_eq(a.events, 11);
	ck_assert_uint_ge(a.diag.nwarnings, 1);
	rcp_analysis_free(&a);
	free(copy);
	dg_free(&g);
}
END_TEST

/* A record after END that the file's end cuts short (a thread still
 * draining when exit_group or a fatal signal ended the process) is
 * skipped without a warning: the recording is complete up to END.  An
 * absurd length after END is still damage. */
START_TEST(test_cut_after_end)
{
	struct dg g;
	small_dump(&g, 1);
	size_t at_end = g.len;
	struct dgc c;
	dgc_begin(&c, 4244, 0, 2001);       /* a thread of its own */
	dgc_malloc(&c, 2002, 0x40000, 8, 0);
	dgc_free(&c, 2003, 0x40000);
	dg_chunk(&g, &c);
	struct rcp_record_header rh;
	memcpy(&rh, g.buf + at_end, sizeof(rh));
	size_t rec_end = at_end + sizeof(rh) + rh.length; /* padding may follow */
	for (size_t len = at_end + 1; len < rec_end; len++) {
		struct rcp_analysis a;
		uint8_t *copy;
		ck_assert_int_eq(au_analyze(&a, g.buf, len, &copy), 0);
		ck_assert_int_eq(a.dump.truncated, 0);
		ck_assert_uint_eq(a.dump.truncated_at, at_end);
		ck_assert_uint_eq(a.dump.cut_after_end, len - at_end);
		ck_assert_uint_eq(a.events, 11);
		ck_assert_uint_eq(a.diag.nwarnings, 0);
		rcp_analysis_free(&a);
		free(copy);
	}
	struct rcp_analysis a;
	uint8_t *copy;
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_uint_eq(a.events, 13);
	ck_assert_uint_eq(a.dump.cut_after_end, 0);
	rcp_analysis_free(&a);
	free(copy);

	struct rcp_record_header bad = { 99, RCP_RECORD_MAX + 1 };
	g.len = at_end;
	dg_put(&g, &bad, sizeof(bad));
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_int_eq(a.dump.truncated, 1);
	ck_assert_uint_ge(a.diag.nwarnings, 1);
	rcp_analysis_free(&a);
	free(copy);
	dg_free(&g);
}
END_TEST

/* Unknown record types are skipped by their length. */
START_TEST(test_unknown_record_skipped)
{
	struct dg g;
	struct rcp_analysis a;
	uint8_t *copy;
	uint8_t junk[13] = { 1, 2, 3 };

	dg_init(&g, 0);
	dg_process(&g, 1, "x");
	dg_record(&g, 77, junk, sizeof(junk), NULL, 0);
	struct dgc c;
	dgc_begin(&c, 1, 0, 0);
	dgc_malloc(&c, 5, 0x100, 1, 0);
	dg_chunk(&g, &c);
	dg_end(&g, RCP_END_EXIT, 0, 10);
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_uint_eq(a.events, 1);
	ck_assert_int_eq(a.dump.truncated, 0);
	rcp_analysis_free(&a);
	free(copy);
	dg_free(&g);
}
END_TEST

/* The END counts prove nothing is missing: a dropped chunk is noticed. */
START_TEST(test_end_counts_mismatch)
{
	struct dg g;
	struct dgc c;
	struct rcp_analysis a;
	uint8_t *copy;

	dg_init(&g, 0);
	dg_process(&g, 1, "x");
	dgc_begin(&c, 1, 0, 0);
	dgc_malloc(&c, 5, 0x100, 1, 0);
	dg_chunk(&g, &c);
	g.counts[RCP_EV_MALLOC] += 5;   /* recorded but never written */
	dg_end(&g, RCP_END_EXIT, 0, 10);
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_uint_eq(a.diag.nwarnings, 1);
	ck_assert_ptr_nonnull(strstr(a.diag.kept[0], "6 malloc events recorded, 1 read"));
	rcp_analysis_free(&a);
	free(copy);
	dg_free(&g);
}
END_TEST

/* Chunks missing between two of a thread's (a recording that lost its
 * dump mid-way keeps its last chunks in the ring): a double free before
 * the gap is reported; one after it is not - the missing chunk may have
 * allocated the block again - but counted in a warning.  The same for a
 * release of a freed refcounted object. */
START_TEST(test_gap_makes_misuse_unsure)
{
	struct dg g;
	struct dgc c;
	struct rcp_analysis a;
	uint8_t *copy;

	dg_init(&g, 0);
	dg_process(&g, 1, "x");
	dgc_begin(&c, 1, 0, 0);
	dgc_malloc(&c, 5, 0x100, 16, 0);
	dgc_free(&c, 6, 0x100);
	dgc_malloc(&c, 7, 0x200, 16, 0);
	dgc_free(&c, 8, 0x200);
	dgc_rc_new(&c, 8, 0x300, 16, 0, 1, 0, 0);
	dgc_rc_count(&c, RCP_EV_RC_RELEASE, 8, 0x300, 0, 0);
	dgc_rc_free(&c, 8, 0x300);
	dgc_free(&c, 9, 0x200);                 /* double free: certain */
	dg_chunk(&g, &c);
	/* chunk 1 is missing: it may have allocated 0x100 and 0x300 again */
	dgc_begin(&c, 1, 2, 30);
	dgc_free(&c, 31, 0x100);
	dgc_rc_count(&c, RCP_EV_RC_RELEASE, 32, 0x300, 0, 0);
	dg_chunk(&g, &c);
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_uint_eq(a.heap.nerrors, 1);
	ck_assert_uint_eq(a.heap.errors[0].at.ts, 9);
	ck_assert_uint_eq(a.heap.nunsure, 1);
	ck_assert_uint_eq(a.res->nerrors, 0);
	ck_assert_uint_eq(a.res->errors_unsure, 1);
	int warned = 0;
	for (size_t i = 0; i < a.diag.nkept; i++)
		warned |= strstr(a.diag.kept[i], "2 misuse findings after the "
				 "missing events not reported") != NULL;
	ck_assert_msg(warned, "no warning about the unsure findings");
	rcp_analysis_free(&a);
	free(copy);
	dg_free(&g);
}
END_TEST

/* ---- the ring file --------------------------------------------------------- */

START_TEST(test_ring_adds_chunks)
{
	char dir[64], path[128], ring_path[160];
	struct dg g;
	struct dgc c0, c1, c2;
	size_t rlen;
	struct rcp_analysis a;

	au_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/d.bin", dir);
	snprintf(ring_path, sizeof(ring_path), "%s.ring", path);

	/* the dump has chunk 0 of thread 7 (partial copy: 1 of 2 events) */
	dg_init(&g, 0);
	dg_process(&g, 7, "x");
	dgc_begin(&c0, 7, 0, 0);
	dgc_malloc(&c0, 1, 0x100, 8, 0);
	size_t one = c0.len;
	dgc_malloc(&c0, 2, 0x200, 8, 0);
	dg_chunk_part(&g, &c0, one);
	ck_assert_int_eq(dg_write_file(path, g.buf, g.len), 0);

	/* the ring: the full chunk 0 (SEALED), chunk 1 (OWNED, last event cut
	 * short), and a FREE slot holding stale data that must be ignored */
	dgc_begin(&c1, 7, 1, 10);
	dgc_malloc(&c1, 11, 0x300, 8, 0);
	size_t cut = c1.len;
	dgc_malloc(&c1, 12, 0x400, 8, 0);
	dgc_begin(&c2, 9, 0, 0);
	dgc_malloc(&c2, 3, 0x900, 8, 0);
	uint8_t *ring = dg_ring_new(4, 256, 7, &rlen);
	dg_ring_slot(ring, 0, RCP_SLOT_SEALED, &c0, c0.len);
	dg_ring_slot(ring, 1, RCP_SLOT_OWNED, &c1, cut + 2);
	dg_ring_slot(ring, 2, RCP_SLOT_FREE, &c2, c2.len);
	ck_assert_int_eq(dg_write_file(ring_path, ring, rlen), 0);

	ck_assert_int_eq(au_analyze_file(&a, path), 0);
	ck_assert_int_eq(a.dump.truncated, 1);
	ck_assert_int_eq(a.dump.ring_had_data, 1);
	ck_assert_uint_eq(a.events, 3);         /* 0x100, 0x200, 0x300 */
	ck_assert_ptr_nonnull(rcp_heap_find(&a.heap, 0x300));
	ck_assert_ptr_null(rcp_heap_find(&a.heap, 0x400));
	ck_assert_ptr_null(rcp_heap_find(&a.heap, 0x900));
	rcp_analysis_free(&a);

	/* a damaged ring: committed beyond the slot, more slots than the
	 * file holds -> warnings, no crash, the dump still read */
	dg_ring_slot(ring, 1, RCP_SLOT_OWNED, &c1, 1u << 30);
	uint32_t nslots = 1000;
	memcpy(ring + offsetof(struct rcp_ring_header, nslots), &nslots, 4);
	ck_assert_int_eq(dg_write_file(ring_path, ring, rlen), 0);
	ck_assert_int_eq(au_analyze_file(&a, path), 0);
	ck_assert_uint_ge(a.diag.nwarnings, 2);
	ck_assert_uint_ge(a.events, 2);
	rcp_analysis_free(&a);

	/* not a ring at all: ignored with a warning */
	ck_assert_int_eq(dg_write_file(ring_path, "garbage", 7), 0);
	ck_assert_int_eq(au_analyze_file(&a, path), 0);
	ck_assert_uint_eq(a.events, 1);
	ck_assert_uint_eq(a.diag.nwarnings, 1 + 0);
	rcp_analysis_free(&a);

	free(ring);
	dg_free(&g);
	au_rmdir(dir);
}
END_TEST

/* A complete recording whose ring file could not be removed (a seccomp
 * sandbox forbade unlink): the slots the final drain copied are still
 * OWNED there.  With the header's done flag the reader ignores the ring;
 * without it (an older shim) the same files read as a crash's remains. */
START_TEST(test_ring_done_ignored)
{
	char dir[64], path[128], ring_path[160];
	struct dg g;
	struct dgc c;
	size_t rlen;
	struct rcp_analysis a;

	au_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/d.bin", dir);
	snprintf(ring_path, sizeof(ring_path), "%s.ring", path);
	dg_init(&g, 0);
	dg_process(&g, 7, "x");
	dgc_begin(&c, 7, 0, 0);
	dgc_malloc(&c, 1, 0x100, 8, 0);
	dgc_malloc(&c, 2, 0x200, 8, 0);
	dg_chunk(&g, &c);
	dg_end(&g, RCP_END_EXIT, 0, 5);
	ck_assert_int_eq(dg_write_file(path, g.buf, g.len), 0);
	uint8_t *ring = dg_ring_new(4, 256, 7, &rlen);
	dg_ring_slot(ring, 0, RCP_SLOT_OWNED, &c, c.len);

	uint32_t done = 1;
	memcpy(ring + offsetof(struct rcp_ring_header, done), &done, 4);
	ck_assert_int_eq(dg_write_file(ring_path, ring, rlen), 0);
	ck_assert_int_eq(au_analyze_file(&a, path), 0);
	ck_assert_int_eq(a.dump.truncated, 0);
	ck_assert_int_eq(a.dump.ring_had_data, 0);
	ck_assert_uint_eq(a.diag.nwarnings, 0);
	ck_assert_uint_eq(a.events, 2);
	rcp_analysis_free(&a);

	done = 0;
	memcpy(ring + offsetof(struct rcp_ring_header, done), &done, 4);
	ck_assert_int_eq(dg_write_file(ring_path, ring, rlen), 0);
	ck_assert_int_eq(au_analyze_file(&a, path), 0);
	ck_assert_int_eq(a.dump.truncated, 1);
	ck_assert_int_eq(a.dump.ring_had_data, 1);
	ck_assert_uint_eq(a.events, 2);         /* the same chunk, once */
	rcp_analysis_free(&a);

	free(ring);
	dg_free(&g);
	au_rmdir(dir);
}
END_TEST

/* The report of a as JSON (the dump's name replaced: it is part of the
 * report), or as text without its summary line (the event count). */
static char *report_of(struct rcp_analysis *a, int json)
{
	struct rcp_report r;
	char *buf = NULL;
	size_t len = 0;

	if (json) {
		free(a->dump.path);
		a->dump.path = strdup("d.bin");
	}
	ck_assert_int_eq(rcp_report_build(&r, a), 0);
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	if (json)
		rcp_emit_json(f, &r, 1);
	else
		rcp_emit_text(f, &r);
	fclose(f);
	rcp_report_free(&r);
	if (!json) {
		char *line = strstr(buf, "summary: ");
		ck_assert_ptr_nonnull(line);
		char *eol = strchr(line, '\n');
		ck_assert_ptr_nonnull(eol);
		memmove(line, eol + 1, strlen(eol + 1) + 1);
	}
	return buf;
}

/* A dump file's chunks are read into recycled buffers (streams.c), and
 * the events of a batch point into them: two threads whose events
 * alternate chunk by chunk, each chunk defining the type name and stack
 * its own objects and blocks use, must give the report they give when
 * the dump is read from memory - every name and frame intact although a
 * batch of events spans dozens of chunks. */
START_TEST(test_file_chunks_like_memory)
{
	char dir[64], path[128];
	struct dg g;
	struct dgc c;
	struct rcp_analysis a;
	uint8_t *copy;

	dg_init(&g, 0);
	dg_process(&g, 7, "/usr/bin/victim");
	for (uint64_t i = 0; i < 300; i++) {
		for (uint32_t t = 7; t <= 8; t++) {
			uint64_t ts = 1000 * (i + 1) + (t - 7) * 10;
			uint64_t id = 2 * i + (t - 7) + 1;
			uint64_t ips[3] = { 0x400000 + 0x40 * id, 0x500000 + id,
					    0x600000 };
			char name[32];
			snprintf(name, sizeof(name), "type-%u-%llu", t,
				 (unsigned long long)i);
			dgc_begin(&c, t, i, ts);
			dgc_string(&c, ts + 1, id, name);
			dgc_stack(&c, ts + 2, id, 3, ips);
			dgc_malloc(&c, ts + 3, 0x10000000 + 0x100 * id, 16 + id, id);
			dgc_rc_new(&c, ts + 4, 0x20000010 + 0x100 * id, 32, id, 1,
				   id, 16);
			dg_chunk(&g, &c);
		}
	}
	dg_end(&g, RCP_END_EXIT, 0, 1000000);

	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_uint_eq(a.events, 4 * 600);
	char *from_memory = report_of(&a, 1);
	rcp_analysis_free(&a);
	free(copy);

	au_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/d.bin", dir);
	ck_assert_int_eq(dg_write_file(path, g.buf, g.len), 0);
	ck_assert_int_eq(au_analyze_file(&a, path), 0);
	ck_assert_uint_eq(a.events, 4 * 600);
	ck_assert_uint_eq(a.diag.nwarnings, 0);
	char *from_file = report_of(&a, 1);
	rcp_analysis_free(&a);

	ck_assert_ptr_nonnull(strstr(from_file, "type-8-299"));
	ck_assert_msg(strcmp(from_file, from_memory) == 0,
		      "the report of the file differs from the one of memory");
	free(from_file);
	free(from_memory);
	dg_free(&g);
	au_rmdir(dir);
}
END_TEST

/* One history, recorded with librc's blocks folded into the objects'
 * events (RC_NEW_BLOCK, RC_FREE_BLOCK) or as calloc + RC_NEW and RC_FREE
 * + free: a freed object, its block reused by a plain malloc, a cycle,
 * an object never released, a release after the free, a plain leak.  The
 * reports are the same, and the folded blocks are in the heap model. */
static void history(struct dg *g, int folded)
{
	struct dgc c;
	uint64_t ips[] = { 0x401000, 0x402000 };
	/* objects: 0x1020 (block 0x1000), 0x2020, 0x3020, 0x4020 */
	dg_init(g, 0);
	dg_process(g, 9, "/usr/bin/app");
	dgc_begin(&c, 9, 0, 0);
	dgc_string(&c, 1, 1, "node");
	dgc_stack(&c, 1, 5, 2, ips);
	for (uint64_t i = 1; i <= 4; i++) {
		if (folded) {
			dgc_rc_new_kind(&c, RCP_EV_RC_NEW_BLOCK, 10 * i,
					0x1000 * i + 0x20, 48, 1, 1, 5, 32);
		} else {
			dgc_malloc(&c, 10 * i, 0x1000 * i, 80, 5);
			dgc_rc_new(&c, 10 * i + 1, 0x1000 * i + 0x20, 48, 1, 1,
				   5, 32);
		}
	}
	/* a cycle 0x2020 <-> 0x3020, then the outside references dropped */
	dgc_edge(&c, 100, 0x2020, 0x2028, 0x3020);
	dgc_rc_count(&c, RCP_EV_RC_RETAIN, 101, 0x3020, 2, 0);
	dgc_edge(&c, 102, 0x3020, 0x3028, 0x2020);
	dgc_rc_count(&c, RCP_EV_RC_RETAIN, 103, 0x2020, 2, 0);
	dgc_rc_count(&c, RCP_EV_RC_RELEASE, 104, 0x2020, 1, 5);
	dgc_rc_count(&c, RCP_EV_RC_RELEASE, 105, 0x3020, 1, 5);
	/* 0x1020 dies; its block comes back from malloc */
	dgc_rc_count(&c, RCP_EV_RC_RELEASE, 110, 0x1020, 0, 0);
	if (folded) {
		dgc_rc_free_block(&c, 111, 0x1020, 32);
	} else {
		dgc_rc_free(&c, 111, 0x1020);
		dgc_free(&c, 111, 0x1000);
	}
	dgc_malloc(&c, 120, 0x1000, 64, 5);     /* a plain leak */
	dgc_rc_count(&c, RCP_EV_RC_RELEASE, 130, 0x1020, -1, 5);
	/* 0x4020: never released */
	dg_chunk(g, &c);
	dg_end(g, RCP_END_EXIT, 0, 1000);
}

START_TEST(test_folded_blocks)
{
	struct dg g;
	struct rcp_analysis a;
	struct rcp_report r;
	uint8_t *copy;

	history(&g, 0);
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	char *separate = report_of(&a, 0);
	rcp_analysis_free(&a);
	free(copy);
	dg_free(&g);

	history(&g, 1);
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_uint_eq(a.diag.nwarnings, 0);
	ck_assert_uint_eq(a.counts[RCP_EV_RC_NEW_BLOCK], 4);
	ck_assert_uint_eq(a.counts[RCP_EV_RC_FREE_BLOCK], 1);
	/* the live objects' blocks are heap blocks; the freed one was
	 * released and allocated again */
	ck_assert_ptr_nonnull(rcp_heap_find(&a.heap, 0x4000));
	ck_assert_ptr_nonnull(rcp_heap_find(&a.heap, 0x1000));
	ck_assert_int_eq(rcp_report_build(&r, &a), 0);
	ck_assert_uint_eq(r.sum.rc_objects, 4);
	ck_assert_uint_eq(r.sum.cycles, 1);
	ck_assert_uint_eq(r.sum.unreleased_objects, 1);
	ck_assert_uint_eq(r.sum.errors, 1);     /* the release after the free */
	ck_assert_uint_eq(r.sum.leaked_blocks, 1);      /* only the malloc */
	ck_assert_uint_eq(r.sum.leaked_bytes, 64);
	rcp_report_free(&r);
	char *folded = report_of(&a, 0);
	rcp_analysis_free(&a);
	free(copy);
	dg_free(&g);

	ck_assert_msg(strcmp(folded, separate) == 0,
		      "folded blocks report:\n%s\nseparate events report:\n%s",
		      folded, separate);
	free(folded);
	free(separate);
}
END_TEST

/* Truncating the ring file at every offset never crashes. */
START_TEST(test_ring_truncated)
{
	struct dg g;
	struct dgc c;
	size_t rlen;

	dg_init(&g, 0);
	dg_process(&g, 7, "x");
	dgc_begin(&c, 7, 0, 0);
	dgc_malloc(&c, 1, 0x100, 8, 0);
	dgc_malloc(&c, 2, 0x200, 8, 0);
	uint8_t *ring = dg_ring_new(2, 128, 7, &rlen);
	dg_ring_slot(ring, 1, RCP_SLOT_DRAINING, &c, c.len);
	for (size_t len = 0; len <= rlen; len++) {
		struct rcp_dump d;
		struct rcp_diag diag;
		char err[128];
		uint8_t *copy = malloc(len + 1);
		memcpy(copy, ring, len);
		rcp_diag_init(&diag, 1);
		ck_assert_int_eq(rcp_dump_open_mem(&d, "m", g.buf, g.len, &diag, err, sizeof(err)), 0);
		ck_assert_int_eq(rcp_ring_read(&d, copy, len, &diag), 0);
		ck_assert_uint_eq(d.nchunks, len == rlen ? 1 : 0);
		rcp_dump_close(&d);
		rcp_diag_free(&diag);
		free(copy);
	}
	free(ring);
	dg_free(&g);
}
END_TEST

Suite *dump_suite(void)
{
	Suite *s = suite_create("dump");
	TCase *tc = tcase_create("reader");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_valid_dump);
	tcase_add_test(tc, test_truncated_every_offset);
	tcase_add_test(tc, test_cut_after_end);
	tcase_add_test(tc, test_bit_flips);
	tcase_add_test(tc, test_bad_magic_and_version);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_bad_record_length);
	tcase_add_test(tc, test_unknown_record_skipped);
	tcase_add_test(tc, test_end_counts_mismatch);
	tcase_add_test(tc, test_gap_makes_misuse_unsure);
	tcase_add_test(tc, test_ring_adds_chunks);
	tcase_add_test(tc, test_ring_truncated);
	tcase_add_test(tc, test_ring_done_ignored);
	tcase_add_test(tc, test_file_chunks_like_memory);
	tcase_add_test(tc, test_folded_blocks);
	suite_add_tcase(s, tc);
	return s;
}
