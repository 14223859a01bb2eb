/* shim.h - the internal interface of librcprof.so, the recorder.
 *
 * Glossary (see include/rcprof_dump.h for the on-disk terms)
 *   ring     - struct shim_ring: the MAP_SHARED slot array of <dump>.ring
 *              plus the dump file descriptor the slots are drained into.
 *   stream   - struct shim_stream: one thread's writer at one signal
 *              nesting level; owns at most one ring slot (its chunk).
 *   level    - 0: normal code; 1: a signal handler that interrupted this
 *              thread while it was inside the shim; 2+: deeper (LOST).
 *   drain    - moving SEALED slots into the dump with write(2); whoever
 *              holds the ring's drain flag does it (no helper thread).
 *   finish   - the "full drain" at exit/exec/fatal signal: sealed slots,
 *              partial copies of owned slots, then an RCP_REC_END record.
 *   intern   - deduplication of stacks and strings into numeric ids with
 *              lock-free tables; the inserting thread emits the definition.
 *
 * Files: hook_*.c interpose libc / librc symbols and hold the constructor;
 * every other file is "pure": no interposed symbols, no constructors, so it
 * can be linked into the unit tests and the ring stress program.
 * All non-static names start with shim_ (the analyzer uses rcp_/rco_).
 */
#ifndef SHIM_H
#define SHIM_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include "atomics.h"
#include "rcprof_dump.h"

#define SHIM_EXPORT __attribute__((visibility("default")))
#define shim_likely(x)   __builtin_expect(!!(x), 1)
#define shim_unlikely(x) __builtin_expect(!!(x), 0)

#define SHIM_EVENT_MAX     2048u  /* no encoded event is longer */
#define SHIM_STRING_MAX    1024u  /* interned strings are cut to this */
#define SHIM_DEPTH_DEFAULT 64
#define SHIM_DEPTH_MAX     128
/* Frames of the stack of a release that leaves the count above zero (a
 * candidate for "the release that made a cycle garbage"): the analyzer
 * names it by its innermost frames, and these releases are most of the
 * backtraces of refcount-heavy code. */
#define SHIM_RELEASE_DEPTH_DEFAULT 16
#define SHIM_SLOT_MIN      4096u
#define SHIM_SLOTS_MIN     16u
/* 64 MiB: slots of 256 KiB.  Each slot is one write(2) of the dump and
 * one chunk to open and seal; against 32 KiB slots (an 8 MiB ring) that
 * is 7 % less CPU on the rc churn bench, 4 % on malloc churn, for
 * 0.3-0.6 MB more RSS (the slots in use). */
#define SHIM_RING_KB_DEFAULT 65536u
#define SHIM_RING_HEADER   64u    /* rcp_ring_header.header_size */
#define SHIM_COUNT_SHARDS  16
#define SHIM_COUNT_ROWS    256
#define SHIM_PATH_MAX      4096

_Static_assert(sizeof(struct rcp_ring_slot) == 48, "ring slot header");
_Static_assert(SHIM_SLOT_MIN >= sizeof(struct rcp_ring_slot) + SHIM_EVENT_MAX,
	       "every event fits into the smallest slot");

/* ---- clock.c: event timestamps ----------------------------------------
 * Every event needs one clock read (the ts merge), so this is on the hot
 * path: clock_gettime(CLOCK_MONOTONIC) costs ~30 ns through the vDSO on
 * the 2-core VM, LFENCE;RDTSC ~23 ns, and the conversion a multiply.
 * shim_clock_init turns the TSC on only when CPUID says invariant TSC and
 * the kernel itself derives CLOCK_MONOTONIC from it: clocksource "tsc",
 * which the kernel only keeps while the TSCs of all CPUs are synchronized,
 * or a KVM guest's "kvm-clock" while the host vouches for the vCPUs' TSCs
 * matching (shim_clock_pick_tsc); otherwise, or with
 * RCPROF_CLOCK=monotonic, every read is clock_gettime.  ts =
 * CLOCK_MONOTONIC at start-up + TSC ticks since then x the frequency
 * measured at start-up (an error of a few ppm against CLOCK_MONOTONIC
 * over the run; every ts of one recording, fork children included, comes
 * from the same conversion).
 *
 * Causality (dump format: a free is stamped before the block is released,
 * an allocation after it was obtained, a release before its decrement -
 * librc asks the observer for that stamp, hook_rc.c -; creations and
 * edges are fenced; heap allocations, retains, releases and object frees
 * go without the fence, shim_now_alloc and shim_now_rc): LFENCE
 * makes RDTSC wait until all earlier instructions - the loads that
 * observed another thread's release - have completed; a later store (our
 * own release) becomes visible only after RDTSC retired.  That is the
 * same guarantee as the vDSO's own rdtsc_ordered().  It is only needed
 * once stamps come from the clock (shim_clk.threads, below); before
 * that they are counted.
 * A thread that obtains something another one released has synchronized
 * with it (the allocator's lock, the count's atomic), after that thread
 * set the flag; x86 does not reorder its later load of the flag before
 * that, so it sees the flag and fences. */
struct shim_clock {
	uint64_t tsc0;          /* TSC at calibration */
	uint64_t ns0;           /* CLOCK_MONOTONIC at tsc0 */
	uint64_t mult;          /* ns = (ticks * mult) >> SHIM_CLOCK_SHIFT */
	int use_tsc;            /* written once, before recording starts */
	uint32_t threads;       /* atomic: 1 once every stamp is clocked */
	uint64_t owner;         /* atomic: shim_tick_id of the counting thread */
	uint64_t ids;           /* atomic: the last shim_tick_id handed out */
	uint64_t claimed_at;    /* atomic: time of the last claim */
	uint32_t close_claims;  /* atomic: claims soon after the one before */
};
#define SHIM_CLOCK_SHIFT 32
extern struct shim_clock shim_clk;
/* This thread's counter: its last counted stamp (see shim_tick_add). */
extern __thread uint64_t shim_tick;
/* This thread's name for shim_clk.owner; 0 until its first claim. */
extern __thread uint64_t shim_tick_id;
/* Claims less than SHIM_CLAIM_CLOSE_NS after the one before are close;
 * after SHIM_CLAIM_CLOSE_MAX of them the process stamps from the clock. */
#define SHIM_CLAIM_CLOSE_NS  50000u
#define SHIM_CLAIM_CLOSE_MAX 16u

enum shim_clocksource { SHIM_CS_OTHER, SHIM_CS_TSC, SHIM_CS_KVM };

/* 1 when the TSC may stamp events: invariant, and the kernel's
 * clocksource cs is the TSC, or kvm-clock with clock_gettime through the
 * vDSO clearly cheaper than the system call (fewest TSC ticks of a few
 * calls each; see clock.c).  Pure, for the unit tests. */
int shim_clock_pick_tsc(int invariant_tsc, enum shim_clocksource cs,
			uint64_t vdso_ticks, uint64_t syscall_ticks);

static inline uint64_t shim_now_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
static inline uint64_t shim_rdtsc_ordered(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* Plain RDTSC: it may read the counter before earlier loads complete,
 * but never after a later store becomes visible (stores leave the core
 * after they retire, and RDTSC retires before them).  That suffices for
 * a stamp taken before the event takes effect - a free stamped before
 * the block is released - and costs half of LFENCE;RDTSC. */
static inline uint64_t shim_rdtsc_before_release(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t shim_tsc_to_ns(uint64_t tsc)
{
	uint64_t d = tsc - shim_clk.tsc0;
	if (shim_unlikely((int64_t)d < 0))
		d = 0;  /* another CPU a few ticks behind tsc0 */
	return shim_clk.ns0 +
		(uint64_t)(((unsigned __int128)d * shim_clk.mult) >>
			   SHIM_CLOCK_SHIFT);
}
#endif

/* The clock itself, fenced once stamps are clocked: what the event
 * stamps below read then, and the time of the records that
 * report wall time (END) or wait for it (the ring lock's timeout). */
static inline uint64_t shim_now_real(void)
{
#if defined(__x86_64__)
	if (shim_likely(shim_clk.use_tsc))
		return shim_tsc_to_ns(__atomic_load_n(&shim_clk.threads,
						      __ATOMIC_RELAXED) ?
				      shim_rdtsc_ordered() :
				      shim_rdtsc_before_release());
#endif
	return shim_now_monotonic();
}

/* Counted stamps.  While one thread at a time records, the order of its
 * stream is the order of its events, so a stamp has only to sort them
 * against the events of its own signal handlers (a stream of their own)
 * and against the stamps of other threads that it depends on or that
 * depend on it.  A counter does that in a few instructions, where RDTSC
 * alone takes 11 ns back to back on the VM of the bench:
 *   - one thread counts, the owner (shim_clk.owner == its shim_tick_id),
 *     on a counter of its own (shim_tick), incremented by one XADD
 *     without LOCK, which a signal handler cannot split (it runs between
 *     instructions); its handlers count on the same counter;
 *   - a counter steps by 1 ns per stamp while each event takes several,
 *     and is moved up to the clock when its thread takes ownership
 *     (shim_clock_claim) and with every chunk (shim_clock_resync), so it
 *     stays at or just below the clock, and within a chunk's time of it;
 *   - another thread that stamps claims ownership: a CAS of the owner,
 *     then its counter moves up to the fenced clock, past every stamp of
 *     the owner before it that it can depend on (those were at or below
 *     the clock when taken).  The owner before sees the new owner the
 *     next time it stamps after synchronizing with that thread (the
 *     claim's CAS precedes whatever the new owner did next, and x86 does
 *     not reorder a later load of the owner before the load that
 *     synchronized), and claims back: so a stamp that must sort after
 *     another thread's is taken by a claim or after it, and the stamps a
 *     former owner still counts meanwhile are of events concurrent with
 *     the new owner's, which may sort either way;
 *   - claims cost a CAS and a fenced clock read, and move cache lines
 *     between CPUs: when threads record at the same time, every event
 *     would claim.  So after SHIM_CLAIM_CLOSE_MAX claims that came less
 *     than SHIM_CLAIM_CLOSE_NS after the one before, shim_clock_threads
 *     switches the process to the clock for good: every counted stamp is
 *     at or below the clock, so the clocked ones sort after it, and a
 *     thread that sees shim_clk.threads set has synchronized with the
 *     switch or with something done after it (see the causality note
 *     above), so every stamp that must sort after a clocked one is
 *     clocked too.
 * So a program whose main thread starts one worker and waits for it, or
 * whose threads take turns, keeps counting; two threads recording at
 * once switch to the clock within microseconds.  A fork child, which
 * runs one thread, counts again (shim_clock_fork_child). */
static inline uint64_t shim_tick_add(uint64_t d)
{
#if defined(__x86_64__)
	__asm__ __volatile__("xaddq %0, %1"
			     : "+r"(d), "+m"(shim_tick) :: "memory");
	return d;
#else
	return __atomic_fetch_add(&shim_tick, d, __ATOMIC_RELAXED);
#endif
}

/* The stamp of a thread that does not own the counter while the process
 * counts: it takes ownership, or switches the process to the clock; the
 * stamp sorts after everything this thread has synchronized with. */
uint64_t shim_clock_claim(void);

static inline int shim_counting(void)
{
	return !__atomic_load_n(&shim_clk.threads, __ATOMIC_RELAXED);
}

/* The next count: the owner's stamp. */
static inline uint64_t shim_count_stamp(void)
{
	return shim_tick_add(1) + 1;
}

/* Whether this thread owns the counter (while the process counts). */
static inline int shim_owns_counter(void)
{
	return __atomic_load_n(&shim_clk.owner, __ATOMIC_RELAXED) ==
	       shim_tick_id;
}

/* A stamp while the process counts. */
static inline uint64_t shim_counted_stamp(void)
{
	return shim_likely(shim_owns_counter()) ? shim_count_stamp() :
						  shim_clock_claim();
}

/* The time of an event that has taken effect and that another thread's
 * event may depend on (an object's creation, an edge): fenced once
 * stamps are clocked. */
static inline uint64_t shim_now(void)
{
	if (shim_likely(shim_counting()))
		return shim_counted_stamp();
	return shim_now_real();
}

/* The time of an event that is about to take effect: a free or the old
 * block of a realloc, stamped before libc releases the block. */
static inline uint64_t shim_now_before_release(void)
{
	if (shim_likely(shim_counting()))
		return shim_counted_stamp();
#if defined(__x86_64__)
	if (shim_likely(shim_clk.use_tsc))
		return shim_tsc_to_ns(shim_rdtsc_before_release());
#endif
	return shim_now_monotonic();
}
/* The time of a heap allocation, after the real call returned: a plain
 * RDTSC even with threads.  It may read the counter before the load that
 * found the block completed, and so sort a few hundred cycles before
 * another thread's free of that block; the analyzer absorbs that
 * (RCP_HEAP_SKEW_NS in analyzer/heap.h).  The fence waited for the real
 * allocator's last cache misses: 9 % of the malloc churn bench's CPU. */
static inline uint64_t shim_now_alloc(void)
{
	return shim_now_before_release();
}

/* The time of a retain, a release or an object's free: a plain RDTSC
 * even with threads.  Such a stamp may read the counter before the load
 * that gave this thread the object completed, so it can sort a few
 * hundred cycles before the other thread's event it depends on; the
 * analyzer absorbs that (analyzer/rcobj_skew.c), and the fence was the
 * largest single cost of refcount-heavy programs (a quarter of the rc
 * churn bench).  A release is stamped before its decrement, which this
 * orders as well as the fence did (see shim_rdtsc_before_release).
 * Creations and edges keep the fence: the replay cannot tell an edge on
 * an object not created yet from a slot of an untracked struct. */
static inline uint64_t shim_now_rc(void)
{
	return shim_now_before_release();
}

/* Decide TSC or clock_gettime and calibrate (~2 ms); once, at start-up,
 * before any thread records. */
void shim_clock_init(void);
/* The owner: move its counter up to the clock (with every new chunk;
 * see shim_tick_add). */
void shim_clock_resync(void);

/* In a fork child, which runs one thread: count again, this thread the
 * owner, its counter moved up to the clock (past every stamp of the
 * parent, the fork's included). */
void shim_clock_fork_child(void);

/* Stamps come from the clock and fence from now on (too many close
 * claims; see shim_tick_add). */
static inline void shim_clock_threads(void)
{
	if (!__atomic_load_n(&shim_clk.threads, __ATOMIC_RELAXED))
		__atomic_store_n(&shim_clk.threads, 1, __ATOMIC_SEQ_CST);
}

/* ---- fds.c: the recorder's own descriptors (see fds.c) ---------------- */
#define SHIM_OWN_FDS 8
/* Register fd as ours: the program's close()/close_range()/closefrom()
 * pass it by (hook_fd.c).  0, or -1 when the table is full. */
int shim_fd_own(int fd);
void shim_fd_disown(int fd);
int shim_fd_is_own(int fd);
/* Close one of ours (disowned first, so the close() hook lets it go). */
void shim_fd_close(int fd);
/* The registered descriptors into out[SHIM_OWN_FDS]; returns how many. */
int shim_fd_own_list(int *out);
/* [first, last] without the descriptors in own[0..nown) (unsorted, -1
 * ignored), as up to nown + 1 ranges into out; returns how many. */
size_t shim_fd_split_range(unsigned first, unsigned last, const int *own,
			   int nown, unsigned (*out)[2]);
/* 1 when the recorder's descriptors can be placed without taking the
 * program's: above the soft RLIMIT_NOFILE (the hard one leaves room), or
 * below a soft limit of at least 64; pure. */
int shim_fd_limit_ok(uint64_t soft, uint64_t hard);
/* 1 when a soft RLIMIT_AS or RLIMIT_DATA leaves room for the recorder
 * (infinite, or at least SHIM_MEM_LIMIT_MIN bytes; see core.c). */
#define SHIM_MEM_LIMIT_MIN (1ull << 30)
static inline int shim_mem_limit_ok(uint64_t soft)
{
	return soft == (uint64_t)RLIM_INFINITY || soft >= SHIM_MEM_LIMIT_MIN;
}
/* Move fd high (above the soft RLIMIT_NOFILE when possible, see fds.c);
 * returns the new descriptor (fd is closed) or fd itself when it cannot
 * be moved. */
int shim_fd_place_high(int fd, int cloexec);

/* ---- sigmask.c: signal masks, glibc's internal signals kept ---------- */
/* sigprocmask through the system call: signals 32 and 33 (SIGCANCEL,
 * SIGSETXID) stay blocked or unblocked as they are.  0 or -1 (errno). */
int shim_sigmask(int how, const sigset_t *set, sigset_t *old);
/* Block every signal that may be blocked; the old mask into *old. */
int shim_sigmask_block_all(sigset_t *old);

/* ---- log.c: "rcprof: " + the NULL-terminated list of parts + "\n",
 * written with one write(2) to stderr from a stack buffer. -------------- */
void shim_log(const char *first, ...) __attribute__((sentinel));
/* Decimal text of v into buf (>= 21 bytes); returns buf. */
char *shim_utoa(uint64_t v, char *buf);
/* The message for errno e without allocating ("File exists"). */
const char *shim_strerror(int e);

/* ---- dumpfile.c: files and records ------------------------------------ */
/* RLIMIT_FSIZE.  Writing past the soft limit raises SIGXFSZ, whose
 * default action kills the program - for a file of ours it never asked
 * for - so the recorder checks first and gives up the recording instead.
 * shim_fsize_fits: n more bytes at offset pos stay within limit
 * (RLIM_INFINITY: no limit); pure.  shim_fsize_check: 0 when n more bytes
 * fit at fd's offset (fd < 0: at offset 0) under the current soft limit,
 * else -EFBIG. */
int shim_fsize_fits(uint64_t pos, uint64_t n, uint64_t limit);
int shim_fsize_check(int fd, uint64_t n);
/* Write all of iov (retrying EINTR and short writes): 0 or -errno;
 * -EFBIG, nothing written, when it would not fit under RLIMIT_FSIZE. */
int shim_write_full(int fd, const struct iovec *iov, int n);
/* Write one record: header, parts, zero padding to 8: 0 or -errno. */
int shim_write_record(int fd, uint32_t type, const struct iovec *parts,
		      int nparts);
/* Expand %p (pid) and %% in pattern: 0 or -ENAMETOOLONG. */
int shim_path_expand(const char *pattern, pid_t pid, char *out, size_t n);
/* open(path, O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC | extra, 0600). */
int shim_file_create(const char *path, int extra_flags);
/* Create the dump for pattern: the expanded name, or when pattern holds
 * %p and that exists, NAME.1, NAME.2, ... (*index = n).  Returns the fd or
 * -errno; path gets the name tried last. */
int shim_dump_create(const char *pattern, pid_t pid, char *path, size_t n,
		     uint32_t *index);
int shim_dump_write_header(int fd, uint64_t start_ts);
/* RCP_REC_PROCESS with exe and argv read from /proc/self. */
int shim_dump_write_process(int fd, uint64_t start_ts, uint32_t depth,
			    uint32_t exec_index, char *exe_out, size_t exe_n);
int shim_dump_write_parent(int fd, uint32_t parent_pid, uint64_t fork_ts,
			   const char *parent_path);

/* ---- ring.c: the shared slot ring (protocol at the top of ring.c) ----- */
/* shim_ring.finalized: chunks drained when full (OPEN); after END, every
 * event sealed and drained as soon as it is committed (FINAL: destructors
 * and atexit handlers that run after ours); after a fatal signal's END,
 * nothing drained any more (CLOSED: the process is about to die, and a
 * drain another thread started would be cut short by the death). */
enum { SHIM_RING_OPEN = 0, SHIM_RING_FINAL = 1, SHIM_RING_CLOSED = 2 };

struct shim_ring {
	uint8_t *map;             /* the ring file mapping */
	size_t map_len;
	uint32_t nslots, slot_size;
	int fd;                   /* the dump; drains append here */
	dev_t dev;                /* identity of fd, checked before writing */
	ino_t ino;
	int broken;               /* a write failed: drop instead of writing */
	uint32_t finalized;       /* relaxed: SHIM_RING_OPEN, FINAL, CLOSED */
	uint32_t drain_flag;      /* 1 while someone drains (seq_cst xchg) */
	uint32_t drain_owner;     /* tid of the holder, for self-detection */
	int64_t pending;          /* SEALED slots not yet drained */
	uint32_t hint;            /* where the next claim starts looking */
	/* Slots [0, used_hi) have been handed out at least once (atomic,
	 * only grows).  Claims reuse them before they take a new one, and
	 * scans stop there: a slot never used is a page of the ring file
	 * never touched, so a short-lived process does not fault in (and
	 * zero) the whole ring - 64 MiB by default, most of the start-up
	 * cost of the shim. */
	uint32_t used_hi;
	/* Events per kind for the END record.  Each stream owns one row of
	 * rows[] (handed out by rows_used, never reused) and bumps it with a
	 * relaxed load + store: it is the row's only writer, so no locked
	 * add on every event.  When rows run out, streams share the shards
	 * of counts[] with atomic adds. */
	uint32_t rows_used;
	uint64_t counts[SHIM_COUNT_SHARDS][32] __attribute__((aligned(64)));
	uint64_t rows[SHIM_COUNT_ROWS][32] __attribute__((aligned(64)));
};

void shim_ring_geometry(uint64_t bytes, uint32_t *nslots, uint32_t *slot_size);
size_t shim_ring_bytes(uint32_t nslots, uint32_t slot_size);
/* map: nslots*slot_size+header zeroed bytes.  Writes the ring header. */
void shim_ring_init(struct shim_ring *r, void *map, uint32_t nslots,
		    uint32_t slot_size, uint32_t pid, int dump_fd);
/* The ring header's done flag (see struct rcp_ring_header): set once END
 * is in the dump, cleared when recording goes on into the ring (a failed
 * exec).  No-op without a ring. */
void shim_ring_mark_done(struct shim_ring *r, uint32_t done);
static inline struct rcp_ring_slot *shim_ring_slot(const struct shim_ring *r,
						   uint32_t i)
{
	return (struct rcp_ring_slot *)(r->map + SHIM_RING_HEADER +
					(size_t)i * r->slot_size);
}
/* FREE -> OWNED; fills the slot header.  Drains or waits while the ring is
 * full; -1 when every slot is OWNED (nothing can free up by waiting) or
 * when waiting would wait on this very thread. */
int shim_ring_claim(struct shim_ring *r, uint32_t tid, uint16_t nest,
		    uint64_t seq, uint64_t base_ts);
void shim_ring_seal(struct shim_ring *r, struct rcp_ring_slot *s);
/* Drain SEALED slots if nobody else is draining (never blocks). */
void shim_ring_try_drain(struct shim_ring *r);
/* Take the drain flag: 0, -EDEADLK (this thread holds it: a signal
 * interrupted the drain) or -ETIMEDOUT (timeout_ns > 0 only). */
int shim_ring_lock(struct shim_ring *r, uint64_t timeout_ns);
/* This thread may hold a drain flag (see ring.c); a signal deferred
 * until it gives the flag back, and what then runs it. */
extern __thread int shim_drain_held;
extern __thread int shim_deferred_sig;
extern void (*shim_deferred_run)(int sig);
void shim_ring_unlock(struct shim_ring *r);
void shim_ring_drain_sealed_locked(struct shim_ring *r);
void shim_ring_copy_owned_locked(struct shim_ring *r);
int shim_ring_write_chunk_locked(struct shim_ring *r,
				 const struct rcp_ring_slot *hdr,
				 const uint8_t *data, uint32_t used,
				 uint16_t flags);
int shim_ring_write_record_locked(struct shim_ring *r, uint32_t type,
				  const struct iovec *parts, int nparts);
/* The counter row of a new stream: its own row (*exclusive = 1) or a
 * shared shard. */
uint64_t *shim_ring_count_row(struct shim_ring *r, uint32_t tid,
			      int *exclusive);
void shim_ring_counts(struct shim_ring *r, uint64_t out[32]);

/* ---- stream.c: chunks of one stream, and the event encoder ------------ */
/* A string this stream interned lately, by address (record.c): rc_new
 * names a type with every object, nearly always the same few constant
 * strings, and comparing the text costs less than hashing it. */
#define SHIM_STR_MEMO 4
struct shim_str_memo {
	const char *ptr;        /* NULL: empty */
	uint32_t id;
	char text[44];          /* the string, NUL included */
};

struct shim_stream {
	struct rcp_ring_slot *slot; /* current chunk or NULL */
	uint8_t *data;              /* slot + 1 */
	uint32_t cap, pos;          /* data bytes; bytes written = committed */
	uint64_t seq;               /* seq of the next chunk */
	uint64_t prev_ts, prev_addr;
	uint32_t tid;
	uint16_t nest;
	uint8_t direct;             /* 1: slot is emerg, written at commit;
				       2: the discard buffer (event lost) */
	uint8_t flush_each;         /* seal + drain after every event */
	uint8_t row_excl;           /* row is ours alone */
	unsigned kind;              /* kind of the event being written */
	uint64_t *row;              /* event counts (shim_ring_count_row) */
	uint32_t nlost;             /* sum of lost[] not yet reported */
	uint32_t lost[RCP_EV__COUNT];
	struct shim_str_memo strs[SHIM_STR_MEMO];
	/* The chunk used when no ring slot can be had (every slot owned by
	 * some thread): one event, written straight to the dump.  Mapped
	 * when first needed, not in TLS: glibc carves static TLS out of each
	 * thread's stack, and 4 KB more of it crashed programs whose threads
	 * have small stacks.  Kept by shim_stream_init (last member). */
	uint64_t *emerg;
};
#define SHIM_EMERG_BYTES (sizeof(struct rcp_ring_slot) + SHIM_EVENT_MAX)

void shim_stream_init(struct shim_stream *s, uint32_t tid, uint16_t nest);
/* Unmap s's emergency chunk (its thread is ending). */
void shim_stream_drop_emerg(struct shim_stream *s);
/* Seal the current chunk (if any) and try to drain. */
void shim_stream_seal(struct shim_ring *r, struct shim_stream *s);
/* shim_ev_begin's slow path: seal the chunk (if any), open the next. */
void shim_stream_next_chunk(struct shim_ring *r, struct shim_stream *s,
			    uint64_t ts);
/* shim_ev_commit's slow path: an emergency chunk, a flushing stream, or
 * a finalized ring. */
void shim_ev_commit_slow(struct shim_ring *r, struct shim_stream *s);

/* Start an event of at most maxlen (<= SHIM_EVENT_MAX) bytes, kind and
 * dts included: returns where to write the fields (never NULL; when no
 * slot can be had the event goes to the emergency chunk).  Must be
 * followed by shim_ev_commit.  Inline with shim_ev_commit: every event
 * goes through both, and as calls they cost more than their work. */
static inline uint8_t *shim_ev_begin(struct shim_ring *r, struct shim_stream *s,
				     unsigned kind, uint64_t ts, size_t maxlen)
{
	if (shim_unlikely(!s->slot || s->pos + maxlen > s->cap))
		shim_stream_next_chunk(r, s, ts);
	if (ts < s->prev_ts)
		ts = s->prev_ts;        /* a stream's ts never goes back */
	uint8_t *w = s->data + s->pos;
	*w++ = (uint8_t)kind;
	w += rcp_put_u64(w, ts - s->prev_ts);
	s->prev_ts = ts;
	s->kind = kind;
	return w;
}

/* One more event of the current kind.  A stream's own row has one writer
 * (level 0 and level 1 of a thread are different streams), so a relaxed
 * load + store; the END writer reads it relaxed.  A row shared with
 * other streams takes atomic adds. */
static inline void shim_count_event(struct shim_stream *s)
{
	uint64_t *c = &s->row[s->kind & 31];
	if (shim_likely(s->row_excl))
		atomic_store_relaxed(c, atomic_load_relaxed(c) + 1);
	else
		atomic_add_relaxed(c, 1);
}

static inline void shim_ev_commit(struct shim_ring *r, struct shim_stream *s,
				  uint8_t *end)
{
	s->pos = (uint32_t)(end - s->data);
	if (shim_unlikely(s->direct | s->flush_each | !s->row_excl) ||
	    shim_unlikely(atomic_load_relaxed(&r->finalized))) {
		shim_ev_commit_slow(r, s);
		return;
	}
	/* P1: publishes the event's bytes; pairs with C1 in ring.c and with a
	 * post-mortem reader of the ring file. */
	atomic_store_release(&s->slot->committed, (uint64_t)s->pos);
	shim_count_event(s);
}

static inline uint8_t *shim_put_u(uint8_t *w, uint64_t v)
{
	return w + rcp_put_u64(w, v);
}
static inline uint8_t *shim_put_s(uint8_t *w, int64_t v)
{
	return w + rcp_put_s64(w, v);
}
static inline uint8_t *shim_put_addr(struct shim_stream *s, uint8_t *w,
				     uint64_t addr)
{
	w = shim_put_s(w, (int64_t)(addr - s->prev_addr));
	s->prev_addr = addr;
	return w;
}

/* ---- intern.c: lock-free dedup tables --------------------------------- */
#define SHIM_INTERN_LEVELS 8
struct shim_intern {
	uint64_t *keys;         /* pairs (key, id); key 0 = empty, id 0 =
				   not stored yet; the levels one after
				   the other */
	uint32_t cap;           /* entries of all levels: table ids <= cap */
	uint32_t base_log2;     /* level l has 2^(base_log2 + l) entries */
	uint32_t level;         /* atomic: the level new keys go to */
	uint32_t level_used[SHIM_INTERN_LEVELS];  /* atomic: keys per level */
	uint32_t used;          /* atomic: entries = the last id handed out */
	uint32_t overflow;      /* atomic: ids handed out past the table */
};
/* Room for about 2^cap_log2 keys (cap_log2 >= SHIM_INTERN_LEVELS); the
 * memory used grows with the keys held. */
int shim_intern_init(struct shim_intern *t, unsigned cap_log2);
void shim_intern_destroy(struct shim_intern *t);
/* The id (>= 1) of key; *is_new = 1 when this call created it and the
 * caller must emit its definition. */
uint32_t shim_intern_get(struct shim_intern *t, uint64_t key, int *is_new);
uint64_t shim_hash_bytes(const void *p, size_t n);
uint64_t shim_hash_ips(void *const *ips, int n);

/* A set of addresses (live objects of suspect types, from note_new). */
struct shim_addrset {
	uint64_t *keys;         /* 0 empty, 1 tombstone */
	uint32_t cap;
};
int shim_addrset_init(struct shim_addrset *s, unsigned cap_log2);
void shim_addrset_destroy(struct shim_addrset *s);
void shim_addrset_add(struct shim_addrset *s, uint64_t a);
void shim_addrset_del(struct shim_addrset *s, uint64_t a);
int shim_addrset_has(const struct shim_addrset *s, uint64_t a);

/* ---- unwind.c: backtraces --------------------------------------------- */
void shim_unwind_init(void);
/* Leading frames inside [lo, hi) are skipped (the profiler, librc). */
void shim_unwind_skip_range(unsigned which, uintptr_t lo, uintptr_t hi);
/* Up to max return addresses, innermost first, profiler frames skipped. */
int shim_backtrace(void **ips, int max);
/* The same skipping applied to n raw frames of any unwinder. */
int shim_trim_frames(void *const *buf, int n, void **ips, int max);

/* ---- modules.c: loaded objects ---------------------------------------- */
#define SHIM_MODULE_SEGS 16
struct shim_module {
	uint64_t base;
	const char *path;
	const uint8_t *build_id;
	uint32_t build_id_len;
	uint32_t nseg;
	uint64_t seg_vaddr[SHIM_MODULE_SEGS], seg_memsz[SHIM_MODULE_SEGS];
};
typedef void (*shim_module_fn)(void *ctx, const struct shim_module *m);
typedef void (*shim_unmap_fn)(void *ctx, uint64_t base);
/* Path to report for the main program (dl_iterate_phdr says ""). */
void shim_modules_set_exe(const char *exe);
/* Report modules not reported before, and those gone since.  Returns 0,
 * or -EBUSY when another thread is scanning (it will rescan for us). */
int shim_modules_scan(shim_module_fn on_new, shim_unmap_fn on_gone, void *ctx);
/* Cheap: did the loader add or remove objects since the last scan? */
int shim_modules_changed(void);
/* Forget everything (the next scan reports all again). */
void shim_modules_reset(void);

#endif /* SHIM_H */
