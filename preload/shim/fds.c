/* fds.c - the recorder's own file descriptors, kept out of the program's
 * way.
 *
 * A recorded process holds a few descriptors of ours for its whole life:
 * the dump, and the two pipes libunwind opens to test addresses (the fast
 * unwinder's and the generic one's, four descriptors).  Left where the
 * kernel puts them - the lowest free numbers - they shift every number
 * the program gets (its first open() returns 7, not 3), and in a program
 * started with stdin closed libunwind's pipe becomes fd 0, its stdin.
 * Worse, libunwind reads and writes its pipe by number: a program that
 * closes every descriptor and opens files of its own under those numbers
 * would have libunwind read its data and write into its files.
 *
 * So each is moved high as soon as it exists (shim_fd_place_high): to 512
 * or the soft RLIMIT_NOFILE, whichever is higher, when the hard limit lets
 * us raise the soft one for a moment - above the limit, where loops up to
 * sysconf(_SC_OPEN_MAX) never look and dup2() onto them fails (EBADF)
 * exactly as it would without us; else to 512 (half the soft limit below
 * 1024).  And they are registered here,
 * so the program's close(), close_range() and closefrom() pass them by
 * and its dup2()/dup3() onto the dump move the dump first (hook_fd.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "shim.h"

/* Owned descriptors, -1 = free entry.  Written by the thread that creates
 * or closes one of ours (start-up, fork child, libunwind's pipe calls),
 * read by every close() of the program. */
static int own_fds[SHIM_OWN_FDS] = { -1, -1, -1, -1, -1, -1, -1, -1 };
_Static_assert(SHIM_OWN_FDS == 8, "initializer above");

int shim_fd_own(int fd)
{
	if (fd < 0)
		return -1;
	for (int i = 0; i < SHIM_OWN_FDS; i++) {
		int cur = -1;
		if (atomic_load_relaxed(&own_fds[i]) == fd)
			return 0;
		if (atomic_cas_relaxed(&own_fds[i], &cur, fd))
			return 0;
	}
	return -1;      /* full: still works, just unprotected */
}

void shim_fd_disown(int fd)
{
	if (fd < 0)
		return;
	for (int i = 0; i < SHIM_OWN_FDS; i++) {
		int cur = fd;
		atomic_cas_relaxed(&own_fds[i], &cur, -1);
	}
}

int shim_fd_is_own(int fd)
{
	if (fd < 0)
		return 0;
	for (int i = 0; i < SHIM_OWN_FDS; i++)
		if (atomic_load_relaxed(&own_fds[i]) == fd)
			return 1;
	return 0;
}

void shim_fd_close(int fd)
{
	shim_fd_disown(fd);
	close(fd);
}

int shim_fd_own_list(int *out)
{
	int n = 0;
	for (int i = 0; i < SHIM_OWN_FDS; i++) {
		int fd = atomic_load_relaxed(&own_fds[i]);
		if (fd >= 0)
			out[n++] = fd;
	}
	return n;
}

size_t shim_fd_split_range(unsigned first, unsigned last, const int *own,
			   int nown, unsigned (*out)[2])
{
	size_t n = 0;
	unsigned lo = first;
	/* own is short and unsorted: take the smallest one >= lo each time. */
	for (;;) {
		long next = -1;
		for (int i = 0; i < nown; i++) {
			if (own[i] < 0 || (unsigned)own[i] < lo ||
			    (unsigned)own[i] > last)
				continue;
			if (next < 0 || own[i] < next)
				next = own[i];
		}
		if (next < 0)
			break;
		if ((unsigned)next > lo) {
			out[n][0] = lo;
			out[n][1] = (unsigned)next - 1;
			n++;
		}
		if ((unsigned)next == last)
			return n;
		lo = (unsigned)next + 1;
	}
	out[n][0] = lo;
	out[n][1] = last;
	return n + 1;
}

/* The lowest number we take: above what programs use on their own, and
 * above the soft limit when there is room.  Not just above a soft limit
 * below it: a program that lowers its limit below descriptors it keeps
 * open has its own numbers there. */
#define HIGH_BASE 512u
/* Above the soft limit only while that leaves the descriptor table small:
 * the kernel sizes it to the highest number in use. */
#define ABOVE_LIMIT_MAX 8192u
#define ABOVE_LIMIT_ROOM 16u

/* Where ours must sit below the limit (soft == hard), a small limit
 * would lose them to the program: the dump and libunwind's two pipes
 * would take 5 of the 5 numbers a limit of 8 leaves.  Below this soft
 * limit the recorder does not record at all. */
#define BELOW_LIMIT_MIN 64u

/* Where ours go above a finite soft limit: the lowest number, or 0 when
 * the hard limit leaves no room up there (or the table would grow too
 * large). */
static uint64_t above_limit_base(uint64_t soft, uint64_t hard)
{
	if (soft == (uint64_t)RLIM_INFINITY)
		return 0;
	uint64_t base = soft > HIGH_BASE ? soft : HIGH_BASE;
	if (base <= ABOVE_LIMIT_MAX &&
	    (hard == (uint64_t)RLIM_INFINITY || hard >= base + ABOVE_LIMIT_ROOM))
		return base;
	return 0;
}

int shim_fd_limit_ok(uint64_t soft, uint64_t hard)
{
	return soft == (uint64_t)RLIM_INFINITY ||
	       above_limit_base(soft, hard) != 0 || soft >= BELOW_LIMIT_MIN;
}

static int dup_at_least(int fd, rlim_t at, int cloexec)
{
	return fcntl(fd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD, (int)at);
}

int shim_fd_place_high(int fd, int cloexec)
{
	if (fd < 0)
		return fd;
	struct rlimit rl;
	int nfd = -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		rl.rlim_cur = rl.rlim_max = 1024;
	rlim_t base = above_limit_base(rl.rlim_cur, rl.rlim_max);
	if (base) {
		/* Raised for the moment of the dup only; the program's limit
		 * is what it was before and after. */
		struct rlimit up = { base + ABOVE_LIMIT_ROOM, rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
			int e = errno;
			nfd = dup_at_least(fd, base, cloexec);
			setrlimit(RLIMIT_NOFILE, &rl);
			errno = e;
		}
	}
	if (nfd < 0) {
		/* No room above the limit: high below it. */
		rlim_t want = HIGH_BASE;
		if (rl.rlim_cur != RLIM_INFINITY &&
		    rl.rlim_cur < 2 * HIGH_BASE)
			want = rl.rlim_cur / 2;
		if (want <= (rlim_t)fd)
			return fd;
		nfd = dup_at_least(fd, want, cloexec);
		if (nfd < 0)
			return fd;
	}
	close(fd);
	return nfd;
}
