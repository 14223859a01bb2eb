/* hooks.h - shared by the hook_*.c files (the interposing part). */
#ifndef SHIM_HOOKS_H
#define SHIM_HOOKS_H

#include "recorder.h"

/* Resolve the real functions with dlsym(RTLD_NEXT) (idempotent). */
void shim_resolve(void);
extern int shim_resolving;      /* dlsym running: allocate from bootstrap */
/* hook_signal.c: take the fatal signals left at SIG_DFL (constructor);
 * the forked child's side of that state. */
void shim_signals_install(void);
void shim_signals_fork_child(void);
/* Fallbacks of the dlopen trampolines (used before shim_resolve). */
void *shim_dlopen_slow(const char *file, int flags);
void *shim_dlmopen_slow(long ns, const char *file, int flags);
extern void *shim_real_dlopen, *shim_real_dlmopen, *shim_real_dlclose;

#endif
