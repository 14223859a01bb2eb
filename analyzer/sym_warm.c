/* sym_warm.c - the module-opening worker (see sym_warm.h).
 *
 * Jobs form a list in queue order; the worker takes them one at a time
 * under the mutex and writes only into the job it took.  The main thread
 * reads a job's result only after pthread_join, which orders the worker's
 * writes before its reads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "debug_inflate.h"
#include "sym_warm.h"
#include "util.h"

struct job {
	struct job *next;
	long idx;
	char *path;
	uint64_t base;
	uint32_t build_id_len;
	uint8_t build_id[64];
	int taken;
	struct rcp_sym_mod m;
};

struct rcp_sym_warm {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct job *head, **tail;
	struct job *todo;               /* first job not yet taken by the worker */
	int started, closed;
	pthread_t thread;
};

static char *debuginfo_path;
static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

/* The inflated image of the module's separate debug file (found by
 * build-id) or of its own file, or NULL when neither has compressed
 * DWARF. */
static void *inflated_image(const char *path, const uint8_t *build_id,
			    uint32_t build_id_len, size_t *size)
{
	void *img = NULL;
	if (build_id_len)
		img = rcp_debug_inflated_by_build_id(RCP_DEBUG_ROOT, build_id,
						     build_id_len, size, NULL);
	if (!img) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			img = rcp_debug_inflated(fd, size);
			close(fd);
		}
	}
	return img;
}

/* Reports img as the module: it has the symbol table, the DWARF and the
 * program headers for the addresses.  libdwfl places an image reported
 * from memory at an address of its own (its bias); recorded addresses are
 * moved by the difference.  1 with m owning img, or 0 with nothing kept
 * (img is still the caller's). */
static int report_image(struct rcp_sym_mod *m, const char *path,
			uint64_t base, void *img, size_t size)
{
	m->dwfl = dwfl_begin(&offline_callbacks);
	if (!m->dwfl)
		return 0;
	dwfl_report_begin(m->dwfl);
	m->mod = dwfl_report_offline_memory(m->dwfl, rcp_basename(path), path,
					    img, size);
	dwfl_report_end(m->dwfl, NULL, NULL);
	GElf_Addr bias;
	if (m->mod && dwfl_module_getelf(m->mod, &bias)) {
		m->shift = bias - base;
		m->image = img;
		m->image_size = size;
		return 1;
	}
	dwfl_end(m->dwfl);
	m->dwfl = NULL;
	m->mod = NULL;
	return 0;
}

/* Reports the module's file; libdwfl finds the separate debug file and
 * inflates it itself. */
static void report_file(struct rcp_sym_mod *m, const char *path,
			uint64_t base)
{
	m->dwfl = dwfl_begin(&offline_callbacks);
	if (!m->dwfl)
		return;
	dwfl_report_begin(m->dwfl);
	m->mod = dwfl_report_elf(m->dwfl, rcp_basename(path), path, -1, base,
				 true);
	dwfl_report_end(m->dwfl, NULL, NULL);
}

void rcp_sym_mod_close(struct rcp_sym_mod *m)
{
	if (m->dwfl)
		dwfl_end(m->dwfl);
	rcp_debug_image_free(m->image, m->image_size);
	m->dwfl = NULL;
	m->mod = NULL;
	m->image = NULL;
}

void rcp_sym_mod_open(struct rcp_sym_mod *m, const char *path, uint64_t base,
		      const uint8_t *build_id, uint32_t build_id_len)
{
	struct stat st;

	m->tried = 1;
	/* only regular files: a damaged dump must not make us open a FIFO or
	 * a device and block */
	if (!path || !*path || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	size_t size = 0;
	void *img = inflated_image(path, build_id, build_id_len, &size);
	if (!img || !report_image(m, path, base, img, size)) {
		rcp_debug_image_free(img, size);
		report_file(m, path, base);
	}
	if (!m->mod)
		return;
	if (build_id_len) {
		const unsigned char *bits;
		GElf_Addr vaddr;
		int len = dwfl_module_build_id(m->mod, &bits, &vaddr);
		if (len != (int)build_id_len ||
		    memcmp(bits, build_id, build_id_len) != 0)
			return;         /* another build: don't trust it */
	}
	m->usable = 1;
}

/* The expensive part of the first lookup: finding and inflating the
 * DWARF, reading the symbol table.  libdwfl caches both in the module. */
static void warm(struct job *j)
{
	rcp_sym_mod_open(&j->m, j->path, j->base, j->build_id, j->build_id_len);
	if (!j->m.usable)
		return;
	Dwarf_Addr bias;
	dwfl_module_getdwarf(j->m.mod, &bias);
	dwfl_module_getsymtab(j->m.mod);
}

static void *worker(void *arg)
{
	struct rcp_sym_warm *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->todo && !w->closed)
			pthread_cond_wait(&w->more, &w->lock);
		struct job *j = w->todo;
		if (!j)
			break;          /* closed and nothing left */
		w->todo = j->next;
		pthread_mutex_unlock(&w->lock);
		warm(j);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct rcp_sym_warm *rcp_sym_warm_new(void)
{
	struct rcp_sym_warm *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->more, NULL);
	w->tail = &w->head;
	return w;
}

void rcp_sym_warm_add(struct rcp_sym_warm *w, long idx, const char *path,
		      uint64_t base, const uint8_t *build_id,
		      uint32_t build_id_len)
{
	if (!w || w->closed || !path || build_id_len > sizeof(w->head->build_id))
		return;
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->path = strdup(path);
	if (!j->path) {
		free(j);
		return;
	}
	j->idx = idx;
	j->base = base;
	j->build_id_len = build_id_len;
	memcpy(j->build_id, build_id, build_id_len);
	if (!w->started) {
		if (pthread_create(&w->thread, NULL, worker, w) != 0) {
			/* no thread: the symbolizer opens modules itself */
			w->closed = 1;
			free(j->path);
			free(j);
			return;
		}
		w->started = 1;
	}
	pthread_mutex_lock(&w->lock);
	*w->tail = j;
	w->tail = &j->next;
	if (!w->todo)
		w->todo = j;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->lock);
}

void rcp_sym_warm_wait(struct rcp_sym_warm *w)
{
	if (!w || w->closed)
		return;
	pthread_mutex_lock(&w->lock);
	w->closed = 1;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->lock);
	if (w->started)
		pthread_join(w->thread, NULL);
}

int rcp_sym_warm_take(struct rcp_sym_warm *w, long idx, struct rcp_sym_mod *out)
{
	if (!w)
		return 0;
	for (struct job *j = w->head; j; j = j->next) {
		if (j->idx != idx || j->taken)
			continue;
		j->taken = 1;
		*out = j->m;
		return 1;
	}
	return 0;
}

void rcp_sym_warm_free(struct rcp_sym_warm *w)
{
	if (!w)
		return;
	rcp_sym_warm_wait(w);
	for (struct job *j = w->head, *next; j; j = next) {
		next = j->next;
		if (!j->taken)
			rcp_sym_mod_close(&j->m);
		free(j->path);
		free(j);
	}
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->more);
	free(w);
}
