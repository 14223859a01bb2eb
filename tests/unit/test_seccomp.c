/* test_seccomp.c - the seccomp filter interpreter (seccomp_eval.c): the
 * classic-BPF subset as the kernel runs it, what it refuses, and which of
 * the recorder's calls typical filters let through. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>

#include "seccomp_eval.h"
#include "suites.h"

#define N(f) (sizeof(f) / sizeof((f)[0]))
#define NR_OFF (offsetof(struct seccomp_data, nr))
#define ARCH_OFF (offsetof(struct seccomp_data, arch))
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)
#define LOAD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
#define ON(n, v) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (n), 0, 1), RET(v)

static struct seccomp_data call(long nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct seccomp_data d;
	memset(&d, 0, sizeof(d));
	d.nr = (int)nr;
	d.arch = AUDIT_ARCH_X86_64;
	d.args[0] = a0;
	d.args[1] = a1;
	d.args[2] = a2;
	return d;
}

static uint32_t run(const struct sock_filter *f, size_t n,
		    struct seccomp_data d)
{
	uint32_t ret = 0xdeadbeef;
	ck_assert_int_eq(shim_seccomp_run(f, n, &d, &ret), 0);
	return ret;
}

/* OpenSSH's style: a whitelist by number, KILL for the rest. */
START_TEST(test_whitelist_kill)
{
	struct sock_filter f[] = {
		LOAD(ARCH_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		RET(SECCOMP_RET_KILL_PROCESS),
		LOAD(NR_OFF),
		ON(SYS_read, SECCOMP_RET_ALLOW),
		ON(SYS_write, SECCOMP_RET_ALLOW),
		ON(SYS_mmap, SECCOMP_RET_ALLOW),
		RET(SECCOMP_RET_KILL_PROCESS),
	};
	ck_assert_uint_eq(run(f, N(f), call(SYS_write, 1, 0, 0)), SECCOMP_RET_ALLOW);
	ck_assert_uint_eq(run(f, N(f), call(SYS_writev, 1, 0, 0)),
			  SECCOMP_RET_KILL_PROCESS);
	struct seccomp_data i386 = call(SYS_write, 1, 0, 0);
	i386.arch = AUDIT_ARCH_I386;
	ck_assert_uint_eq(run(f, N(f), i386), SECCOMP_RET_KILL_PROCESS);
	/* write to the dump passes, writev does not: the recording ends */
	ck_assert_str_eq(shim_seccomp_forbidden(f, N(f), 600), "writev");
}
END_TEST

/* man-db's style: everything allowed but unlink and creating files,
 * which fail with ENOSYS.  Recording goes on; a forked child could not
 * create its dump. */
START_TEST(test_errno_for_creation)
{
	struct sock_filter f[] = {
		LOAD(NR_OFF),
		ON(SYS_unlink, SECCOMP_RET_ERRNO | ENOSYS),
		ON(SYS_mincore, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 3),
		LOAD(ARG_LO(2)),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, O_CREAT, 0, 1),
		RET(SECCOMP_RET_ERRNO | ENOSYS),
		RET(SECCOMP_RET_ALLOW),
	};
	ck_assert_uint_eq(run(f, N(f), call(SYS_openat, 0, 0, O_RDONLY)),
			  SECCOMP_RET_ALLOW);
	ck_assert_uint_eq(run(f, N(f), call(SYS_openat, 0, 0, O_RDWR | O_CREAT)),
			  SECCOMP_RET_ERRNO | ENOSYS);
	ck_assert_ptr_null(shim_seccomp_forbidden(f, N(f), 600));
	ck_assert_str_eq(shim_seccomp_forbids_fork(f, N(f)), "openat");
	/* mincore may fail (libunwind's check), a write of the dump may not */
	struct sock_filter g[] = {
		LOAD(NR_OFF),
		ON(SYS_writev, SECCOMP_RET_ERRNO | EPERM),
		RET(SECCOMP_RET_ALLOW),
	};
	ck_assert_str_eq(shim_seccomp_forbidden(g, N(g), 600), "writev");
	ck_assert_str_eq(shim_seccomp_forbids_fork(g, N(g)), "writev");
}
END_TEST

/* Arguments, libseccomp's way: the 64-bit descriptor compared as two
 * words through scratch memory and X; only the dump's descriptor may be
 * written.  And TRAP, LOG, RET A. */
START_TEST(test_arguments_scratch_and_actions)
{
	struct sock_filter f[] = {
		LOAD(NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_writev, 0, 9),
		LOAD(ARG_HI(0)),
		BPF_STMT(BPF_ST, 3),
		BPF_STMT(BPF_LDX | BPF_MEM, 3),
		BPF_STMT(BPF_MISC | BPF_TXA, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2),
		LOAD(ARG_LO(0)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 600, 1, 0),
		RET(SECCOMP_RET_TRAP),
		RET(SECCOMP_RET_ALLOW),
		/* any other call: LOG, by RET A after some arithmetic */
		BPF_STMT(BPF_LD | BPF_IMM, SECCOMP_RET_LOG >> 16),
		BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 16),
		BPF_STMT(BPF_RET | BPF_A, 0),
	};
	ck_assert_uint_eq(run(f, N(f), call(SYS_writev, 600, 0, 0)), SECCOMP_RET_ALLOW);
	ck_assert_uint_eq(run(f, N(f), call(SYS_writev, 601, 0, 0)), SECCOMP_RET_TRAP);
	ck_assert_uint_eq(run(f, N(f), call(SYS_writev, 600 | (1ull << 32), 0, 0)),
			  SECCOMP_RET_TRAP);
	ck_assert_uint_eq(run(f, N(f), call(SYS_getpid, 0, 0, 0)), SECCOMP_RET_LOG);
	ck_assert_ptr_null(shim_seccomp_forbidden(f, N(f), 600));
	ck_assert_str_eq(shim_seccomp_forbidden(f, N(f), 7), "writev");
}
END_TEST

/* Only the calls on the dump take its descriptor: an anonymous mmap is
 * run with fd -1, so a filter that kills on file mappings lets the
 * recorder's own mappings through. */
START_TEST(test_dump_descriptor_only_on_dump_calls)
{
	struct sock_filter f[] = {
		LOAD(NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 2),
		LOAD(ARG_LO(4)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 0, 1),
		RET(SECCOMP_RET_ALLOW),
		RET(SECCOMP_RET_KILL_PROCESS),
	};
	ck_assert_ptr_null(shim_seccomp_forbidden(f, N(f), 600));
}
END_TEST

/* What the kernel would refuse, or a filter that never returns: "not
 * allowed", so the recording ends rather than guessing. */
START_TEST(test_invalid_filters)
{
	struct seccomp_data d = call(SYS_getpid, 0, 0, 0);
	uint32_t ret;
	struct sock_filter off_end[] = { LOAD(NR_OFF) };
	ck_assert_int_eq(shim_seccomp_run(off_end, N(off_end), &d, &ret), -1);
	struct sock_filter bad_load[] = { LOAD(sizeof(d)), RET(SECCOMP_RET_ALLOW) };
	ck_assert_int_eq(shim_seccomp_run(bad_load, N(bad_load), &d, &ret), -1);
	struct sock_filter odd_load[] = { LOAD(2), RET(SECCOMP_RET_ALLOW) };
	ck_assert_int_eq(shim_seccomp_run(odd_load, N(odd_load), &d, &ret), -1);
	struct sock_filter far_jump[] = {
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 5), RET(SECCOMP_RET_ALLOW),
	};
	ck_assert_int_eq(shim_seccomp_run(far_jump, N(far_jump), &d, &ret), -1);
	struct sock_filter far_ja[] = {
		BPF_STMT(BPF_JMP | BPF_JA, 1), RET(SECCOMP_RET_ALLOW),
	};
	ck_assert_int_eq(shim_seccomp_run(far_ja, N(far_ja), &d, &ret), -1);
	struct sock_filter div0[] = {
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), RET(SECCOMP_RET_ALLOW),
	};
	ck_assert_int_eq(shim_seccomp_run(div0, N(div0), &d, &ret), -1);
	struct sock_filter mem_oob[] = {
		BPF_STMT(BPF_ST, 16), RET(SECCOMP_RET_ALLOW),
	};
	ck_assert_int_eq(shim_seccomp_run(mem_oob, N(mem_oob), &d, &ret), -1);
	ck_assert_int_eq(shim_seccomp_run(mem_oob, 0, &d, &ret), -1);
	ck_assert_str_eq(shim_seccomp_forbidden(off_end, N(off_end), 600), "write");
	/* a jump to the last instruction is fine */
	struct sock_filter last[] = {
		BPF_STMT(BPF_JMP | BPF_JA, 1), RET(SECCOMP_RET_KILL_PROCESS),
		RET(SECCOMP_RET_ALLOW),
	};
	ck_assert_uint_eq(run(last, N(last), d), SECCOMP_RET_ALLOW);
	ck_assert_ptr_null(shim_seccomp_forbidden(last, N(last), 600));
	ck_assert_ptr_null(shim_seccomp_forbids_fork(last, N(last)));
}
END_TEST

Suite *seccomp_suite(void)
{
	Suite *s = suite_create("seccomp");
	TCase *tc = tcase_create("filters");
	tcase_add_test(tc, test_whitelist_kill);
	tcase_add_test(tc, test_errno_for_creation);
	tcase_add_test(tc, test_arguments_scratch_and_actions);
	tcase_add_test(tc, test_invalid_filters);
	tcase_add_test(tc, test_dump_descriptor_only_on_dump_calls);
	suite_add_tcase(s, tc);
	return s;
}
