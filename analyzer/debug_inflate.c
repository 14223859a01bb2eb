/* debug_inflate.c - a file's compressed DWARF inflated ahead (see .h).
 *
 * The image: [the original file, its compressed sections' bytes left as
 * holes] [each kept section inflated, 16-byte aligned] [section headers].
 * It is anonymous memory with transparent huge pages: a memfd's 4 KiB
 * shmem pages cost more to allocate than the inflating itself.  The
 * headers are the original ones with the inflated sections pointed at
 * their new place, their SHF_COMPRESSED flag cleared; dropped sections
 * become empty SHT_NOBITS without a name, so libdw neither reads nor
 * inflates them.
 */
#include <elf.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <libelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "debug_inflate.h"
#include "util.h"

/* Larger sections are left to libdw: a file claiming more is damaged. */
#define MAX_SECTION ((uint64_t)1 << 32)

/* Debug sections the symbolizer's libdw calls (module DWARF, address to
 * CU, scopes, names, lines, ranges) never read. */
static int unread_section(const char *name)
{
	static const char *const unread[] = {
		".debug_loc", ".debug_loclists", ".debug_macro",
		".debug_macinfo", ".debug_frame", ".debug_pubnames",
		".debug_pubtypes", ".debug_gnu_pubnames",
		".debug_gnu_pubtypes", ".debug_names",
	};
	for (size_t i = 0; i < sizeof(unread) / sizeof(unread[0]); i++)
		if (strcmp(name, unread[i]) == 0)
			return 1;
	return 0;
}

enum action { KEEP, INFLATE, DROP };

struct plan {
	const uint8_t *file;
	uint64_t size;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	size_t shnum;
	enum action *act;
	uint64_t *new_off;              /* INFLATE: where in the image */
	uint64_t shoff;                 /* the image's section headers */
	uint64_t image_size;
};

static uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

static int in_file(const struct plan *p, uint64_t off, uint64_t len)
{
	return off <= p->size && len <= p->size - off;
}

/* The section's name, or NULL when it is not a terminated string of the
 * section name table. */
static const char *section_name(const struct plan *p, const Elf64_Shdr *names,
				uint32_t at)
{
	if (at >= names->sh_size)
		return NULL;
	const char *s = (const char *)p->file + names->sh_offset + at;
	if (!memchr(s, 0, names->sh_size - at))
		return NULL;
	return s;
}

/* Fills the plan's actions and layout.  0, or -1: nothing to gain or a
 * header that does not check out. */
static int make_plan(struct plan *p)
{
	const Elf64_Ehdr *eh = p->eh;

	if (p->size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ?
				     ELFDATA2LSB : ELFDATA2MSB) ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0 ||
	    eh->e_shstrndx == SHN_UNDEF || eh->e_shstrndx >= eh->e_shnum ||
	    eh->e_shoff % 8 != 0 ||
	    !in_file(p, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))
		return -1;
	p->shnum = eh->e_shnum;
	p->sh = (const Elf64_Shdr *)(p->file + eh->e_shoff);
	const Elf64_Shdr *names = &p->sh[eh->e_shstrndx];
	if (names->sh_type != SHT_STRTAB ||
	    !in_file(p, names->sh_offset, names->sh_size))
		return -1;

	p->act = calloc(p->shnum, sizeof(*p->act));
	p->new_off = calloc(p->shnum, sizeof(*p->new_off));
	if (!p->act || !p->new_off)
		return -1;
	uint64_t end = align_up(p->size, 16);
	int changed = 0;
	for (size_t i = 0; i < p->shnum; i++) {
		const Elf64_Shdr *s = &p->sh[i];
		p->act[i] = KEEP;
		if (!(s->sh_flags & SHF_COMPRESSED) || s->sh_type == SHT_NOBITS)
			continue;
		const char *name = section_name(p, names, s->sh_name);
		if (!name || strncmp(name, ".debug_", 7) != 0)
			continue;
		if (!in_file(p, s->sh_offset, s->sh_size) ||
		    s->sh_size < sizeof(Elf64_Chdr))
			return -1;
		Elf64_Chdr ch;
		memcpy(&ch, p->file + s->sh_offset, sizeof(ch));
		if (ch.ch_type != ELFCOMPRESS_ZLIB)
			return -1;      /* zstd and others: libdw's business */
		if (unread_section(name)) {
			p->act[i] = DROP;
			changed = 1;
			continue;
		}
		if (ch.ch_size > MAX_SECTION)
			return -1;
		p->act[i] = INFLATE;
		p->new_off[i] = end;
		end = align_up(end + ch.ch_size, 16);
		changed = 1;
	}
	if (!changed)
		return -1;
	p->shoff = end;
	p->image_size = end + p->shnum * sizeof(Elf64_Shdr);
	return 0;
}

static int by_offset(const void *a, const void *b)
{
	const Elf64_Shdr *x = *(const Elf64_Shdr *const *)a;
	const Elf64_Shdr *y = *(const Elf64_Shdr *const *)b;
	return (x->sh_offset > y->sh_offset) - (x->sh_offset < y->sh_offset);
}

/* The original bytes, the compressed sections' ranges skipped. */
static int copy_outside(const struct plan *p, uint8_t *img)
{
	const Elf64_Shdr **holes = malloc(p->shnum * sizeof(*holes));
	size_t n = 0;
	if (!holes)
		return -1;
	for (size_t i = 0; i < p->shnum; i++)
		if (p->act[i] != KEEP)
			holes[n++] = &p->sh[i];
	qsort(holes, n, sizeof(*holes), by_offset);
	uint64_t at = 0;
	for (size_t k = 0; k < n; k++) {
		uint64_t start = holes[k]->sh_offset;
		if (start > at)
			memcpy(img + at, p->file + at, start - at);
		if (start + holes[k]->sh_size > at)
			at = start + holes[k]->sh_size;
	}
	if (p->size > at)
		memcpy(img + at, p->file + at, p->size - at);
	free(holes);
	return 0;
}

static int inflate_sections(const struct plan *p, uint8_t *img)
{
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	int rc = 0;
	if (!d)
		return -1;
	for (size_t i = 0; i < p->shnum && rc == 0; i++) {
		if (p->act[i] != INFLATE)
			continue;
		const Elf64_Shdr *s = &p->sh[i];
		Elf64_Chdr ch;
		memcpy(&ch, p->file + s->sh_offset, sizeof(ch));
		size_t got = 0;
		if (libdeflate_zlib_decompress(d, p->file + s->sh_offset + sizeof(ch),
					       s->sh_size - sizeof(ch),
					       img + p->new_off[i], ch.ch_size,
					       &got) != LIBDEFLATE_SUCCESS ||
		    got != ch.ch_size)
			rc = -1;
	}
	libdeflate_free_decompressor(d);
	return rc;
}

static void write_headers(const struct plan *p, uint8_t *img)
{
	Elf64_Ehdr eh = *p->eh;
	eh.e_shoff = p->shoff;
	memcpy(img, &eh, sizeof(eh));

	Elf64_Shdr *out = (Elf64_Shdr *)(img + p->shoff);
	for (size_t i = 0; i < p->shnum; i++) {
		Elf64_Shdr s = p->sh[i];
		if (p->act[i] == INFLATE) {
			Elf64_Chdr ch;
			memcpy(&ch, p->file + s.sh_offset, sizeof(ch));
			s.sh_offset = p->new_off[i];
			s.sh_size = ch.ch_size;
			s.sh_addralign = ch.ch_addralign;
			s.sh_flags &= ~(uint64_t)SHF_COMPRESSED;
		} else if (p->act[i] == DROP) {
			s.sh_name = 0;
			s.sh_type = SHT_NOBITS;
			s.sh_size = 0;
			s.sh_flags &= ~(uint64_t)SHF_COMPRESSED;
		}
		out[i] = s;
	}
}

void *rcp_debug_inflated(int fd, size_t *size)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < sizeof(Elf64_Ehdr))
		return NULL;
	struct plan p = { .size = (uint64_t)st.st_size };
	/* Not populated: most files (every module's own file is tried)
	 * have nothing to inflate, and only their headers are read. */
	void *file = mmap(NULL, p.size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (file == MAP_FAILED)
		return NULL;
	p.file = file;
	p.eh = file;

	uint8_t *img = NULL;
	if (make_plan(&p) != 0 || p.image_size > SIZE_MAX)
		goto done;
	img = rcp_map_huge(p.image_size);
	if (!img)
		goto done;
	if (copy_outside(&p, img) != 0 || inflate_sections(&p, img) != 0) {
		rcp_unmap_huge(img, p.image_size);
		img = NULL;
		goto done;
	}
	write_headers(&p, img);
	*size = p.image_size;
done:
	munmap(file, p.size);
	free(p.act);
	free(p.new_off);
	return img;
}

void rcp_debug_image_free(void *img, size_t size)
{
	rcp_unmap_huge(img, size);
}

/* Whether the ELF image carries the GNU build-id id. */
static int has_build_id(void *img, size_t size, const unsigned char *id,
			size_t len)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	Elf *elf = elf_memory(img, size);
	if (!elf)
		return 0;
	const void *bits;
	ssize_t n = dwelf_elf_gnu_build_id(elf, &bits);
	int same = n == (ssize_t)len && memcmp(bits, id, len) == 0;
	elf_end(elf);
	return same;
}

int rcp_debug_build_id_path(const char *root, const unsigned char *id,
			    size_t len, char *name, size_t size)
{
	/* root/.build-id/ + 2 hex + / + the rest in hex + .debug */
	if (len < 2 || len > 64 || strlen(root) + 2 * len + 32 > size)
		return -1;
	int at = snprintf(name, size, "%s/.build-id/%02x/", root, id[0]);
	for (size_t i = 1; i < len; i++)
		at += snprintf(name + at, size - (size_t)at, "%02x", id[i]);
	snprintf(name + at, size - (size_t)at, ".debug");
	return 0;
}

void *rcp_debug_inflated_by_build_id(const char *root, const unsigned char *id,
				     size_t len, size_t *size, char **path)
{
	char name[4096];
	if (rcp_debug_build_id_path(root, id, len, name, sizeof(name)) != 0)
		return NULL;

	int fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t n = 0;
	void *img = rcp_debug_inflated(fd, &n);
	close(fd);
	if (!img)
		return NULL;
	char *copy = NULL;
	if (!has_build_id(img, n, id, len) || (path && !(copy = strdup(name)))) {
		rcp_debug_image_free(img, n);
		return NULL;
	}
	if (path)
		*path = copy;
	*size = n;
	return img;
}
