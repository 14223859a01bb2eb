/* record.c - encoding each kind of event into the calling thread's stream.
 *
 * Called by the hooks between shim_enter and shim_leave, with the level
 * shim_enter returned.  Only level-0 code touches stream 0 and only
 * level-1 code touches stream 1, so a stream never has two writers even
 * when a signal handler records in the middle of an event.  Level 0 also
 * does the housekeeping: the THREAD event of a new thread, LOST reports,
 * and module rescans after dlopen/dlclose.
 */
#include <string.h>
#include <unistd.h>

#include "record_body.h"

static struct shim_ring *R = &shim_g.ring;

static void emit_lost(struct shim_thread *t);

static void thread_start(struct shim_thread *t)
{
	if (!t->tid)
		t->tid = (uint32_t)gettid();
	shim_stream_init(&t->st[0], t->tid, 0);
	t->mod_seq = 0;
	t->started = 1;
	if (shim_g.key_ok)
		pthread_setspecific(shim_g.key, (void *)1);
	uint64_t ts = shim_now();
	uint8_t *w = shim_ev_begin(R, &t->st[0], RCP_EV_THREAD, ts, 32);
	w = shim_put_u(w, t->parent_tid);
	shim_ev_commit(R, &t->st[0], w);
}

/* stream_for's slow path: a new thread, lost events to report, a module
 * rescan, or a signal handler's level. */
static __attribute__((noinline)) struct shim_stream *
stream_for_slow(struct shim_thread *t, int lvl, unsigned kind)
{
	if (shim_likely(lvl == 0)) {
		if (shim_unlikely(!t->started))
			thread_start(t);
		if (shim_unlikely(t->nlost2 | t->st[0].nlost | t->st[1].nlost))
			emit_lost(t);
		if (shim_unlikely(atomic_load_relaxed(&shim_dl_gen) !=
				  atomic_load_relaxed(&shim_g.dl_scanned)))
			shim_rec_modules(t, 0);
		return &t->st[0];
	}
	if (lvl == 1) {
		if (shim_unlikely(!t->started1)) {
			if (!t->tid)
				t->tid = (uint32_t)gettid();
			shim_stream_init(&t->st[1], t->tid, 1);
			t->started1 = 1;
		}
		return &t->st[1];
	}
	atomic_add_relaxed(&t->lost2[kind], 1);
	atomic_add_relaxed(&t->nlost2, 1);
	return NULL;
}

/* The stream to record into, or NULL (level 2+: counted as lost).  Inline:
 * every event asks, and an allocation twice. */
static inline struct shim_stream *stream_for(struct shim_thread *t, int lvl,
					     unsigned kind)
{
	if (shim_likely(lvl == 0 && t->started &&
			!(t->nlost2 | t->st[0].nlost | t->st[1].nlost) &&
			atomic_load_relaxed(&shim_dl_gen) ==
			atomic_load_relaxed(&shim_g.dl_scanned)))
		return &t->st[0];
	return stream_for_slow(t, lvl, kind);
}

void shim_module_housekeeping(struct shim_thread *t)
{
	t->mod_seq = t->st[0].seq;
	if (shim_modules_changed())
		shim_rec_modules(t, 0);
}

static void emit_lost(struct shim_thread *t)
{
	struct shim_stream *s = &t->st[0];
	atomic_store_relaxed(&t->nlost2, 0);
	atomic_store_relaxed(&t->st[0].nlost, 0);
	atomic_store_relaxed(&t->st[1].nlost, 0);
	for (unsigned k = 0; k < RCP_EV__COUNT; k++) {
		uint64_t n = atomic_exchange_seq_cst(&t->lost2[k], 0);
		n += atomic_exchange_seq_cst(&t->st[0].lost[k], 0);
		n += atomic_exchange_seq_cst(&t->st[1].lost[k], 0);
		if (!n)
			continue;
		uint8_t *w = shim_ev_begin(R, s, RCP_EV_LOST, shim_now(), 32);
		w = shim_put_u(w, k);
		w = shim_put_u(w, n);
		shim_ev_commit(R, s, w);
	}
}

/* ---- interning ---------------------------------------------------------- */

/* The stamp of a STACK or STRING definition: the stream's last one.  A
 * definition needs no time of its own (it comes before its first use in
 * the stream all the same), and a fresh stamp would push the event being
 * recorded - a release stamped before its decrement - past it. */
static uint64_t def_ts(const struct shim_stream *s)
{
	return s->prev_ts ? s->prev_ts : shim_now();
}

/* Does str hold text (NUL-terminated)?  Stops at the first difference,
 * so it never reads past str's own end. */
static inline int same_text(const char *str, const char *text)
{
	for (size_t i = 0;; i++) {
		if (str[i] != text[i])
			return 0;
		if (!text[i])
			return 1;
	}
}

static uint32_t intern_string(struct shim_stream *s, const char *str)
{
	if (!str)
		return 0;
	/* Memoized by address and checked by text: a string rewritten in
	 * place, or another one at a reused address, misses. */
	struct shim_str_memo *m =
		&s->strs[((uintptr_t)str >> 3) % SHIM_STR_MEMO];
	if (m->ptr == str && same_text(str, m->text))
		return m->id;
	size_t len = strnlen(str, SHIM_STRING_MAX);
	int is_new;
	uint32_t id = shim_intern_get(&shim_g.strings,
				      shim_hash_bytes(str, len), &is_new);
	if (is_new) {
		uint8_t *w = shim_ev_begin(R, s, RCP_EV_STRING, def_ts(s),
					   32 + len);
		w = shim_put_u(w, id);
		w = shim_put_u(w, len);
		memcpy(w, str, len);
		shim_ev_commit(R, s, w + len);
	}
	/* Overflow ids (past the table) are defined at every use. */
	if (id <= shim_g.strings.cap && len < sizeof(m->text)) {
		m->ptr = str;
		m->id = id;
		memcpy(m->text, str, len);
		m->text[len] = 0;
	}
	return id;
}

/* Interns n frames; the thread that adds a stack emits its definition. */
static uint32_t intern_stack(void *ctx, void **ips, int n)
{
	struct shim_stream *s = ctx;
	if (n <= 0)
		return 0;
	int is_new;
	uint32_t id = shim_intern_get(&shim_g.stacks, shim_hash_ips(ips, n),
				      &is_new);
	if (is_new) {
		uint8_t *w = shim_ev_begin(R, s, RCP_EV_STACK, def_ts(s),
					   32 + (size_t)n * RCP_VARINT_MAX);
		w = shim_put_u(w, id);
		w = shim_put_u(w, (uint64_t)n);
		uint64_t prev = 0;
		for (int i = 0; i < n; i++) {
			uint64_t ip = (uint64_t)(uintptr_t)ips[i];
			w = shim_put_s(w, (int64_t)(ip - prev));
			prev = ip;
		}
		shim_ev_commit(R, s, w);
	}
	return id;
}

/* RCPROF_STACK_CACHE=3: the stack the unwinder gives at the point where
 * the cache answered cached_id (the same stack interns to the same id;
 * a race between threads can give one stack two ids, which single-thread
 * test programs do not have). */
static __attribute__((noinline)) uint32_t
verified(struct shim_thread *t, struct shim_stream *s, uint32_t depth,
	 uint32_t cached_id)
{
	void *ips[SHIM_DEPTH_MAX];
	uint32_t id = intern_stack(s, ips, shim_backtrace(ips, (int)depth));
	shim_sc_checked(t, id == cached_id);
	return id;
}

/* The stack id of the capture r (NULL: none) that the stack cache could
 * not answer: a fill of the cache, or the unwinder from here.  The frame
 * r was captured in is live. */
static __attribute__((noinline)) uint32_t
capture_unwind(struct shim_thread *t, struct shim_stream *s, uint32_t depth,
	       const struct shim_regs *r)
{
	void *ips[SHIM_DEPTH_MAX];
	uint32_t id;
	if (r && shim_sc_fill(t, r, depth, ips, intern_stack, s, &id))
		return id;
	return intern_stack(s, ips, shim_backtrace(ips, (int)depth));
}

/* The stack cache's answer id: checked against an unwind in mode 3. */
static inline uint32_t cache_answer(struct shim_thread *t,
				    struct shim_stream *s, uint32_t depth,
				    uint32_t id)
{
	if (shim_unlikely(shim_sc_verify))
		return verified(t, s, depth, id);
	return id;
}

/* The stack id of the current call site, at most depth frames.  Level 0
 * asks the stack cache first (stack_cache.c); the registers are captured
 * here, so this frame must stay live while the cache unwinds from it.
 * point names the hook that asks (a return address in it): hooks reach
 * this capture through frames of different sizes, and the cache keeps
 * their call chains apart. */
static __attribute__((noinline)) uint32_t
capture_deep(struct shim_thread *t, int lvl, struct shim_stream *s,
	     uint32_t depth, const void *point)
{
	if (lvl == 0 && t->stack_hi && depth) {
		struct shim_regs regs;
		uint32_t id;
		SHIM_CAPTURE_REGS(&regs);
		regs.point = (uint64_t)(uintptr_t)point;
		if (shim_sc_lookup(t, &regs, depth, &id))
			return cache_answer(t, s, depth, id);
		return capture_unwind(t, s, depth, &regs);
	}
	return capture_unwind(t, s, depth, NULL);
}

/* Room for an unwind below the current frame (see shim_capture_stack_n). */
static inline int capture_room(const struct shim_thread *t)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	return !(sp >= t->stk_lo && sp < t->stk_hi &&
		 sp - t->stk_lo < SHIM_CAPTURE_ROOM);
}

/* Too close to the end of the thread's stack for an unwind (ours and
 * libunwind's frames take several KB): no backtrace rather than a crash
 * of a program whose threads have small stacks.  Checked before
 * capture_deep's own frame (1.2 KB) is entered. */
__attribute__((noinline)) uint32_t
shim_capture_stack_n(struct shim_thread *t, int lvl, struct shim_stream *s,
		     uint32_t depth, const void *point)
{
	if (shim_unlikely(!capture_room(t)))
		return 0;
	return capture_deep(t, lvl, s, depth, point);
}

static inline uint32_t capture_stack(struct shim_thread *t, int lvl,
				     struct shim_stream *s, const void *point)
{
	return shim_capture_stack_n(t, lvl, s, shim_g.depth, point);
}

/* ---- heap ----------------------------------------------------------------- */

/* Taken before the allocation: the stack cache's lookup ends in loads
 * of a record that often miss the cache, and the real allocator's work
 * then overlaps them.  Same frames either way: the hook's caller has not
 * returned. */
uint32_t shim_heap_call_stack(struct shim_thread *t, int lvl)
{
	if (lvl > 1)
		return 0;       /* stream_for would count a lost event */
	return capture_stack(t, lvl, stream_for(t, lvl, RCP_EV_MALLOC),
			     __builtin_return_address(0));
}

int shim_heap_stack_begin(struct shim_thread *t, struct shim_heap_capture *c)
{
	if (!t->started || !t->stack_hi || !shim_g.depth)
		return 0;
	stream_for(t, 0, RCP_EV_MALLOC);        /* modules first, as ever */
	shim_sc_begin(t, &c->regs, shim_g.depth, &c->probe);
	return 1;
}

uint32_t shim_heap_stack_end(struct shim_thread *t,
			     struct shim_heap_capture *c)
{
	if (shim_unlikely(!capture_room(t)))
		return 0;
	struct shim_stream *s = stream_for(t, 0, RCP_EV_MALLOC);
	uint32_t id;
	if (shim_sc_end(t, &c->regs, &c->probe, &id))
		return cache_answer(t, s, shim_g.depth, id);
	return capture_unwind(t, s, shim_g.depth, &c->regs);
}

void shim_rec_alloc(struct shim_thread *t, int lvl, void *p, size_t n,
		    unsigned flavor, uint32_t stack)
{
	struct shim_stream *s = stream_for(t, lvl, RCP_EV_MALLOC);
	if (!s)
		return;
	if (lvl == 0) {
		t->last_block = p;
		t->last_stack = stack;
	}
	uint8_t *w = shim_ev_begin(R, s, RCP_EV_MALLOC, shim_now_alloc(), 48);
	w = shim_put_addr(s, w, (uintptr_t)p);
	w = shim_put_u(w, n);
	w = shim_put_u(w, stack);
	w = shim_put_u(w, flavor);
	shim_ev_commit(R, s, w);
	shim_after_event(t, lvl, s);
}

/* librc frees an object's block right after reporting its RC_FREE: the
 * block starts at most this far before the object (its header). */
#define RC_HEADER_MAX 256u

void shim_rec_free(struct shim_thread *t, int lvl, void *p, uint32_t stack)
{
	unsigned kind = stack ? RCP_EV_FREE_STACK : RCP_EV_FREE;
	if (p == t->last_block)
		t->last_block = NULL;   /* see shim_rec_rc_new */
	struct shim_stream *s = stream_for(t, lvl, kind);
	if (!s)
		return;
	/* The block of the object whose RC_FREE this stream recorded last:
	 * that stamp was taken before this block is released, and after all
	 * this free depends on (nothing ran in between but librc's return),
	 * so the free shares it instead of reading the TSC again. */
	uint64_t ts;
	if (lvl == 0 && t->last_rc_free && s->kind == RCP_EV_RC_FREE &&
	    (uintptr_t)t->last_rc_free - (uintptr_t)p < RC_HEADER_MAX)
		ts = s->prev_ts;
	else
		ts = shim_now_before_release();
	if (lvl == 0)
		t->last_rc_free = NULL;
	uint8_t *w = shim_ev_begin(R, s, kind, ts, 40);
	w = shim_put_addr(s, w, (uintptr_t)p);
	if (stack)
		w = shim_put_u(w, stack);
	shim_ev_commit(R, s, w);
	shim_after_event(t, lvl, s);
}

void shim_rec_realloc(struct shim_thread *t, int lvl, void *old,
		      uint64_t ts_before, void *p, size_t n, uint32_t stack)
{
	if (old == t->last_block)
		t->last_block = NULL;
	struct shim_stream *s = stream_for(t, lvl, RCP_EV_REALLOC_TO);
	if (!s) {
		if (lvl > 1) {
			atomic_add_relaxed(&t->lost2[RCP_EV_REALLOC_FROM], 1);
			atomic_add_relaxed(&t->nlost2, 1);
		}
		return;
	}
	/* Reserve room for both so they land in the same chunk. */
	uint8_t *w = shim_ev_begin(R, s, RCP_EV_REALLOC_FROM, ts_before, 96);
	w = shim_put_addr(s, w, (uintptr_t)old);
	shim_ev_commit(R, s, w);
	w = shim_ev_begin(R, s, RCP_EV_REALLOC_TO, shim_now_alloc(), 48);
	w = shim_put_addr(s, w, (uintptr_t)p);
	w = shim_put_u(w, n);
	w = shim_put_u(w, stack);
	shim_ev_commit(R, s, w);
	shim_after_event(t, lvl, s);
}

/* ---- reference counts ------------------------------------------------------ */

void shim_rec_rc_new(struct shim_thread *t, int lvl, const void *obj,
		     const void *block, size_t size, const char *type,
		     long count, int from_note, int own_block)
{
	unsigned kind = own_block ? RCP_EV_RC_NEW_BLOCK : RCP_EV_RC_NEW;
	struct shim_stream *s = stream_for(t, lvl, kind);
	if (!s)
		return;
	uint32_t stack;
	/* librc's rc_new without block_alloc (an older librc): the object's
	 * block is the one this thread's last recorded allocation obtained
	 * (and it has not freed it since), and that calloc captured the
	 * stack.  Its stamp is not fenced (shim_now_alloc), so the object
	 * takes its own.  Every creation is stamped here, fenced, after the
	 * block was obtained. */
	int last_block = lvl == 0 && block && !own_block && block == t->last_block;
	if (last_block && t->last_stack)
		stack = t->last_stack;  /* librc's calloc just captured it */
	else
		stack = capture_stack(t, lvl, s, __builtin_return_address(0));
	uint32_t tid = intern_string(s, type);
	uint64_t header = block && block != obj ?
		(uint64_t)((uintptr_t)obj - (uintptr_t)block) : 0;
	if (from_note && atomic_load_acquire(&shim_g.nsuspect) &&
	    shim_is_suspect_type(type))
		shim_addrset_add(&shim_g.suspect_objs, (uintptr_t)obj);
	uint8_t *w = shim_ev_begin(R, s, kind, shim_now(), 72);
	w = shim_put_addr(s, w, (uintptr_t)obj);
	w = shim_put_u(w, size);
	w = shim_put_u(w, tid);
	w = shim_put_s(w, count);
	w = shim_put_u(w, stack);
	w = shim_put_u(w, header);
	shim_ev_commit(R, s, w);
	shim_after_event(t, lvl, s);
}

void shim_rec_rc_count(struct shim_thread *t, int lvl, unsigned kind,
		       const void *obj, int64_t count_after, uint32_t depth,
		       uint64_t ts)
{
	struct shim_stream *s = stream_for(t, lvl, kind);
	if (s)
		shim_body_rc_count(t, lvl, s, kind, obj, count_after, depth,
				   ts, __builtin_return_address(0));
}

void shim_rec_rc_free(struct shim_thread *t, int lvl, const void *obj,
		      const void *block)
{
	struct shim_stream *s = stream_for(t, lvl, block ? RCP_EV_RC_FREE_BLOCK :
						       RCP_EV_RC_FREE);
	if (s)
		shim_body_rc_free(t, lvl, s, obj, block);
}

void shim_rec_edge(struct shim_thread *t, int lvl, const void *owner,
		   const void *slot, const void *target)
{
	struct shim_stream *s = stream_for(t, lvl, RCP_EV_EDGE);
	if (s)
		shim_body_edge(t, lvl, s, owner, slot, target);
}

/* SUSPECT and SNAPSHOT: one interned string. */
void shim_rec_string_event(struct shim_thread *t, int lvl, unsigned kind,
			   const char *str)
{
	struct shim_stream *s = stream_for(t, lvl, kind);
	if (!s)
		return;
	uint32_t id = intern_string(s, str ? str : "");
	uint8_t *w = shim_ev_begin(R, s, kind, shim_now(), 32);
	w = shim_put_u(w, id);
	shim_ev_commit(R, s, w);
	shim_after_event(t, lvl, s);
}

/* FORK, SIGNAL, THREAD, MODULE_UNMAP: one unsigned field.  SIGNAL is
 * recorded from a signal handler, so it skips the level-0 housekeeping. */
void shim_rec_u(struct shim_thread *t, int lvl, unsigned kind, uint64_t v)
{
	struct shim_stream *s;
	if (kind == RCP_EV_SIGNAL && lvl == 0) {
		if (!t->started) {
			if (!t->tid)
				t->tid = (uint32_t)gettid();
			shim_stream_init(&t->st[0], t->tid, 0);
			t->started = 1;
		}
		s = &t->st[0];
	} else {
		s = stream_for(t, lvl, kind);
	}
	if (!s)
		return;
	uint8_t *w = shim_ev_begin(R, s, kind, shim_now(), 32);
	w = shim_put_u(w, v);
	shim_ev_commit(R, s, w);
	if (kind != RCP_EV_SIGNAL)
		shim_after_event(t, lvl, s);
}

/* ---- modules ------------------------------------------------------------------ */

static void on_module(void *ctx, const struct shim_module *m)
{
	struct shim_stream *s = ctx;
	uint32_t path = intern_string(s, m->path);
	uint8_t *w = shim_ev_begin(R, s, RCP_EV_MODULE, shim_now(), 512);
	w = shim_put_u(w, m->base);
	w = shim_put_u(w, path);
	w = shim_put_u(w, m->build_id_len);
	memcpy(w, m->build_id, m->build_id_len);
	w += m->build_id_len;
	w = shim_put_u(w, m->nseg);
	for (uint32_t i = 0; i < m->nseg; i++) {
		w = shim_put_u(w, m->seg_vaddr[i]);
		w = shim_put_u(w, m->seg_memsz[i]);
	}
	shim_ev_commit(R, s, w);
}

static void on_unmap(void *ctx, uint64_t base)
{
	struct shim_stream *s = ctx;
	uint8_t *w = shim_ev_begin(R, s, RCP_EV_MODULE_UNMAP, shim_now(), 32);
	w = shim_put_u(w, base);
	shim_ev_commit(R, s, w);
}

void shim_rec_modules(struct shim_thread *t, int lvl)
{
	if (lvl != 0)
		return;         /* the loader lock is not for signal handlers */
	if (!t->started)
		thread_start(t);
	uint64_t gen = atomic_load_relaxed(&shim_dl_gen);
	if (shim_modules_scan(on_module, on_unmap, &t->st[0]) == 0)
		atomic_store_relaxed(&shim_g.dl_scanned, gen);
	t->mod_seq = t->st[0].seq;
}
