#!/usr/bin/env python3
"""rcpdump.py - an independent reader of the rcprof dump format (writer-side
check for the end-to-end tests; the real reader is rcprof-report).

  rcpdump.py [--events] [--json] [--stacks] DUMP

Reads DUMP and, if present, DUMP.ring (as include/rcprof_dump.h says),
decodes every stream and prints a summary (JSON with --json), or every
event with --events, or with --stacks one line per event that carries a
stack: thread (by rank of its tid), nesting level, kind and the frames as
module+offset, in each stream's order - two runs of a deterministic
program print the same lines however the recorder found the stacks.
Exit 2 when the file is not a dump.
"""
import json
import os
import struct
import sys

KINDS = {1: "MALLOC", 2: "FREE", 3: "REALLOC_FROM", 4: "REALLOC_TO",
         5: "RC_NEW", 6: "RC_RETAIN", 7: "RC_RELEASE", 8: "RC_FREE",
         9: "EDGE", 10: "SUSPECT", 11: "SNAPSHOT", 12: "STACK",
         13: "STRING", 14: "MODULE", 15: "MODULE_UNMAP", 16: "THREAD",
         17: "FORK", 18: "SIGNAL", 19: "LOST", 20: "FREE_STACK",
         21: "RC_NEW_BLOCK", 22: "RC_FREE_BLOCK"}


class Cut(Exception):
    pass


def u(b, p):
    v = 0
    shift = 0
    while True:
        if p >= len(b) or shift >= 70:
            raise Cut()
        x = b[p]
        p += 1
        v |= (x & 0x7f) << shift
        shift += 7
        if not x & 0x80:
            return v, p


def s(b, p):
    v, p = u(b, p)
    return (v >> 1) ^ -(v & 1), p


def read_dump(path):
    data = open(path, "rb").read()
    if len(data) < 32 or data[:8] != b"RCPROFD\n":
        raise SystemExit(2)
    ver, hsize, start_ts, flags = struct.unpack_from("<IIQQ", data, 8)
    out = {"process": None, "parent": None, "ends": [], "chunks": {},
           "truncated_file": False, "start_ts": start_ts}
    p = hsize
    while p + 8 <= len(data):
        typ, length = struct.unpack_from("<II", data, p)
        pad = (8 - length % 8) % 8
        if length > (64 << 20) or p + 8 + length > len(data):
            out["truncated_file"] = True
            break
        pl = data[p + 8:p + 8 + length]
        if typ == 1:
            pid, ppid, ts, el, al, depth, xi = struct.unpack_from("<IIQIIII", pl, 0)
            exe = pl[32:32 + el].decode(errors="replace")
            argv = pl[32 + el:32 + el + al].split(b"\0")[:-1]
            out["process"] = {"pid": pid, "ppid": ppid, "exe": exe,
                              "argv": [a.decode(errors="replace") for a in argv],
                              "depth": depth, "exec_index": xi}
        elif typ == 2:
            tid, nest, fl, seq, base, used, _ = struct.unpack_from("<IHHQQII", pl, 0)
            key = (tid, nest, seq)
            body = pl[32:32 + used]
            old = out["chunks"].get(key)
            if old is None or len(old[1]) < len(body):
                out["chunks"][key] = (base, body)
        elif typ == 3:
            ppid, plen, fts = struct.unpack_from("<IIQ", pl, 0)
            out["parent"] = {"pid": ppid, "fork_ts": fts,
                             "path": pl[16:16 + plen].decode(errors="replace")}
        elif typ == 4:
            how, status, ts = struct.unpack_from("<IiQ", pl, 0)
            counts = struct.unpack_from("<32Q", pl, 16)
            out["ends"].append({"how": how, "status": status, "ts": ts,
                                "counts": {KINDS.get(i, str(i)): c
                                           for i, c in enumerate(counts) if c}})
        p += 8 + length + pad
    ring = path + ".ring"
    out["ring_chunks"] = 0
    if os.path.exists(ring):
        r = open(ring, "rb").read()
        if len(r) >= 32 and r[:8] == b"RCPROFR\n":
            _, hs, nslots, ssize, _, done = struct.unpack_from("<IIIIII", r, 8)
            # done: the dump holds it all (a ring the shim could not remove)
            for i in range(0 if done == 1 else nslots):
                off = hs + i * ssize
                if off + 48 > len(r):
                    break
                st, tid, nest, _, _, seq, base, comm, _ = struct.unpack_from(
                    "<IIHHIQQQQ", r, off)
                if st in (1, 2, 3) and comm:
                    body = r[off + 48:off + 48 + comm]
                    key = (tid, nest, seq)
                    old = out["chunks"].get(key)
                    if old is None or len(old[1]) < len(body):
                        out["chunks"][key] = (base, body)
                        out["ring_chunks"] += 1
    return out


def decode_chunk(base, b, emit):
    p = 0
    ts = base
    prev = 0
    while p < len(b):
        start = p
        try:
            k = b[p]
            p += 1
            d, p = u(b, p)
            ts += d
            f = []
            def addr():
                nonlocal p, prev
                v, p = s(b, p)
                prev = (prev + v) & (2**64 - 1)
                return prev
            def U():
                nonlocal p
                v, p = u(b, p)
                return v
            def S():
                nonlocal p
                v, p = s(b, p)
                return v
            if k == 1: f = [addr(), U(), U(), U()]
            elif k in (2, 3, 8): f = [addr()]
            elif k == 4: f = [addr(), U(), U()]
            elif k == 20: f = [addr(), U()]
            elif k in (5, 21): f = [addr(), U(), U(), S(), U(), U()]
            elif k == 22: f = [addr(), U()]
            elif k in (6, 7): f = [addr(), S(), U()]
            elif k == 9:
                f = [addr(), S(), U()]
                if f[2]:
                    f.append(addr())
            elif k in (10, 11, 15, 16, 17, 18): f = [U()]
            elif k == 12:
                i, n = U(), U()
                ip = 0
                ips = []
                for _ in range(n):
                    ip = (ip + S()) & (2**64 - 1)
                    ips.append(ip)
                f = [i, ips]
            elif k == 13:
                i, n = U(), U()
                if p + n > len(b):
                    raise Cut()
                f = [i, b[p:p + n].decode(errors="replace")]
                p += n
            elif k == 14:
                base_, path, bl = U(), U(), U()
                bid = b[p:p + bl].hex()
                p += bl
                n = U()
                segs = [(U(), U()) for _ in range(n)]
                f = [base_, path, bid, segs]
            elif k == 19: f = [U(), U()]
            else:
                return "unknown kind %d" % k
        except Cut:
            return "cut"
        emit(ts, k, f)
    return None


STACK_FIELD = {1: 2, 4: 2, 5: 4, 6: 2, 7: 2, 21: 4}   # kind: index of the stack id


def print_stacks(d):
    stacks, strings, modules = {}, {}, []
    per_stream = {}
    for (tid, nest, seq), (base, body) in d["chunks"].items():
        out = per_stream.setdefault((tid, nest), {}).setdefault(seq, [])
        def emit(ts, k, f, out=out):
            if k == 12:
                stacks[f[0]] = f[1]
            elif k == 13:
                strings[f[0]] = f[1]
            elif k == 14:
                modules.append(f)
            elif k in STACK_FIELD:
                out.append((k, f[STACK_FIELD[k]]))
        decode_chunk(base, body, emit)

    def where(ip):
        for mbase, path, _, segs in modules:
            for vaddr, memsz in segs:
                if mbase + vaddr <= ip < mbase + vaddr + memsz:
                    name = os.path.basename(strings.get(path, "?"))
                    return "%s+%x" % (name, ip - mbase)
        return "%x" % ip

    ranks = {tid: i for i, tid in enumerate(sorted({t for t, _ in per_stream}))}
    for (tid, nest), chunks in sorted(per_stream.items()):
        for seq in sorted(chunks):
            for k, sid in chunks[seq]:
                frames = " ".join(where(ip) for ip in stacks.get(sid, [])) \
                    if sid else "-"
                print(ranks[tid], nest, KINDS[k], frames)


def main():
    args = sys.argv[1:]
    show = "--events" in args
    as_json = "--json" in args
    paths = [a for a in args if not a.startswith("--")]
    d = read_dump(paths[0])
    if "--stacks" in args:
        print_stacks(d)
        return
    counts = {}
    events = []
    streams = {}
    for (tid, nest, seq), (base, body) in d["chunks"].items():
        streams.setdefault((tid, nest), {})[seq] = (base, body)
    gaps = 0
    problems = []
    for key, chunks in sorted(streams.items()):
        seqs = sorted(chunks)
        if seqs != list(range(seqs[0], seqs[0] + len(seqs))) or seqs[0] != 0:
            gaps += 1
        for seq in seqs:
            base, body = chunks[seq]
            def emit(ts, k, f, key=key, seq=seq):
                counts[KINDS.get(k, str(k))] = counts.get(KINDS.get(k, str(k)), 0) + 1
                if show:
                    events.append((ts, key, seq, k, f))
            err = decode_chunk(base, body, emit)
            if err and err != "cut":
                problems.append("%s seq %d: %s" % (key, seq, err))
    summary = {"events": sum(counts.values()), "counts": counts,
               "streams": len(streams), "gaps": gaps, "problems": problems,
               "ends": d["ends"], "process": d["process"], "parent": d["parent"],
               "truncated": not d["ends"] or d["ring_chunks"] > 0 or d["truncated_file"],
               "ring_chunks": d["ring_chunks"]}
    if show:
        events.sort(key=lambda e: e[0])
        for ts, key, seq, k, f in events:
            print(ts, "%d/%d" % key, KINDS.get(k, k),
                  " ".join(hex(x) if isinstance(x, int) and x > 65535 else str(x) for x in f))
    elif as_json:
        print(json.dumps(summary))
    else:
        print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
