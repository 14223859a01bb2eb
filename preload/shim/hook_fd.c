/* hook_fd.c - descriptor calls that could reach the recorder's own
 * descriptors (fds.c says which and why).
 *
 *   pipe, pipe2        made by libunwind for its address checks (called
 *                      from libunwind's code inside one of our hooks; a
 *                      program's signal handler that interrupts a hook
 *                      keeps its pipe as it is): both ends are moved high
 *                      and registered as ours;
 *   close              of one of ours by the program: 0, and it stays
 *                      open.  Only a program that lists /proc/self/fd
 *                      (where ours show) or loops over every number
 *                      closes it; the first kind expects success
 *                      (systemd's close_all_fds asserts that close
 *                      never fails with EBADF), the second ignores
 *                      the result;
 *   close_range,       skip ours (the range is closed in pieces around
 *   closefrom          them; glibc's closefrom calls close_range
 *                      internally, so it is interposed itself);
 *   dup2, dup3         onto the dump: the dump moves to another high
 *                      number first, under the ring's drain lock (onto
 *                      a pipe end of libunwind's: see make_way).
 * The same calls made through syscall() come here too (hook_syscall.c).
 * Calls made inside the shim (shim_tls.depth or .internal set: libunwind
 * reopening its pipe, the recorder's own set-up) act on our descriptors as
 * asked.  A program that closes descriptors with its own system call
 * instruction still closes ours; ring.c then notices that the dump is
 * gone and stops.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <linux/close_range.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks.h"
#include "raw_syscall.h"

/* glibc's exported aliases of close, dup2 and pipe: close stays a
 * cancellation point, and nothing needs resolving before use. */
int __close(int fd);
int __dup2(int fd, int fd2);
int __pipe(int fds[2]);

static int inside_shim(void)
{
	return shim_tls.depth > 0 || shim_tls.internal > 0;
}

/* Made by libunwind inside one of our hooks?  (Rare: once per unwinder
 * and process, so dladdr's cost does not matter.) */
static int from_libunwind(const void *caller)
{
	if (!inside_shim())
		return 0;
	Dl_info di;
	if (!dladdr(caller, &di) || !di.dli_fname)
		return 0;
	const char *base = strrchr(di.dli_fname, '/');
	return strncmp(base ? base + 1 : di.dli_fname, "libunwind", 9) == 0;
}

/* libunwind's pipe: ours for good. */
static void adopt_pipe(int fds[2], int flags)
{
	int cloexec = (flags & O_CLOEXEC) != 0;
	for (int i = 0; i < 2; i++) {
		fds[i] = shim_fd_place_high(fds[i], cloexec);
		shim_fd_own(fds[i]);
	}
}

SHIM_EXPORT int pipe2(int fds[2], int flags)
{
	int rc = (int)shim_raw_syscall(SYS_pipe2, (long)fds, flags, 0, 0, 0, 0);
	if (rc == 0 && from_libunwind(__builtin_return_address(0)))
		adopt_pipe(fds, flags);
	return rc;
}

SHIM_EXPORT int pipe(int fds[2])
{
	int rc = __pipe(fds);
	if (rc == 0 && from_libunwind(__builtin_return_address(0)))
		adopt_pipe(fds, 0);
	return rc;
}

/* A close of fd: 1 when it is one of ours and the program's close must
 * leave it open; else 0, and fd is no longer ours if it was (the shim
 * itself closes it). */
static int keeps_own(int fd)
{
	if (shim_likely(!shim_fd_is_own(fd)))
		return 0;
	if (!inside_shim())
		return 1;
	shim_fd_disown(fd);
	return 0;
}

SHIM_EXPORT int close(int fd)
{
	return keeps_own(fd) ? 0 : __close(fd);
}

int shim_close_syscall(int fd)
{
	return keeps_own(fd) ? 0 :
	       (int)shim_raw_syscall(SYS_close, fd, 0, 0, 0, 0, 0);
}

static int sys_close_range(unsigned first, unsigned last, int flags)
{
	return (int)shim_raw_syscall(SYS_close_range, first, last, flags, 0, 0,
				     0);
}

SHIM_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	int own[SHIM_OWN_FDS];
	int nown = shim_fd_own_list(own);
	if (!nown || inside_shim() || first > last)
		return sys_close_range(first, last, flags);
	unsigned pieces[SHIM_OWN_FDS + 1][2];
	size_t n = shim_fd_split_range(first, last, own, nown, pieces);
	if (n == 0 && (flags & CLOSE_RANGE_UNSHARE))
		return unshare(CLONE_FILES);
	for (size_t i = 0; i < n; i++)
		if (sys_close_range(pieces[i][0], pieces[i][1], flags) != 0)
			return -1;
	return 0;
}

SHIM_EXPORT void closefrom(int lowfd)
{
	unsigned from = lowfd < 0 ? 0u : (unsigned)lowfd;
	if (close_range(from, ~0u, 0) == 0 || errno != ENOSYS)
		return;
	/* A kernel without close_range (before 5.9): close what is open,
	 * one by one, below the highest of ours; glibc's closefrom does the
	 * rest. */
	int own[SHIM_OWN_FDS];
	int nown = shim_fd_own_list(own), top = -1;
	for (int i = 0; i < nown; i++)
		if (own[i] > top)
			top = own[i];
	int e = errno;
	for (int fd = (int)from; fd <= top; fd++)
		if (!shim_fd_is_own(fd))
			__close(fd);
	errno = e;
	void (*real)(int) = (void (*)(int))dlsym(RTLD_NEXT, "closefrom");
	if (real)
		real(top >= (int)from ? top + 1 : (int)from);
}

/* The program wants one of our numbers.  The dump moves out of its way,
 * under the drain lock, so no drain writes through the old number once
 * it is the program's.  libunwind's pipe ends cannot move (libunwind
 * keeps their numbers): the number becomes the program's, and ours no
 * longer - placed above the soft limit, where dup2() fails, this does
 * not happen unless the program raised its limit. */
static void make_way(int fd)
{
	struct shim_ring *r = &shim_g.ring;
	/* Not in a vfork child either: it shares our memory (the ring, the
	 * table of our descriptors) but not the descriptors. */
	if (inside_shim() || getpid() != shim_g.pid)
		return;
	if (atomic_load_relaxed(&r->fd) != fd) {
		shim_fd_disown(fd);
		return;
	}
	int locked = shim_ring_lock(r, 1000000000u) == 0;
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, fd + 1);
	if (nfd >= 0) {
		shim_fd_own(nfd);
		atomic_store_relaxed(&r->fd, nfd);
		shim_fd_close(fd);
	}
	if (locked)
		shim_ring_unlock(r);
}

SHIM_EXPORT int dup2(int fd, int fd2)
{
	if (shim_unlikely(shim_fd_is_own(fd2)) && fd != fd2)
		make_way(fd2);
	return __dup2(fd, fd2);
}

SHIM_EXPORT int dup3(int fd, int fd2, int flags)
{
	if (shim_unlikely(shim_fd_is_own(fd2)) && fd != fd2)
		make_way(fd2);
	return (int)shim_raw_syscall(SYS_dup3, fd, fd2, flags, 0, 0, 0);
}
