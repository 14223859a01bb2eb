/* atomics.h - memory-order-explicit atomic helpers for the shim.
 *
 * Every atomic access in the shim goes through one of these macros, and the
 * name says the ordering, so a reader of ring.c can check each pair
 * ("this release store is observed by that acquire load") by grepping.
 * They are built on the GCC __atomic builtins so they work on the plain
 * integer fields of the shared ring file (struct rcp_ring_slot), which are
 * not declared _Atomic, and ThreadSanitizer understands them.
 */
#ifndef SHIM_ATOMICS_H
#define SHIM_ATOMICS_H

#define atomic_load_relaxed(p)        __atomic_load_n((p), __ATOMIC_RELAXED)
#define atomic_load_acquire(p)        __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define atomic_load_seq_cst(p)        __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define atomic_store_relaxed(p, v)    __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define atomic_store_release(p, v)    __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define atomic_store_seq_cst(p, v)    __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define atomic_exchange_seq_cst(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define atomic_add_relaxed(p, v)      __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define atomic_add_seq_cst(p, v)      __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define atomic_sub_release(p, v)      __atomic_fetch_sub((p), (v), __ATOMIC_RELEASE)
#define atomic_or_relaxed(p, v)       __atomic_fetch_or((p), (v), __ATOMIC_RELAXED)
#define atomic_and_relaxed(p, v)      __atomic_fetch_and((p), (v), __ATOMIC_RELAXED)
/* Strong CAS; on failure *(expp) receives the current value. */
#define atomic_cas_acq_rel(p, expp, v) \
	__atomic_compare_exchange_n((p), (expp), (v), 0, __ATOMIC_ACQ_REL, \
				    __ATOMIC_ACQUIRE)
#define atomic_cas_seq_cst(p, expp, v) \
	__atomic_compare_exchange_n((p), (expp), (v), 0, __ATOMIC_SEQ_CST, \
				    __ATOMIC_SEQ_CST)
#define atomic_cas_relaxed(p, expp, v) \
	__atomic_compare_exchange_n((p), (expp), (v), 0, __ATOMIC_RELAXED, \
				    __ATOMIC_RELAXED)
#define atomic_fence_seq_cst()        __atomic_thread_fence(__ATOMIC_SEQ_CST)

#endif /* SHIM_ATOMICS_H */
