/* ring_stress.c - the ring under many producers, for ThreadSanitizer.
 *
 * 4 producers write numbered events through a tiny ring (16 slots of
 * 4 KiB), so they constantly run out of slots, drain for each other and
 * wait; a 5th thread keeps taking the drain flag and copying the owned
 * slots' committed prefixes, as the exit path does while other threads
 * still run.  At the end every producer's events must be in the dump,
 * complete, in order, and the END-style counters must match.
 *
 *   make tsan   (builds build/ring-stress-tsan with -fsanitize=thread)
 * Exit 0 on success.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim.h"
#include "../unit/shim_readback.h"

#define NPROD 4
#define NEVENTS 150000

static struct shim_ring ring;
static int stop_copier;          /* atomic */

struct producer {
	uint32_t tid;
	struct shim_stream *s;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	p->s = calloc(1, sizeof(*p->s));
	shim_stream_init(p->s, p->tid, 0);
	for (uint64_t i = 0; i < NEVENTS; i++) {
		uint8_t *w = shim_ev_begin(&ring, p->s, RCP_EV_SNAPSHOT, shim_now(),
					   32 + (i % 7) * 100);
		w = shim_put_u(w, i);
		shim_ev_commit(&ring, p->s, w);
	}
	shim_stream_seal(&ring, p->s);
	return NULL;
}

static void *copier(void *arg)
{
	(void)arg;
	while (!atomic_load_acquire(&stop_copier)) {
		if (shim_ring_lock(&ring, 0) == 0) {
			shim_ring_drain_sealed_locked(&ring);
			shim_ring_copy_owned_locked(&ring);
			shim_ring_unlock(&ring);
		}
		usleep(200);
	}
	return NULL;
}

int main(void)
{
	char path[] = "/tmp/rcprof-ring-stress.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || shim_dump_write_header(fd, 1) != 0) {
		perror("dump");
		return 1;
	}
	uint32_t nslots, slot;
	shim_ring_geometry(16 * 4096, &nslots, &slot);
	size_t len = shim_ring_bytes(nslots, slot);
	void *map = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	shim_ring_init(&ring, map, nslots, slot, (uint32_t)getpid(), fd);

	pthread_t th[NPROD], cp;
	struct producer p[NPROD];
	pthread_create(&cp, NULL, copier, NULL);
	for (int i = 0; i < NPROD; i++) {
		p[i].tid = 1000 + (uint32_t)i;
		pthread_create(&th[i], NULL, produce, &p[i]);
	}
	for (int i = 0; i < NPROD; i++)
		pthread_join(th[i], NULL);
	atomic_store_release(&stop_copier, 1);
	pthread_join(cp, NULL);
	if (shim_ring_lock(&ring, 0) == 0) {
		shim_ring_drain_sealed_locked(&ring);
		shim_ring_copy_owned_locked(&ring);
		shim_ring_unlock(&ring);
	}
	uint64_t counts[32];
	shim_ring_counts(&ring, counts);

	struct rb_dump d;
	int fails = 0;
	if (rb_load(path, &d) != 0 || d.bad) {
		fprintf(stderr, "ring_stress: cannot read back the dump\n");
		return 1;
	}
	for (int i = 0; i < NPROD; i++) {
		struct rb_expect e = { 0, 0, 0 };
		long n = rb_walk_values(&d, p[i].tid, 0, rb_check_next, &e);
		if (n != NEVENTS || e.bad) {
			fprintf(stderr, "ring_stress: producer %d: %ld events (want %d), "
				"%ld out of order\n", i, n, NEVENTS, e.bad);
			fails++;
		}
		free(p[i].s);
	}
	if (counts[RCP_EV_SNAPSHOT] != (uint64_t)NPROD * NEVENTS) {
		fprintf(stderr, "ring_stress: counted %llu events\n",
			(unsigned long long)counts[RCP_EV_SNAPSHOT]);
		fails++;
	}
	for (uint32_t i = 0; i < nslots; i++)
		if (shim_ring_slot(&ring, i)->state != RCP_SLOT_FREE) {
			fprintf(stderr, "ring_stress: slot %u not free at the end\n", i);
			fails++;
		}
	printf("ring_stress: %d producers x %d events, %zu chunk records: %s\n",
	       NPROD, NEVENTS, d.nchunks, fails ? "FAILED" : "ok");
	rb_free(&d);
	close(fd);
	unlink(path);
	return fails ? 1 : 0;
}
