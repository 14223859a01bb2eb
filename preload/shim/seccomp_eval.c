/* seccomp_eval.c - would a seccomp filter let the recorder's calls through?
 *
 * A program that enters a seccomp sandbox (OpenSSH's pre-auth child,
 * man-db's decompressors, a server that confines itself after start-up)
 * installs a classic-BPF program the kernel runs on every later system
 * call.  The recorder makes calls the program never does - writev and
 * fstat on the dump, getrlimit before each write, sched_yield while the
 * ring is full, mmap for a thread's stack cache - and a filter that
 * answers one of them with KILL or TRAP would end the program because
 * of the profiler.  So before a filter goes in, hook_seccomp.c runs it
 * here, on the calls the recorder may still make (with the recorder's
 * own descriptors as arguments), and the recording ends first unless
 * the filter allows them all.
 *
 * The interpreter follows the kernel's checks for seccomp filters
 * (kernel/seccomp.c, seccomp_check_filter): the classic BPF subset with
 * loads of 32-bit words of struct seccomp_data, ALU on A, forward jumps,
 * scratch memory, RET.  Anything else - an opcode out of that set, a load
 * out of bounds, a jump past the end, running off the end - makes the
 * answer "not allowed", which is the safe one: the kernel rejects such a
 * filter anyway, and the recording only ends early.
 */
#include <stddef.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>

#include "seccomp_eval.h"

#define BPF_MEMWORDS_N 16       /* BPF_MEMWORDS of the kernel */

static int load_word(const struct seccomp_data *d, uint32_t k, uint32_t *out)
{
	if (k % 4 != 0 || k > sizeof(*d) - 4)
		return -1;
	memcpy(out, (const unsigned char *)d + k, 4);
	return 0;
}

static int alu(uint16_t op, uint32_t *a, uint32_t v)
{
	switch (op) {
	case BPF_ADD: *a += v; return 0;
	case BPF_SUB: *a -= v; return 0;
	case BPF_MUL: *a *= v; return 0;
	case BPF_DIV: if (!v) return -1; *a /= v; return 0;
	case BPF_MOD: if (!v) return -1; *a %= v; return 0;
	case BPF_AND: *a &= v; return 0;
	case BPF_OR:  *a |= v; return 0;
	case BPF_XOR: *a ^= v; return 0;
	case BPF_LSH: *a = v < 32 ? *a << v : 0; return 0;
	case BPF_RSH: *a = v < 32 ? *a >> v : 0; return 0;
	case BPF_NEG: *a = -*a; return 0;
	}
	return -1;
}

static int jump_taken(uint16_t op, uint32_t a, uint32_t v, int *taken)
{
	switch (op) {
	case BPF_JEQ:  *taken = a == v; return 0;
	case BPF_JGT:  *taken = a > v; return 0;
	case BPF_JGE:  *taken = a >= v; return 0;
	case BPF_JSET: *taken = (a & v) != 0; return 0;
	}
	return -1;
}

int shim_seccomp_run(const struct sock_filter *f, size_t n,
		     const struct seccomp_data *d, uint32_t *ret)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS_N] = { 0 };
	if (n == 0 || n > BPF_MAXINSNS)
		return -1;
	for (size_t pc = 0; pc < n; pc++) {
		const struct sock_filter *i = &f[pc];
		uint16_t cls = BPF_CLASS(i->code);
		uint32_t v;
		int taken;
		switch (cls) {
		case BPF_LD:
			if (i->code == (BPF_LD | BPF_W | BPF_ABS)) {
				if (load_word(d, i->k, &a))
					return -1;
			} else if (i->code == (BPF_LD | BPF_W | BPF_LEN)) {
				a = sizeof(*d);
			} else if (i->code == (BPF_LD | BPF_IMM)) {
				a = i->k;
			} else if (i->code == (BPF_LD | BPF_MEM) &&
				   i->k < BPF_MEMWORDS_N) {
				a = mem[i->k];
			} else {
				return -1;
			}
			break;
		case BPF_LDX:
			if (i->code == (BPF_LDX | BPF_W | BPF_LEN))
				x = sizeof(*d);
			else if (i->code == (BPF_LDX | BPF_IMM))
				x = i->k;
			else if (i->code == (BPF_LDX | BPF_MEM) &&
				 i->k < BPF_MEMWORDS_N)
				x = mem[i->k];
			else
				return -1;
			break;
		case BPF_ST:
		case BPF_STX:
			if (i->code != cls || i->k >= BPF_MEMWORDS_N)
				return -1;
			mem[i->k] = cls == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			v = BPF_SRC(i->code) == BPF_X ? x : i->k;
			if (alu(BPF_OP(i->code), &a, v))
				return -1;
			break;
		case BPF_JMP:
			if (BPF_OP(i->code) == BPF_JA) {
				if (i->k >= n - pc - 1)
					return -1;
				pc += i->k;
				break;
			}
			v = BPF_SRC(i->code) == BPF_X ? x : i->k;
			if (jump_taken(BPF_OP(i->code), a, v, &taken))
				return -1;
			pc += taken ? i->jt : i->jf;
			if (pc >= n - 1)
				return -1;      /* no instruction to jump to */
			break;
		case BPF_RET:
			if (BPF_RVAL(i->code) == BPF_K)
				*ret = i->k;
			else if (BPF_RVAL(i->code) == BPF_A)
				*ret = a;
			else
				return -1;
			return 0;
		case BPF_MISC:
			if (BPF_MISCOP(i->code) == BPF_TAX)
				x = a;
			else if (BPF_MISCOP(i->code) == BPF_TXA)
				a = x;
			else
				return -1;
			break;
		default:
			return -1;
		}
	}
	return -1;                      /* ran off the end */
}

int shim_seccomp_allows(const struct sock_filter *f, size_t n,
			const struct seccomp_data *d, int errno_ok)
{
	uint32_t ret;
	if (shim_seccomp_run(f, n, d, &ret))
		return 0;
	uint32_t action = ret & SECCOMP_RET_ACTION_FULL;
	return action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_LOG ||
	       (errno_ok && action == SECCOMP_RET_ERRNO);
}

#if defined(__x86_64__)
#define SHIM_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SHIM_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef SHIM_AUDIT_ARCH
/* A call the recorder may make once the filter is in, with arguments as
 * the recorder passes them (FD: the dump's descriptor; a value no real
 * argument here has - an anonymous mmap's fd is ~0, -1). */
#define FD 0xfdfdfdfdfdfdfdfdull
struct recorder_call {
	const char *name;
	long nr;
	uint64_t args[6];
	/* 1: the recorder copes when the call fails (an unwind stops early,
	 * a thread has no stack cache, a wait spins): an ERRNO answer will
	 * do.  0: it must go through (a failed write of the dump ends the
	 * recording in the middle). */
	int may_fail;
};

#define MAP_ANON_PRIV 0x4022ull /* MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE */
#define PROT_RW 3ull
#define EMPTY_PATH 0x1000ull    /* AT_EMPTY_PATH */

static const struct recorder_call calls[] = {
	/* the dump: drains, the size limit, its identity */
	{ "write", SYS_write, { FD, 0, 64 }, 0 },
	{ "writev", SYS_writev, { FD, 0, 4 }, 0 },
	{ "lseek", SYS_lseek, { FD, 0, 2 /* SEEK_END */ }, 0 },
	{ "fstat", SYS_newfstatat, { FD, 0, 0, EMPTY_PATH }, 0 },
#ifdef SYS_fstat
	{ "fstat", SYS_fstat, { FD, 0 }, 0 },
#endif
	{ "getrlimit", SYS_prlimit64, { 0, 1 /* RLIMIT_FSIZE */, 0, 1 }, 0 },
#ifdef SYS_getrlimit
	{ "getrlimit", SYS_getrlimit, { 1, 1 }, 0 },
#endif
	/* threads, signals blocked around the drain and the unwinder */
	{ "gettid", SYS_gettid, { 0 }, 0 },
	{ "getpid", SYS_getpid, { 0 }, 0 },
	{ "rt_sigprocmask", SYS_rt_sigprocmask, { 0 /* SIG_BLOCK */, 1, 1, 8 }, 0 },
	{ "rt_sigprocmask", SYS_rt_sigprocmask, { 2 /* SIG_SETMASK */, 1, 0, 8 }, 0 },
	{ "clock_gettime", SYS_clock_gettime, { 1, 1 }, 0 },
	/* messages on stderr */
	{ "write", SYS_write, { 2, 0, 64 }, 1 },
	/* back-pressure: a full ring */
	{ "sched_yield", SYS_sched_yield, { 0 }, 1 },
	{ "clock_nanosleep", SYS_clock_nanosleep, { 0, 0, 1, 0 }, 1 },
#ifdef SYS_nanosleep
	{ "nanosleep", SYS_nanosleep, { 1, 0 }, 1 },
#endif
	/* stack caches, emergency chunks */
	{ "mmap", SYS_mmap, { 0, 1u << 20, PROT_RW, MAP_ANON_PRIV, ~0ull, 0 }, 1 },
	{ "munmap", SYS_munmap, { 1, 1u << 20 }, 1 },
	/* libunwind's address checks: mincore, or a pipe */
	{ "mincore", SYS_mincore, { 1, 1, 1 }, 1 },
	{ "msync", SYS_msync, { 1, 1, 1 /* MS_ASYNC */ }, 1 },
	{ "pipe2", SYS_pipe2, { 1, 02004000 /* O_CLOEXEC|O_NONBLOCK */ }, 1 },
	{ "fcntl", SYS_fcntl, { 3, 1030 /* F_DUPFD_CLOEXEC */, 512 }, 1 },
	{ "close", SYS_close, { 3 }, 1 },
	{ "write", SYS_write, { 3, 1, 1 }, 1 },
	{ "read", SYS_read, { 3, 1, 1 }, 1 },
	/* checking the next filter (hook_seccomp.c): failing calls end the
	 * recording then, a killing one would kill */
	{ "process_vm_readv", SYS_process_vm_readv, { 1, 1, 1, 1, 1, 0 }, 1 },
	{ "prctl", SYS_prctl, { 39 /* PR_GET_NO_NEW_PRIVS */ }, 1 },
	{ "capget", SYS_capget, { 1, 1 }, 1 },
};

/* What a forked child does to start its own recording (core.c,
 * open_recording): create its dump and ring (O_EXCL|O_NOFOLLOW, 0600),
 * move them high under a raised descriptor limit, size and map the ring,
 * let go of the parent's. */
#define CREATE_FLAGS 02400300ull /* O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC */
static const struct recorder_call fork_calls[] = {
	{ "openat", SYS_openat, { (uint64_t)-100, 0, CREATE_FLAGS | 02001, 0600 }, 0 },
	{ "openat", SYS_openat, { (uint64_t)-100, 0, CREATE_FLAGS | 2, 0600 }, 0 },
	{ "getrlimit", SYS_prlimit64, { 0, 7 /* RLIMIT_NOFILE */, 0, 1 }, 0 },
	{ "setrlimit", SYS_prlimit64, { 0, 7, 1, 0 }, 0 },
	{ "fcntl", SYS_fcntl, { 3, 1030 /* F_DUPFD_CLOEXEC */, 512 }, 0 },
	{ "fallocate", SYS_fallocate, { 3, 0, 0, 1u << 20 }, 1 },
	{ "ftruncate", SYS_ftruncate, { 3, 1u << 20 }, 0 },
	{ "mmap", SYS_mmap, { 0, 1u << 20, PROT_RW, 1 /* MAP_SHARED */, 3, 0 }, 0 },
	{ "madvise", SYS_madvise, { 1, 1u << 20, 1 /* MADV_RANDOM */ }, 0 },
#ifdef SYS_readlink
	{ "readlink", SYS_readlink, { 1, 1, 4096 }, 1 },
#endif
	{ "getppid", SYS_getppid, { 0 }, 0 },
	/* the process record: its command line */
	{ "openat", SYS_openat, { (uint64_t)-100, 0, 02000000 /* O_CLOEXEC */, 0 }, 1 },
	{ "mmap", SYS_mmap, { 0, 1u << 18, PROT_RW, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, ~0ull, 0 }, 1 },
#ifdef SYS_unlink
	{ "unlink", SYS_unlink, { 1 }, 1 },
#endif
};

static const char *first_forbidden(const struct recorder_call *c, size_t nc,
				   const struct sock_filter *f, size_t n,
				   int dump_fd)
{
	for (size_t i = 0; i < nc; i++) {
		struct seccomp_data d;
		memset(&d, 0, sizeof(d));
		d.nr = (int)c[i].nr;
		d.arch = SHIM_AUDIT_ARCH;
		for (int j = 0; j < 6; j++)
			d.args[j] = c[i].args[j] == FD ?
				    (uint64_t)(int64_t)dump_fd : c[i].args[j];
		if (!shim_seccomp_allows(f, n, &d, c[i].may_fail))
			return c[i].name;
	}
	return NULL;
}

const char *shim_seccomp_forbidden(const struct sock_filter *f, size_t n,
				   int dump_fd)
{
	return first_forbidden(calls, sizeof(calls) / sizeof(calls[0]), f, n,
			       dump_fd);
}

const char *shim_seccomp_forbids_fork(const struct sock_filter *f, size_t n)
{
	const char *bad = shim_seccomp_forbidden(f, n, 3);
	if (bad)
		return bad;
	return first_forbidden(fork_calls,
			       sizeof(fork_calls) / sizeof(fork_calls[0]), f, n,
			       3);
}
#else
const char *shim_seccomp_forbidden(const struct sock_filter *f, size_t n,
				   int dump_fd)
{
	(void)f;
	(void)n;
	(void)dump_fd;
	return "(this architecture's calls are not known)";
}

const char *shim_seccomp_forbids_fork(const struct sock_filter *f, size_t n)
{
	return shim_seccomp_forbidden(f, n, 3);
}
#endif
