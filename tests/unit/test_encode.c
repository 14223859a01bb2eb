/* test_encode.c - the writer: dump files and records (dumpfile.c), the
 * event encoding of every kind (record.c, stream.c), and the END record. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "recorder.h"
#include "shim_readback.h"
#include "suites.h"

START_TEST(test_path_expand)
{
	char out[64];
	ck_assert_int_eq(shim_path_expand("a.%p.bin", 123, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a.123.bin");
	ck_assert_int_eq(shim_path_expand("%p%%p", 7, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "7%p");
	ck_assert_int_eq(shim_path_expand("fixed", 7, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "fixed");
	ck_assert_int_eq(shim_path_expand("0123456789%p", 12345, out, 12), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_create_refuses_existing)
{
	char dir[] = "/tmp/rcprof-test-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char pat[128], path[160], tgt[128];
	uint32_t idx = 99;
	/* fixed name: created once, then refused */
	snprintf(pat, sizeof(pat), "%s/fixed.bin", dir);
	int fd = shim_dump_create(pat, 1, path, sizeof(path), &idx);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(idx, 0);
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	close(fd);
	ck_assert_int_eq(shim_dump_create(pat, 1, path, sizeof(path), &idx), -EEXIST);
	/* a symlink is never followed */
	snprintf(tgt, sizeof(tgt), "%s/target", dir);
	snprintf(pat, sizeof(pat), "%s/link.bin", dir);
	ck_assert_int_eq(symlink(tgt, pat), 0);
	ck_assert_int_eq(shim_dump_create(pat, 1, path, sizeof(path), &idx), -EEXIST);
	ck_assert_int_eq(access(tgt, F_OK), -1);
	/* %p: NAME, then NAME.1, NAME.2 (exec of the same pid) */
	snprintf(pat, sizeof(pat), "%s/p.%%p.bin", dir);
	for (uint32_t i = 0; i < 3; i++) {
		fd = shim_dump_create(pat, 55, path, sizeof(path), &idx);
		ck_assert_int_ge(fd, 0);
		ck_assert_uint_eq(idx, i);
		close(fd);
	}
	ck_assert_ptr_nonnull(strstr(path, "/p.55.bin.2"));
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_record_padding)
{
	char path[] = "/tmp/rcprof-test-rec.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_eq(shim_dump_write_header(fd, 77), 0);
	struct iovec parts[2] = { { (void *)"abc", 3 }, { (void *)"defgh", 5 } };
	ck_assert_int_eq(shim_write_record(fd, 99, parts, 2), 0);
	ck_assert_int_eq(shim_write_record(fd, 98, parts, 1), 0);
	close(fd);
	struct rb_dump d;
	ck_assert_int_eq(rb_load(path, &d), 0);
	ck_assert_int_eq(d.bad, 0);
	/* header 32 + (8 + 8) + (8 + 3 padded to 8) */
	ck_assert_uint_eq(d.len, 32 + 16 + 16);
	struct rcp_file_header h;
	memcpy(&h, d.buf, sizeof(h));
	ck_assert_uint_eq(h.version, RCP_FORMAT_VERSION);
	ck_assert_uint_eq(h.start_ts, 77);
	ck_assert_int_eq(memcmp(d.buf + 32 + 8, "abcdefgh", 8), 0);
	ck_assert_int_eq(memcmp(d.buf + 32 + 16 + 8, "abc\0\0\0\0\0", 8), 0);
	rb_free(&d);
	unlink(path);
}
END_TEST

START_TEST(test_fsize_fits)
{
	ck_assert(shim_fsize_fits(0, 10, 10));
	ck_assert(!shim_fsize_fits(0, 11, 10));
	ck_assert(shim_fsize_fits(4, 6, 10));
	ck_assert(!shim_fsize_fits(5, 6, 10));
	ck_assert(shim_fsize_fits(10, 0, 10));
	ck_assert(!shim_fsize_fits(11, 0, 10));
	ck_assert(!shim_fsize_fits(UINT64_MAX - 1, 5, UINT64_MAX - 2));
	ck_assert(shim_fsize_fits(UINT64_MAX - 1, UINT64_MAX, RLIM_INFINITY));
}
END_TEST

/* Under a soft RLIMIT_FSIZE a record that would cross it is not written
 * at all: -EFBIG, the file unchanged, and no SIGXFSZ (whose default action
 * would kill the child).  A record that fits is written. */
START_TEST(test_fsize_limit_write)
{
	char path[] = "/tmp/rcprof-test-fsize.XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl = { 64, RLIM_INFINITY };
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(10);
		static const char big[100];
		struct iovec small = { (void *)big, 16 }, large = { (void *)big, 40 };
		if (shim_write_record(fd, 1, &small, 1) != 0)
			_exit(11);              /* 8 + 16 bytes: fits */
		if (shim_write_record(fd, 2, &large, 1) != -EFBIG)
			_exit(12);              /* 24 + 8 + 40 > 64 */
		struct stat st;
		if (fstat(fd, &st) != 0 || st.st_size != 24)
			_exit(13);
		_exit(0);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child killed by signal %d",
		      WTERMSIG(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(test_varint_extremes)
{
	uint8_t buf[RCP_VARINT_MAX];
	const uint64_t us[] = { 0, 1, 127, 128, 16383, 16384, UINT64_MAX };
	for (size_t i = 0; i < sizeof(us) / sizeof(us[0]); i++) {
		size_t n = rcp_put_u64(buf, us[i]);
		const uint8_t *p = buf;
		uint64_t v;
		ck_assert_int_eq(rcp_get_u64(&p, buf + n, &v), 0);
		ck_assert_uint_eq(v, us[i]);
		ck_assert_ptr_eq(p, buf + n);
	}
	const int64_t ss[] = { 0, -1, 1, INT64_MIN, INT64_MAX, -64, 64 };
	for (size_t i = 0; i < sizeof(ss) / sizeof(ss[0]); i++) {
		size_t n = rcp_put_s64(buf, ss[i]);
		const uint8_t *p = buf;
		int64_t v;
		ck_assert_int_eq(rcp_get_s64(&p, buf + n, &v), 0);
		ck_assert_int_eq(v, ss[i]);
	}
}
END_TEST

/* ---- the recorder writing real events into a private recording -------- */

static char rec_path[] = "/tmp/rcprof-test-enc.XXXXXX";

static void recorder_setup(void)
{
	int fd = mkstemp(rec_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(shim_dump_write_header(fd, 1), 0);
	uint32_t nslots, slot;
	shim_ring_geometry(64 * 1024, &nslots, &slot);
	size_t len = shim_ring_bytes(nslots, slot);
	void *map = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	shim_ring_init(&shim_g.ring, map, nslots, slot, (uint32_t)getpid(), fd);
	ck_assert_int_eq(shim_intern_init(&shim_g.stacks, 10), 0);
	ck_assert_int_eq(shim_intern_init(&shim_g.strings, 10), 0);
	ck_assert_int_eq(shim_addrset_init(&shim_g.suspect_objs, 8), 0);
	shim_g.depth = 16;
	shim_g.pid = getpid();
	shim_g.ring_unlinked = 1;
	shim_unwind_init();
	shim_g.on = 1;
}

struct ev {
	unsigned kind;
	uint64_t ts;
	uint64_t f[8];
	int nf;
	char str[64];
};

static uint64_t gu(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	ck_assert_int_eq(rcp_get_u64(p, end, &v), 0);
	return v;
}

static int64_t gs(const uint8_t **p, const uint8_t *end)
{
	int64_t v = 0;
	ck_assert_int_eq(rcp_get_s64(p, end, &v), 0);
	return v;
}

/* Decode the main thread's level-0 stream (one chunk is enough here). */
static int decode_all(const struct rb_dump *d, uint32_t tid, struct ev *out, int max)
{
	int n = 0;
	for (uint64_t seq = 0; n < max; seq++) {
		const struct rb_chunk *k = rb_find(d, tid, 0, seq);
		if (!k)
			break;
		const uint8_t *p = k->data, *end = p + k->used;
		uint64_t ts = k->base_ts, prev = 0;
		while (p < end && n < max) {
			struct ev *e = &out[n++];
			memset(e, 0, sizeof(*e));
			e->kind = *p++;
			uint64_t v;
			int64_t sv;
			ck_assert_int_eq(rcp_get_u64(&p, end, &v), 0);
			ts += v;
			e->ts = ts;
#define U() (v = gu(&p, end), e->f[e->nf++] = v)
#define A() (sv = gs(&p, end), prev += (uint64_t)sv, e->f[e->nf++] = prev)
#define S() (sv = gs(&p, end), e->f[e->nf++] = (uint64_t)sv)
			switch (e->kind) {
			case RCP_EV_MALLOC: A(); U(); U(); U(); break;
			case RCP_EV_FREE: case RCP_EV_REALLOC_FROM: case RCP_EV_RC_FREE: A(); break;
			case RCP_EV_REALLOC_TO: A(); U(); U(); break;
			case RCP_EV_FREE_STACK: A(); U(); break;
			case RCP_EV_RC_NEW: case RCP_EV_RC_NEW_BLOCK:
				A(); U(); U(); S(); U(); U(); break;
			case RCP_EV_RC_FREE_BLOCK: A(); U(); break;
			case RCP_EV_RC_RETAIN: case RCP_EV_RC_RELEASE: A(); S(); U(); break;
			case RCP_EV_EDGE: A(); S(); U(); if (e->f[2]) A(); break;
			case RCP_EV_SUSPECT: case RCP_EV_SNAPSHOT: case RCP_EV_THREAD:
			case RCP_EV_FORK: case RCP_EV_SIGNAL: case RCP_EV_MODULE_UNMAP: U(); break;
			case RCP_EV_LOST: U(); U(); break;
			case RCP_EV_STACK: {
				U();
				U();
				uint64_t nf = v;
				for (uint64_t i = 0; i < nf; i++)
					ck_assert_int_eq(rcp_get_s64(&p, end, &sv), 0);
				break;
			}
			case RCP_EV_STRING: {
				U();
				U();
				uint64_t len = v;
				memcpy(e->str, p, len < 63 ? len : 63);
				p += len;
				break;
			}
			case RCP_EV_MODULE: {
				U(); U(); U();
				p += v;
				U();
				uint64_t ns = v;
				for (uint64_t i = 0; i < ns; i++) {
					ck_assert_int_eq(rcp_get_u64(&p, end, &v), 0);
					ck_assert_int_eq(rcp_get_u64(&p, end, &v), 0);
				}
				break;
			}
			default:
				ck_abort_msg("unknown kind %u", e->kind);
			}
#undef U
#undef A
#undef S
		}
	}
	return n;
}

static const struct ev *find_kind(const struct ev *ev, int n, unsigned kind, int nth)
{
	for (int i = 0; i < n; i++)
		if (ev[i].kind == kind && nth-- == 0)
			return &ev[i];
	return NULL;
}

START_TEST(test_writer_events)
{
	recorder_setup();
	struct shim_thread *t = &shim_tls;
	char blockbuf[64];
	void *block = blockbuf, *obj = blockbuf + 32;
	int lvl = shim_enter(t);
	ck_assert_int_eq(lvl, 0);
	shim_rec_alloc(t, lvl, (void *)0x10000, 100, RCP_ALLOC_CALLOC,
		       shim_heap_call_stack(t, lvl));
	shim_rec_alloc(t, lvl, block, 64, RCP_ALLOC_CALLOC,
		       shim_heap_call_stack(t, lvl));
	shim_rec_rc_new(t, lvl, obj, block, 32, "widget", 1, 0, 0);
	shim_rec_rc_count(t, lvl, RCP_EV_RC_RETAIN, obj, 2, 0, 0);
	shim_rec_rc_count(t, lvl, RCP_EV_RC_RELEASE, obj, 1, 1, 0);
	shim_rec_edge(t, lvl, obj, (char *)obj + 8, (void *)0x10000);
	shim_rec_edge(t, lvl, obj, (char *)obj + 8, NULL);
	shim_rec_realloc(t, lvl, (void *)0x10000, shim_now(), (void *)0x8000, 300,
			 shim_heap_call_stack(t, lvl));
	shim_rec_free(t, lvl, (void *)0x8000, 0);
	shim_rec_free(t, lvl, (void *)0x9000, shim_heap_call_stack(t, lvl));
	shim_rec_rc_free(t, lvl, obj, NULL);
	/* an object whose block has no heap events (librc's block_alloc) */
	void *obj2 = (void *)((uintptr_t)obj + 0x1000);
	void *block2 = (void *)((uintptr_t)block + 0x1000);
	shim_rec_rc_new(t, lvl, obj2, block2, 24, "gadget", 1, 0, 1);
	shim_rec_rc_free(t, lvl, obj2, block2);
	shim_rec_string_event(t, lvl, RCP_EV_SNAPSHOT, "phase one");
	shim_rec_string_event(t, lvl, RCP_EV_SNAPSHOT, "phase one");
	shim_rec_u(t, lvl, RCP_EV_FORK, 4242);
	shim_leave(t);
	/* level 2 (a signal inside a signal inside the shim): counted ... */
	t->depth = 2;
	lvl = shim_enter(t);
	ck_assert_int_eq(lvl, 2);
	shim_rec_free(t, lvl, (void *)0x1, 0);
	shim_leave(t);
	t->depth = 0;
	/* ... and reported by the next level-0 event */
	lvl = shim_enter(t);
	shim_rec_free(t, lvl, (void *)0x2, 0);
	shim_leave(t);
	shim_finish(RCP_END_EXIT, 3, 0);

	struct rb_dump d;
	ck_assert_int_eq(rb_load(rec_path, &d), 0);
	ck_assert_int_eq(d.nrecords[RCP_REC_END], 1);
	ck_assert_uint_eq(d.end.how, RCP_END_EXIT);
	ck_assert_int_eq(d.end.status, 3);
	static struct ev ev[4096];
	int n = decode_all(&d, t->tid, ev, 4096);
	ck_assert_int_gt(n, 10);
	/* counts in END = what is in the stream */
	uint64_t per[32] = { 0 };
	for (int i = 0; i < n; i++)
		per[ev[i].kind]++;
	for (int k = 0; k < 32; k++)
		ck_assert_uint_eq(d.end.counts[k], per[k]);
	ck_assert_uint_eq(ev[0].kind, RCP_EV_THREAD);
	/* timestamps never go back inside a stream */
	for (int i = 1; i < n; i++)
		ck_assert_uint_ge(ev[i].ts, ev[i - 1].ts);

	const struct ev *m0 = find_kind(ev, n, RCP_EV_MALLOC, 0);
	const struct ev *m1 = find_kind(ev, n, RCP_EV_MALLOC, 1);
	ck_assert_uint_eq(m0->f[0], 0x10000);
	ck_assert_uint_eq(m0->f[1], 100);
	ck_assert_uint_ne(m0->f[2], 0);                 /* has a stack */
	ck_assert_uint_eq(m0->f[3], RCP_ALLOC_CALLOC);
	const struct ev *nw = find_kind(ev, n, RCP_EV_RC_NEW, 0);
	ck_assert_uint_eq(nw->f[0], (uintptr_t)obj);
	ck_assert_uint_eq(nw->f[1], 32);
	ck_assert_int_eq((int64_t)nw->f[3], 1);
	ck_assert_uint_eq(nw->f[4], m1->f[2]);          /* calloc's stack reused */
	ck_assert_uint_eq(nw->f[5], 32);                /* header */
	const struct ev *nb = find_kind(ev, n, RCP_EV_RC_NEW_BLOCK, 0);
	ck_assert_uint_eq(nb->f[0], (uintptr_t)obj + 0x1000);
	ck_assert_uint_eq(nb->f[1], 24);
	ck_assert_int_eq((int64_t)nb->f[3], 1);
	ck_assert_uint_ne(nb->f[4], 0);                 /* its own stack */
	ck_assert_uint_eq(nb->f[5], 32);
	const struct ev *fb = find_kind(ev, n, RCP_EV_RC_FREE_BLOCK, 0);
	ck_assert_uint_eq(fb->f[0], (uintptr_t)obj + 0x1000);
	ck_assert_uint_eq(fb->f[1], 32);                /* header */
	ck_assert_uint_ge(fb->ts, nb->ts);
	const struct ev *ty = find_kind(ev, n, RCP_EV_STRING, 0);
	int found_widget = 0;
	for (int i = 0; i < n; i++)
		if (ev[i].kind == RCP_EV_STRING && !strcmp(ev[i].str, "widget")) {
			found_widget = 1;
			ck_assert_uint_eq(ev[i].f[0], nw->f[2]);
		}
	ck_assert_int_eq(found_widget, 1);
	(void)ty;
	const struct ev *ret = find_kind(ev, n, RCP_EV_RC_RETAIN, 0);
	ck_assert_int_eq((int64_t)ret->f[1], 2);
	ck_assert_uint_eq(ret->f[2], 0);                /* not suspect: no stack */
	const struct ev *rel = find_kind(ev, n, RCP_EV_RC_RELEASE, 0);
	ck_assert_int_eq((int64_t)rel->f[1], 1);
	ck_assert_uint_ne(rel->f[2], 0);
	const struct ev *e0 = find_kind(ev, n, RCP_EV_EDGE, 0);
	const struct ev *e1 = find_kind(ev, n, RCP_EV_EDGE, 1);
	ck_assert_int_eq((int64_t)e0->f[1], 8);
	ck_assert_uint_eq(e0->f[2], 1);
	ck_assert_uint_eq(e0->f[3], 0x10000);
	ck_assert_uint_eq(e1->f[2], 0);
	ck_assert_int_eq(e1->nf, 3);
	const struct ev *rf = find_kind(ev, n, RCP_EV_REALLOC_FROM, 0);
	const struct ev *rt = find_kind(ev, n, RCP_EV_REALLOC_TO, 0);
	ck_assert_ptr_eq(rt, rf + 1);                   /* written together */
	ck_assert_uint_eq(rf->f[0], 0x10000);
	ck_assert_uint_eq(rt->f[0], 0x8000);
	ck_assert_uint_eq(rt->f[1], 300);
	ck_assert_uint_le(rf->ts, rt->ts);
	const struct ev *fr = find_kind(ev, n, RCP_EV_FREE, 0);
	const struct ev *fs = find_kind(ev, n, RCP_EV_FREE_STACK, 0);
	ck_assert_uint_eq(fr->f[0], 0x8000);
	ck_assert_int_eq(fr->nf, 1);
	ck_assert_uint_eq(fs->f[0], 0x9000);
	ck_assert_uint_ne(fs->f[1], 0);                 /* has a stack */
	const struct ev *s0 = find_kind(ev, n, RCP_EV_SNAPSHOT, 0);
	const struct ev *s1 = find_kind(ev, n, RCP_EV_SNAPSHOT, 1);
	ck_assert_uint_eq(s0->f[0], s1->f[0]);          /* interned once */
	ck_assert_uint_eq(find_kind(ev, n, RCP_EV_FORK, 0)->f[0], 4242);
	const struct ev *lost = find_kind(ev, n, RCP_EV_LOST, 0);
	ck_assert_ptr_nonnull(lost);
	ck_assert_uint_eq(lost->f[0], RCP_EV_FREE);
	ck_assert_uint_eq(lost->f[1], 1);
	ck_assert_ptr_nonnull(find_kind(ev, n, RCP_EV_MODULE, 0));
	rb_free(&d);
	unlink(rec_path);
}
END_TEST

/* Suspect types: every retain and release gets a stack; note_new objects
 * of suspect types are tracked by address. */
START_TEST(test_writer_suspects)
{
	recorder_setup();
	struct shim_thread *t = &shim_tls;
	shim_suspect("session");
	shim_suspect("session");                        /* once */
	ck_assert_int_eq(shim_is_suspect_type("session"), 1);
	ck_assert_int_eq(shim_is_suspect_type("sess"), 0);
	int lvl = shim_enter(t);
	shim_rec_rc_new(t, lvl, (void *)0x5000, NULL, 8, "session", 1, 1, 0);
	shim_leave(t);
	ck_assert_int_eq(shim_addrset_has(&shim_g.suspect_objs, 0x5000), 1);
	shim_finish(RCP_END_EXIT, 0, 0);
	struct rb_dump d;
	ck_assert_int_eq(rb_load(rec_path, &d), 0);
	static struct ev ev[1024];
	int n = decode_all(&d, t->tid, ev, 1024);
	int suspects = 0;
	for (int i = 0; i < n; i++)
		suspects += ev[i].kind == RCP_EV_SUSPECT;
	ck_assert_int_eq(suspects, 1);
	rb_free(&d);
	unlink(rec_path);
}
END_TEST

/* Type names are memoized per stream by address and checked by text: the
 * same constant costs no lookup, a name rewritten in place at the same
 * address is a new string, the same text elsewhere the same id. */
START_TEST(test_writer_type_memo)
{
	recorder_setup();
	struct shim_thread *t = &shim_tls;
	char type[16] = "widget", other[16] = "widget";
	int lvl = shim_enter(t);
	shim_rec_rc_new(t, lvl, (void *)0x5000, NULL, 8, type, 1, 1, 0);
	shim_rec_rc_new(t, lvl, (void *)0x5100, NULL, 8, type, 1, 1, 0);
	strcpy(type, "gizmo");
	shim_rec_rc_new(t, lvl, (void *)0x5200, NULL, 8, type, 1, 1, 0);
	shim_rec_rc_new(t, lvl, (void *)0x5300, NULL, 8, other, 1, 1, 0);
	strcpy(type, "widget");
	shim_rec_rc_new(t, lvl, (void *)0x5400, NULL, 8, type, 1, 1, 0);
	shim_leave(t);
	shim_finish(RCP_END_EXIT, 0, 0);
	struct rb_dump d;
	ck_assert_int_eq(rb_load(rec_path, &d), 0);
	static struct ev ev[1024];
	int n = decode_all(&d, t->tid, ev, 1024);
	uint64_t widget = 0, gizmo = 0;
	int defs = 0;
	for (int i = 0; i < n; i++) {
		if (ev[i].kind != RCP_EV_STRING)
			continue;
		if (!strcmp(ev[i].str, "widget"))
			widget = ev[i].f[0];
		else if (!strcmp(ev[i].str, "gizmo"))
			gizmo = ev[i].f[0];
		else
			continue;
		defs++;
	}
	ck_assert_int_eq(defs, 2);
	ck_assert_uint_ne(widget, gizmo);
	const uint64_t want[5] = { widget, widget, gizmo, widget, widget };
	for (int k = 0; k < 5; k++)
		ck_assert_uint_eq(find_kind(ev, n, RCP_EV_RC_NEW, k)->f[2], want[k]);
	rb_free(&d);
	unlink(rec_path);
}
END_TEST

Suite *encode_suite(void)
{
	Suite *s = suite_create("encode");
	TCase *tc = tcase_create("encode");
	tcase_add_test(tc, test_path_expand);
	tcase_add_test(tc, test_create_refuses_existing);
	tcase_add_test(tc, test_record_padding);
	tcase_add_test(tc, test_fsize_fits);
	tcase_add_test(tc, test_fsize_limit_write);
	tcase_add_test(tc, test_varint_extremes);
	tcase_add_test(tc, test_writer_events);
	tcase_add_test(tc, test_writer_suspects);
	tcase_add_test(tc, test_writer_type_memo);
	suite_add_tcase(s, tc);
	return s;
}
