/* unwind_logged.c - a libunwind unwind that records every word it reads.
 *
 * libunwind's generic DWARF unwinder runs on an address space of our own
 * whose accessors serve this process's memory and registers captured by
 * SHIM_CAPTURE_REGS, and record, in order, every register read and every
 * read of the thread's stack at or above the starting stack pointer as
 * (location, value).  The stack cache (stack_cache.c) keeps those reads:
 * the unwinder is deterministic, so where they all still hold their
 * values it would return the same frames.  Reads it cannot vouch for
 * mark the log bad: below the stack pointer (maybe unmapped: refused),
 * or outside both the thread's stack and every loaded object (heap, an
 * alternate signal stack, JIT code: also refused).  Reads inside loaded
 * objects (CFI tables, code bytes) are not recorded: they do not change
 * while the object is loaded, and the cache forgets everything when the
 * loader maps or unmaps one.
 *
 * The address space is shared.  libunwind guards its caches with a mutex
 * (Debian's generic libunwind has no per-thread caching) and takes the
 * loader lock in dl_iterate_phdr; a thread inside dlopen holds the
 * loader lock and may come here from malloc.  So only the thread holding
 * `busy` - taken with a try, never waited for - unwinds here, and the
 * others use the fast unwinder: nobody ever waits for libunwind's mutex.
 * fork() waits for `busy` in the atfork prepare handler, so no child
 * inherits that mutex taken.
 *
 * That mutex is libunwind's rs cache lock, which it takes with all
 * signals blocked (sigprocmask before and after) so that a signal handler
 * unwinding on the same thread cannot deadlock on it.  Here it can never
 * be contended - `busy` admits one thread, and a handler that interrupts
 * a logged unwind uses the fast unwinder - but each of those system calls
 * costs ~1 us on a virtual machine, two per frame: most of what a fill
 * cost.  So while a thread unwinds here, the sigprocmask calls that come
 * from the generic libunwind itself are answered without the kernel
 * (shim_logged_unwind_sigprocmask, called by the shim's sigprocmask).
 */
#include <dlfcn.h>
#include <libunwind.h>          /* generic: remote-capable address spaces */
#include <sched.h>
#include <signal.h>

#include "shim.h"
#include "unwind_logged.h"

_Static_assert((int)SHIM_REG_RBX == (int)UNW_X86_64_RBX &&
	       (int)SHIM_REG_RBP == (int)UNW_X86_64_RBP &&
	       (int)SHIM_REG_RSP == (int)UNW_X86_64_RSP &&
	       (int)SHIM_REG_R12 == (int)UNW_X86_64_R12 &&
	       (int)SHIM_REG_R15 == (int)UNW_X86_64_R15 &&
	       (int)SHIM_REG_RIP == (int)UNW_X86_64_RIP,
	       "DWARF register numbers");

static unw_addr_space_t logged_as;
static unw_accessors_t *local_acc;
static uint32_t busy;           /* atomic: 1 while a thread unwinds here */
/* The generic libunwind's code: [generic_lo, generic_hi). */
static uintptr_t generic_lo, generic_hi;
/* 1 while this thread holds busy. */
static __thread int unwinding_here;

static void log_read(struct shim_unwind_log *l, uint32_t loc, uint64_t val)
{
	if (l->n == SHIM_LOG_READS_MAX) {
		l->bad = 1;
		return;
	}
	l->loc[l->n] = loc;
	l->val[l->n++] = val;
}

static int in_loaded_object(uintptr_t a)
{
	struct dl_find_object dlfo;
	return _dl_find_object((void *)a, &dlfo) == 0;
}

static int log_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val,
		   int write, void *arg)
{
	(void)as;
	struct shim_unwind_log *l = arg;
	if (write)
		return -UNW_EINVAL;
	if (addr >= l->r->sp && addr + sizeof(*val) <= l->hi) {
		*val = *(const unw_word_t *)addr;
		if (addr - l->r->sp >= SHIM_LOC_REG)
			l->bad = 1;
		else
			log_read(l, (uint32_t)(addr - l->r->sp), *val);
		return 0;
	}
	if ((addr >= l->lo && addr < l->hi) || !in_loaded_object(addr)) {
		l->bad = 1;
		return -UNW_EINVAL;
	}
	*val = *(const unw_word_t *)addr;
	return 0;
}

static int log_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val,
		   int write, void *arg)
{
	(void)as;
	struct shim_unwind_log *l = arg;
	if (write || reg < 0 || reg > UNW_X86_64_RIP)
		return -UNW_EBADREG;
	*val = shim_reg_value(l->r, (unsigned)reg);
	log_read(l, SHIM_LOC_REG | (uint32_t)reg, *val);
	return 0;
}

static int log_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val,
		     int write, void *arg)
{
	(void)as;
	(void)reg;
	(void)val;
	(void)write;
	((struct shim_unwind_log *)arg)->bad = 1;
	return -UNW_EBADREG;
}

/* CFI lookup is libunwind's own for this process (dl_iterate_phdr); it
 * reads the tables through our accessors with our argument. */
static int find_proc_info(unw_addr_space_t as, unw_word_t ip,
			  unw_proc_info_t *pi, int need_unwind_info, void *arg)
{
	return local_acc->find_proc_info(as, ip, pi, need_unwind_info, arg);
}

static void put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi,
			    void *arg)
{
	local_acc->put_unwind_info(as, pi, arg);
}

static int get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr,
				  void *arg)
{
	return local_acc->get_dyn_info_list_addr(as, addr, arg);
}

int shim_logged_unwind_init(void)
{
	if (logged_as)
		return 0;
	local_acc = unw_get_accessors(unw_local_addr_space);
	unw_accessors_t acc = *local_acc;
	acc.find_proc_info = find_proc_info;
	acc.put_unwind_info = put_unwind_info;
	acc.get_dyn_info_list_addr = get_dyn_info_list_addr;
	acc.access_mem = log_mem;
	acc.access_reg = log_reg;
	acc.access_fpreg = log_fpreg;
	acc.resume = NULL;
	acc.get_proc_name = NULL;
	logged_as = unw_create_addr_space(&acc, 0);
	if (!logged_as)
		return -1;
	struct dl_find_object generic;
	if (_dl_find_object((void *)(uintptr_t)&unw_init_remote, &generic) == 0) {
		generic_lo = (uintptr_t)generic.dlfo_map_start;
		generic_hi = (uintptr_t)generic.dlfo_map_end;
	}
	unw_set_caching_policy(logged_as, UNW_CACHE_GLOBAL);
	return 0;
}

int shim_logged_unwind(struct shim_unwind_log *l, void **raw, int max)
{
	if (!logged_as || atomic_exchange_seq_cst(&busy, 1))
		return -1;
	unwinding_here = 1;
	l->bad = 0;
	l->n = 0;
	int n = 0;
	unw_cursor_t c;
	if (unw_init_remote(&c, logged_as, l) != 0) {
		l->bad = 1;
	} else {
		do {
			unw_word_t ip;
			if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || !ip)
				break;
			raw[n++] = (void *)ip;
		} while (n < max && unw_step(&c) > 0);
	}
	unwinding_here = 0;
	atomic_store_release(&busy, 0);
	return n;
}

int shim_logged_unwind_sigprocmask(const void *caller, sigset_t *old)
{
	uintptr_t c = (uintptr_t)caller;
	if (!unwinding_here || c < generic_lo || c >= generic_hi)
		return 0;
	/* libunwind saves the mask only to hand it back to its own matching
	 * call, which comes here too: any valid set will do. */
	if (old)
		sigemptyset(old);
	return 1;
}

void shim_logged_unwind_fork_prepare(void)
{
	while (atomic_exchange_seq_cst(&busy, 1))
		sched_yield();
}

void shim_logged_unwind_fork_done(void)
{
	atomic_store_release(&busy, 0);
}
