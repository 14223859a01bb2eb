/* test_symbolize.c - offline symbolization of this very test binary: a
 * MODULE for /proc/self/exe at its real load bias, then a known function's
 * address resolved to its name and source file; a build-id mismatch gives
 * module+offset; site hashes ignore addresses; the on-disk cache
 * (symcache.h) is read back, and ignored when damaged or stale. */
#include <check.h>
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "analyzer_util.h"
#include "suites.h"
#include "symbolize.h"

__attribute__((noinline)) int rcp_test_known_function(int x);
__attribute__((noinline)) int rcp_test_known_function(int x)
{
	__asm__ volatile("" ::: "memory");
	return x * 3 + 1;
}

__attribute__((noinline)) int rcp_test_other_function(int x);
__attribute__((noinline)) int rcp_test_other_function(int x)
{
	__asm__ volatile("" ::: "memory");
	return x * 5 + 2;
}

struct self {
	uint64_t base;
	size_t nseg;
	uint64_t seg[2 * RCP_MODULE_SEGS];
	uint8_t build_id[RCP_BUILD_ID_MAX];
	size_t build_id_len;
};

static int first_object(struct dl_phdr_info *info, size_t size, void *ud)
{
	struct self *s = ud;
	(void)size;
	s->base = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && s->nseg < RCP_MODULE_SEGS) {
			s->seg[2 * s->nseg] = ph->p_vaddr;
			s->seg[2 * s->nseg + 1] = ph->p_memsz;
			s->nseg++;
		}
		if (ph->p_type == PT_NOTE) {
			const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
			const uint8_t *end = p + ph->p_memsz;
			while (p + sizeof(ElfW(Nhdr)) <= end) {
				const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
				const uint8_t *name = p + sizeof(*nh);
				const uint8_t *desc = name + ((nh->n_namesz + 3) & ~3u);
				if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
				    memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= RCP_BUILD_ID_MAX) {
					memcpy(s->build_id, desc, nh->n_descsz);
					s->build_id_len = nh->n_descsz;
				}
				p = desc + ((nh->n_descsz + 3) & ~3u);
			}
		}
	}
	return 1;       /* the first object is the program */
}

/* A dump: the module, a stack of the two functions, a leak at it. */
static void self_dump(struct dg *g, const struct self *s, int bad_build_id)
{
	struct dgc c;
	uint64_t ips[] = {
		(uint64_t)(uintptr_t)rcp_test_known_function + 1,
		(uint64_t)(uintptr_t)rcp_test_other_function + 1,
	};
	uint8_t bid[RCP_BUILD_ID_MAX];

	memcpy(bid, s->build_id, s->build_id_len);
	if (bad_build_id)
		bid[0] ^= 0xff;
	dg_init(g, 0);
	dg_process(g, 1, "/proc/self/exe");
	dgc_begin(&c, 1, 0, 0);
	dgc_string(&c, 1, 1, "/proc/self/exe");
	dgc_module(&c, 2, s->base, 1, bid, s->build_id_len, s->nseg, s->seg);
	dgc_malloc(&c, 3, 0x1000, 10, 5);
	dgc_stack(&c, 4, 5, 2, ips);    /* defined after its use */
	dg_chunk(g, &c);
	dg_end(g, RCP_END_EXIT, 0, 10);
}

START_TEST(test_symbolize_self)
{
	struct self s;
	struct dg g;
	struct rcp_analysis a;
	struct rcp_report r;
	uint8_t *copy;

	memset(&s, 0, sizeof(s));
	dl_iterate_phdr(first_object, &s);
	ck_assert_uint_gt(s.nseg, 0);
	ck_assert_uint_gt(s.build_id_len, 0);

	self_dump(&g, &s, 0);
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_int_eq(rcp_report_build(&r, &a), 0);
	ck_assert_uint_eq(r.nleaks, 1);
	const struct rcp_rstack *st = &r.leaks[0].alloc;
	ck_assert_uint_ge(st->n, 2);
	ck_assert_str_eq(st->f[0].func, "rcp_test_known_function");
	ck_assert_ptr_nonnull(st->f[0].file);
	ck_assert_ptr_nonnull(strstr(st->f[0].file, "test_symbolize.c"));
	ck_assert_uint_gt(st->f[0].line, 0);
	ck_assert_str_eq(st->f[0].module, "/proc/self/exe");
	ck_assert_str_eq(st->f[st->n - 1].func, "rcp_test_other_function");

	/* site hashes: stable, symbol-based, not address-based */
	uint64_t h1 = rcp_sym_stack_hash(a.sym, 5);
	ck_assert_uint_ne(h1, 0);
	ck_assert_uint_eq(h1, rcp_sym_stack_hash(a.sym, 5));
	uint64_t ips2[] = {
		(uint64_t)(uintptr_t)rcp_test_known_function + 1,
		(uint64_t)(uintptr_t)rcp_test_other_function + 1,
	};
	ck_assert_int_eq(rcp_stacks_define(&a.stacks, 6, 4, ips2, 2), 0);
	ck_assert_uint_eq(rcp_sym_stack_hash(a.sym, 6), h1);
	uint64_t ips3[] = { ips2[1], ips2[0] };
	ck_assert_int_eq(rcp_stacks_define(&a.stacks, 7, 4, ips3, 2), 0);
	ck_assert_uint_ne(rcp_sym_stack_hash(a.sym, 7), h1);
	struct rcobj_site_hasher hs = rcp_sym_hasher(a.sym);
	ck_assert_uint_eq(hs.stack_hash(hs.ud, 5), h1);

	/* an ip outside every module */
	const struct rcp_sym_frame *f;
	ck_assert_uint_eq(rcp_sym_ip(a.sym, 0x10, 4, &f), 1);
	ck_assert_ptr_null(f->module);
	ck_assert_ptr_null(f->func);

	rcp_report_free(&r);
	rcp_analysis_free(&a);
	free(copy);
	dg_free(&g);
}
END_TEST

START_TEST(test_build_id_mismatch)
{
	struct self s;
	struct dg g;
	struct rcp_analysis a;
	struct rcp_report r;
	uint8_t *copy;

	memset(&s, 0, sizeof(s));
	dl_iterate_phdr(first_object, &s);
	self_dump(&g, &s, 1);
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_int_eq(rcp_report_build(&r, &a), 0);
	const struct rcp_rstack *st = &r.leaks[0].alloc;
	ck_assert_uint_eq(st->n, 2);
	ck_assert_ptr_null(st->f[0].func);
	ck_assert_str_eq(st->f[0].module, "/proc/self/exe");
	ck_assert_uint_eq(st->f[0].offset,
			  (uint64_t)(uintptr_t)rcp_test_known_function + 1 - s.base);

	char *out = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&out, &n);
	rcp_emit_text(fp, &r);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(out, "#0 exe+0x"));
	free(out);

	rcp_report_free(&r);
	rcp_analysis_free(&a);
	free(copy);
	dg_free(&g);
}
END_TEST

/* The first frame of the self dump's leak, as a report names it. */
static char *first_func(const struct self *s, unsigned *line)
{
	struct dg g;
	struct rcp_analysis a;
	struct rcp_report r;
	uint8_t *copy;

	self_dump(&g, s, 0);
	ck_assert_int_eq(au_analyze(&a, g.buf, g.len, &copy), 0);
	ck_assert_int_eq(rcp_report_build(&r, &a), 0);
	ck_assert_uint_eq(r.nleaks, 1);
	const struct rcp_rstack *st = &r.leaks[0].alloc;
	ck_assert_uint_ge(st->n, 2);
	char *name = strdup(st->f[0].func ? st->f[0].func : "(null)");
	if (line)
		*line = st->f[0].line;
	rcp_report_free(&r);
	rcp_analysis_free(&a);      /* writes the cache */
	free(copy);
	dg_free(&g);
	return name;
}

/* A report of the self dump names `expected` first. */
static void expect_first_func(const struct self *s, const char *expected)
{
	unsigned line;
	char *name = first_func(s, &line);
	ck_assert_str_eq(name, expected);
	ck_assert_uint_gt(line, 0);
	free(name);
}

/* The one cache file in dir (its path in buf), or 0 when there is none. */
static int cache_file(const char *dir, char *buf, size_t len)
{
	DIR *d = opendir(dir);
	int found = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strstr(e->d_name, ".sym") && e->d_name[0] != '.') {
			snprintf(buf, len, "%s/%s", dir, e->d_name);
			found++;
		}
	if (d)
		closedir(d);
	ck_assert_int_le(found, 1);
	return found;
}

static char *slurp_file(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	char *text = NULL;
	size_t n = 0;
	ck_assert_int_ge(getdelim(&text, &n, 0, f), 0);
	fclose(f);
	return text;
}

static void spit_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Replaces the first `from` in the file by `to`. */
static void edit_file(const char *path, const char *from, const char *to)
{
	char *text = slurp_file(path);
	char *at = strstr(text, from);
	ck_assert_ptr_nonnull(at);
	size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);
	ck_assert_ptr_nonnull(out);
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	spit_file(path, out);
	free(out);
	free(text);
}

START_TEST(test_symcache)
{
	struct self s;
	char dir[] = "/tmp/rcprof-symcache-XXXXXX";
	char file[1024];

	memset(&s, 0, sizeof(s));
	dl_iterate_phdr(first_object, &s);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* a directory that does not exist yet is created */
	char sub[600];
	snprintf(sub, sizeof(sub), "%s/a/b", dir);
	setenv("RCPROF_SYMCACHE", sub, 1);

	expect_first_func(&s, "rcp_test_known_function");
	ck_assert_int_eq(cache_file(sub, file, sizeof(file)), 1);
	char *text = slurp_file(file);
	ck_assert_ptr_nonnull(strstr(text, "=rcp_test_known_function\t"));
	ck_assert_ptr_nonnull(strstr(text, "test_symbolize.c\n"));
	free(text);

	/* the next report takes the frames from the file, not from DWARF */
	edit_file(file, "=rcp_test_known_function\t", "=known_from_the_cache\t");
	expect_first_func(&s, "known_from_the_cache");

	/* made from another file (the signature differs): ignored, rewritten */
	edit_file(file, "sig m=", "sig m=1");
	expect_first_func(&s, "rcp_test_known_function");
	text = slurp_file(file);
	ck_assert_ptr_null(strstr(text, "known_from_the_cache"));
	ck_assert_ptr_null(strstr(text, "sig m=1"));
	free(text);

	/* damaged: a frame line that does not parse drops the whole file */
	edit_file(file, "=rcp_test_known_function\t", "rcp_test_known_function\t");
	expect_first_func(&s, "rcp_test_known_function");
	spit_file(file, "rcprof-symcache 1\nsig \xff\n@zz\n");
	expect_first_func(&s, "rcp_test_known_function");

	/* random damage and truncation of a valid file: never a crash (the
	 * sanitizers watch); a name the damage changed is not detected, and
	 * need not be - files are replaced by rename, never half-written */
	expect_first_func(&s, "rcp_test_known_function");
	char *good = slurp_file(file);
	size_t glen = strlen(good);
	srand(7);
	for (int round = 0; round < 200; round++) {
		char *bad = strdup(good);
		ck_assert_ptr_nonnull(bad);
		size_t cut = (size_t)rand() % (glen + 1);
		for (int k = 0; k < 4; k++) {
			size_t at = (size_t)rand() % glen;
			bad[at] = (char)(rand() % 3 == 0 ? '\t' : rand() % 3 == 0 ? '\n' : 32 + rand() % 95);
		}
		bad[cut] = 0;
		spit_file(file, bad);
		char *name = first_func(&s, NULL);
		ck_assert_uint_gt(strlen(name), 0);
		free(name);
		free(bad);
	}
	free(good);

	/* off: nothing is read or written */
	edit_file(file, "=rcp_test_known_function\t", "=known_from_the_cache\t");
	setenv("RCPROF_SYMCACHE", "off", 1);
	expect_first_func(&s, "rcp_test_known_function");
	text = slurp_file(file);
	ck_assert_ptr_nonnull(strstr(text, "known_from_the_cache"));
	free(text);

	/* the least recently used files beyond 256 are deleted when a report
	 * writes one; ours, just written, stays */
	setenv("RCPROF_SYMCACHE", sub, 1);
	unlink(file);
	for (int i = 0; i < 300; i++) {
		char old[1100];
		snprintf(old, sizeof(old), "%s/old%03d.sym", sub, i);
		spit_file(old, "x");
		struct timespec t[2] = { { 1000 + i, 0 }, { 1000 + i, 0 } };
		ck_assert_int_eq(utimensat(AT_FDCWD, old, t, 0), 0);
	}
	free(first_func(&s, NULL));
	DIR *d = opendir(sub);
	ck_assert_ptr_nonnull(d);
	int nfiles = 0, ours = 0, oldest = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		nfiles++;
		ours += strncmp(e->d_name, "old", 3) != 0;
		oldest += strcmp(e->d_name, "old000.sym") == 0;
	}
	closedir(d);
	ck_assert_int_eq(nfiles, 256);
	ck_assert_int_eq(ours, 1);
	ck_assert_int_eq(oldest, 0);

	snprintf(file, sizeof(file), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(file), 0);
}
END_TEST

Suite *symbolize_suite(void)
{
	Suite *s = suite_create("symbolize");
	TCase *tc = tcase_create("libdw");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_symbolize_self);
	tcase_add_test(tc, test_build_id_mismatch);
	tcase_add_test(tc, test_symcache);
	suite_add_tcase(s, tc);
	return s;
}
