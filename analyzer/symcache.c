/* symcache.c - the on-disk symbolization cache (see symcache.h).
 *
 * One text file per module file and build id,
 * DIR/<build id in hex>-<hash of the path>.sym:
 *
 *     rcprof-symcache 1
 *     sig m=<module file stat> d=<build-id debug file stat, or none>
 *     @<offset in hex> <frame count>
 *     <inlined 0|1>\t<line>\t<function>\t<file>      one line per frame
 *     ...
 *
 * A name is written "=name", an unknown one as nothing.  The file is read
 * whole when the module is first needed and rewritten (a temporary file,
 * then rename, so a concurrent report reads the old or the new one, never
 * half of one) when the report ends, if it learned an offset.
 *
 * Size: a file holds only the offsets reports needed (a few hundred
 * bytes to a few KB).  Reading a file touches its mtime, and a report that
 * wrote one keeps the SYMCACHE_MAX_FILES most recently used, so the
 * modules of deleted builds (test directories...) do not pile up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uthash.h>

#include "debug_inflate.h"
#include "symcache.h"
#include "util.h"

#define SYMCACHE_MAGIC "rcprof-symcache 1"
#define SYMCACHE_MAX_ENTRIES (1u << 20)
#define SYMCACHE_MAX_FILE ((off_t)64 << 20)
#define SYMCACHE_MAX_FILES 256          /* kept when pruning */

struct entry {
	uint64_t off;
	size_t n;
	struct rcp_sym_frame *fr;       /* names owned (malloc) */
	UT_hash_handle hh;
};

struct rcp_symcache_mod {
	char *file;             /* the cache file */
	char *sig;              /* what it must have been made from */
	struct entry *map;
	size_t count;
	int dirty;              /* learned something: rewrite at the end */
};

/* A module of the dump: looked at yet, and its cache (NULL when it has
 * none: no build id, not a regular file, out of memory). */
struct module_slot {
	int tried;
	struct rcp_symcache_mod *m;
};

struct rcp_symcache {
	char *dir;
	size_t nmods;
	struct module_slot *mods;       /* by dump module index */
};

/* The directory RCPROF_SYMCACHE names (malloc'd), or NULL when off. */
static char *cache_dir(void)
{
	const char *env = getenv("RCPROF_SYMCACHE");
	char *dir = NULL;

	if (env) {
		if (!*env || strcmp(env, "off") == 0 || strcmp(env, "0") == 0)
			return NULL;
		return strdup(env);
	}
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	if (xdg && xdg[0] == '/') {
		if (asprintf(&dir, "%s/rcprof", xdg) < 0)
			return NULL;
	} else if (home && home[0] == '/') {
		if (asprintf(&dir, "%s/.cache/rcprof", home) < 0)
			return NULL;
	}
	return dir;
}

struct rcp_symcache *rcp_symcache_new(void)
{
	char *dir = cache_dir();
	if (!dir)
		return NULL;
	struct rcp_symcache *c = calloc(1, sizeof(*c));
	if (!c) {
		free(dir);
		return NULL;
	}
	c->dir = dir;
	return c;
}

static void free_frames(struct rcp_sym_frame *fr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)fr[i].func);
		free((char *)fr[i].file);
	}
	free(fr);
}

static void drop_entries(struct rcp_symcache_mod *m)
{
	struct entry *e, *et;
	HASH_ITER(hh, m->map, e, et) {
		HASH_DEL(m->map, e);
		free_frames(e->fr, e->n);
		free(e);
	}
	m->count = 0;
}

/* ---- what a cache file must have been made from -------------------------- */

static void stat_sig(char *buf, size_t len, const struct stat *st)
{
	snprintf(buf, len, "%lld:%lld.%09ld:%llu:%llu", (long long)st->st_size,
		 (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec,
		 (unsigned long long)st->st_ino, (unsigned long long)st->st_dev);
}

/* NULL when path is not a regular file: nothing to cache. */
static char *module_sig(const char *path, const uint8_t *id, uint32_t len)
{
	struct stat st;
	char msig[128], dsig[128] = "none", debug[4096];
	char *sig = NULL;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return NULL;
	stat_sig(msig, sizeof(msig), &st);
	if (rcp_debug_build_id_path(RCP_DEBUG_ROOT, id, len, debug,
				    sizeof(debug)) == 0 &&
	    stat(debug, &st) == 0)
		stat_sig(dsig, sizeof(dsig), &st);
	if (asprintf(&sig, "m=%s d=%s", msig, dsig) < 0)
		return NULL;
	return sig;
}

/* ---- reading -------------------------------------------------------------- */

/* "" is NULL, "=name" is name; anything else is damage (-1). */
static int parse_name(const char *field, char **out)
{
	*out = NULL;
	if (!*field)
		return 0;
	if (field[0] != '=')
		return -1;
	*out = strdup(field + 1);
	return *out ? 0 : -1;
}

static int parse_frame(char *line, struct rcp_sym_frame *f)
{
	char *fields[4];
	char *p = line;
	for (int i = 0; i < 4; i++) {
		fields[i] = p;
		p = strchr(p, i < 3 ? '\t' : '\n');
		if (!p)
			return -1;
		*p++ = 0;
	}
	if (strcmp(fields[0], "0") != 0 && strcmp(fields[0], "1") != 0)
		return -1;
	f->inlined = fields[0][0] == '1';
	char *end;
	errno = 0;
	unsigned long ln = strtoul(fields[1], &end, 10);
	if (errno || end == fields[1] || *end || ln > UINT32_MAX)
		return -1;
	f->line = (unsigned)ln;
	char *func, *file;
	if (parse_name(fields[2], &func))
		return -1;
	if (parse_name(fields[3], &file)) {
		free(func);
		return -1;
	}
	f->func = func;
	f->file = file;
	return 0;
}

/* The entries of an open cache file; -1 on the first thing that does not
 * parse (the caller drops what was read). */
static int read_entries(struct rcp_symcache_mod *m, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	int rc = -1;

	if (getline(&line, &cap, f) < 0 || strcmp(line, SYMCACHE_MAGIC "\n") != 0)
		goto out;
	if (getline(&line, &cap, f) < 0 || strncmp(line, "sig ", 4) != 0)
		goto out;
	line[strcspn(line, "\n")] = 0;
	if (strcmp(line + 4, m->sig) != 0)
		goto out;       /* made from another file: start afresh */
	for (;;) {
		if (getline(&line, &cap, f) < 0) {
			rc = feof(f) ? 0 : -1;
			break;
		}
		unsigned long long off;
		unsigned n;
		char nl;
		if (sscanf(line, "@%llx %u%c", &off, &n, &nl) != 3 || nl != '\n' ||
		    n == 0 || n > RCP_SYM_INLINE_MAX ||
		    m->count >= SYMCACHE_MAX_ENTRIES)
			break;
		struct entry *e = calloc(1, sizeof(*e));
		if (!e)
			break;
		e->off = off;
		e->fr = calloc(n, sizeof(*e->fr));
		if (!e->fr) {
			free(e);
			break;
		}
		size_t got = 0;
		while (got < n && getline(&line, &cap, f) > 0 &&
		       parse_frame(line, &e->fr[got]) == 0)
			got++;
		struct entry *dup = NULL;
		HASH_FIND(hh, m->map, &e->off, sizeof(e->off), dup);
		if (got < n || dup) {
			free_frames(e->fr, got);
			free(e);
			break;
		}
		e->n = n;
		HASH_ADD(hh, m->map, off, sizeof(e->off), e);
		m->count++;
	}
out:
	free(line);
	return rc;
}

static void load(struct rcp_symcache_mod *m)
{
	int fd = open(m->file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	struct stat st;
	FILE *f = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > SYMCACHE_MAX_FILE || !(f = fdopen(fd, "r"))) {
		close(fd);
		return;
	}
	if (read_entries(m, f) != 0)
		drop_entries(m);
	else
		futimens(fd, NULL);     /* used: the last to be pruned */
	fclose(f);
}

struct rcp_symcache_mod *rcp_symcache_module(struct rcp_symcache *c, long idx,
					     const char *path,
					     const uint8_t *build_id,
					     uint32_t build_id_len)
{
	if (!c || idx < 0 || !path || build_id_len < 4 ||
	    build_id_len > RCP_BUILD_ID_MAX)
		return NULL;
	if ((size_t)idx >= c->nmods) {
		size_t n = (size_t)idx + 16;
		struct module_slot *mods = realloc(c->mods, n * sizeof(*mods));
		if (!mods)
			return NULL;
		memset(mods + c->nmods, 0, (n - c->nmods) * sizeof(*mods));
		c->mods = mods;
		c->nmods = n;
	}
	struct module_slot *slot = &c->mods[idx];
	if (slot->tried)
		return slot->m;
	slot->tried = 1;

	struct rcp_symcache_mod *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->sig = module_sig(path, build_id, build_id_len);
	char hex[2 * RCP_BUILD_ID_MAX + 1];
	for (uint32_t i = 0; i < build_id_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", build_id[i]);
	uint64_t h = rcp_fnv(RCP_FNV_INIT, path, strlen(path));
	if (!m->sig || asprintf(&m->file, "%s/%s-%016llx.sym", c->dir, hex,
				(unsigned long long)h) < 0) {
		free(m->sig);
		free(m);
		return NULL;
	}
	load(m);
	slot->m = m;
	return m;
}

int rcp_symcache_has_entries(const struct rcp_symcache_mod *m)
{
	return m && m->count > 0;
}

size_t rcp_symcache_find(const struct rcp_symcache_mod *m, uint64_t offset,
			 const struct rcp_sym_frame **out)
{
	struct entry *e;
	if (!m)
		return 0;
	HASH_FIND(hh, m->map, &offset, sizeof(offset), e);
	if (!e)
		return 0;
	*out = e->fr;
	return e->n;
}

/* ---- learning and writing ------------------------------------------------- */

static int writable_name(const char *s)
{
	return !s || !s[strcspn(s, "\t\n\r")];
}

static int copy_name(const char *s, const char **out)
{
	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -1;
}

void rcp_symcache_add(struct rcp_symcache_mod *m, uint64_t offset,
		      const struct rcp_sym_frame *fr, size_t n)
{
	struct entry *e;
	if (!m || n == 0 || n > RCP_SYM_INLINE_MAX ||
	    m->count >= SYMCACHE_MAX_ENTRIES)
		return;
	HASH_FIND(hh, m->map, &offset, sizeof(offset), e);
	if (e)
		return;
	for (size_t i = 0; i < n; i++)
		if (!writable_name(fr[i].func) || !writable_name(fr[i].file))
			return;
	e = calloc(1, sizeof(*e));
	if (!e)
		return;
	e->fr = calloc(n, sizeof(*e->fr));
	if (!e->fr) {
		free(e);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		e->fr[i].line = fr[i].line;
		e->fr[i].inlined = fr[i].inlined;
		if (copy_name(fr[i].func, &e->fr[i].func) ||
		    copy_name(fr[i].file, &e->fr[i].file)) {
			free_frames(e->fr, n);
			free(e);
			return;
		}
	}
	e->off = offset;
	e->n = n;
	HASH_ADD(hh, m->map, off, sizeof(e->off), e);
	m->count++;
	m->dirty = 1;
}

/* mkdir -p, private: the cache lists what the user's programs run. */
static int make_dirs(const char *dir)
{
	char *p = strdup(dir);
	if (!p)
		return -1;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int rc = mkdir(p, 0700) != 0 && errno != EEXIST ? -1 : 0;
	free(p);
	return rc;
}

static void put_name(FILE *f, const char *s)
{
	if (s)
		fprintf(f, "=%s", s);
}

static void save(const struct rcp_symcache *c, const struct rcp_symcache_mod *m)
{
	char *tmp = NULL;
	if (make_dirs(c->dir) != 0 || asprintf(&tmp, "%s/.tmp-XXXXXX", c->dir) < 0)
		return;
	int fd = mkstemp(tmp);
	if (fd < 0) {
		free(tmp);
		return;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		free(tmp);
		return;
	}
	fprintf(f, SYMCACHE_MAGIC "\nsig %s\n", m->sig);
	for (const struct entry *e = m->map; e; e = e->hh.next) {
		fprintf(f, "@%llx %zu\n", (unsigned long long)e->off, e->n);
		for (size_t i = 0; i < e->n; i++) {
			fprintf(f, "%d\t%u\t", e->fr[i].inlined ? 1 : 0, e->fr[i].line);
			put_name(f, e->fr[i].func);
			fputc('\t', f);
			put_name(f, e->fr[i].file);
			fputc('\n', f);
		}
	}
	int bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, m->file) != 0)
		unlink(tmp);
	free(tmp);
}

struct aged {
	struct timespec mtime;
	char *name;
};

static int older_first(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Deletes the least recently used cache files beyond SYMCACHE_MAX_FILES. */
static void prune(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct aged *all = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		struct stat st;
		if (len < 5 || e->d_name[0] == '.' ||
		    strcmp(e->d_name + len - 4, ".sym") != 0 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (rcp_grow(&all, &cap, n, sizeof(*all)) != 0)
			break;
		all[n].mtime = st.st_mtim;
		all[n].name = strdup(e->d_name);
		if (all[n].name)
			n++;
	}
	if (n > SYMCACHE_MAX_FILES) {
		qsort(all, n, sizeof(*all), older_first);
		for (size_t i = 0; i < n - SYMCACHE_MAX_FILES; i++)
			unlinkat(dirfd(d), all[i].name, 0);
	}
	for (size_t i = 0; i < n; i++)
		free(all[i].name);
	free(all);
	closedir(d);
}

void rcp_symcache_free(struct rcp_symcache *c)
{
	if (!c)
		return;
	int saved = 0;
	for (size_t i = 0; i < c->nmods; i++) {
		struct rcp_symcache_mod *m = c->mods[i].m;
		if (!m)
			continue;
		if (m->dirty) {
			save(c, m);
			saved = 1;
		}
		drop_entries(m);
		free(m->file);
		free(m->sig);
		free(m);
	}
	if (saved)
		prune(c->dir);
	free(c->mods);
	free(c->dir);
	free(c);
}
