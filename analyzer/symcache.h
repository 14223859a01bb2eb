/* symcache.h - what symbolization learned about a module, kept on disk.
 *
 * Opening a module's DWARF is most of a short report's time: a
 * distribution's debug files keep .debug_info compressed, and glibc's
 * must be inflated whole (≈ 30 ms) to name the two frames every thread's
 * stack ends in (start_thread, clone3).  Like gdb's index-cache and the
 * debuginfod client's cache, the frames found for each module offset are
 * kept in a directory, one file per module file and build id; a later
 * report that needs only offsets already there never opens the module.
 *
 * A cache file is trusted only while what symbolization read is the same:
 * the module file (size, mtime, inode) and the debug file found by build
 * id under /usr/lib/debug (size and mtime, or its absence).  Anything else
 * - another format version, a damaged or foreign file, a line that does
 * not parse - and the file is ignored and rewritten.  A report's results
 * are the same with and without the cache (tests/unit/test_symbolize.c).
 *
 * RCPROF_SYMCACHE: unset, the directory is $XDG_CACHE_HOME/rcprof or
 * $HOME/.cache/rcprof; `off` (or 0, or empty) disables it; anything else
 * is the directory.  The cache never makes a report fail: a directory
 * that cannot be created or written is silently not used.
 */
#ifndef RCPROF_SYMCACHE_H
#define RCPROF_SYMCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "symbolize.h"

struct rcp_symcache;
struct rcp_symcache_mod;

/* NULL when disabled (RCPROF_SYMCACHE=off, no home) or out of memory. */
struct rcp_symcache *rcp_symcache_new(void);
/* Writes every module file that learned something new, then frees. */
void rcp_symcache_free(struct rcp_symcache *c);

/* Module idx of the dump (file path, build id), its cache file read on
 * first use.  NULL when the module cannot be cached: no build id, no
 * regular file at path. */
struct rcp_symcache_mod *rcp_symcache_module(struct rcp_symcache *c, long idx,
					     const char *path,
					     const uint8_t *build_id,
					     uint32_t build_id_len);
/* Does the module's cache file hold any (still valid) offset? */
int rcp_symcache_has_entries(const struct rcp_symcache_mod *m);
/* The frames kept for offset (ip - load bias), innermost first: count,
 * or 0 when not kept.  Only func, file, line and inlined are set. */
size_t rcp_symcache_find(const struct rcp_symcache_mod *m, uint64_t offset,
			 const struct rcp_sym_frame **out);
/* Keeps the frames symbolization found for offset (func, file, line,
 * inlined of each).  Frames whose names cannot be written are not kept. */
void rcp_symcache_add(struct rcp_symcache_mod *m, uint64_t offset,
		      const struct rcp_sym_frame *fr, size_t n);

#endif /* RCPROF_SYMCACHE_H */
