/* modules.c - the loaded objects, for offline symbolization.
 *
 * A scan walks dl_iterate_phdr and reports every object not reported
 * before (load bias, path, GNU build-id, PT_LOAD segments) and every
 * reported object that is gone (dlclose).  The set of reported objects is
 * a fixed table in .bss, touched only by the thread holding scan_busy;
 * a thread that finds it busy leaves a note (scan_again) and the holder
 * scans once more, so no thread ever waits here (scans run inside malloc,
 * possibly while the caller holds the loader lock).
 *
 * Scanning also tells unwind.c where the profiler and librc.so live.
 */
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <string.h>

#include "shim.h"

#define MAX_MODULES 4096

struct known {
	uint64_t base;
	uint64_t name_hash;
	uint32_t gen;
};

static struct known known[MAX_MODULES];
static uint32_t nknown;
static uint32_t scan_gen;
static uint32_t scan_busy, scan_again;      /* atomic */
static unsigned long long seen_adds, seen_subs;   /* atomic */
static const char *exe_path = "";
static const char self_marker;              /* an address inside us */

void shim_modules_set_exe(const char *exe)
{
	exe_path = exe ? exe : "";
}

void shim_modules_reset(void)
{
	nknown = 0;
	scan_gen = 0;
	atomic_store_relaxed(&seen_adds, 0);
	atomic_store_relaxed(&seen_subs, 0);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void find_build_id(const struct dl_phdr_info *info, struct shim_module *m)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		const uint8_t *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)(const void *)p;
			size_t nsz = (nh->n_namesz + 3) & ~3u;
			size_t dsz = (nh->n_descsz + 3) & ~3u;
			const uint8_t *name = p + sizeof(*nh);
			const uint8_t *desc = name + nsz;
			if (desc + dsz > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && nh->n_descsz <= 64) {
				m->build_id = desc;
				m->build_id_len = nh->n_descsz;
				return;
			}
			p = desc + dsz;
		}
	}
}

struct scan_ctx {
	shim_module_fn on_new;
	void *ctx;
};

static int scan_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct scan_ctx *sc = arg;
	(void)size;
	const char *path = info->dlpi_name && info->dlpi_name[0] ?
		info->dlpi_name : exe_path;
	uint64_t h = shim_hash_bytes(path, strlen(path));
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	struct shim_module m;
	memset(&m, 0, sizeof(m));
	m.base = info->dlpi_addr;
	m.path = path;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;
		if (a < lo)
			lo = a;
		if (a + ph->p_memsz > hi)
			hi = a + ph->p_memsz;
		if (m.nseg < SHIM_MODULE_SEGS) {
			m.seg_vaddr[m.nseg] = ph->p_vaddr;
			m.seg_memsz[m.nseg] = ph->p_memsz;
			m.nseg++;
		}
	}
	if (hi && (uintptr_t)&self_marker >= lo && (uintptr_t)&self_marker < hi)
		shim_unwind_skip_range(0, lo, hi);
	else if (hi && strncmp(base_name(path), "librc.so", 8) == 0)
		shim_unwind_skip_range(1, lo, hi);

	for (uint32_t i = 0; i < nknown; i++) {
		if (known[i].base == m.base && known[i].name_hash == h) {
			known[i].gen = scan_gen;
			return 0;
		}
	}
	if (nknown < MAX_MODULES) {
		known[nknown].base = m.base;
		known[nknown].name_hash = h;
		known[nknown].gen = scan_gen;
		nknown++;
	}
	find_build_id(info, &m);
	sc->on_new(sc->ctx, &m);
	return 0;
}

static int counters_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	unsigned long long *c = arg;
	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
		c[0] = info->dlpi_adds;
		c[1] = info->dlpi_subs;
	}
	return 1;       /* the first object is enough */
}

/* dl_iterate_phdr with every signal blocked.  It holds the loader's lock,
 * a recursive mutex that has no owner for a moment while it is taken and
 * released; a signal handler that allocates in that moment unwinds its
 * stack, libunwind calls dl_iterate_phdr, and the handler waits for the
 * lock its own thread holds, for ever (tests/progs/sigalloc.c hung so in
 * t_shim_same.sh).  libunwind blocks signals around its own calls. */
static void iterate_blocked(int (*cb)(struct dl_phdr_info *, size_t, void *),
			    void *arg)
{
	sigset_t old;
	shim_sigmask_block_all(&old);
	dl_iterate_phdr(cb, arg);
	shim_sigmask(SIG_SETMASK, &old, NULL);
}

int shim_modules_changed(void)
{
	unsigned long long c[2] = { 0, 0 };
	iterate_blocked(counters_cb, c);
	return c[0] != atomic_load_relaxed(&seen_adds) ||
	       c[1] != atomic_load_relaxed(&seen_subs);
}

int shim_modules_scan(shim_module_fn on_new, shim_unmap_fn on_gone, void *ctx)
{
	if (atomic_exchange_seq_cst(&scan_busy, 1) != 0) {
		atomic_store_seq_cst(&scan_again, 1);
		return -EBUSY;
	}
	do {
		atomic_store_seq_cst(&scan_again, 0);
		unsigned long long c[2] = { 0, 0 };
		iterate_blocked(counters_cb, c);
		scan_gen++;
		struct scan_ctx sc = { on_new, ctx };
		iterate_blocked(scan_cb, &sc);
		for (uint32_t i = 0; i < nknown;) {
			if (known[i].gen != scan_gen) {
				on_gone(ctx, known[i].base);
				known[i] = known[--nknown];
			} else {
				i++;
			}
		}
		atomic_store_relaxed(&seen_adds, c[0]);
		atomic_store_relaxed(&seen_subs, c[1]);
		atomic_store_seq_cst(&scan_busy, 0);
	} while (atomic_load_seq_cst(&scan_again) &&
		 atomic_exchange_seq_cst(&scan_busy, 1) == 0);
	return 0;
}
