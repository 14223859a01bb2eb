/* dump_file.c - open a DUMP, check its header, walk its records.
 *
 * Invariants
 *   - A record is used only when its header and its whole payload lie inside
 *     the file and its length is at most RCP_RECORD_MAX; the first record
 *     that fails this ends the valid part (warning, truncated = true) -
 *     except a record cut short by the end of the file after END, which
 *     a thread still running when the process ended was writing: it is
 *     skipped quietly (cut_after_end), the recording being complete.
 *   - A known record whose payload is inconsistent with its own length
 *     (e.g. exe_len larger than the payload) is skipped with a warning: its
 *     length was checked, so the records after it are still found.
 *   - Struct fields are copied out with memcpy (no alignment assumption).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump_file.h"

#define POPULATE_MAX ((uint64_t)1 << 30)

/* A record's header and, for a CHUNK, the chunk header after it. */
#define HEAD_MAX (sizeof(struct rcp_record_header) + sizeof(struct rcp_rec_chunk))

int rcp_dump_add_chunk(struct rcp_dump *d, const struct rcp_chunk_ref *c)
{
	int rc = rcp_grow(&d->chunks, &d->cap_chunks, d->nchunks, sizeof(*c));
	if (rc)
		return rc;
	d->chunks[d->nchunks++] = *c;
	return 0;
}

static void rec_process(struct rcp_dump *d, const uint8_t *p, uint32_t len,
			uint64_t off, struct rcp_diag *diag)
{
	struct rcp_rec_process pr;

	if (len < sizeof(pr))
		goto bad;
	memcpy(&pr, p, sizeof(pr));
	if ((uint64_t)pr.exe_len + pr.argv_len > len - sizeof(pr))
		goto bad;
	if (d->has_process) {
		rcp_warn(diag, "%s: second PROCESS record at offset %llu ignored",
			 d->path, (unsigned long long)off);
		return;
	}
	d->has_process = 1;
	d->process = pr;
	d->exe = (const char *)p + sizeof(pr);
	d->argv = d->exe + pr.exe_len;
	return;
bad:
	rcp_warn(diag, "%s: damaged PROCESS record at offset %llu", d->path,
		 (unsigned long long)off);
}

/* head: the chunk header, copied out (len >= its size was checked against
 * the file size); the events follow it at off. */
static int rec_chunk(struct rcp_dump *d, const uint8_t *head, uint32_t len,
		     uint64_t off, struct rcp_diag *diag)
{
	struct rcp_rec_chunk ch;
	struct rcp_chunk_ref ref;

	if (len < sizeof(ch)) {
		rcp_warn(diag, "%s: damaged CHUNK record at offset %llu",
			 d->path, (unsigned long long)off);
		return 0;
	}
	memcpy(&ch, head, sizeof(ch));
	if (ch.used > len - sizeof(ch)) {
		rcp_warn(diag, "%s: CHUNK at offset %llu claims %u bytes, has %zu",
			 d->path, (unsigned long long)off, ch.used,
			 (size_t)(len - sizeof(ch)));
		ch.used = (uint32_t)(len - sizeof(ch));
	}
	memset(&ref, 0, sizeof(ref));
	ref.tid = ch.tid;
	ref.nest = ch.nest;
	ref.seq = ch.seq;
	ref.base_ts = ch.base_ts;
	ref.off = off + sizeof(struct rcp_record_header) + sizeof(ch);
	ref.fd = d->fd;
	ref.data = d->fd < 0 ? d->map + ref.off : NULL;
	ref.len = ch.used;
	return rcp_dump_add_chunk(d, &ref);
}

static void rec_parent(struct rcp_dump *d, const uint8_t *p, uint32_t len,
		       uint64_t off, struct rcp_diag *diag)
{
	struct rcp_rec_parent pa;

	if (len < sizeof(pa))
		goto bad;
	memcpy(&pa, p, sizeof(pa));
	if (pa.path_len == 0 || pa.path_len > len - sizeof(pa))
		goto bad;
	d->has_parent = 1;
	d->parent = pa;
	d->parent_path = (const char *)p + sizeof(pa);
	return;
bad:
	rcp_warn(diag, "%s: damaged PARENT record at offset %llu", d->path,
		 (unsigned long long)off);
}

static void rec_end(struct rcp_dump *d, const uint8_t *p, uint32_t len,
		    uint64_t off, struct rcp_diag *diag)
{
	if (len < sizeof(d->end)) {
		rcp_warn(diag, "%s: damaged END record at offset %llu", d->path,
			 (unsigned long long)off);
		return;
	}
	/* Several ENDs (exec then exit of the same image cannot happen, but a
	 * late destructor may close twice): the last one wins. */
	memcpy(&d->end, p, sizeof(d->end));
	d->has_end = 1;
}

/* n bytes at off (inside the file): read with pread while the DUMP is
 * open, so that the walk touches no page of the mapping (see .h). */
static int read_head(const struct rcp_dump *d, uint64_t off, void *buf,
		     size_t n)
{
	if (d->fd < 0) {
		memcpy(buf, d->map + off, n);
		return 0;
	}
	for (;;) {
		ssize_t r = pread(d->fd, buf, n, (off_t)off);
		if (r == (ssize_t)n)
			return 0;
		if (r >= 0)
			errno = EIO;    /* the file shrank since fstat */
		if (r >= 0 || errno != EINTR)
			return -1;
	}
}

/* Walks the records of the DUMP. */
static int parse(struct rcp_dump *d, struct rcp_diag *diag, char *err,
		 size_t errlen)
{
	struct rcp_file_header fh;
	int rc = 0;

	if (d->size < sizeof(fh) ||
	    memcmp(d->map, RCP_DUMP_MAGIC, sizeof(fh.magic)) != 0) {
		snprintf(err, errlen, "%s: not an rcprof dump", d->path);
		return -EINVAL;
	}
	memcpy(&fh, d->map, sizeof(fh));
	if (fh.version < RCP_FORMAT_VERSION_MIN || fh.version > RCP_FORMAT_VERSION) {
		snprintf(err, errlen, "%s: unsupported dump format version %u (this reader knows %u)",
			 d->path, fh.version, RCP_FORMAT_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (fh.header_size < sizeof(fh) || fh.header_size > d->size) {
		snprintf(err, errlen, "%s: bad dump header size %u", d->path,
			 fh.header_size);
		return -EINVAL;
	}
	d->start_ts = fh.start_ts;

	uint64_t off = fh.header_size;
	for (;;) {
		struct rcp_record_header rh;
		uint8_t head[HEAD_MAX];

		if (off == d->size)
			break;
		if (d->size - off < sizeof(rh))
			goto cut;
		size_t nhead = d->size - off < HEAD_MAX ? (size_t)(d->size - off) : HEAD_MAX;
		if (read_head(d, off, head, nhead) != 0) {
			rcp_warn(diag, "%s: cannot read at offset %llu: %s", d->path,
				 (unsigned long long)off, strerror(errno));
			goto damaged;
		}
		memcpy(&rh, head, sizeof(rh));
		if (rh.length > RCP_RECORD_MAX)
			goto damaged;
		if (rh.length > d->size - off - sizeof(rh))
			goto cut;
		const uint8_t *p = d->map + off + sizeof(rh);
		switch (rh.type) {
		case RCP_REC_PROCESS:
			rec_process(d, p, rh.length, off, diag);
			break;
		case RCP_REC_CHUNK:
			rc = rec_chunk(d, head + sizeof(rh), rh.length, off, diag);
			if (rc) {
				snprintf(err, errlen, "%s: out of memory", d->path);
				return rc;
			}
			break;
		case RCP_REC_PARENT:
			rec_parent(d, p, rh.length, off, diag);
			break;
		case RCP_REC_END:
			rec_end(d, p, rh.length, off, diag);
			break;
		default:
			break;          /* unknown: skipped by its length */
		}
		uint64_t padded = ((uint64_t)rh.length + 7) & ~(uint64_t)7;
		if (padded > d->size - off - sizeof(rh)) {
			/* The file ends inside the padding of a complete
			 * record: nothing can follow. */
			off = d->size;
			break;
		}
		off += sizeof(rh) + padded;
	}
	d->truncated_at = off;
	if (!d->has_end)
		d->truncated = 1;
	if (!d->has_process)
		rcp_warn(diag, "%s: no PROCESS record", d->path);
	return 0;
cut:
	if (d->has_end) {
		/* The file ends inside a record written after END: a drain of
		 * a thread that was still running when the process ended (a
		 * write is cut short by exit_group or a fatal signal).  The
		 * recording is complete up to END, whose counts are checked,
		 * so this is not a truncation: the cut record is skipped. */
		d->truncated_at = off;
		d->cut_after_end = d->size - off;
		if (!d->has_process)
			rcp_warn(diag, "%s: no PROCESS record", d->path);
		return 0;
	}
damaged:
	d->truncated = 1;
	d->truncated_at = off;
	rcp_warn(diag, "%s: truncated at offset %llu", d->path,
		 (unsigned long long)off);
	if (!d->has_process)
		rcp_warn(diag, "%s: no PROCESS record", d->path);
	return 0;
}

int rcp_dump_open_mem(struct rcp_dump *d, const char *name, const void *buf,
		      size_t len, struct rcp_diag *diag, char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->path = strdup(name);
	if (!d->path) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	d->map = buf;
	d->size = len;
	return parse(d, diag, err, errlen);
}

/* Maps a whole file read-only.  An empty file maps to NULL, size 0.
 * keep_fd: the file stays open there (-1 on failure), and the mapping is
 * not populated - its reader reads the file instead (see .h). */
static int map_file(const char *path, const uint8_t **map, size_t *size,
		    int *keep_fd)
{
	struct stat st;
	int rc = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*map = NULL;
	*size = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	if (st.st_size == 0)
		goto out;
	if ((uint64_t)st.st_size > SIZE_MAX) {
		rc = -EFBIG;
		goto out;
	}
	/* A RING's used slots are read through the map: mapped in one call
	 * rather than a page fault per 16 pages.  Not a file too big to stay
	 * in the page cache: it would be read twice. */
	int populate = !keep_fd && (uint64_t)st.st_size <= POPULATE_MAX ?
		       MAP_POPULATE : 0;
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ,
		       MAP_PRIVATE | populate, fd, 0);
	if (m == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	*map = m;
	*size = (size_t)st.st_size;
out:
	if (keep_fd && rc == 0) {
		*keep_fd = fd;
		return 0;
	}
	close(fd);
	return rc;
}

int rcp_dump_open(struct rcp_dump *d, const char *path, struct rcp_diag *diag,
		  char *err, size_t errlen)
{
	char *ring_path = NULL;
	int rc;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->path = strdup(path);
	if (!d->path) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	rc = map_file(path, &d->map, &d->size, &d->fd);
	if (rc) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
		goto out;
	}
	d->owns_map = 1;
	rc = parse(d, diag, err, errlen);
	if (rc)
		goto out;

	if (asprintf(&ring_path, "%s.ring", path) < 0) {
		ring_path = NULL;
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	int rrc = map_file(ring_path, &d->ring_map, &d->ring_size, NULL);
	if (rrc == 0 && d->ring_map) {
		rc = rcp_ring_read(d, d->ring_map, d->ring_size, diag);
		if (rc) {
			snprintf(err, errlen, "%s: out of memory", ring_path);
			goto out;
		}
	} else if (rrc && rrc != -ENOENT) {
		rcp_warn(diag, "%s: cannot read: %s", ring_path, strerror(-rrc));
	}
out:
	free(ring_path);
	return rc;
}

void rcp_dump_close(struct rcp_dump *d)
{
	if (d->owns_map && d->map)
		munmap((void *)d->map, d->size);
	if (d->ring_map)
		munmap((void *)d->ring_map, d->ring_size);
	if (d->fd >= 0)
		close(d->fd);
	free(d->chunks);
	free(d->path);
	memset(d, 0, sizeof(*d));
}
