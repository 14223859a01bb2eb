/* sandbox.c - a program that confines itself with seccomp, as OpenSSH's
 * pre-auth child and man-db's helpers do.
 *
 * usage: sandbox kill|errno|strict|stacked
 *   kill    prctl(PR_SET_SECCOMP) with a filter that lets through only
 *           what this program itself calls afterwards (read, write, the
 *           allocator's brk/mmap/munmap, exit) and kills on anything else
 *   errno   syscall(SYS_seccomp) with a filter that fails unlink and
 *           creating files with ENOSYS (man-db's policy) and allows the
 *           rest; then forks a child that allocates and exits
 *   strict  seccomp strict mode: read, write and exit only
 *   stacked a filter that fails process_vm_readv, then a second filter
 * Each allocates before and after entering the sandbox (one block leaked
 * on each side), prints what it did and exits with status 3.  Bad
 * requests come first: a filter at a bad address and a NULL one must fail
 * with EFAULT, as they do without the shim; and in kill mode a filter
 * without the privilege to install it, EACCES.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NR_OFF (offsetof(struct seccomp_data, nr))
#define ARCH_OFF (offsetof(struct seccomp_data, arch))
#define ARG_OFF(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define LOAD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
/* if nr == n: return v (two instructions) */
#define ON(n, v) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (n), 0, 1), RET(v)

static volatile void *keep;

static void churn(const char *when)
{
	for (int i = 0; i < 1000; i++) {
		char *p = malloc(16 + (size_t)i % 200);
		if (!p)
			abort();
		memset(p, i, 16);
		free(p);
	}
	char *leak = malloc(77);
	if (!leak)
		abort();
	strcpy(leak, when);
	keep = leak;
	printf("%s: allocated\n", when);
	fflush(stdout);
}

static void bad_requests(void)
{
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (void *)8);
	printf("bad pointer: %ld %s\n", rc, strerror(errno));
	rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, NULL);
	printf("null filter: %ld %s\n", rc, strerror(errno));
	rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (void *)8, 0, 0);
	printf("bad prctl: %ld %s\n", rc, strerror(errno));
	fflush(stdout);
}

/* Without no_new_privs and CAP_SYS_ADMIN the kernel refuses a filter
 * (EACCES): the effective CAP_SYS_ADMIN is dropped (a root run has it),
 * and the request must fail as it does without the shim. */
static void unprivileged_request(struct sock_fprog *prog)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) == 0) {
		data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
		syscall(SYS_capset, &hdr, data);
	}
	long rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog, 0, 0);
	printf("without no_new_privs: %ld %s\n", rc, strerror(errno));
	fflush(stdout);
	churn("refused");       /* still recorded */
}

static int install(struct sock_filter *f, unsigned short n, int use_prctl)
{
	struct sock_fprog prog = { .len = n, .filter = f };
	if (use_prctl)
		unprivileged_request(&prog);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	if (use_prctl)
		return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static int run_kill(void)
{
	struct sock_filter f[] = {
		LOAD(ARCH_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		RET(SECCOMP_RET_KILL_PROCESS),
		LOAD(NR_OFF),
		ON(SYS_read, SECCOMP_RET_ALLOW),
		ON(SYS_write, SECCOMP_RET_ALLOW),
		ON(SYS_brk, SECCOMP_RET_ALLOW),
		ON(SYS_mmap, SECCOMP_RET_ALLOW),
		ON(SYS_munmap, SECCOMP_RET_ALLOW),
		ON(SYS_mremap, SECCOMP_RET_ALLOW),
		ON(SYS_madvise, SECCOMP_RET_ALLOW),
		ON(SYS_futex, SECCOMP_RET_ALLOW),
		ON(SYS_exit, SECCOMP_RET_ALLOW),
		ON(SYS_exit_group, SECCOMP_RET_ALLOW),
		ON(SYS_rt_sigreturn, SECCOMP_RET_ALLOW),
		ON(SYS_clock_gettime, SECCOMP_RET_ALLOW),
		RET(SECCOMP_RET_KILL_PROCESS),
	};
	churn("before");
	if (install(f, sizeof(f) / sizeof(f[0]), 1) != 0) {
		perror("seccomp");
		return 1;
	}
	churn("after");
	return 3;
}

static int run_errno(void)
{
	struct sock_filter f[] = {
		LOAD(ARCH_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		RET(SECCOMP_RET_KILL_PROCESS),
		LOAD(NR_OFF),
		ON(SYS_unlink, SECCOMP_RET_ERRNO | ENOSYS),
		/* openat with O_CREAT: ENOSYS; without: allowed */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 3),
		LOAD(ARG_OFF(2)),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_CREAT, 0, 1),
		RET(SECCOMP_RET_ERRNO | ENOSYS),
		RET(SECCOMP_RET_ALLOW),
	};
	churn("before");
	if (install(f, sizeof(f) / sizeof(f[0]), 0) != 0) {
		perror("seccomp");
		return 1;
	}
	int fd = open("created-in-sandbox", O_WRONLY | O_CREAT, 0600);
	printf("create in sandbox: %s\n", fd < 0 ? strerror(errno) : "done");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		churn("child");
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child: status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	churn("after");
	return 3;
}

/* Two filters: the first fails process_vm_readv (the recorder goes on
 * under it: it reads the program's memory with it only to check the
 * next filter), the second allows everything but cannot be checked. */
static int run_stacked(void)
{
	struct sock_filter first[] = {
		LOAD(NR_OFF),
		ON(SYS_process_vm_readv, SECCOMP_RET_ERRNO | EPERM),
		RET(SECCOMP_RET_ALLOW),
	};
	struct sock_filter second[] = { RET(SECCOMP_RET_ALLOW) };
	churn("before");
	if (install(first, sizeof(first) / sizeof(first[0]), 0) != 0) {
		perror("seccomp");
		return 1;
	}
	churn("between");
	if (install(second, 1, 0) != 0) {
		perror("seccomp");
		return 1;
	}
	churn("after");
	return 3;
}

static int run_strict(void)
{
	churn("before");
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0) != 0) {
		perror("strict");
		return 1;
	}
	static const char msg[] = "strict: in\n";
	if (write(1, msg, sizeof(msg) - 1) < 0)
		syscall(SYS_exit, 1);
	syscall(SYS_exit, 3);   /* exit_group is not allowed */
	return 1;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	bad_requests();
	if (!strcmp(mode, "kill"))
		return run_kill();
	if (!strcmp(mode, "errno"))
		return run_errno();
	if (!strcmp(mode, "strict"))
		return run_strict();
	if (!strcmp(mode, "stacked"))
		return run_stacked();
	fprintf(stderr, "usage: sandbox kill|errno|strict|stacked\n");
	return 2;
}
