/* ring_file.c - read the RING file a killed process left behind.
 *
 * The ring is the MAP_SHARED buffer the producers wrote into (protocol in
 * preload/shim/ring.c).  After the process is gone nobody writes it any
 * more, so plain loads suffice.  A slot in state OWNED, SEALED or DRAINING
 * holds chunk (tid, nest, seq) with `committed` valid bytes; FREE slots hold
 * nothing (their data was drained into the DUMP already).  streams.c keeps
 * the longest copy of a chunk, preferring the DUMP's on equal length.
 * A ring whose header says done was left after a complete recording (the
 * shim could not remove it) and is ignored.
 *
 * Every field is checked against the file size: the slot count and size
 * come from the file and may be damaged.
 */
#include <errno.h>

#include "dump_file.h"

int rcp_ring_read(struct rcp_dump *d, const uint8_t *ring, size_t size,
		  struct rcp_diag *diag)
{
	struct rcp_ring_header rh;

	if (size < sizeof(rh) || memcmp(ring, RCP_RING_MAGIC, 8) != 0) {
		rcp_warn(diag, "%s.ring: not an rcprof ring file, ignored", d->path);
		return 0;
	}
	memcpy(&rh, ring, sizeof(rh));
	if (rh.version < RCP_FORMAT_VERSION_MIN ||
	    rh.version > RCP_FORMAT_VERSION || rh.header_size < sizeof(rh) ||
	    rh.header_size > size || rh.slot_size < sizeof(struct rcp_ring_slot)) {
		rcp_warn(diag, "%s.ring: bad ring header, ignored", d->path);
		return 0;
	}
	if (rh.done == 1)
		return 0;       /* the dump has it all: a ring not removed */
	uint64_t fit = (size - rh.header_size) / rh.slot_size;
	uint64_t nslots = rh.nslots;
	if (nslots > fit) {
		rcp_warn(diag, "%s.ring: %u slots announced, %llu present",
			 d->path, rh.nslots, (unsigned long long)fit);
		nslots = fit;
	}
	if (d->has_process && rh.pid != d->process.pid)
		rcp_warn(diag, "%s.ring: written by pid %u, the dump by pid %u",
			 d->path, rh.pid, d->process.pid);

	uint64_t cap = rh.slot_size - sizeof(struct rcp_ring_slot);
	for (uint64_t i = 0; i < nslots; i++) {
		const uint8_t *s = ring + rh.header_size + i * rh.slot_size;
		struct rcp_ring_slot slot;
		struct rcp_chunk_ref ref;

		memcpy(&slot, s, sizeof(slot));
		if (slot.state != RCP_SLOT_OWNED && slot.state != RCP_SLOT_SEALED &&
		    slot.state != RCP_SLOT_DRAINING)
			continue;
		if (slot.committed > cap) {
			rcp_warn(diag, "%s.ring: slot %llu claims %llu bytes, holds %llu",
				 d->path, (unsigned long long)i,
				 (unsigned long long)slot.committed,
				 (unsigned long long)cap);
			slot.committed = cap;
		}
		if (slot.committed == 0)
			continue;
		memset(&ref, 0, sizeof(ref));
		ref.tid = slot.tid;
		ref.nest = slot.nest;
		ref.from_ring = 1;
		ref.seq = slot.seq;
		ref.base_ts = slot.base_ts;
		ref.data = s + sizeof(slot);
		ref.len = (uint32_t)slot.committed;
		int rc = rcp_dump_add_chunk(d, &ref);
		if (rc)
			return rc;
		d->ring_had_data = 1;
		d->truncated = 1;
	}
	return 0;
}
