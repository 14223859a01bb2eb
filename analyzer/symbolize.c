/* symbolize.c - offline symbolization (see symbolize.h).
 *
 * Per module, on first use: dwfl_begin with the offline callbacks, the
 * module reported at the recorded load bias - its file, or the inflated
 * image of its compressed debug information (debug_inflate.h) at
 * libdwfl's own address plus a shift - and build ids compared
 * (rcp_sym_mod_open).  The modules the replay saw in stacks are opened on
 * a worker thread while the replay runs (sym_warm.h); the first lookup
 * waits for it and takes them over.
 * Per ip, on first use: the DWARF scopes at ip - 1 give the inline chain
 * (innermost inlined_subroutine ... subprogram); the innermost frame's
 * file:line comes from the line table, each outer frame's from the
 * DW_AT_call_file/DW_AT_call_line of the frame inlined into it.  Without
 * DWARF the ELF symbol table (or .dynsym) names the function.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "sym_warm.h"
#include "symbolize.h"
#include "symcache.h"
#include "util.h"

struct cache_key {
	uint64_t ip;
	int64_t module;
};

struct cache_ent {
	struct cache_key key;
	size_t n;
	struct rcp_sym_frame *frames;
	UT_hash_handle hh;
};

struct intern {
	char *s;
	UT_hash_handle hh;
};

struct rcp_symbolizer {
	const struct rcp_modules *mods;
	const struct rcp_strtab *strs;
	struct rcp_stacks *stacks;
	size_t nms;
	struct rcp_sym_mod *ms;
	struct cache_ent *cache;
	struct intern *strings;
	struct rcp_sym_warm *warm;      /* opens modules during the replay */
	uint8_t *queued;                /* per module: handed to warm */
	size_t nqueued;
	struct rcp_symcache *disk;      /* what earlier reports learned */
};

struct rcp_symbolizer *rcp_sym_create(const struct rcp_modules *mods,
				      const struct rcp_strtab *strs,
				      struct rcp_stacks *stacks)
{
	struct rcp_symbolizer *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->mods = mods;
	s->strs = strs;
	s->stacks = stacks;
	/* without a worker everything is opened on first use, as before */
	s->warm = rcp_sym_warm_new();
	s->disk = rcp_symcache_new();
	return s;
}

void rcp_sym_destroy(struct rcp_symbolizer *s)
{
	struct cache_ent *c, *ct;
	struct intern *i, *it;

	if (!s)
		return;
	HASH_ITER(hh, s->cache, c, ct) {
		HASH_DEL(s->cache, c);
		free(c->frames);
		free(c);
	}
	HASH_ITER(hh, s->strings, i, it) {
		HASH_DEL(s->strings, i);
		free(i->s);
		free(i);
	}
	rcp_sym_warm_free(s->warm);
	rcp_symcache_free(s->disk);
	for (size_t k = 0; k < s->nms; k++)
		rcp_sym_mod_close(&s->ms[k]);
	free(s->ms);
	free(s->queued);
	free(s);
}

/* Strings live as long as the symbolizer; NULL stays NULL. */
static const char *intern(struct rcp_symbolizer *s, const char *str)
{
	struct intern *i;

	if (!str)
		return NULL;
	HASH_FIND_STR(s->strings, str, i);
	if (i)
		return i->s;
	i = calloc(1, sizeof(*i));
	if (!i)
		return NULL;
	i->s = strdup(str);
	if (!i->s) {
		free(i);
		return NULL;
	}
	HASH_ADD_KEYPTR(hh, s->strings, i->s, strlen(i->s), i);
	return i->s;
}

/* The on-disk cache of module idx, or NULL. */
static struct rcp_symcache_mod *disk_module(struct rcp_symbolizer *s, long idx)
{
	if (!s->disk || idx < 0)
		return NULL;
	const struct rcp_module *rm = &s->mods->m[idx];
	return rcp_symcache_module(s->disk, idx, rcp_strtab_name(s->strs, rm->path),
				   rm->build_id, rm->build_id_len);
}

static struct rcp_sym_mod *module_state(struct rcp_symbolizer *s, long idx)
{
	if (idx < 0)
		return NULL;
	if ((size_t)idx >= s->nms) {
		size_t n = s->mods->n;
		struct rcp_sym_mod *ms = realloc(s->ms, n * sizeof(*ms));
		if (!ms)
			return NULL;
		memset(ms + s->nms, 0, (n - s->nms) * sizeof(*ms));
		s->ms = ms;
		s->nms = n;
	}
	struct rcp_sym_mod *m = &s->ms[idx];
	if (m->tried)
		return m;
	if (rcp_sym_warm_take(s->warm, idx, m))
		return m;

	const struct rcp_module *rm = &s->mods->m[idx];
	rcp_sym_mod_open(m, rcp_strtab_name(s->strs, rm->path), rm->base,
			 rm->build_id, rm->build_id_len);
	return m;
}

/* Libdw is used by one thread at a time: the worker is done before the
 * first lookup here. */
static void warm_done(struct rcp_symbolizer *s)
{
	if (!s->warm)
		return;
	rcp_sym_warm_wait(s->warm);
}

void rcp_sym_prewarm(struct rcp_symbolizer *s, const uint64_t *ips, size_t n,
		     uint64_t ts)
{
	long last = -1;

	if (!s->warm)
		return;
	for (size_t i = 0; i < n; i++) {
		long idx = rcp_modules_find(s->mods, ips[i], ts);
		if (idx < 0 || idx == last)
			continue;
		last = idx;
		if ((size_t)idx >= s->nqueued) {
			size_t nn = s->mods->n;
			uint8_t *q = realloc(s->queued, nn);
			if (!q)
				return;
			memset(q + s->nqueued, 0, nn - s->nqueued);
			s->queued = q;
			s->nqueued = nn;
		}
		if (s->queued[idx])
			continue;
		s->queued[idx] = 1;
		/* most likely every ip is on disk: opening would be wasted */
		if (rcp_symcache_has_entries(disk_module(s, idx)))
			continue;
		const struct rcp_module *rm = &s->mods->m[idx];
		rcp_sym_warm_add(s->warm, idx, rcp_strtab_name(s->strs, rm->path),
				 rm->base, rm->build_id, rm->build_id_len);
	}
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name = NULL;

	if (dwarf_attr_integrate(die, DW_AT_name, &attr))
		name = dwarf_formstring(&attr);
	if (!name && dwarf_attr_integrate(die, DW_AT_linkage_name, &attr))
		name = dwarf_formstring(&attr);
	return name;
}

/* Fills frames[] for addr in module m; returns the count (0 = nothing). */
static size_t lookup_dwarf(struct rcp_symbolizer *s, struct rcp_sym_mod *m,
			   Dwarf_Addr addr, struct rcp_sym_frame *fr,
			   size_t max)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(m->mod, addr, &bias);
	Dwarf_Die *scopes = NULL;
	size_t n = 0;
	const char *file = NULL;
	int line = 0;

	Dwfl_Line *dl = dwfl_module_getsrc(m->mod, addr);
	if (dl)
		file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
	if (!cu)
		goto single;
	int ns = dwarf_getscopes(cu, addr - bias, &scopes);
	if (ns <= 0)
		goto single;

	Dwarf_Files *files = NULL;
	size_t nfiles = 0;
	if (dwarf_getsrcfiles(cu, &files, &nfiles) != 0)
		files = NULL;
	for (int i = 0; i < ns && n < max; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
			continue;
		fr[n].func = intern(s, die_name(&scopes[i]));
		fr[n].file = intern(s, file);
		fr[n].line = line > 0 ? (unsigned)line : 0;
		fr[n].inlined = tag == DW_TAG_inlined_subroutine;
		n++;
		if (tag == DW_TAG_subprogram)
			break;
		/* the caller's location is where this one was inlined */
		Dwarf_Attribute attr;
		Dwarf_Word w;
		file = NULL;
		line = 0;
		if (files && dwarf_attr(&scopes[i], DW_AT_call_file, &attr) &&
		    dwarf_formudata(&attr, &w) == 0 && w < nfiles)
			file = dwarf_filesrc(files, w, NULL, NULL);
		if (dwarf_attr(&scopes[i], DW_AT_call_line, &attr) &&
		    dwarf_formudata(&attr, &w) == 0)
			line = (int)w;
	}
	free(scopes);
	if (n)
		return n;
single:
	if (!file)
		return 0;
	fr[0].file = intern(s, file);
	fr[0].line = line > 0 ? (unsigned)line : 0;
	return 1;
}

size_t rcp_sym_ip(struct rcp_symbolizer *s, uint64_t ip, uint64_t ts,
		  const struct rcp_sym_frame **out)
{
	struct cache_key key;
	struct cache_ent *c;
	struct rcp_sym_frame fr[RCP_SYM_INLINE_MAX];
	static struct rcp_sym_frame oom_frame;
	long idx = rcp_modules_find(s->mods, ip, ts);

	warm_done(s);
	memset(&key, 0, sizeof(key));
	key.ip = ip;
	key.module = idx;
	HASH_FIND(hh, s->cache, &key, sizeof(key), c);
	if (c) {
		*out = c->frames;
		return c->n;
	}

	memset(fr, 0, sizeof(fr));
	size_t n = 0;
	const struct rcp_module *rm = idx >= 0 ? &s->mods->m[idx] : NULL;
	const char *modpath = rm ? intern(s, rcp_strtab_name(s->strs, rm->path)) : NULL;
	struct rcp_symcache_mod *dm = rm && ip >= rm->base ? disk_module(s, idx) : NULL;
	const struct rcp_sym_frame *kept;
	size_t nkept = rcp_symcache_find(dm, ip - (rm ? rm->base : 0), &kept);
	struct rcp_sym_mod *m = nkept ? NULL : module_state(s, idx);
	Dwarf_Addr addr = ip ? ip - 1 : 0;

	for (size_t i = 0; i < nkept; i++, n++) {
		fr[i].func = intern(s, kept[i].func);
		fr[i].file = intern(s, kept[i].file);
		fr[i].line = kept[i].line;
		fr[i].inlined = kept[i].inlined;
	}
	if (m && m->usable) {
		addr += m->shift;       /* where libdwfl placed the module */
		n = lookup_dwarf(s, m, addr, fr, RCP_SYM_INLINE_MAX);
		if (n == 0)
			n = 1;
		/* the symbol table names the outermost (real) function when
		 * DWARF did not; only then: libdwfl searches it linearly, and
		 * glibc's has thousands of symbols */
		if (!fr[n - 1].func) {
			GElf_Off off;
			GElf_Sym sym;
			fr[n - 1].func = intern(s, dwfl_module_addrinfo(m->mod, addr, &off,
									&sym, NULL, NULL,
									NULL));
		}
		rcp_symcache_add(dm, ip - rm->base, fr, n);
	}
	if (n == 0)
		n = 1;
	for (size_t i = 0; i < n; i++) {
		fr[i].ip = ip;
		fr[i].module = modpath;
		fr[i].offset = rm ? ip - rm->base : ip;
	}

	c = calloc(1, sizeof(*c));
	if (c)
		c->frames = malloc(n * sizeof(*fr));
	if (!c || !c->frames) {
		free(c);
		memset(&oom_frame, 0, sizeof(oom_frame));
		oom_frame.ip = ip;
		*out = &oom_frame;
		return 1;
	}
	memcpy(c->frames, fr, n * sizeof(*fr));
	c->n = n;
	c->key = key;
	HASH_ADD(hh, s->cache, key, sizeof(key), c);
	*out = c->frames;
	return n;
}

size_t rcp_sym_stack(struct rcp_symbolizer *s, uint32_t stack, size_t max,
		     void (*fn)(void *ud, const struct rcp_sym_frame *f),
		     void *ud)
{
	const struct rcp_stack *st = rcp_stacks_get(s->stacks, stack);
	size_t k = 0;

	if (!st)
		return 0;
	for (uint32_t i = 0; i < st->n && k < max; i++) {
		const struct rcp_sym_frame *f;
		size_t n = rcp_sym_ip(s, st->ips[i], st->ts, &f);
		for (size_t j = 0; j < n && k < max; j++, k++)
			fn(ud, &f[j]);
	}
	return k;
}

int rcp_sym_is_runtime_frame(const struct rcp_sym_frame *f)
{
	static const char *const funcs[] = {
		"malloc", "calloc", "realloc", "reallocarray", "free",
		"posix_memalign", "aligned_alloc", "memalign", "valloc",
		"pvalloc", "strdup", "strndup", "__libc_malloc",
		"__libc_calloc", "__libc_realloc", "__libc_free",
		"rc_new", "rc_retain", "rc_release", "rc_set",
	};
	const char *mod = rcp_basename(f->module);

	if (strncmp(mod, "librc.so", 8) == 0 || strncmp(mod, "librcprof.so", 12) == 0)
		return 1;
	if (!f->func)
		return 0;
	if (strncmp(f->func, "rcprof_", 7) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (strcmp(f->func, funcs[i]) == 0)
			return 1;
	return 0;
}

struct hash_walk {
	uint64_t h;
	int taken;
};

static void hash_frame(void *ud, const struct rcp_sym_frame *f)
{
	struct hash_walk *w = ud;
	char buf[32];

	if (w->taken >= 3 || rcp_sym_is_runtime_frame(f))
		return;
	w->taken++;
	if (f->func) {
		w->h = rcp_fnv(w->h, f->func, strlen(f->func) + 1);
		/* the file's name but not the line: a rebuild that only
		 * shifts lines must keep every signature (baselines) */
		if (f->file) {
			const char *b = rcp_basename(f->file);
			w->h = rcp_fnv(w->h, b, strlen(b) + 1);
		}
	} else {
		/* no symbol at all: the module offset is all there is */
		const char *b = rcp_basename(f->module);
		w->h = rcp_fnv(w->h, b, strlen(b) + 1);
		int len = snprintf(buf, sizeof(buf), "+%llx", (unsigned long long)f->offset);
		w->h = rcp_fnv(w->h, buf, (size_t)len);
	}
}

uint64_t rcp_sym_stack_hash(struct rcp_symbolizer *s, uint32_t stack)
{
	struct rcp_stack *st = rcp_stacks_get(s->stacks, stack);
	struct hash_walk w = { RCP_FNV_INIT, 0 };

	if (stack == 0)
		return 0;
	if (!st)
		return rcp_mix64(stack);        /* never defined: best effort */
	if (st->hashed)
		return st->hash;
	rcp_sym_stack(s, stack, RCP_STACK_MAX_FRAMES * RCP_SYM_INLINE_MAX, hash_frame, &w);
	st->hash = w.h;
	st->hashed = 1;
	return w.h;
}

static uint64_t hasher_stack(void *ud, uint32_t stack)
{
	return rcp_sym_stack_hash(ud, stack);
}

static uint64_t hasher_string(void *ud, uint32_t id)
{
	struct rcp_symbolizer *s = ud;
	return rcp_strtab_hash(s->strs, id);
}

struct rcobj_site_hasher rcp_sym_hasher(struct rcp_symbolizer *s)
{
	struct rcobj_site_hasher h = { s, hasher_stack, hasher_string };
	return h;
}
