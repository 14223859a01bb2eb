/* hooks.h - shared by the hook_*.c files (the interposing part). */
#ifndef SHIM_HOOKS_H
#define SHIM_HOOKS_H

#include "recorder.h"

/* Resolve the real functions with dlsym(RTLD_NEXT) (idempotent). */
void shim_resolve(void);
extern int shim_resolving;      /* dlsym running: allocate from bootstrap */
/* hook_malloc.c: librc's object blocks, calloc(1, n) and free without
 * heap events (RC_NEW_BLOCK and RC_FREE_BLOCK stand for them). */
void *shim_block_alloc(size_t n);
void shim_block_free(void *p);
/* hook_signal.c: take the fatal signals left at SIG_DFL (constructor);
 * the forked child's side of that state. */
void shim_signals_install(void);
void shim_signals_fork_child(void);
/* The fatal signals back to the program's own actions, for good: the
 * recording has ended while the process runs on (hook_seccomp.c). */
void shim_signals_release(void);
/* hook_seccomp.c: before a seccomp filter (strict mode: strict set) goes
 * in; ends the recording, or keeps children from recording, as the
 * filter requires.  errno kept. */
void shim_seccomp_before(const void *uprog, int strict);
/* hook_fd.c: close(fd) as the system call (no cancellation point), with
 * the recorder's descriptors passed by as close() does. */
int shim_close_syscall(int fd);
/* hook_init.c: the shim's fork handlers (pthread_atfork's, and around a
 * fork made with syscall()). */
void shim_atfork_prepare(void);
void shim_atfork_parent(void);
void shim_atfork_child(void);
/* hook_process.c: the parent's FORK event for child pid (nothing for
 * pid <= 0); errno kept. */
void shim_note_fork(long pid);
/* Fallbacks of the dlopen trampolines (used before shim_resolve). */
void *shim_dlopen_slow(const char *file, int flags);
void *shim_dlmopen_slow(long ns, const char *file, int flags);
extern void *shim_real_dlopen, *shim_real_dlmopen, *shim_real_dlclose;

#endif
