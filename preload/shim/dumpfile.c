/* dumpfile.c - creating the dump and writing whole records to it.
 *
 * Records are written with one writev(2) each (retrying short writes), so
 * a dump cut short by a crash ends at a record boundary or inside the last
 * record, which the reader detects.  Files are created O_EXCL|O_NOFOLLOW
 * with mode 0600: an existing file or symlink is never written through.
 * Everything here uses plain system calls (safe in a fork child, in a
 * signal handler and inside malloc).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw_syscall.h"
#include "shim.h"

int shim_fsize_fits(uint64_t pos, uint64_t n, uint64_t limit)
{
	return limit == (uint64_t)RLIM_INFINITY || (pos <= limit &&
						     n <= limit - pos);
}

int shim_fsize_check(int fd, uint64_t n)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	off_t pos = fd >= 0 ? lseek(fd, 0, SEEK_CUR) : 0;
	if (pos < 0)
		return 0;       /* not seekable: no file size to exceed */
	return shim_fsize_fits((uint64_t)pos, n, (uint64_t)rl.rlim_cur) ?
	       0 : -EFBIG;
}

int shim_write_full(int fd, const struct iovec *iov_in, int n)
{
	struct iovec iov[8];
	if (n > 8)
		return -EINVAL;
	uint64_t total = 0;
	for (int i = 0; i < n; i++)
		total += iov_in[i].iov_len;
	int rc = shim_fsize_check(fd, total);
	if (rc)
		return rc;
	memcpy(iov, iov_in, sizeof(*iov) * (size_t)n);
	struct iovec *v = iov;
	while (n > 0) {
		/* The system call, not writev(): that is a cancellation
		 * point, and a thread cancelled here - inside a malloc of
		 * the program's, which is none - would die holding the
		 * drain flag, and every other thread would wait for it. */
		ssize_t w = shim_raw_syscall(SYS_writev, fd, (long)v, n, 0, 0,
					     0);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		size_t left = (size_t)w;
		while (n > 0 && left >= v->iov_len) {
			left -= v->iov_len;
			v++;
			n--;
		}
		if (n > 0) {
			v->iov_base = (char *)v->iov_base + left;
			v->iov_len -= left;
		}
	}
	return 0;
}

int shim_write_record(int fd, uint32_t type, const struct iovec *parts,
		      int nparts)
{
	static const uint8_t zeros[8];
	struct iovec iov[8];
	struct rcp_record_header h = { .type = type, .length = 0 };
	size_t len = 0;
	if (nparts > 6)
		return -EINVAL;
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	for (int i = 0; i < nparts; i++) {
		iov[1 + i] = parts[i];
		len += parts[i].iov_len;
	}
	if (len > RCP_RECORD_MAX)
		return -E2BIG;
	h.length = (uint32_t)len;
	int n = 1 + nparts;
	if (len % 8) {
		iov[n].iov_base = (void *)zeros;
		iov[n].iov_len = 8 - len % 8;
		n++;
	}
	return shim_write_full(fd, iov, n);
}

int shim_path_expand(const char *pattern, pid_t pid, char *out, size_t n)
{
	size_t o = 0;
	char num[24];
	for (const char *p = pattern; *p; p++) {
		const char *add = p;
		size_t len = 1;
		if (p[0] == '%' && p[1] == 'p') {
			add = shim_utoa((uint64_t)pid, num);
			len = strlen(num);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			p++;
		}
		if (o + len >= n)
			return -ENAMETOOLONG;
		memcpy(out + o, add, len);
		o += len;
	}
	if (o >= n)
		return -ENAMETOOLONG;
	out[o] = 0;
	return 0;
}

int shim_file_create(const char *path, int extra_flags)
{
	int fd;
	do
		fd = open(path, O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
			  extra_flags, 0600);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

int shim_dump_create(const char *pattern, pid_t pid, char *path, size_t n,
		     uint32_t *index)
{
	int rc = shim_path_expand(pattern, pid, path, n);
	if (rc)
		return rc;
	*index = 0;
	int fd = shim_file_create(path, O_WRONLY | O_APPEND);
	if (fd != -EEXIST || !strstr(pattern, "%p"))
		return fd;
	/* Another image of this pid (exec) already wrote NAME. */
	size_t base = strlen(path);
	char num[24];
	for (uint32_t i = 1; i < 1000; i++) {
		shim_utoa(i, num);
		if (base + 1 + strlen(num) >= n)
			return -ENAMETOOLONG;
		path[base] = '.';
		strcpy(path + base + 1, num);
		fd = shim_file_create(path, O_WRONLY | O_APPEND);
		if (fd != -EEXIST) {
			*index = i;
			return fd;
		}
	}
	return -EEXIST;
}

int shim_dump_write_header(int fd, uint64_t start_ts)
{
	struct rcp_file_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, RCP_DUMP_MAGIC, 8);
	h.version = RCP_FORMAT_VERSION;
	h.header_size = sizeof(h);
	h.start_ts = start_ts;
	struct iovec iov = { &h, sizeof(h) };
	return shim_write_full(fd, &iov, 1);
}

/* Read /proc/self/cmdline into buf (at most n bytes, cut at a NUL). */
static size_t read_cmdline(char *buf, size_t n)
{
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got == n) {     /* cut: keep whole arguments only */
		while (got > 0 && buf[got - 1] != 0)
			got--;
	}
	return got;
}

int shim_dump_write_process(int fd, uint64_t start_ts, uint32_t depth,
			    uint32_t exec_index, char *exe, size_t exe_n)
{
	const size_t argv_cap = 256 * 1024;
	ssize_t el = readlink("/proc/self/exe", exe, exe_n - 1);
	if (el < 0)
		el = 0;
	exe[el] = 0;
	char *argv = mmap(NULL, argv_cap, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t al = 0;
	if (argv != MAP_FAILED)
		al = read_cmdline(argv, argv_cap);
	struct rcp_rec_process p = {
		.pid = (uint32_t)getpid(),
		.ppid = (uint32_t)getppid(),
		.start_ts = start_ts,
		.exe_len = (uint32_t)el,
		.argv_len = (uint32_t)al,
		.stack_depth = depth,
		.exec_index = exec_index,
	};
	struct iovec parts[3] = {
		{ &p, sizeof(p) }, { exe, (size_t)el },
		{ argv != MAP_FAILED ? argv : exe, al },
	};
	int rc = shim_write_record(fd, RCP_REC_PROCESS, parts, 3);
	if (argv != MAP_FAILED)
		munmap(argv, argv_cap);
	return rc;
}

int shim_dump_write_parent(int fd, uint32_t parent_pid, uint64_t fork_ts,
			   const char *parent_path)
{
	struct rcp_rec_parent p = {
		.parent_pid = parent_pid,
		.path_len = (uint32_t)strlen(parent_path),
		.fork_ts = fork_ts,
	};
	struct iovec parts[2] = {
		{ &p, sizeof(p) }, { (void *)parent_path, p.path_len },
	};
	return shim_write_record(fd, RCP_REC_PARENT, parts, 2);
}
