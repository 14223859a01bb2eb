/* dump_file.h - one recording (DUMP + optional RING file) opened for reading.
 *
 * The files are mmap'ed read-only, but the DUMP's events are not read
 * through its mapping: a chunk is referenced by its file offset and read
 * (pread) into a reused buffer when its stream reaches it (streams.c).  A
 * page of a fresh mapping costs a fault on first touch - on the bench's VM
 * 2-12 us, more than decoding the events it holds - while the kernel's
 * copy reads the page cache through mappings that already exist.  Only
 * the few small records (PROCESS, PARENT, END) are read through the map.
 * Memory is proportional to the number of chunks, never to the number of
 * events.  Nothing read from a file is trusted before it is checked
 * against the file size.
 */
#ifndef RCPROF_DUMP_FILE_H
#define RCPROF_DUMP_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "rcprof_dump.h"
#include "util.h"

/* One chunk of events: in memory (the RING mapping, a dump given as a
 * buffer) at data, or len bytes at offset off of the file fd (data NULL). */
struct rcp_chunk_ref {
	uint32_t tid;
	uint16_t nest;
	uint16_t from_ring;
	uint64_t seq;
	uint64_t base_ts;
	const uint8_t *data;
	uint32_t len;
	int fd;
	uint64_t off;
};

struct rcp_dump {
	char *path;
	const uint8_t *map;         /* the DUMP (NULL when empty) */
	size_t size;
	int owns_map;               /* munmap at close */
	int fd;                     /* the DUMP, for its chunks; -1 in memory */
	const uint8_t *ring_map;    /* the RING, or NULL */
	size_t ring_size;

	uint64_t start_ts;
	/* PROCESS */
	int has_process;
	struct rcp_rec_process process;
	const char *exe;            /* into the map, exe_len bytes */
	const char *argv;           /* NUL-separated, argv_len bytes */
	/* PARENT */
	int has_parent;
	struct rcp_rec_parent parent;
	const char *parent_path;    /* into the map, parent.path_len bytes */
	/* END */
	int has_end;
	struct rcp_rec_end end;

	size_t nchunks, cap_chunks;
	struct rcp_chunk_ref *chunks;

	int truncated;              /* no END, damaged, or the ring held data */
	uint64_t truncated_at;      /* offset where the valid part ends */
	uint64_t cut_after_end;     /* bytes of a record after END cut short */
	int ring_had_data;
};

/* Opens and reads DUMP (and DUMP.ring).  0, or a negative errno with a
 * one-line reason in `err` (the dump cannot be read at all).  Damage is
 * reported through `diag` and sets truncated. */
int rcp_dump_open(struct rcp_dump *d, const char *path, struct rcp_diag *diag,
		  char *err, size_t errlen);
/* Same from memory (tests, fuzzing); `buf` must outlive d.  No ring. */
int rcp_dump_open_mem(struct rcp_dump *d, const char *name, const void *buf,
		      size_t len, struct rcp_diag *diag, char *err, size_t errlen);
/* Reads a RING image and adds its chunks (ring_file.c). */
int rcp_ring_read(struct rcp_dump *d, const uint8_t *ring, size_t size,
		  struct rcp_diag *diag);
void rcp_dump_close(struct rcp_dump *d);

/* Adds a chunk reference.  0 or -ENOMEM. */
int rcp_dump_add_chunk(struct rcp_dump *d, const struct rcp_chunk_ref *c);

#endif /* RCPROF_DUMP_FILE_H */
