/* stack_cache.c - the backtrace of a call site seen before, without unwinding.
 *
 * Walking a stack with libunwind costs ~8 ns a frame even on its cached
 * fast path, plus hashing and interning the result; most events of a
 * program come from a few thousand call sites.  This cache remembers, per
 * thread, the stacks it has unwound from each capture point (where the
 * registers were taken, the stack pointer, the depth asked for) with the
 * stack words each unwind read, and proves on every hit that an unwind
 * would give the same frames again.
 *
 * Why a hit is exact.  An unwind is a deterministic function of the
 * registers it starts from and of the memory it reads.  A fill unwinds
 * with unwind_logged.c, which records every register and stack word
 * libunwind read; CFI tables and code of loaded objects do not change
 * while they are loaded, and the cache forgets everything when objects
 * are loaded or unloaded (shim_dl_gen moved).  A later capture at the
 * same point with the same stack pointer whose registers and stack words
 * still hold the recorded values would make libunwind read exactly what
 * it read before, so it would produce the same frames, and the stack id
 * they were given is returned.  Any difference - another caller at the
 * same depth, a different frame pointer, a different return address
 * anywhere in the chain - fails the comparison, and the site is unwound
 * again.  An unwind that read memory the log cannot vouch for (see
 * unwind_logged.c) is not cached.
 *
 * One exception, chosen for speed: where a capture point's sequences all
 * read the same locations, a sequence is kept as a 96-bit fingerprint of
 * the words at those locations instead of the words themselves (struct
 * sc_compact).  Such a hit is a fingerprint match, not a compare; for a
 * call chain never seen before to pass for another, two unrelated hashes
 * of its words must collide at once.
 *
 * Structure.  The read sequences of one capture point form a trie (see
 * struct sc_node); a shortcut table finds most sequences with one hash
 * probe (struct sc_record), and a compact table most of those with 16
 * bytes (struct sc_compact).  A compact hit costs a register capture,
 * hashing the ~20 words a 20-frame stack reads and one probe of a small
 * table; the bench's malloc churn spends ~25 ns per stack here against
 * ~150 ns in unw_backtrace plus hashing and interning.  A fill is slow (the generic
 * unwinder takes a lock with sigprocmask for each frame: ~1 us a frame),
 * so fills are paid from a per-thread credit that hits earn: a program
 * whose sites never repeat fills once per FILL_COST misses and otherwise
 * uses the fast unwinder.
 *
 * Each thread owns its cache (mmap'ed at its first fill, unmapped when
 * it exits).  Only level-0 code on the thread's own stack (bounds from
 * pthread_getattr_np at thread start) uses it: signal handlers,
 * alternate stacks and coroutine stacks take the fast unwinder.
 */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "recorder.h"
#include "stack_cache.h"
#include "unwind_logged.h"

#define SC_ROOTS        4096u   /* capture points per thread ... */
#define SC_ROOT_WAYS    4u      /* ... in sets of this many */
#define SC_NODES        65536u  /* trie nodes per thread */
#define SC_BRANCHES     8192u   /* nodes with more than one child */
#define SC_READS_MAX    SHIM_LOG_READS_MAX
#define SC_FANOUT_MAX   16u     /* children of a node */
#define SC_PLAN_MAX     32u     /* reads of a point's shortcut key */
#define SC_PLAN_REGS    8u      /* registers of a point's shortcut key */
#define SC_COMPACT      8192u   /* compact shortcuts per thread ... */
#define SC_COMPACT_WAYS 4u      /* ... in buckets of one cache line */
#define SC_SHORTCUTS    16384u  /* shortcut slots per thread */
#define SC_REC_WORDS    524288u /* their records, in 8-byte words */
#define SC_RAW_MAX      (SHIM_DEPTH_MAX + 8)
#define CREDIT_MAX      65536
#define FILL_COST       256     /* credits a fill costs ... */
#define HIT_GAIN        8       /* ... a hit earns; a miss earns 1 */

#define LOC_REG         SHIM_LOC_REG
#define LOC_LEAF        0xffffffffu /* no more reads: the unwind ended */
#define NIL             0u          /* node 0 is never used */

/* The reads of all fills from one capture point form a trie.  The
 * unwinder is deterministic, so fills that have read the same values so
 * far read the same location next: a node names that location once, and
 * its children are the values found there.  A leaf holds the stack id
 * its read sequence led to.  A lookup replays the reads; for a site seen
 * before it follows one child per node, except where the call chains of
 * sites sharing the capture point part. */
struct sc_node {
	uint64_t val;           /* the value read at the parent's location */
	uint32_t loc;           /* what to read next, or LOC_LEAF */
	/* Nodes this+1 .. this+run each are the only child of the one
	 * before: a lookup checks such a run without chasing pointers. */
	uint32_t run;
	uint32_t child;         /* nkids 1: the child; more: a branch */
	uint32_t nkids;
	uint32_t stack;         /* at a leaf: the stack id */
};

/* The children of a node with several, side by side for a quick scan. */
struct sc_branch {
	uint64_t val[SC_FANOUT_MAX];
	uint32_t kid[SC_FANOUT_MAX];
};

struct sc_root {
	uint64_t sp, ip, point;
	uint64_t seed;          /* point_hash of the four above, mixed */
	uint32_t gen;           /* cache generation; 0: empty */
	uint32_t depth;
	uint32_t node;          /* the node of its first read */
	uint32_t nplan;         /* the stack words its first fill read */
	uint32_t plan[SC_PLAN_MAX];
	uint32_t nregs;         /* the registers it read, DWARF numbers */
	uint8_t regs[SC_PLAN_REGS];
	/* The point's last stack (see last_stack_holds) */
	uint32_t last;          /* stack of its last compact hit */
	int32_t score;          /* repeats of `last`, less changes */
	uint32_t kept;          /* the stack whose plan values are in kept_val */
	uint64_t kept_val[SC_PLAN_MAX + SC_PLAN_REGS];
};

/* The shortcut.  Walking the trie costs a cache miss or two at every
 * branch, and call chains branch at every level where callers differ.
 * So each fill also stores its whole read sequence contiguously, found
 * through a hash of the point and of the words at its root's plan: the
 * stack offsets the point's first fill read.  Where the sites of a point
 * share a frame layout those words are their return addresses and the
 * key is stable; where they are another chain's locals it changes from
 * call to call, the shortcut misses and the trie answers.  Either way a
 * hit has compared every read of its sequence.  The slot table is small
 * (4 bytes a slot) and a record is one contiguous run of words, so a hit
 * costs about one cache miss. */
struct sc_record {
	uint64_t key;
	uint32_t stack;
	uint32_t n;             /* reads; then loc[n] (padded), val[n] */
};

#define REC_HEAD_WORDS  (sizeof(struct sc_record) / 8)

/* The compact shortcut.  A record compares every word its unwind read,
 * and its loads - a slot, then a few hundred bytes of record - mostly
 * miss the cache: with a thousand sites the records outgrow L2, which
 * the program's own heap is using.  When every read of a sequence is
 * one of its root's plan reads, the plan's values already decide the
 * unwind: equal values at the plan mean equal values at every read.
 * Then the sequence is kept as 16 bytes: the shortcut key (a linear hash
 * of the plan's values) and 32 bits of a second, non-linear hash of the
 * same values.  A hit needs both to match; for a chain not seen before
 * to pass for another, two unrelated hashes of its plan words must
 * collide at once (about 2^-96 a lookup).  So this is the one place where
 * a hit is not a proof but a 96-bit fingerprint match; the table of a
 * thousand sites is 16 KiB and a hit costs one probe of it. */
struct sc_compact {
	uint64_t key;
	uint32_t check;
	uint32_t stack;         /* 0: empty */
};

_Static_assert(sizeof(struct sc_compact) * SC_COMPACT_WAYS == 64,
	       "a compact bucket is one cache line");

struct shim_sc {
	uint64_t dl_gen;        /* shim_dl_gen the trie belongs to */
	uint32_t gen;
	uint32_t nnodes, nbranches;
	uint32_t nrec;          /* words used in rec */
	struct shim_sc_stats stats;
	struct sc_root root[SC_ROOTS];
	struct sc_node node[SC_NODES];
	struct sc_branch branch[SC_BRANCHES];
	struct sc_compact compact[SC_COMPACT] __attribute__((aligned(64)));
	uint32_t cut[SC_SHORTCUTS];     /* word index of a record, 0: none */
	uint64_t rec[SC_REC_WORDS];
};

static int sc_enabled = 1;
static int sc_report;           /* RCPROF_STACK_CACHE=2 or 3 */
int shim_sc_verify;             /* RCPROF_STACK_CACHE=3 */
static struct shim_sc_stats sc_total;   /* atomic: threads gone */

void shim_sc_init(int mode)
{
	int enabled = mode != 0;
	sc_report = mode >= 2;
	shim_sc_verify = mode == 3;
	sc_enabled = enabled;
	if (enabled && shim_logged_unwind_init() != 0)
		sc_enabled = 0;
}

/* ---- per thread --------------------------------------------------------- */

void shim_sc_thread_start(struct shim_thread *t)
{
	pthread_attr_t attr;
	void *addr;
	size_t size;
	t->internal++;          /* glibc may allocate here */
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
			t->stk_lo = (uintptr_t)addr;
			t->stk_hi = (uintptr_t)addr + size;
		}
		pthread_attr_destroy(&attr);
	}
	t->internal--;
	if (!sc_enabled)
		return;
	t->stack_lo = t->stk_lo;
	t->stack_hi = t->stk_hi;
	t->sc_credit = CREDIT_MAX;
}

void shim_sc_thread_exit(struct shim_thread *t)
{
	struct shim_sc *sc = t->sc;
	t->stack_hi = 0;        /* no cache from here on (TLS destructors) */
	t->sc = NULL;
	if (!sc)
		return;
	atomic_add_relaxed(&sc_total.hits, sc->stats.hits);
	atomic_add_relaxed(&sc_total.shortcut_hits, sc->stats.shortcut_hits);
	atomic_add_relaxed(&sc_total.compact_hits, sc->stats.compact_hits);
	atomic_add_relaxed(&sc_total.last_hits, sc->stats.last_hits);
	atomic_add_relaxed(&sc_total.misses, sc->stats.misses);
	atomic_add_relaxed(&sc_total.fills, sc->stats.fills);
	atomic_add_relaxed(&sc_total.uncacheable, sc->stats.uncacheable);
	atomic_add_relaxed(&sc_total.wrong, sc->stats.wrong);
	munmap(sc, sizeof(*sc));
}

void shim_sc_report(const struct shim_thread *t)
{
	if (!sc_report)
		return;
	struct shim_sc_stats st;
	shim_sc_stats(t, &st);
	char h[24], c[24], k[24], l[24], m[24], f[24], u[24], w[24];
	shim_log("stack cache: ",
		 shim_utoa(st.hits + atomic_load_relaxed(&sc_total.hits), h),
		 " hits (",
		 shim_utoa(st.shortcut_hits +
			   atomic_load_relaxed(&sc_total.shortcut_hits), c),
		 " by shortcut, ",
		 shim_utoa(st.compact_hits +
			   atomic_load_relaxed(&sc_total.compact_hits), k),
		 " by compact shortcut, ",
		 shim_utoa(st.last_hits +
			   atomic_load_relaxed(&sc_total.last_hits), l),
		 " by a point's last stack), ",
		 shim_utoa(st.misses + atomic_load_relaxed(&sc_total.misses), m),
		 " misses, ",
		 shim_utoa(st.fills + atomic_load_relaxed(&sc_total.fills), f),
		 " fills, ",
		 shim_utoa(st.uncacheable +
			   atomic_load_relaxed(&sc_total.uncacheable), u),
		 " not cacheable",
		 shim_sc_verify ? ", " : "",
		 shim_sc_verify ? shim_utoa(st.wrong + atomic_load_relaxed(
				  &sc_total.wrong), w) : "",
		 shim_sc_verify ? " hits differed from an unwind" : "", NULL);
}

void shim_sc_checked(struct shim_thread *t, int agreed)
{
	if (!agreed && t->sc)
		t->sc->stats.wrong++;
}

void shim_sc_stats(const struct shim_thread *t, struct shim_sc_stats *st)
{
	if (t->sc)
		*st = t->sc->stats;
	else
		memset(st, 0, sizeof(*st));
}

/* ---- lookup and fill ---------------------------------------------------- */

/* Is this capture one the cache may serve or fill? */
static inline int usable(const struct shim_thread *t,
			 const struct shim_regs *r)
{
	return r->sp > t->stack_lo && r->sp < t->stack_hi;
}

/* Empties the shortcut table; the records' words are reused. */
static void forget_shortcuts(struct shim_sc *sc)
{
	memset(sc->cut, 0, sizeof(sc->cut));
	memset(sc->compact, 0, sizeof(sc->compact));
	sc->nrec = 1;           /* word 0 stays unused: cut 0 is "none" */
}

static void forget_all(struct shim_sc *sc)
{
	sc->nnodes = 1;
	sc->nbranches = 0;
	forget_shortcuts(sc);
	if (++sc->gen == 0) {   /* wrapped: forget every root for real */
		memset(sc->root, 0, sizeof(sc->root));
		sc->gen = 1;
	}
}

static inline void refresh_gen(struct shim_sc *sc)
{
	uint64_t g = atomic_load_relaxed(&shim_dl_gen);
	if (shim_likely(sc->dl_gen == g))
		return;
	sc->dl_gen = g;
	forget_all(sc);
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 32);
}

static inline int root_is(const struct shim_sc *sc, const struct sc_root *rt,
			  const struct shim_regs *r, uint32_t depth)
{
	return rt->gen == sc->gen && rt->sp == r->sp && rt->ip == r->ip &&
	       rt->point == r->point && rt->depth == depth;
}

/* A capture point's hash: independent products the CPU overlaps, where
 * a chain of mixes waited ~6 cycles on each. */
static inline uint64_t point_hash(const struct shim_regs *r, uint32_t depth)
{
	uint64_t h = r->sp * 0x7A2BD818CC12E153ull + r->ip * 0x771F9E786D26E20Dull +
		     r->point * 0x19CCDBEDF3C7E699ull +
		     (uint64_t)depth * 0x39EE41F1356AFD71ull;
	return h ^ (h >> 29);
}

/* The root of a capture point, or NULL; with make, a free or replaced
 * slot of its set when it has none. */
static struct sc_root *root_of(struct shim_sc *sc, const struct shim_regs *r,
			       uint32_t depth, int make)
{
	uint64_t h = point_hash(r, depth);
	struct sc_root *set = &sc->root[((h >> 20) * SC_ROOT_WAYS) &
					(SC_ROOTS - 1)];
	struct sc_root *free_slot = NULL;
	for (unsigned w = 0; w < SC_ROOT_WAYS; w++) {
		if (root_is(sc, &set[w], r, depth))
			return &set[w];
		if (set[w].gen != sc->gen && !free_slot)
			free_slot = &set[w];
	}
	if (!make)
		return NULL;
	if (!free_slot)         /* a full set: some point loses its trie */
		free_slot = &set[(h >> 12) % SC_ROOT_WAYS];
	free_slot->gen = 0;
	return free_slot;
}

/* The value at a location now.  The stack offsets of a root's trie were
 * all read at this sp before, so they lie between sp and the stack top. */
static inline uint64_t stack_word(const struct shim_regs *r, uint32_t off)
{
	uint64_t v;
	memcpy(&v, (const unsigned char *)(uintptr_t)r->sp + off, sizeof(v));
	return v;
}

static inline uint64_t read_loc(const struct shim_regs *r, uint32_t loc)
{
	if (loc & LOC_REG)
		return shim_reg_value(r, loc & ~LOC_REG);
	return stack_word(r, loc);
}

/* Odd constants, one per plan word, for the two hashes of the plan. */
static const uint64_t plan_mul[SC_PLAN_MAX] = {
	0x1D52490575FFC53Dull, 0xE2A214E8BBE9C675ull, 0x186C39E8C7BB69F7ull,
	0x03AA3897FCF4C6B7ull, 0x64D4748CA3C77EBFull, 0x5C22C46963E968FDull,
	0x8C656018EEE38DC1ull, 0xB2609A0BDD2B7551ull, 0x3B9BE05D0E8E2329ull,
	0x5BD0F521BE84762Bull, 0xA4E0689E1888DF21ull, 0x7EA3EF27E2E90529ull,
	0x7B81E5E0309E6043ull, 0x5C3981A844AB26D9ull, 0x99BA695AB78D8387ull,
	0x0BCC0D1CD5A93145ull, 0x1F95E90587134BE1ull, 0xE08137F33A087EC9ull,
	0x694472D1A7D32947ull, 0x6B8816776B5ACB73ull, 0x56DFD21E9D1F5C01ull,
	0xC9CE5DDC2A52183Full, 0xA98647FE161B80DFull, 0xF41FAE4A5518983Dull,
	0x3933DFFE9F578985ull, 0x6CC3BA5031835D1Dull, 0x24E166C70794A751ull,
	0xDBC01B3D2EA2038Dull, 0xFC434D6E6054AA25ull, 0x60B3BEDCE0EC0DEBull,
	0x4227E820E6A60527ull, 0xA0D0861E4F7E2353ull,
};
static const uint64_t check_mul[SC_PLAN_MAX] = {
	0xF86ED285DA543B3Dull, 0xB3C478B638E6D773ull, 0x8C529B4839C340B3ull,
	0x449AB16681866857ull, 0xF78E1FFAD9CF7A0Dull, 0x78E8B5BCEFB73579ull,
	0xFEF12C37CA6CD66Dull, 0xF03198C45F952F9Dull, 0xC4B11609CEF605C9ull,
	0x0FD539AC359D61D7ull, 0x30A037EFD7376AB5ull, 0x15C0E0B73ABB1E85ull,
	0x121F7305E164F983ull, 0xC54A55EB16013893ull, 0x982ED19D185F80D3ull,
	0x1D7163DE5CF81D93ull, 0xF39897DBBF44E1EDull, 0x64CEC5FE01D88FBDull,
	0xEA602675DE5E3A9Full, 0xE39626C901D6A94Dull, 0x9AFAD5AB4BAE8B9Bull,
	0x9B31F6AB6745E527ull, 0xE52F0F9E8E8AFC85ull, 0xFE399F935EAB5C89ull,
	0xD119CF3B52C7C179ull, 0x2A2D67FFF4595731ull, 0xD817A1320B6451B1ull,
	0xA92D9E0FE310DAEFull, 0xE232C00C385AA089ull, 0xC46F071BCA9E67F7ull,
	0x8B8E16A81A6B839Bull, 0x8E78E7AA3569AD45ull,
};

/* The same for the registers a plan reads. */
static const uint64_t reg_mul[SC_PLAN_REGS] = {
	0x2A26BE96D4D20359ull, 0xD20671C5DBDBAECBull, 0x63DD70D206482619ull,
	0x4998350877413F1Bull, 0x8017DD07AF3E548Bull, 0x8E63402C8EFCDF6Bull,
	0x5B7B555E480ADDFDull, 0xB97180EE66E64C81ull,
};
static const uint64_t reg_check_mul[SC_PLAN_REGS] = {
	0xB8FDD9C14F850B19ull, 0x0AD39411F95BB1EDull, 0x6238451ED66A8493ull,
	0x12A8AE00BF66EA97ull, 0x9E3779B97F4A7C15ull, 0xC2B2AE3D27D4EB4Full,
	0x165667B19E3779F9ull, 0xD6E8FEB86659FD93ull,
};

struct sc_key {
	uint64_t key;           /* the slots, and the compact shortcut's check */
	uint32_t check;         /* the compact shortcut's second check */
};

/* The shortcut key: the point, the registers its plan reads, and its
 * stack words multiplied by distinct constants and summed (independent
 * products the CPU overlaps), then mixed.  The check: each word xor-ed
 * with one constant, multiplied by another and xor-ed together, so a
 * relation between words that cancels in the sum does not in the xor. */
static inline struct sc_key shortcut_key(const struct sc_root *rt,
					 const struct shim_regs *r)
{
	uint64_t h = rt->seed, g = ~rt->seed;
	for (uint32_t i = 0; i < rt->nregs; i++) {
		uint64_t v = shim_reg_value(r, rt->regs[i]);
		h += v * reg_mul[i];
		g ^= (v ^ reg_mul[SC_PLAN_REGS - 1 - i]) * reg_check_mul[i];
	}
	uint32_t n = rt->nplan;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t v = stack_word(r, rt->plan[i]);
		h += v * plan_mul[i];
		g ^= (v ^ plan_mul[SC_PLAN_MAX - 1 - i]) * check_mul[i];
	}
	return (struct sc_key){ .key = mix(h, h >> 29),
				.check = (uint32_t)(mix(g, g >> 31) >> 32) };
}

static inline struct sc_compact *compact_bucket(struct shim_sc *sc,
						uint64_t key)
{
	return &sc->compact[(key >> 20) & (SC_COMPACT - SC_COMPACT_WAYS)];
}

/* The stack of key k in its bucket, or 0.  All four ways are compared
 * without a branch: which way holds a key varies from lookup to lookup
 * (newest first), and a mispredicted exit of the loop cost more than
 * comparing the rest (malloc churn 2-3 % faster, 3 alternating series of
 * 11-13 runs).  A key is in at most one way; an empty way has stack 0. */
static inline uint32_t compact_find(struct shim_sc *sc, struct sc_key k)
{
	const struct sc_compact *b = compact_bucket(sc, k.key);
	uint32_t id = 0;
	for (unsigned w = 0; w < SC_COMPACT_WAYS; w++) {
		uint32_t differs = ((b[w].key ^ k.key) |
				    (uint64_t)(b[w].check ^ k.check)) != 0;
		id |= b[w].stack & (differs - 1u);
	}
	return id;
}

/* Registers whose value the root itself fixes: a capture has the root's
 * sp and ip (root_is), so the plan need not hash them. */
static inline int pinned_reg(uint32_t reg)
{
	return reg == SHIM_REG_RSP || reg == SHIM_REG_RIP;
}

/* Is every read of the sequence one of the plan's?  Sequences usually
 * start as the plan did, so the same position is tried first. */
static int within_plan(const struct sc_root *rt, const uint32_t *loc,
		       uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint32_t j = 0;
		if (loc[i] & LOC_REG) {
			if (pinned_reg(loc[i] & ~LOC_REG))
				continue;
			while (j < rt->nregs && rt->regs[j] != (loc[i] & ~LOC_REG))
				j++;
			if (j == rt->nregs)
				return 0;
			continue;
		}
		if (i < rt->nplan && rt->plan[i] == loc[i])
			continue;
		while (j < rt->nplan && rt->plan[j] != loc[i])
			j++;
		if (j == rt->nplan)
			return 0;
	}
	return 1;
}

/* Keeps the sequence as a compact shortcut when the plan covers it;
 * 0 when it does not (it then needs a full record). */
static int compact_add(struct shim_sc *sc, const struct sc_root *rt,
		       struct sc_key k, const uint32_t *loc, uint32_t n,
		       uint32_t stack)
{
	if (stack == 0 || !within_plan(rt, loc, n))
		return 0;
	struct sc_compact *b = compact_bucket(sc, k.key);
	unsigned w = 0;         /* newest first; a key is in one way */
	while (w < SC_COMPACT_WAYS - 1 &&
	       !(b[w].key == k.key && b[w].check == k.check))
		w++;
	for (; w > 0; w--)
		b[w] = b[w - 1];
	b[0] = (struct sc_compact){ .key = k.key, .check = k.check,
				    .stack = stack };
	return 1;
}

/* Shortcuts live in pairs of slots: a key may use either of its pair. */
static inline uint32_t *shortcut_pair(struct shim_sc *sc, uint64_t key)
{
	return &sc->cut[(key >> 18) & (SC_SHORTCUTS - 2)];
}

static inline const struct sc_record *record_at(const struct shim_sc *sc,
					       uint32_t word)
{
	return (const struct sc_record *)(const void *)&sc->rec[word];
}

static inline int record_holds(const struct sc_record *c,
			       const struct shim_regs *r)
{
	const uint32_t *loc = (const uint32_t *)(c + 1);
	const uint64_t *val = (const uint64_t *)(const void *)
			      (loc + ((c->n + 1) & ~1u));
	uint64_t diff = 0;
	for (uint32_t i = 0; i < c->n; i++)
		diff |= read_loc(r, loc[i]) ^ val[i];
	return diff == 0;
}

/* The shortcut record of key that holds now, or NULL. */
static inline const struct sc_record *
shortcut_find(struct shim_sc *sc, uint64_t key, const struct shim_regs *r)
{
	const uint32_t *pair = shortcut_pair(sc, key);
	for (unsigned w = 0; w < 2; w++) {
		if (!pair[w])
			continue;
		const struct sc_record *c = record_at(sc, pair[w]);
		if (c->key == key && record_holds(c, r))
			return c;
	}
	return NULL;
}

/* Stores a read sequence as the shortcut of key.  When the words run
 * out, all shortcuts go (the trie keeps every site; the shortcuts of the
 * sites in use come back with their next trie hits). */
static void shortcut_add(struct shim_sc *sc, uint64_t key,
			 const uint32_t *loc, const uint64_t *val, uint32_t n,
			 uint32_t stack)
{
	uint32_t words = (uint32_t)REC_HEAD_WORDS + (n + 1) / 2 + n;
	if (words >= SC_REC_WORDS)
		return;
	if (sc->nrec + words > SC_REC_WORDS)
		forget_shortcuts(sc);
	uint32_t *pair = shortcut_pair(sc, key);
	uint32_t at = sc->nrec;
	sc->nrec += words;
	struct sc_record *c = (struct sc_record *)(void *)&sc->rec[at];
	*c = (struct sc_record){ .key = key, .stack = stack, .n = n };
	uint32_t *rloc = (uint32_t *)(c + 1);
	memcpy(rloc, loc, sizeof(loc[0]) * n);
	memcpy(rloc + ((n + 1) & ~1u), val, sizeof(val[0]) * n);
	/* Newest first; another key's record moves to the second slot. */
	if (pair[0] && record_at(sc, pair[0])->key != key)
		pair[1] = pair[0];
	pair[0] = at;
}

static inline uint32_t find_child(const struct shim_sc *sc,
				  const struct sc_node *n, uint64_t v)
{
	if (n->nkids == 1)
		return sc->node[n->child].val == v ? n->child : NIL;
	if (n->nkids == 0)
		return NIL;
	const struct sc_branch *b = &sc->branch[n->child];
	for (uint32_t k = 0; k < n->nkids; k++)
		if (b->val[k] == v)
			return b->kid[k];
	return NIL;
}

/* The last stack of a point.  Where a point keeps seeing the same call
 * site - a loop releasing the elements of a list, the iterator of the
 * refcount bench - comparing the plan's words with those of its last
 * compact hit is cheaper than hashing them (a load and an or a word,
 * against two multiplies and a probe of the compact table): on the rc
 * churn bench 69 % of the lookups are answered so.  Equal words mean the
 * same read sequence, which a compact hit has vouched for, so such a hit
 * is exact.
 * Keeping the words costs a copy per compact hit, which a point whose
 * sites vary (malloc churn: 12 % repeats) would pay for nothing; so a
 * score counts repeats of the last stack against changes, and only a
 * point above LAST_ON keeps its words and compares them first. */
#define LAST_ON   4
#define LAST_MAX  64
#define LAST_MISS 4             /* what a failed comparison costs */

/* One more repeat of a point's last stack. */
static inline void last_stack_repeat(struct sc_root *rt)
{
	if (rt->score < LAST_MAX)
		rt->score++;
}

static inline int last_stack_holds(const struct sc_root *rt,
				   const struct shim_regs *r)
{
	uint64_t diff = 0;
	for (uint32_t i = 0; i < rt->nregs; i++)
		diff |= shim_reg_value(r, rt->regs[i]) ^
			rt->kept_val[SC_PLAN_MAX + i];
	for (uint32_t i = 0; i < rt->nplan; i++)
		diff |= stack_word(r, rt->plan[i]) ^ rt->kept_val[i];
	return diff == 0;
}

/* A compact hit of stack at rt: scores it, and keeps the words when the
 * point repeats itself enough. */
static inline void last_stack_note(struct sc_root *rt,
				   const struct shim_regs *r, uint32_t stack)
{
	if (stack == rt->last) {
		last_stack_repeat(rt);
	} else {
		rt->last = stack;
		if (rt->score > -LAST_MAX)
			rt->score--;
	}
	if (rt->score < LAST_ON)
		return;
	for (uint32_t i = 0; i < rt->nregs; i++)
		rt->kept_val[SC_PLAN_MAX + i] = shim_reg_value(r, rt->regs[i]);
	for (uint32_t i = 0; i < rt->nplan; i++)
		rt->kept_val[i] = stack_word(r, rt->plan[i]);
	rt->kept = stack;
}

static inline void count_hit(struct shim_thread *t, struct shim_sc *sc)
{
	sc->stats.hits++;
	if (t->sc_credit < CREDIT_MAX)
		t->sc_credit += HIT_GAIN;
}

/* The halves of a lookup (stack_cache.h), inlined into each entry: the
 * refcount hooks' lookups are mostly a root's last stack, and two more
 * calls cost them 4 % of the rc churn bench. */
static inline __attribute__((always_inline)) void
sc_begin(struct shim_thread *t, const struct shim_regs *r, uint32_t depth,
	 struct shim_sc_probe *p)
{
	struct shim_sc *sc = t->sc;
	p->state = SHIM_SC_NONE;
	if (!sc || !usable(t, r))
		return;
	refresh_gen(sc);
	struct sc_root *rt = root_of(sc, r, depth, 0);
	if (!rt) {
		sc->stats.misses++;
		t->sc_credit++;
		return;
	}
	if (rt->score >= LAST_ON) {
		if (rt->kept && last_stack_holds(rt, r)) {
			last_stack_repeat(rt);
			count_hit(t, sc);
			sc->stats.last_hits++;
			p->stack = rt->kept;
			p->state = SHIM_SC_HIT;
			return;
		}
		rt->score -= LAST_MISS;
	}
	struct sc_key k = shortcut_key(rt, r);
	__builtin_prefetch(compact_bucket(sc, k.key));
	p->root = rt;
	p->key = k.key;
	p->check = k.check;
	p->state = SHIM_SC_KEYED;
}

static inline __attribute__((always_inline)) int
sc_end(struct shim_thread *t, const struct shim_regs *r,
       struct shim_sc_probe *p, uint32_t *stack)
{
	if (p->state == SHIM_SC_HIT) {
		*stack = p->stack;
		return 1;
	}
	if (p->state != SHIM_SC_KEYED)
		return 0;
	struct shim_sc *sc = t->sc;
	struct sc_root *rt = p->root;
	struct sc_key k = { .key = p->key, .check = p->check };
	uint32_t id = compact_find(sc, k);
	if (id) {
		count_hit(t, sc);
		sc->stats.compact_hits++;
		last_stack_note(rt, r, id);
		*stack = id;
		return 1;
	}
	const struct sc_record *cut = shortcut_find(sc, k.key, r);
	if (cut) {
		count_hit(t, sc);
		sc->stats.shortcut_hits++;
		*stack = cut->stack;
		return 1;
	}
	/* The trie.  The reads it compares are kept for a new shortcut. */
	uint32_t loc[SC_READS_MAX], n_read = 0;
	uint64_t val[SC_READS_MAX];
	uint32_t i = rt->node;
	for (;;) {
		/* A run: independent loads, so the CPU overlaps them. */
		const struct sc_node *n = &sc->node[i];
		uint64_t diff = 0;
		for (uint32_t j = 0; j < n->run; j++) {
			loc[n_read + j] = n[j].loc;
			val[n_read + j] = n[j + 1].val;
			diff |= read_loc(r, n[j].loc) ^ n[j + 1].val;
		}
		if (diff)
			goto miss;
		n_read += n->run;
		i += n->run;
		n = &sc->node[i];
		if (n->loc == LOC_LEAF)
			break;
		uint32_t c = find_child(sc, n, read_loc(r, n->loc));
		if (c == NIL)
			goto miss;
		loc[n_read] = n->loc;
		val[n_read++] = sc->node[c].val;
		i = c;
	}
	count_hit(t, sc);
	*stack = sc->node[i].stack;
	if (!compact_add(sc, rt, k, loc, n_read, *stack))
		shortcut_add(sc, k.key, loc, val, n_read, *stack);
	return 1;
miss:
	sc->stats.misses++;
	t->sc_credit++;
	return 0;
}

void shim_sc_begin(struct shim_thread *t, const struct shim_regs *r,
		   uint32_t depth, struct shim_sc_probe *p)
{
	sc_begin(t, r, depth, p);
}

int shim_sc_end(struct shim_thread *t, const struct shim_regs *r,
		struct shim_sc_probe *p, uint32_t *stack)
{
	return sc_end(t, r, p, stack);
}

int shim_sc_lookup(struct shim_thread *t, const struct shim_regs *r,
		   uint32_t depth, uint32_t *stack)
{
	struct shim_sc_probe p;
	sc_begin(t, r, depth, &p);
	return sc_end(t, r, &p, stack);
}

static uint32_t new_node(struct shim_sc *sc, uint64_t val, uint32_t loc)
{
	uint32_t i = sc->nnodes++;
	sc->node[i] = (struct sc_node){ .val = val, .loc = loc };
	return i;
}

/* Adds the read sequence of one fill under its root.  The site stays
 * uncached when a node would get too many children (a location whose
 * value changes from call to call) or the sequence disagrees with the
 * trie about what is read next (a deterministic unwinder cannot; refuse
 * rather than guess). */
static void trie_add(struct shim_sc *sc, const struct shim_regs *r,
		     uint32_t depth, const struct shim_unwind_log *l, uint32_t stack)
{
	if (sc->nnodes + l->n + 2 > SC_NODES)
		forget_all(sc);         /* full: start over */
	struct sc_root *rt = root_of(sc, r, depth, 1);
	if (!root_is(sc, rt, r, depth)) {
		uint32_t first = l->n ? l->loc[0] : LOC_LEAF;
		*rt = (struct sc_root){ .sp = r->sp, .ip = r->ip,
					.point = r->point,
					.seed = mix(point_hash(r, depth),
						    0x3C6EF372FE94F82Bull),
					.gen = sc->gen, .depth = depth,
					.node = new_node(sc, 0, first) };
		for (uint32_t i = 0; i < l->n; i++) {
			uint32_t loc = l->loc[i];
			if (!(loc & LOC_REG)) {
				if (rt->nplan < SC_PLAN_MAX)
					rt->plan[rt->nplan++] = loc;
				continue;
			}
			uint32_t j = 0;
			if (pinned_reg(loc & ~LOC_REG))
				continue;
			while (j < rt->nregs && rt->regs[j] != (loc & ~LOC_REG))
				j++;
			if (j == rt->nregs && j < SC_PLAN_REGS)
				rt->regs[rt->nregs++] = (uint8_t)(loc & ~LOC_REG);
		}
	}
	struct sc_key key = shortcut_key(rt, r);
	if (!compact_add(sc, rt, key, l->loc, l->n, stack))
		shortcut_add(sc, key.key, l->loc, l->val, l->n, stack);
	uint32_t path[SC_READS_MAX + 1], depth_n = 0;
	uint32_t cur = rt->node, first_new = NIL;
	for (uint32_t i = 0;; i++) {
		path[depth_n++] = cur;
		uint32_t want = i < l->n ? l->loc[i] : LOC_LEAF;
		if (sc->node[cur].loc != want)
			return;
		if (want == LOC_LEAF) {
			sc->node[cur].stack = stack;
			break;
		}
		struct sc_node *n = &sc->node[cur];
		uint32_t c = find_child(sc, n, l->val[i]);
		if (c == NIL) {
			if (n->nkids >= SC_FANOUT_MAX ||
			    (n->nkids == 1 && sc->nbranches == SC_BRANCHES))
				return;
			if (n->nkids) { /* cur is a branch: runs end there */
				for (uint32_t k = 0; k < depth_n; k++)
					if (path[k] + sc->node[path[k]].run > cur)
						sc->node[path[k]].run =
							cur - path[k];
			}
			uint32_t next = i + 1 < l->n ? l->loc[i + 1] : LOC_LEAF;
			c = new_node(sc, l->val[i], next);
			n = &sc->node[cur];
			if (n->nkids == 0) {
				n->child = c;
			} else {
				if (n->nkids == 1) {    /* becomes a branch */
					uint32_t b = sc->nbranches++;
					sc->branch[b].val[0] =
						sc->node[n->child].val;
					sc->branch[b].kid[0] = n->child;
					n->child = b;
				}
				sc->branch[n->child].val[n->nkids] = l->val[i];
				sc->branch[n->child].kid[n->nkids] = c;
			}
			n->nkids++;
			if (first_new == NIL)
				first_new = c;
		}
		cur = c;
	}
	/* The new nodes were made one after another down to the leaf. */
	if (first_new != NIL)
		for (uint32_t k = first_new; k <= cur; k++)
			sc->node[k].run = cur - k;
}

static struct shim_sc *sc_create(void)
{
	void *m = mmap(NULL, sizeof(struct shim_sc), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	struct shim_sc *sc = m;
	sc->gen = 1;
	sc->nnodes = 1;
	sc->nrec = 1;
	sc->dl_gen = atomic_load_relaxed(&shim_dl_gen);
	return sc;
}

int shim_sc_fill(struct shim_thread *t, const struct shim_regs *r,
		 uint32_t depth, void **ips, shim_sc_intern_fn intern,
		 void *ctx, uint32_t *stack)
{
	if (!sc_enabled || !usable(t, r) || t->sc_credit < FILL_COST)
		return 0;
	if (!t->sc && !(t->sc = sc_create())) {
		t->stack_hi = 0;
		return 0;
	}
	struct shim_unwind_log log = { .r = r, .lo = t->stack_lo,
				       .hi = t->stack_hi };
	void *raw[SC_RAW_MAX];
	int max = (int)depth + 8 < SC_RAW_MAX ? (int)depth + 8 : SC_RAW_MAX;
	int n = shim_logged_unwind(&log, raw, max);
	if (n < 0)
		return 0;       /* another thread fills: use the fast path */
	t->sc_credit -= FILL_COST;
	struct shim_sc *sc = t->sc;
	sc->stats.fills++;
	if (log.bad || n == 0) {        /* the fast unwinder does this one */
		sc->stats.uncacheable++;
		return 0;
	}
	/* Frame 0 is the capture point, a profiler frame like the first
	 * ones of unw_backtrace: trimming leaves the same frames. */
	int kept = shim_trim_frames(raw, n, ips, (int)depth);
	*stack = intern(ctx, ips, kept);
	refresh_gen(sc);
	trie_add(sc, r, depth, &log, *stack);
	return 1;
}
