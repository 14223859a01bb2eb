/* seccomp_eval.h - running a seccomp filter on the recorder's calls
 * (seccomp_eval.c). */
#ifndef SHIM_SECCOMP_EVAL_H
#define SHIM_SECCOMP_EVAL_H

#include <stddef.h>
#include <stdint.h>

struct sock_filter;
struct seccomp_data;

/* Runs the classic-BPF filter f[0..n) on d as the kernel would: 0 and
 * *ret the filter's return value, or -1 for a filter the kernel would
 * not accept (or that never returns). */
int shim_seccomp_run(const struct sock_filter *f, size_t n,
		     const struct seccomp_data *d, uint32_t *ret);
/* 1 when the filter lets the call d through (ALLOW or LOG), or fails it
 * with an errno and errno_ok is set; 0 for the rest (KILL, TRAP, a
 * tracer's or a supervisor's decision). */
int shim_seccomp_allows(const struct sock_filter *f, size_t n,
			const struct seccomp_data *d, int errno_ok);
/* The name of the first system call the recorder may make with dump_fd
 * as its dump that the filter does not let through, or NULL. */
const char *shim_seccomp_forbidden(const struct sock_filter *f, size_t n,
				   int dump_fd);
/* The same for what a child forked under the filter would do to record
 * (create, size and map its files; and then record), or NULL. */
const char *shim_seccomp_forbids_fork(const struct sock_filter *f, size_t n);

#endif
