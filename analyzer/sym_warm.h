/* sym_warm.h - opening the modules symbolization will need on a second
 * thread while the replay still runs.
 *
 * Opening a module with libdwfl is the analyzer's largest fixed cost: a
 * distribution's separate debug files keep their .debug sections
 * compressed and must be inflated the first time the DWARF is looked at
 * (libc's: ≈ 50 ms with libdw's zlib, ≈ 20 ms through debug_inflate.h).  The replay learns early which modules
 * the recorded stacks run through, so the symbolizer queues those here
 * and a worker thread opens them - exactly what the symbolizer would do
 * itself - while the main thread replays.
 *
 * Determinism: the worker only does what the first lookup in the module
 * would have done anyway, and the symbolizer waits for the worker to be
 * completely done (rcp_sym_warm_wait) before it makes any libdw call of
 * its own, so no two threads ever use libdw at the same time and the
 * results cannot depend on timing.
 */
#ifndef RCPROF_SYM_WARM_H
#define RCPROF_SYM_WARM_H

#include <elfutils/libdwfl.h>
#include <stdint.h>

/* One module as libdwfl sees it. */
struct rcp_sym_mod {
	int tried;
	int usable;             /* file found and build id matches */
	Dwfl *dwfl;
	Dwfl_Module *mod;
	/* Reported from an inflated image (debug_inflate.h): libdwfl placed
	 * it at an address of its own; a recorded address plus shift is the
	 * same place in the module. */
	uint64_t shift;
	void *image;
	size_t image_size;
};

/* Opens the module file at path, loaded at base, and checks its build id
 * (none when build_id_len is 0).  Sets m->tried; m->usable when it can be
 * symbolized.  A separate debug file found by build-id, or the file
 * itself, with compressed DWARF is reported as an inflated image. */
void rcp_sym_mod_open(struct rcp_sym_mod *m, const char *path, uint64_t base,
		      const uint8_t *build_id, uint32_t build_id_len);
/* Ends what rcp_sym_mod_open made. */
void rcp_sym_mod_close(struct rcp_sym_mod *m);

struct rcp_sym_warm;

struct rcp_sym_warm *rcp_sym_warm_new(void);
/* Queues module idx for the worker (started on the first call).  Nothing
 * happens when it cannot be queued: the symbolizer then opens the module
 * itself when it needs it. */
void rcp_sym_warm_add(struct rcp_sym_warm *w, long idx, const char *path,
		      uint64_t base, const uint8_t *build_id,
		      uint32_t build_id_len);
/* Waits until the worker has opened everything queued and has exited.
 * Later rcp_sym_warm_add calls do nothing. */
void rcp_sym_warm_wait(struct rcp_sym_warm *w);
/* After rcp_sym_warm_wait: moves the opened module idx to *out and
 * returns 1, or returns 0 when it was not queued. */
int rcp_sym_warm_take(struct rcp_sym_warm *w, long idx, struct rcp_sym_mod *out);
/* Waits, and ends the modules nobody took. */
void rcp_sym_warm_free(struct rcp_sym_warm *w);

#endif /* RCPROF_SYM_WARM_H */
