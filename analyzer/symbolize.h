/* symbolize.h - offline symbolization with elfutils libdwfl.
 *
 * Modules come from the dump (MODULE events: path, load bias, build id),
 * never from /proc, so this works after the program exited and after
 * dlclose.  One Dwfl per module (modules unmapped and replaced at the same
 * address cannot collide).  A module whose file is gone or whose build id
 * differs from the recorded one is shown as module+0xOFF.  Results are
 * cached per (module, ip); only stacks that are reported get symbolized.
 *
 * Every recorded frame is a return address (frame 0 too: it is where the
 * program called into the profiler), so the lookup uses ip - 1, which lies
 * inside the call instruction and gives the call's line, not the next one.
 */
#ifndef RCPROF_SYMBOLIZE_H
#define RCPROF_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#include "modules.h"
#include "rcobj.h"
#include "stacks.h"
#include "strtab.h"

/* Frames one ip can stand for: an inline chain is cut at this many. */
#define RCP_SYM_INLINE_MAX 16

struct rcp_sym_frame {
	uint64_t ip;
	const char *func;       /* NULL when unknown */
	const char *file;       /* NULL when unknown */
	unsigned line;
	const char *module;     /* path, NULL when no module holds ip */
	uint64_t offset;        /* ip - module base */
	int inlined;            /* inlined into the next frame */
};

struct rcp_symbolizer;

struct rcp_symbolizer *rcp_sym_create(const struct rcp_modules *mods,
				      const struct rcp_strtab *strs,
				      struct rcp_stacks *stacks);
void rcp_sym_destroy(struct rcp_symbolizer *s);

/* The replay saw a stack with these ips (defined at ts): the modules they
 * lie in are opened on a worker thread meanwhile (sym_warm.h), so that
 * the report does not wait for libdw to inflate their debug info. */
void rcp_sym_prewarm(struct rcp_symbolizer *s, const uint64_t *ips, size_t n,
		     uint64_t ts);

/* The frames for one recorded ip (several when inlined; innermost first).
 * Returns the count (>= 1) and a pointer owned by the cache. */
size_t rcp_sym_ip(struct rcp_symbolizer *s, uint64_t ip, uint64_t ts,
		  const struct rcp_sym_frame **out);

/* A whole stack: calls fn for every symbolized frame, innermost first,
 * up to max frames.  Returns the number of frames visited (0 when the
 * stack is unknown). */
size_t rcp_sym_stack(struct rcp_symbolizer *s, uint32_t stack, size_t max,
		     void (*fn)(void *ud, const struct rcp_sym_frame *f),
		     void *ud);

/* Is this frame part of the allocator / refcount runtime / profiler? */
int rcp_sym_is_runtime_frame(const struct rcp_sym_frame *f);

/* Site hash of a stack: function names and source file names (not line
 * numbers, so a rebuild that shifts lines keeps it) of the first 3 frames
 * outside the runtime, never addresses (module+offset only for
 * frames without any symbol).  0 for stack 0. */
uint64_t rcp_sym_stack_hash(struct rcp_symbolizer *s, uint32_t stack);

/* The rcobj hasher callbacks (ud = the symbolizer). */
struct rcobj_site_hasher rcp_sym_hasher(struct rcp_symbolizer *s);

#endif /* RCPROF_SYMBOLIZE_H */
