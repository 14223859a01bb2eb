/* core.c - the recorder's life cycle: start, fork child, exec, finish.
 *
 * Pure: no interposed symbols and no constructor (hook_init.c calls
 * shim_start from its constructor).  Nothing here calls malloc: paths live
 * in the global, the ring and intern tables are mmaps, files are opened
 * with plain system calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "recorder.h"

struct shim_global shim_g;
struct shim_real shim_real;
uint64_t shim_dl_gen;
__thread struct shim_thread shim_tls;

int shim_is_suspect_type(const char *type)
{
	if (!type)
		return 0;
	uint32_t n = atomic_load_acquire(&shim_g.nsuspect);
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(shim_g.suspects[i], type) == 0)
			return 1;
	return 0;
}

/* Create dump + ring for the current pid from shim_g.pattern, write the
 * file header, PROCESS and (for a fork child) PARENT.  0 or -errno. */
static int open_recording(uint32_t parent_pid, uint64_t fork_ts,
			  const char *parent_path)
{
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
	    !shim_fd_limit_ok(nofile.rlim_cur, nofile.rlim_max)) {
		char n[24];
		shim_log("the descriptor limit (RLIMIT_NOFILE ",
			 shim_utoa(nofile.rlim_cur, n), ") leaves no room for "
			 "the recorder's own; not recording", NULL);
		return -EMFILE;
	}
	int fd = shim_dump_create(shim_g.pattern, getpid(), shim_g.dump_path,
				  sizeof(shim_g.dump_path), &shim_g.exec_index);
	if (fd < 0) {
		shim_log("cannot create ", shim_g.dump_path, ": ",
			 shim_strerror(-fd), "; not recording", NULL);
		return fd;
	}
	/* Out of the program's way (fds.c). */
	fd = shim_fd_place_high(fd, 1);
	shim_fd_own(fd);
	size_t pl = strlen(shim_g.dump_path);
	int rc = -ENAMETOOLONG;
	int rfd = -1;
	void *map = MAP_FAILED;
	uint32_t nslots, slot_size;
	size_t len = 0;
	if (pl + 6 > sizeof(shim_g.ring_path))
		goto fail;
	memcpy(shim_g.ring_path, shim_g.dump_path, pl);
	memcpy(shim_g.ring_path + pl, ".ring", 6);
	rfd = shim_file_create(shim_g.ring_path, O_RDWR);
	if (rfd < 0) {
		rc = rfd;
		shim_log("cannot create ", shim_g.ring_path, ": ",
			 shim_strerror(-rc), "; not recording", NULL);
		goto fail_quiet;
	}
	shim_ring_geometry(shim_g.ring_bytes, &nslots, &slot_size);
	len = shim_ring_bytes(nslots, slot_size);
	/* Reserve the blocks now: a full disk must not turn into SIGBUS
	 * when a producer touches a page of the mapping.  Within
	 * RLIMIT_FSIZE, or the kernel would raise SIGXFSZ. */
	rc = shim_fsize_check(-1, len);
	if (rc)
		goto fail;
	rc = fallocate(rfd, 0, 0, (off_t)len);
	if (rc != 0 && (errno == EOPNOTSUPP || errno == ENOSYS))
		rc = ftruncate(rfd, (off_t)len);
	if (rc != 0) {
		rc = -errno;
		goto fail;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	/* Slots are used one after another (shim_ring_claim): no read-ahead
	 * around a fault, which would bring in - and zero - pages of slots
	 * this process may never use. */
	madvise(map, len, MADV_RANDOM);
	close(rfd);
	rfd = -1;
	shim_ring_init(&shim_g.ring, map, nslots, slot_size,
		       (uint32_t)getpid(), fd);
	rc = shim_dump_write_header(fd, shim_g.start_ts);
	if (!rc)
		rc = shim_dump_write_process(fd, shim_g.start_ts, shim_g.depth,
					     shim_g.exec_index, shim_g.exe,
					     sizeof(shim_g.exe));
	if (!rc && parent_path)
		rc = shim_dump_write_parent(fd, parent_pid, fork_ts,
					    parent_path);
	if (rc)
		goto fail;
	shim_g.ring_unlinked = 0;
	shim_g.pid = getpid();
	return 0;
fail:
	shim_log("cannot set up ", shim_g.dump_path, ": ", shim_strerror(-rc),
		 "; not recording", NULL);
fail_quiet:
	if (map != MAP_FAILED)
		munmap(map, len);
	if (rfd >= 0) {
		close(rfd);
		unlink(shim_g.ring_path);
	}
	shim_fd_close(fd);
	unlink(shim_g.dump_path);
	memset(&shim_g.ring, 0, sizeof(shim_g.ring));
	return rc;
}

static uint64_t env_u64(const char *name, uint64_t def, uint64_t lo,
			uint64_t hi)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return def;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v < lo || v > hi) {
		shim_log("ignoring ", name, "=", s, " (out of range)", NULL);
		return def;
	}
	return v;
}

static void add_suspect(struct shim_thread *t, const char *type, size_t len)
{
	char name[128];
	if (len == 0 || len >= sizeof(name))
		return;
	memcpy(name, type, len);
	name[len] = 0;
	if (shim_is_suspect_type(name))
		return;
	uint32_t n = atomic_load_relaxed(&shim_g.nsuspect);
	if (n >= 64)
		return;
	memcpy(shim_g.suspects[n], name, len + 1);
	atomic_store_release(&shim_g.nsuspect, n + 1);  /* pairs with readers */
	int lvl = shim_enter(t);
	if (lvl >= 0)
		shim_rec_string_event(t, lvl, RCP_EV_SUSPECT, name);
	shim_leave(t);
}

/* rcprof_suspect(): not thread-safe against itself (registrations are
 * expected at start-up), safe against concurrent readers. */
void shim_suspect(const char *type)
{
	if (type)
		add_suspect(&shim_tls, type, strlen(type));
}

static void seal_dying_thread(void *arg)
{
	(void)arg;
	struct shim_thread *t = &shim_tls;
	sigset_t old;
	shim_sigmask_block_all(&old);
	t->depth++;
	if (atomic_load_relaxed(&shim_g.on)) {
		shim_stream_seal(&shim_g.ring, &t->st[0]);
		shim_stream_seal(&shim_g.ring, &t->st[1]);
	}
	shim_sc_thread_exit(t);
	shim_stream_drop_emerg(&t->st[0]);
	shim_stream_drop_emerg(&t->st[1]);
	/* Events of later TLS destructors go out one by one. */
	t->st[0].flush_each = 1;
	t->st[1].flush_each = 1;
	t->depth--;
	shim_sigmask(SIG_SETMASK, &old, NULL);
}

/* The recorder's tables and ring take ~40 MB of address space (most of
 * it reserved, not touched) and each recording thread's stack cache
 * ~10 MB more.  Under a small RLIMIT_AS or RLIMIT_DATA that would come
 * off what the program may allocate - a program allowed 40 MB got 0.5 MB
 * - so below SHIM_MEM_LIMIT_MIN the recorder does not record. */
static int memory_limits_ok(void)
{
	static const struct { int res; const char *name; } lims[] = {
		{ RLIMIT_AS, "address-space limit (RLIMIT_AS " },
		{ RLIMIT_DATA, "data limit (RLIMIT_DATA " },
	};
	for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++) {
		struct rlimit rl;
		if (getrlimit(lims[i].res, &rl) != 0 ||
		    shim_mem_limit_ok(rl.rlim_cur))
			continue;
		char kib[24];
		shim_log("the ", lims[i].name,
			 shim_utoa(rl.rlim_cur / 1024, kib), " KiB) is too low "
			 "for the recorder's tables; not recording", NULL);
		return -ENOMEM;
	}
	return 0;
}

int shim_start(void)
{
	if (getauxval(AT_SECURE))
		return -EPERM;
	struct shim_thread *t = &shim_tls;
	const char *out = getenv("RCPROF_OUT");
	if (!out || !*out)
		out = "rcprof.%p.bin";
	if (out[0] == '/') {
		if (strlen(out) >= sizeof(shim_g.pattern))
			return -ENAMETOOLONG;
		strcpy(shim_g.pattern, out);
	} else {
		/* Absolute, so forked children that chdir() still write
		 * next to their parent, and PARENT records are usable. */
		if (!getcwd(shim_g.pattern, sizeof(shim_g.pattern) - 1))
			return -errno;
		size_t cl = strlen(shim_g.pattern);
		if (cl + 1 + strlen(out) >= sizeof(shim_g.pattern))
			return -ENAMETOOLONG;
		if (cl > 1)
			shim_g.pattern[cl++] = '/';
		strcpy(shim_g.pattern + cl, out);
	}
	shim_g.depth = (uint32_t)env_u64("RCPROF_DEPTH", SHIM_DEPTH_DEFAULT, 0,
					 SHIM_DEPTH_MAX);
	shim_g.ring_bytes = env_u64("RCPROF_RING_KB", SHIM_RING_KB_DEFAULT, 1,
				    4u << 20) * 1024;
	shim_g.free_stacks = (int)env_u64("RCPROF_FREE_STACKS", 0, 0, 1);
	shim_g.release_depth = (uint32_t)env_u64("RCPROF_RELEASE_DEPTH",
						 SHIM_RELEASE_DEPTH_DEFAULT, 0,
						 SHIM_DEPTH_MAX);
	if (shim_g.release_depth > shim_g.depth)
		shim_g.release_depth = shim_g.depth;
	int rc = memory_limits_ok();
	if (rc)
		return rc;
	shim_clock_init();
	shim_g.start_ts = shim_now();
	rc = shim_intern_init(&shim_g.stacks, 20);
	if (!rc)
		rc = shim_intern_init(&shim_g.strings, 16);
	if (!rc)
		rc = shim_addrset_init(&shim_g.suspect_objs, 16);
	if (!rc)
		rc = open_recording(0, 0, NULL);
	if (rc) {
		/* Not recording: give the program its address space back. */
		shim_intern_destroy(&shim_g.stacks);
		shim_intern_destroy(&shim_g.strings);
		shim_addrset_destroy(&shim_g.suspect_objs);
		return rc;
	}
	shim_modules_set_exe(shim_g.exe);
	t->internal++;
	shim_unwind_init();
	shim_sc_init((int)env_u64("RCPROF_STACK_CACHE", 1, 0, 3));
	shim_g.key_ok = pthread_key_create(&shim_g.key, seal_dying_thread) == 0;
	t->internal--;
	atomic_store_release(&shim_g.on, 1);

	int lvl = shim_enter(t);
	if (lvl == 0)
		shim_rec_modules(t, 0);
	shim_leave(t);
	const char *sus = getenv("RCPROF_SUSPECT");
	while (sus && *sus) {
		const char *comma = strchr(sus, ',');
		size_t len = comma ? (size_t)(comma - sus) : strlen(sus);
		add_suspect(t, sus, len);
		sus = comma ? comma + 1 : NULL;
	}
	return 0;
}

/* The full drain: sealed slots, the committed part of every owned slot,
 * then END.  After it, every event is drained as soon as it is written
 * (ring.finalized), and the ring file is gone: the dump alone is the
 * recording (after a fatal signal's END nothing more is recorded: the
 * process is about to die).  If the drain flag cannot be had (this
 * thread holds it: we are the handler of a fault that interrupted a
 * drain; other signals wait for the drain, see hook_signal.c), the ring
 * file stays for the reader. */
void shim_finish(int how, int status, int in_signal)
{
	if (!atomic_load_relaxed(&shim_g.on) || getpid() != shim_g.pid)
		return;
	struct shim_thread *t = &shim_tls;
	if (!in_signal && t->depth == 0 && t->internal == 0) {
		int lvl = shim_enter(t);
		if (lvl == 0)
			shim_rec_modules(t, 0);
		shim_leave(t);
	}
	t->depth++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	struct shim_ring *r = &shim_g.ring;
	uint64_t timeout = in_signal ? 2000000000ull : 30000000000ull;
	if (shim_ring_lock(r, timeout) == 0) {
		/* The counts first: other threads may still be recording (a
		 * fatal signal, exit with threads running), and END must not
		 * count an event the dump does not hold.  Every event counted
		 * now is committed in a slot that is SEALED (and stays so:
		 * only we drain) or OWNED (its committed prefix, copied below,
		 * holds it).  The second drain takes the slots sealed while we
		 * copied; a prefix copied twice is deduplicated by the reader
		 * (it keeps the longest copy of a chunk). */
		struct rcp_rec_end e;
		memset(&e, 0, sizeof(e));
		shim_ring_counts(r, e.counts);
		shim_ring_drain_sealed_locked(r);
		shim_ring_copy_owned_locked(r);
		shim_ring_drain_sealed_locked(r);
		e.how = (uint32_t)how;
		e.status = status;
		e.ts = shim_now_real();
		struct iovec part = { &e, sizeof(e) };
		int rc = shim_ring_write_record_locked(r, RCP_REC_END, &part, 1);
		/* A fatal signal: the process dies as soon as the handler
		 * returns, while other threads run on until then.  They stop
		 * recording here (a drain they started after END would be cut
		 * short by the death, see shim_ev_commit_slow). */
		if (in_signal) {
			atomic_store_relaxed(&r->finalized, SHIM_RING_CLOSED);
			atomic_store_release(&shim_g.on, 0);
		}
		shim_ring_unlock(r);
		shim_ring_try_drain(r);
		if (rc == 0 && !shim_g.ring_unlinked) {
			shim_ring_mark_done(r, 1);
			unlink(shim_g.ring_path);
			shim_g.ring_unlinked = 1;
		}
	}
	uint32_t open = SHIM_RING_OPEN;
	atomic_cas_relaxed(&r->finalized, &open, SHIM_RING_FINAL);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (!in_signal)
		shim_sc_report(t);
	t->depth--;
}

void shim_exec_failed(void)
{
	if (!atomic_load_relaxed(&shim_g.on) || getpid() != shim_g.pid)
		return;
	/* Keep recording in chunks again.  The ring file is gone, so a crash
	 * from now on loses the undrained part; or, where it could not be
	 * removed, it is the crash's record again. */
	shim_ring_mark_done(&shim_g.ring, 0);
	atomic_store_relaxed(&shim_g.ring.finalized, SHIM_RING_OPEN);
}

void shim_fork_prepare(void)
{
	shim_g.fork_ts = shim_now();
	shim_g.fork_tid = shim_tls.tid ? shim_tls.tid : (uint32_t)gettid();
}

/* In a forked child: let go of the parent's ring (shared with the
 * parent) and stop recording; the dump's descriptor is closed unless the
 * child shares the parent's descriptor table. */
static void leave_parent_ring(int close_dump)
{
	struct shim_ring *r = &shim_g.ring;
	munmap(r->map, r->map_len);
	if (close_dump)
		shim_fd_close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	atomic_store_relaxed(&shim_g.on, 0);
}

/* A child that shares the parent's descriptor table (clone with
 * CLONE_FILES but not CLONE_VM): it must not close the parent's dump, nor
 * write into the parent's ring.  It records nothing. */
void shim_fork_child_unrecorded(void)
{
	if (atomic_load_relaxed(&shim_g.on))
		leave_parent_ring(0);
}

void shim_fork_child(void)
{
	if (!atomic_load_relaxed(&shim_g.on))
		return;
	struct shim_thread *t = &shim_tls;
	if (atomic_load_relaxed(&shim_g.no_fork_recording)) {
		/* A seccomp filter would refuse the child's set-up: it does
		 * not record, and makes no call to find out. */
		atomic_store_relaxed(&shim_g.on, 0);
		return;
	}
	static char parent_path[SHIM_PATH_MAX];
	uint32_t ppid = (uint32_t)shim_g.pid;
	memcpy(parent_path, shim_g.dump_path, sizeof(parent_path));
	leave_parent_ring(1);
	shim_clock_fork_child();
	t->tid = (uint32_t)gettid();
	t->parent_tid = shim_g.fork_tid;
	t->started = 0;
	t->started1 = 0;
	t->last_block = NULL;
	t->last_stack = 0;
	t->last_rc_free = NULL;
	memset(t->lost2, 0, sizeof(t->lost2));
	t->nlost2 = 0;
	shim_stream_init(&t->st[0], t->tid, 0);
	shim_stream_init(&t->st[1], t->tid, 1);
	/* A fixed RCPROF_OUT would collide with the parent's dump. */
	if (!strstr(shim_g.pattern, "%p")) {
		size_t l = strlen(shim_g.pattern);
		if (l + 4 < sizeof(shim_g.pattern))
			memcpy(shim_g.pattern + l, ".%p", 4);
	}
	shim_g.exit_how = 0;
	shim_g.exit_status = 0;
	if (open_recording(ppid, shim_g.fork_ts, parent_path) == 0)
		atomic_store_release(&shim_g.on, 1);
}
