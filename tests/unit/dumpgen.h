/* dumpgen.h - test-side writer of synthetic rcprof dumps (format of
 * include/rcprof_dump.h), header-only so any test_*.c can include it.
 *
 *   struct dg g; dg_init(&g, start_ts); dg_process(&g, pid, "exe");
 *   struct dgc c; dgc_begin(&c, tid, seq, base_ts);
 *   dgc_malloc(&c, ts, addr, size, stack); ...; dg_chunk(&g, &c);
 *   dg_end(&g, RCP_END_EXIT, 0, ts);  -> g.buf, g.len
 *
 * Events are encoded exactly as the recorder does (delta ts, delta
 * addresses with a per-chunk prev_addr, LEB128 / zig-zag varints).  The
 * generator counts events per kind for the END record.
 */
#ifndef RCPROF_TEST_DUMPGEN_H
#define RCPROF_TEST_DUMPGEN_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcprof_dump.h"

#define DG_UNUSED __attribute__((unused))

struct dg {
	uint8_t *buf;
	size_t len, cap;
	uint64_t counts[32];
};

struct dgc {
	uint32_t tid;
	uint16_t nest;
	uint64_t seq, base_ts, ts, prev_addr;
	size_t len;
	uint64_t counts[32];
	uint8_t data[1 << 16];
};

static DG_UNUSED void dg_put(struct dg *g, const void *p, size_t n)
{
	if (g->len + n > g->cap) {
		size_t nc = g->cap ? g->cap : 4096;
		while (nc < g->len + n)
			nc *= 2;
		g->buf = realloc(g->buf, nc);
		if (!g->buf)
			abort();
		g->cap = nc;
	}
	memcpy(g->buf + g->len, p, n);
	g->len += n;
}

static DG_UNUSED void dg_init(struct dg *g, uint64_t start_ts)
{
	struct rcp_file_header h;
	memset(g, 0, sizeof(*g));
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, RCP_DUMP_MAGIC, 8);
	h.version = RCP_FORMAT_VERSION;
	h.header_size = sizeof(h);
	h.start_ts = start_ts;
	dg_put(g, &h, sizeof(h));
}

static DG_UNUSED void dg_free(struct dg *g)
{
	free(g->buf);
	memset(g, 0, sizeof(*g));
}

/* One record: header, payload parts, zero padding to 8. */
static DG_UNUSED void dg_record(struct dg *g, uint32_t type, const void *a,
				size_t alen, const void *b, size_t blen)
{
	struct rcp_record_header rh = { type, (uint32_t)(alen + blen) };
	static const uint8_t zeros[8];
	dg_put(g, &rh, sizeof(rh));
	if (alen)
		dg_put(g, a, alen);
	if (blen)
		dg_put(g, b, blen);
	size_t pad = (8 - (alen + blen) % 8) % 8;
	dg_put(g, zeros, pad);
}

static DG_UNUSED void dg_process(struct dg *g, uint32_t pid, const char *exe)
{
	struct rcp_rec_process p;
	char tail[256];
	size_t el = strlen(exe);
	memset(&p, 0, sizeof(p));
	p.pid = pid;
	p.ppid = 1;
	p.exe_len = (uint32_t)el;
	p.argv_len = (uint32_t)el + 1;
	p.stack_depth = 16;
	memcpy(tail, exe, el);
	memcpy(tail + el, exe, el + 1);        /* argv = { exe } */
	dg_record(g, RCP_REC_PROCESS, &p, sizeof(p), tail, 2 * el + 1);
}

static DG_UNUSED void dg_parent(struct dg *g, uint32_t ppid, const char *path,
				uint64_t fork_ts)
{
	struct rcp_rec_parent p;
	memset(&p, 0, sizeof(p));
	p.parent_pid = ppid;
	p.path_len = (uint32_t)strlen(path);
	p.fork_ts = fork_ts;
	dg_record(g, RCP_REC_PARENT, &p, sizeof(p), path, p.path_len);
}

static DG_UNUSED void dg_end(struct dg *g, uint32_t how, int32_t status,
			     uint64_t ts)
{
	struct rcp_rec_end e;
	memset(&e, 0, sizeof(e));
	e.how = how;
	e.status = status;
	e.ts = ts;
	memcpy(e.counts, g->counts, sizeof(e.counts));
	dg_record(g, RCP_REC_END, &e, sizeof(e), NULL, 0);
}

/* ---- chunks --------------------------------------------------------------- */

static DG_UNUSED void dgc_begin(struct dgc *c, uint32_t tid, uint64_t seq,
				uint64_t base_ts)
{
	c->tid = tid;
	c->nest = 0;
	c->seq = seq;
	c->base_ts = base_ts;
	c->ts = base_ts;
	c->prev_addr = 0;
	c->len = 0;
	memset(c->counts, 0, sizeof(c->counts));
}

static DG_UNUSED void dgc_u(struct dgc *c, uint64_t v)
{
	c->len += rcp_put_u64(c->data + c->len, v);
}

static DG_UNUSED void dgc_s(struct dgc *c, int64_t v)
{
	c->len += rcp_put_s64(c->data + c->len, v);
}

static DG_UNUSED void dgc_addr(struct dgc *c, uint64_t a)
{
	dgc_s(c, (int64_t)(a - c->prev_addr));
	c->prev_addr = a;
}

/* kind byte and dts */
static DG_UNUSED void dgc_ev(struct dgc *c, unsigned kind, uint64_t ts)
{
	c->data[c->len++] = (uint8_t)kind;
	dgc_u(c, ts - c->ts);
	c->ts = ts;
	c->counts[kind]++;
}

static DG_UNUSED void dgc_malloc(struct dgc *c, uint64_t ts, uint64_t addr,
				 uint64_t size, uint64_t stack)
{
	dgc_ev(c, RCP_EV_MALLOC, ts);
	dgc_addr(c, addr);
	dgc_u(c, size);
	dgc_u(c, stack);
	dgc_u(c, RCP_ALLOC_MALLOC);
}

static DG_UNUSED void dgc_free(struct dgc *c, uint64_t ts, uint64_t addr)
{
	dgc_ev(c, RCP_EV_FREE, ts);
	dgc_addr(c, addr);
}

static DG_UNUSED void dgc_realloc(struct dgc *c, uint64_t ts, uint64_t from,
				  uint64_t to, uint64_t size, uint64_t stack)
{
	dgc_ev(c, RCP_EV_REALLOC_FROM, ts);
	dgc_addr(c, from);
	dgc_ev(c, RCP_EV_REALLOC_TO, ts);
	dgc_addr(c, to);
	dgc_u(c, size);
	dgc_u(c, stack);
}

/* RC_NEW, or RC_NEW_BLOCK (same fields) */
static DG_UNUSED void dgc_rc_new_kind(struct dgc *c, unsigned kind,
				      uint64_t ts, uint64_t obj, uint64_t size,
				      uint64_t type, int64_t count,
				      uint64_t stack, uint64_t header)
{
	dgc_ev(c, kind, ts);
	dgc_addr(c, obj);
	dgc_u(c, size);
	dgc_u(c, type);
	dgc_s(c, count);
	dgc_u(c, stack);
	dgc_u(c, header);
}

static DG_UNUSED void dgc_rc_new(struct dgc *c, uint64_t ts, uint64_t obj,
				 uint64_t size, uint64_t type, int64_t count,
				 uint64_t stack, uint64_t header)
{
	dgc_rc_new_kind(c, RCP_EV_RC_NEW, ts, obj, size, type, count, stack,
			header);
}

static DG_UNUSED void dgc_rc_count(struct dgc *c, unsigned kind, uint64_t ts,
				   uint64_t obj, int64_t count, uint64_t stack)
{
	dgc_ev(c, kind, ts);
	dgc_addr(c, obj);
	dgc_s(c, count);
	dgc_u(c, stack);
}

static DG_UNUSED void dgc_rc_free(struct dgc *c, uint64_t ts, uint64_t obj)
{
	dgc_ev(c, RCP_EV_RC_FREE, ts);
	dgc_addr(c, obj);
}

/* librc's objects with their blocks (RC_NEW_BLOCK: dgc_rc_new_kind) */
static DG_UNUSED void dgc_rc_free_block(struct dgc *c, uint64_t ts,
					uint64_t obj, uint64_t header)
{
	dgc_ev(c, RCP_EV_RC_FREE_BLOCK, ts);
	dgc_addr(c, obj);
	dgc_u(c, header);
}

static DG_UNUSED void dgc_edge(struct dgc *c, uint64_t ts, uint64_t owner,
			       int64_t slot_off, uint64_t target)
{
	dgc_ev(c, RCP_EV_EDGE, ts);
	dgc_addr(c, owner);
	dgc_s(c, slot_off);
	dgc_u(c, target ? 1 : 0);
	if (target)
		dgc_addr(c, target);
}

static DG_UNUSED void dgc_string(struct dgc *c, uint64_t ts, uint64_t id,
				 const char *s)
{
	size_t n = strlen(s);
	dgc_ev(c, RCP_EV_STRING, ts);
	dgc_u(c, id);
	dgc_u(c, n);
	memcpy(c->data + c->len, s, n);
	c->len += n;
}

static DG_UNUSED void dgc_stack(struct dgc *c, uint64_t ts, uint64_t id,
				size_t n, const uint64_t *ips)
{
	uint64_t prev = 0;
	dgc_ev(c, RCP_EV_STACK, ts);
	dgc_u(c, id);
	dgc_u(c, n);
	for (size_t i = 0; i < n; i++) {
		dgc_s(c, (int64_t)(ips[i] - prev));
		prev = ips[i];
	}
}

static DG_UNUSED void dgc_module(struct dgc *c, uint64_t ts, uint64_t base,
				 uint64_t path_id, const uint8_t *bid,
				 size_t bidlen, size_t nseg, const uint64_t *segs)
{
	dgc_ev(c, RCP_EV_MODULE, ts);
	dgc_u(c, base);
	dgc_u(c, path_id);
	dgc_u(c, bidlen);
	memcpy(c->data + c->len, bid, bidlen);
	c->len += bidlen;
	dgc_u(c, nseg);
	for (size_t i = 0; i < 2 * nseg; i++)
		dgc_u(c, segs[i]);
}

/* Events with only unsigned fields (SUSPECT, SNAPSHOT, MODULE_UNMAP,
 * THREAD, FORK, SIGNAL: one; LOST: two). */
static DG_UNUSED void dgc_simple(struct dgc *c, unsigned kind, uint64_t ts,
				 uint64_t a, uint64_t b)
{
	dgc_ev(c, kind, ts);
	dgc_u(c, a);
	if (kind == RCP_EV_LOST)
		dgc_u(c, b);
}

/* Writes the chunk as a CHUNK record (the first `used` bytes; all when
 * used is (size_t)-1). */
static DG_UNUSED void dg_chunk_part(struct dg *g, const struct dgc *c, size_t used)
{
	struct rcp_rec_chunk h;
	if (used > c->len)
		used = c->len;
	memset(&h, 0, sizeof(h));
	h.tid = c->tid;
	h.nest = c->nest;
	h.flags = RCP_CHUNK_SEALED;
	h.seq = c->seq;
	h.base_ts = c->base_ts;
	h.used = (uint32_t)used;
	dg_record(g, RCP_REC_CHUNK, &h, sizeof(h), c->data, used);
}

static DG_UNUSED void dg_chunk(struct dg *g, const struct dgc *c)
{
	dg_chunk_part(g, c, c->len);
	for (int k = 0; k < 32; k++)
		g->counts[k] += c->counts[k];
}

/* ---- ring file ---------------------------------------------------------------- */

/* A ring image with nslots slots of slot_size bytes, all FREE. */
static DG_UNUSED uint8_t *dg_ring_new(uint32_t nslots, uint32_t slot_size,
				      uint32_t pid, size_t *len)
{
	struct rcp_ring_header h;
	*len = sizeof(h) + (size_t)nslots * slot_size;
	uint8_t *r = calloc(1, *len);
	if (!r)
		abort();
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, RCP_RING_MAGIC, 8);
	h.version = RCP_FORMAT_VERSION;
	h.header_size = sizeof(h);
	h.nslots = nslots;
	h.slot_size = slot_size;
	h.pid = pid;
	memcpy(r, &h, sizeof(h));
	return r;
}

static DG_UNUSED void dg_ring_slot(uint8_t *ring, uint32_t i, uint32_t state,
				   const struct dgc *c, size_t committed)
{
	struct rcp_ring_header h;
	struct rcp_ring_slot s;
	memcpy(&h, ring, sizeof(h));
	uint8_t *p = ring + h.header_size + (size_t)i * h.slot_size;
	memset(&s, 0, sizeof(s));
	s.state = state;
	s.tid = c->tid;
	s.nest = c->nest;
	s.seq = c->seq;
	s.base_ts = c->base_ts;
	s.committed = committed;
	memcpy(p, &s, sizeof(s));
	memcpy(p + sizeof(s), c->data, committed < c->len ? committed : c->len);
}

static DG_UNUSED int dg_write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(p, 1, n, f);
	return fclose(f) == 0 && w == n ? 0 : -1;
}

#endif /* RCPROF_TEST_DUMPGEN_H */
