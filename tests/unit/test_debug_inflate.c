/* test_debug_inflate.c - the inflated image of a file with compressed
 * debug sections: this very test binary, compressed with objcopy, must
 * come back with the same DWARF bytes, the same symbols and lines through
 * libdwfl, the unread sections gone; damaged or plain files give -1; the
 * build-id lookup finds the file and refuses one with another build-id. */
#include <check.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <libelf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "debug_inflate.h"
#include "suites.h"

__attribute__((noinline)) int rcp_test_inflate_marker(int x);
__attribute__((noinline)) int rcp_test_inflate_marker(int x)
{
	__asm__ volatile("" ::: "memory");
	return x * 7 + 3;
}

static char self_path[4096];
static char tmpdir[64];
static char zpath[4200];        /* self, debug sections zlib-compressed */

static void setup(void)
{
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	ck_assert_int_gt(n, 0);
	self_path[n] = 0;
	strcpy(tmpdir, "/tmp/rcp-inflate-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(zpath, sizeof(zpath), "%s/z.elf", tmpdir);
	char cmd[9000];
	snprintf(cmd, sizeof(cmd),
		 "objcopy --compress-debug-sections=zlib '%s' '%s'", self_path, zpath);
	ck_assert_int_eq(system(cmd), 0);
	elf_version(EV_CURRENT);
}

static void teardown(void)
{
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Section `name` of elf: its data (inflated by libelf if compressed, so
 * the expected bytes come from an independent inflater). */
static Elf_Scn *section(Elf *elf, const char *name, GElf_Shdr *sh)
{
	size_t strndx;
	ck_assert_int_eq(elf_getshdrstrndx(elf, &strndx), 0);
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		ck_assert_ptr_nonnull(gelf_getshdr(scn, sh));
		const char *n = elf_strptr(elf, strndx, sh->sh_name);
		if (n && strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

static void assert_same_section(Elf *a, Elf *b, const char *name)
{
	GElf_Shdr sa, sb;
	Elf_Scn *x = section(a, name, &sa), *y = section(b, name, &sb);
	ck_assert_msg(x && y, "%s missing", name);
	ck_assert_msg(!(sb.sh_flags & SHF_COMPRESSED), "%s still compressed", name);
	Elf_Data *da = elf_getdata(x, NULL), *db = elf_getdata(y, NULL);
	ck_assert_ptr_nonnull(da);
	ck_assert_ptr_nonnull(db);
	ck_assert_uint_eq(da->d_size, db->d_size);
	ck_assert_msg(memcmp(da->d_buf, db->d_buf, da->d_size) == 0,
		      "%s differs", name);
}

START_TEST(test_inflated_matches_original)
{
	int zfd = open(zpath, O_RDONLY);
	ck_assert_int_ge(zfd, 0);
	GElf_Shdr sh;
	Elf *z = elf_begin(zfd, ELF_C_READ, NULL);
	ck_assert_ptr_nonnull(section(z, ".debug_info", &sh));
	ck_assert_msg(sh.sh_flags & SHF_COMPRESSED, "objcopy did not compress");
	elf_end(z);

	size_t size = 0;
	void *img = rcp_debug_inflated(zfd, &size);
	ck_assert_ptr_nonnull(img);
	int ofd = open(self_path, O_RDONLY);
	Elf *orig = elf_begin(ofd, ELF_C_READ, NULL);
	Elf *im = elf_memory(img, size);
	ck_assert_ptr_nonnull(im);
	static const char *const kept[] = {
		".debug_info", ".debug_abbrev", ".debug_line", ".debug_str",
		".debug_line_str", ".debug_aranges", ".debug_rnglists",
		".symtab", ".strtab", ".text", ".note.gnu.build-id",
	};
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		assert_same_section(orig, im, kept[i]);
	/* never read by the symbolizer: gone, its slot an empty NOBITS */
	ck_assert_ptr_nonnull(section(orig, ".debug_loclists", &sh));
	ck_assert_ptr_null(section(im, ".debug_loclists", &sh));
	size_t n_orig, n_im;
	ck_assert_int_eq(elf_getshdrnum(orig, &n_orig), 0);
	ck_assert_int_eq(elf_getshdrnum(im, &n_im), 0);
	ck_assert_uint_eq(n_orig, n_im);
	elf_end(im);
	elf_end(orig);
	close(ofd);
	rcp_debug_image_free(img, size);
	close(zfd);
}
END_TEST

static int first_object(struct dl_phdr_info *info, size_t size, void *ud)
{
	(void)size;
	*(uint64_t *)ud = info->dlpi_addr;
	return 1;
}

/* Name and line of the marker through libdwfl: in the file itself at its
 * load bias, or (img) in its inflated image, reported from memory the
 * way the symbolizer does, at the address libdwfl chose plus the shift. */
static void lookup_marker(void *img, size_t size, char *name, size_t cap,
			  int *line)
{
	static char *debuginfo_path;
	static const Dwfl_Callbacks cb = {
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.section_address = dwfl_offline_section_address,
		.debuginfo_path = &debuginfo_path,
	};
	uint64_t bias = 0;
	dl_iterate_phdr(first_object, &bias);
	Dwfl *d = dwfl_begin(&cb);
	dwfl_report_begin(d);
	Dwfl_Module *m = img ? dwfl_report_offline_memory(d, "self", self_path, img, size)
			     : dwfl_report_elf(d, "self", self_path, -1, bias, true);
	ck_assert_ptr_nonnull(m);
	dwfl_report_end(d, NULL, NULL);
	Dwarf_Addr pc = (Dwarf_Addr)(uintptr_t)rcp_test_inflate_marker + 1, b;
	if (img) {
		GElf_Addr placed;
		ck_assert_ptr_nonnull(dwfl_module_getelf(m, &placed));
		pc += placed - bias;
	}
	ck_assert_ptr_nonnull(dwfl_module_getdwarf(m, &b));
	const char *fn = dwfl_module_addrname(m, pc);
	ck_assert_ptr_nonnull(fn);
	snprintf(name, cap, "%s", fn);
	Dwfl_Line *l = dwfl_module_getsrc(m, pc);
	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_nonnull(dwfl_lineinfo(l, NULL, line, NULL, NULL, NULL));
	dwfl_end(d);
}

START_TEST(test_symbolize_through_image)
{
	char want[256], got[256];
	int want_line = 0, got_line = 0;
	lookup_marker(NULL, 0, want, sizeof(want), &want_line);
	int zfd = open(zpath, O_RDONLY);
	size_t size = 0;
	void *img = rcp_debug_inflated(zfd, &size);
	close(zfd);
	ck_assert_ptr_nonnull(img);
	lookup_marker(img, size, got, sizeof(got), &got_line);
	rcp_debug_image_free(img, size);
	ck_assert_str_eq(want, "rcp_test_inflate_marker");
	ck_assert_str_eq(got, want);
	ck_assert_int_gt(want_line, 0);
	ck_assert_int_eq(got_line, want_line);
}
END_TEST

static void write_file(const char *path, const void *buf, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
	fclose(f);
}

static char *read_file(const char *path, size_t *n)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	char *buf = malloc((size_t)st.st_size);
	FILE *f = fopen(path, "rb");
	ck_assert_uint_eq(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	*n = (size_t)st.st_size;
	return buf;
}

/* Whether the file at path gives an image. */
static int inflated_path(const char *path)
{
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	size_t size = 0;
	void *img = rcp_debug_inflated(fd, &size);
	close(fd);
	rcp_debug_image_free(img, size);
	return img ? 0 : -1;
}

START_TEST(test_nothing_to_inflate_or_damaged)
{
	char p[4300];
	/* plain debug sections: nothing to gain */
	ck_assert_int_eq(inflated_path(self_path), -1);
	/* not ELF, empty */
	snprintf(p, sizeof(p), "%s/text", tmpdir);
	write_file(p, "hello, not an ELF file at all, just some text\n", 46);
	ck_assert_int_eq(inflated_path(p), -1);
	write_file(p, "", 0);
	ck_assert_int_eq(inflated_path(p), -1);

	size_t n;
	char *z = read_file(zpath, &n);
	/* cut in half: the section headers (at the end) are gone */
	write_file(p, z, n / 2);
	ck_assert_int_eq(inflated_path(p), -1);

	/* the compressed .debug_info's stream damaged: libdeflate refuses it */
	int zfd = open(zpath, O_RDONLY);
	Elf *e = elf_begin(zfd, ELF_C_READ, NULL);
	GElf_Shdr sh;
	ck_assert_ptr_nonnull(section(e, ".debug_info", &sh));
	elf_end(e);
	close(zfd);
	for (size_t i = sizeof(Elf64_Chdr) + 2; i < sh.sh_size; i += 97)
		z[sh.sh_offset + i] ^= 0x5a;
	write_file(p, z, n);
	ck_assert_int_eq(inflated_path(p), -1);

	/* an unknown compression type: left to libdw */
	free(z);
	z = read_file(zpath, &n);
	Elf64_Chdr ch;
	memcpy(&ch, z + sh.sh_offset, sizeof(ch));
	ch.ch_type = 77;
	memcpy(z + sh.sh_offset, &ch, sizeof(ch));
	write_file(p, z, n);
	ck_assert_int_eq(inflated_path(p), -1);
	free(z);
}
END_TEST

/* root/.build-id/xx/yyyy.debug for id, made with its directory. */
static void build_id_path(const char *root, const unsigned char *id, size_t len,
			  char *out, size_t cap)
{
	int at = snprintf(out, cap, "%s/.build-id/%02x", root, id[0]);
	mkdir(root, 0700);
	char dir[4300];
	snprintf(dir, sizeof(dir), "%s/.build-id", root);
	mkdir(dir, 0700);
	mkdir(out, 0700);
	at += snprintf(out + at, cap - (size_t)at, "/");
	for (size_t i = 1; i < len; i++)
		at += snprintf(out + at, cap - (size_t)at, "%02x", id[i]);
	snprintf(out + at, cap - (size_t)at, ".debug");
}

START_TEST(test_by_build_id)
{
	int fd = open(self_path, O_RDONLY);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	const void *bits;
	ssize_t len = dwelf_elf_gnu_build_id(e, &bits);
	ck_assert_int_gt(len, 2);
	unsigned char id[64];
	memcpy(id, bits, (size_t)len);
	elf_end(e);
	close(fd);

	char root[200], dst[4400], cmd[9000];
	snprintf(root, sizeof(root), "%s/root", tmpdir);
	char *found = NULL;
	size_t size = 0;
	ck_assert_ptr_null(rcp_debug_inflated_by_build_id(root, id, (size_t)len, &size, &found));

	build_id_path(root, id, (size_t)len, dst, sizeof(dst));
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", zpath, dst);
	ck_assert_int_eq(system(cmd), 0);
	void *img = rcp_debug_inflated_by_build_id(root, id, (size_t)len, &size, &found);
	ck_assert_ptr_nonnull(img);
	ck_assert_str_eq(found, dst);
	free(found);
	rcp_debug_image_free(img, size);

	/* the same file under another build-id is not that build's */
	id[len - 1] ^= 1;
	build_id_path(root, id, (size_t)len, dst, sizeof(dst));
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", zpath, dst);
	ck_assert_int_eq(system(cmd), 0);
	found = NULL;
	ck_assert_ptr_null(rcp_debug_inflated_by_build_id(root, id, (size_t)len, &size, &found));
	ck_assert_ptr_null(found);
}
END_TEST

Suite *debug_inflate_suite(void)
{
	Suite *s = suite_create("debug_inflate");
	TCase *tc = tcase_create("image");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_inflated_matches_original);
	tcase_add_test(tc, test_symbolize_through_image);
	tcase_add_test(tc, test_nothing_to_inflate_or_damaged);
	tcase_add_test(tc, test_by_build_id);
	suite_add_tcase(s, tc);
	return s;
}
