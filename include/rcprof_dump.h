/* rcprof_dump.h - the rcprof dump format, version 1.
 *
 * Written by librcprof.so, read by rcprof-report.  Everything is
 * little-endian.  Two files make up one recording:
 *
 *   DUMP  (RCPROF_OUT, default rcprof.<pid>.bin)
 *       struct rcp_file_header
 *       record*            each: struct rcp_record_header + payload,
 *                          payload padded with zeros to a multiple of 8
 *
 *   RING  (<dump>.ring) - the MAP_SHARED ring the producers write into.
 *       Removed after the final drain of a normal exit.  If the process was
 *       killed, it still holds the events that were not drained yet; the
 *       reader then reads it too (see "Reading a recording" below).
 *
 * Glossary
 *   stream  - the events of one thread at one signal-nesting level, in the
 *             order that thread recorded them.  Identified by (tid, nest).
 *   chunk   - a piece of one stream: a ring slot's worth of encoded events.
 *             Chunks of a stream are numbered by `seq` (0, 1, 2, ...).
 *   event   - one encoded event inside a chunk (see "Events").
 *   ts      - CLOCK_MONOTONIC nanoseconds (the recorder may read them off
 *             the TSC, calibrated against CLOCK_MONOTONIC at start-up; all
 *             ts of one recording use one clock).  While one thread at a
 *             time records, the ts of its events are counted instead: 1 ns
 *             an event, at or below CLOCK_MONOTONIC, moved up to it with
 *             every chunk and whenever another thread takes over; they
 *             order events exactly but lag the clock by up to a chunk's
 *             time (END is always read off the clock).
 *             Events are taken so that the
 *             ts order across threads respects causality: a free is stamped
 *             before the block is released, an allocation after it was
 *             obtained, a release before its decrement (so before the
 *             free done by whichever thread drops the last reference).
 *             Retains, releases, RC_FREE and heap allocations (MALLOC,
 *             REALLOC_TO) are stamped without a fence: one may sort up
 *             to a few hundred cycles before another thread's event it
 *             depends on, which readers must absorb (rcprof-report:
 *             analyzer/rcobj_skew.c, RCP_HEAP_SKEW_NS in
 *             analyzer/heap.h).  The FREE right after an RC_FREE may
 *             share the previous event's ts.  STACK and STRING
 *             definitions carry the stream's previous ts.  The reader
 *             merges all streams by ts (ties: by stream, then position).
 *
 * Record types of the DUMP (rcp_record_header.type):
 *   RCP_REC_PROCESS  struct rcp_rec_process, then exe path (exe_len bytes),
 *                    then argv as NUL-separated strings (argv_len bytes).
 *                    First record of every dump.
 *   RCP_REC_CHUNK    struct rcp_rec_chunk, then `used` bytes of events.
 *                    The same (tid, nest, seq) may appear twice (a partial
 *                    copy taken at exec/exit, then the full chunk); the
 *                    reader keeps the longest copy.
 *   RCP_REC_PARENT   struct rcp_rec_parent, then the parent's dump path
 *                    (path_len bytes).  This process was forked: its
 *                    history starts with the parent's events up to
 *                    fork_ts (read from the parent's recording).
 *   RCP_REC_END      struct rcp_rec_end: the dump was closed normally
 *                    (exit, _exit, exec, fatal signal).  Events written
 *                    after it (destructors running late) are still valid.
 *   Unknown types are skipped using their length.
 *
 * Reading a recording
 *   1. Check the file header; read records while a whole header and the
 *      whole payload fit in the file.  A record that does not fit, or whose
 *      length is absurd, ends the valid part (warning, truncated = true).
 *   2. If <dump>.ring exists, read it: every slot whose state is OWNED,
 *      SEALED or DRAINING holds chunk (tid, nest, seq) with `committed`
 *      valid bytes; add it unless the dump already has that chunk with at
 *      least as many bytes.
 *   3. Decode each stream's chunks in seq order; an event cut short at the
 *      end of a chunk is dropped (it was being written when the process
 *      died).  A gap in seq means lost data: warn.
 *   4. Merge the streams by ts and replay.
 *   truncated = no RCP_REC_END record, or the ring file held data.
 */
#ifndef RCPROF_DUMP_H
#define RCPROF_DUMP_H

#include <stddef.h>
#include <stdint.h>

#define RCP_DUMP_MAGIC "RCPROFD\n"       /* 8 bytes, no NUL */
#define RCP_RING_MAGIC "RCPROFR\n"
#define RCP_FORMAT_VERSION 3u
/* Readers also take version 1 and 2 dumps: version 2 added FREE_STACK,
 * version 3 RC_NEW_BLOCK and RC_FREE_BLOCK. */
#define RCP_FORMAT_VERSION_MIN 1u

struct rcp_file_header {
	char magic[8];          /* RCP_DUMP_MAGIC */
	uint32_t version;       /* RCP_FORMAT_VERSION */
	uint32_t header_size;   /* sizeof(struct rcp_file_header) */
	uint64_t start_ts;      /* ts when the shim started */
	uint64_t flags;         /* reserved, 0 */
};

struct rcp_record_header {
	uint32_t type;          /* RCP_REC_* */
	uint32_t length;        /* payload bytes, not counting padding */
};

#define RCP_RECORD_MAX (64u << 20)  /* no valid record is longer */

enum rcp_record_type {
	RCP_REC_PROCESS = 1,
	RCP_REC_CHUNK   = 2,
	RCP_REC_PARENT  = 3,
	RCP_REC_END     = 4,
};

struct rcp_rec_process {
	uint32_t pid;
	uint32_t ppid;
	uint64_t start_ts;
	uint32_t exe_len;
	uint32_t argv_len;
	uint32_t stack_depth;   /* RCPROF_DEPTH in effect */
	uint32_t exec_index;    /* 0, or n for the n-th image of this pid */
};

struct rcp_rec_chunk {
	uint32_t tid;
	uint16_t nest;          /* 0 normal, 1 recorded inside a signal handler
				   that interrupted the shim */
	uint16_t flags;         /* RCP_CHUNK_SEALED when the chunk is complete */
	uint64_t seq;
	uint64_t base_ts;       /* the first event's ts delta is from this */
	uint32_t used;          /* bytes of events that follow */
	uint32_t reserved;
};
#define RCP_CHUNK_SEALED 1u

struct rcp_rec_parent {
	uint32_t parent_pid;
	uint32_t path_len;
	uint64_t fork_ts;
};

enum rcp_end_how {
	RCP_END_EXIT   = 1,     /* exit()/return from main: status = code */
	RCP_END__EXIT  = 2,     /* _exit()/_Exit(): status = code */
	RCP_END_SIGNAL = 3,     /* fatal signal: status = signal number */
	RCP_END_EXEC   = 4,     /* replaced by exec: status = 0 */
	RCP_END_UNKNOWN = 5,    /* destructor ran, status unknown */
	RCP_END_SANDBOX = 6,    /* recording ended before a seccomp filter
				   that would not let the recorder's calls
				   through; the process ran on: status = 0 */
};

struct rcp_rec_end {
	uint32_t how;           /* enum rcp_end_how */
	int32_t status;
	uint64_t ts;
	/* Events recorded per kind (index = RCP_EV_*), by all threads, up to
	 * the moment this record was written.  The reader compares them with
	 * what it decoded to prove nothing is missing. */
	uint64_t counts[32];
};

/* ---- The ring file ------------------------------------------------------
 *
 *   struct rcp_ring_header, then nslots slots at offsets
 *   header_size + i * slot_size; each slot is struct rcp_ring_slot
 *   followed by slot_size - sizeof(struct rcp_ring_slot) bytes of events.
 *
 * Slot life cycle (the full protocol is at the top of preload/shim/ring.c):
 *   FREE -> OWNED      a producer claims it with a CAS
 *   OWNED -> SEALED    the producer filled it (release store)
 *   SEALED -> DRAINING the drainer claims it with a CAS
 *   DRAINING -> FREE   written to the dump (release store)
 * `committed` only grows while OWNED: the producer release-stores it after
 * each event, so a reader that acquire-loads it may read that many bytes.
 */
struct rcp_ring_header {
	char magic[8];          /* RCP_RING_MAGIC */
	uint32_t version;
	uint32_t header_size;
	uint32_t nslots;
	uint32_t slot_size;     /* including struct rcp_ring_slot */
	uint32_t pid;
	/* 1 once the dump holds everything the ring does (stored after the
	 * END record was written): a reader then ignores the ring.  The shim
	 * removes the ring file at that point; the flag covers a ring file it
	 * could not remove (a seccomp sandbox that forbids unlink, a directory
	 * made read-only) and that a reader would otherwise take for the
	 * remains of a crash. */
	uint32_t done;
};

enum rcp_slot_state {
	RCP_SLOT_FREE = 0,
	RCP_SLOT_OWNED = 1,
	RCP_SLOT_SEALED = 2,
	RCP_SLOT_DRAINING = 3,
};

struct rcp_ring_slot {
	uint32_t state;         /* enum rcp_slot_state (accessed atomically) */
	uint32_t tid;
	uint16_t nest;
	uint16_t reserved0;
	uint32_t reserved1;
	uint64_t seq;
	uint64_t base_ts;
	uint64_t committed;     /* valid event bytes (accessed atomically) */
	uint64_t reserved2;
};

/* ---- Events inside a chunk ----------------------------------------------
 *
 * Each event is one kind byte followed by LEB128 varints ("u" below) and
 * zig-zag signed varints ("s").  Every event starts with
 *     u  dts    ns since the previous event of this chunk (the first event:
 *               since the chunk's base_ts)
 * Addresses are delta-coded to keep the dump small: each chunk keeps one
 * running `prev_addr` (0 at the start of a chunk); an "addr" field is
 *     s  (addr - prev_addr)          and then prev_addr = addr
 * Stack ids, string ids: u, 0 = none.  Fields, in order:
 *
 *   MALLOC        addr, u size, u stack, u flavor (RCP_ALLOC_*)
 *   FREE          addr
 *   REALLOC_FROM  addr            the old block of a successful realloc
 *                                 (ts taken before the call)
 *   REALLOC_TO    addr, u size, u stack   the new block (ts after the call)
 *   RC_NEW        addr obj, u size, u type_string, s count, u stack,
 *                 u header (obj - heap block; 0 when unknown or same)
 *   RC_RETAIN     addr obj, s count_after (RCP_COUNT_UNKNOWN if unknown),
 *                 u stack
 *   RC_RELEASE    addr obj, s count_after, u stack
 *   RC_FREE       addr obj
 *   EDGE          addr owner, s (slot - owner), u has_target (0: the slot
 *                 was cleared, 1: a target follows), [addr target]
 *   SUSPECT       u type_string
 *   SNAPSHOT      u label_string
 *   STACK         u id, u n, then n frames: s (ip - prev_ip) with
 *                 prev_ip starting at 0 for each STACK event (does not
 *                 touch prev_addr).  Frame 0 is the innermost caller
 *                 outside the profiler.  Defined once per process (and
 *                 inherited by forked children); may appear after events
 *                 that use the id, even in another stream.
 *   STRING        u id, u len, len bytes (no NUL)
 *   MODULE        u base (load bias), u string path, u build_id_len,
 *                 build_id bytes, u nseg, nseg x (u vaddr, u memsz) of the
 *                 PT_LOAD segments (vaddr relative to base)
 *   MODULE_UNMAP  u base        (dlclose removed the module)
 *   THREAD        u parent_tid  (first event of a new thread's stream)
 *   FORK          u child_pid   (in the parent, after fork returned)
 *   SIGNAL        u signo       (fatal signal caught, process will die)
 *   LOST          u kind, u n   (n events of that kind could not be
 *                 recorded, e.g. nested more than one signal deep)
 *   FREE_STACK    addr, u stack  a FREE with the stack of the free call
 *                 (RCPROF_FREE_STACKS=1; version 2)
 *   RC_NEW_BLOCK  as RC_NEW, and the object's heap block (obj - header,
 *                 header + size bytes, allocated with calloc) was
 *                 obtained for it and not recorded on its own: the event
 *                 stands for that MALLOC too (version 3; librc.so)
 *   RC_FREE_BLOCK addr obj, u header: RC_FREE, and then the object's
 *                 block (obj - header) freed, not recorded on its own
 *                 (version 3; librc.so)
 *
 * Unknown kinds cannot be skipped (no length): the reader stops decoding
 * that chunk with a warning.  New kinds need a format version bump.
 */
enum rcp_event_kind {
	RCP_EV_MALLOC = 1,
	RCP_EV_FREE = 2,
	RCP_EV_REALLOC_FROM = 3,
	RCP_EV_REALLOC_TO = 4,
	RCP_EV_RC_NEW = 5,
	RCP_EV_RC_RETAIN = 6,
	RCP_EV_RC_RELEASE = 7,
	RCP_EV_RC_FREE = 8,
	RCP_EV_EDGE = 9,
	RCP_EV_SUSPECT = 10,
	RCP_EV_SNAPSHOT = 11,
	RCP_EV_STACK = 12,
	RCP_EV_STRING = 13,
	RCP_EV_MODULE = 14,
	RCP_EV_MODULE_UNMAP = 15,
	RCP_EV_THREAD = 16,
	RCP_EV_FORK = 17,
	RCP_EV_SIGNAL = 18,
	RCP_EV_LOST = 19,
	RCP_EV_FREE_STACK = 20,
	RCP_EV_RC_NEW_BLOCK = 21,
	RCP_EV_RC_FREE_BLOCK = 22,
	RCP_EV__COUNT = 23,
};

enum rcp_alloc_flavor {
	RCP_ALLOC_MALLOC = 0,
	RCP_ALLOC_CALLOC = 1,
	RCP_ALLOC_MEMALIGN = 2,  /* posix_memalign, aligned_alloc, memalign,
				    valloc, pvalloc */
	RCP_ALLOC_REALLOC = 3,   /* realloc(NULL, n), reallocarray(NULL, ...) */
};

#define RCP_COUNT_UNKNOWN INT64_MIN

/* ---- Varint helpers shared by the writer and the reader ------------------ */

#define RCP_VARINT_MAX 10

/* Write v as LEB128 at p; returns the number of bytes (1..10). */
static inline size_t rcp_put_u64(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static inline uint64_t rcp_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t rcp_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static inline size_t rcp_put_s64(uint8_t *p, int64_t v)
{
	return rcp_put_u64(p, rcp_zigzag(v));
}

/* Read a LEB128 varint from [*pp, end).  Returns 0 and advances *pp, or
 * -1 when the varint is cut short or longer than 10 bytes. */
static inline int rcp_get_u64(const uint8_t **pp, const uint8_t *end,
			      uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 70; shift += 7) {
		if (p >= end)
			return -1;
		uint8_t b = *p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*pp = p;
			*out = v;
			return 0;
		}
	}
	return -1;
}

static inline int rcp_get_s64(const uint8_t **pp, const uint8_t *end,
			      int64_t *out)
{
	uint64_t u;
	if (rcp_get_u64(pp, end, &u))
		return -1;
	*out = rcp_unzigzag(u);
	return 0;
}

#endif /* RCPROF_DUMP_H */
