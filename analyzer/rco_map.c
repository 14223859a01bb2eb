/* rco_map.c - open addressing with linear probing and backward-shift
 * deletion (see rco_map.h for why and for the invariants). */
#include <errno.h>
#include <stdlib.h>

#include "rco_map.h"
#include "util.h"

static size_t home(const struct rco_map *m, uint64_t key)
{
	return (size_t)rco_mix64(key) & (m->cap - 1);
}

void rco_map_free(struct rco_map *m)
{
	free(m->cells);
	*m = (struct rco_map){0};
}

uint64_t *rco_map_get(const struct rco_map *m, uint64_t key)
{
	if (key == 0)
		return m->has_zero ? (uint64_t *)&m->zero_val : NULL;
	if (!m->cap)
		return NULL;
	for (size_t i = home(m, key);; i = (i + 1) & (m->cap - 1)) {
		struct rco_map_cell *c = &m->cells[i];
		if (c->key == key)
			return &c->val;
		if (c->key == 0)
			return NULL;
	}
}

/* Insert into a table known to have room and not to hold key. */
static void insert_fresh(struct rco_map *m, uint64_t key, uint64_t val)
{
	size_t i = home(m, key);
	while (m->cells[i].key != 0)
		i = (i + 1) & (m->cap - 1);
	m->cells[i].key = key;
	m->cells[i].val = val;
}

static int grow(struct rco_map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	struct rco_map_cell *old = m->cells;
	size_t ocap = m->cap;
	struct rco_map_cell *cells = calloc(ncap, sizeof(*cells));
	if (!cells)
		return -ENOMEM;
	rcp_advise_huge(cells, ncap * sizeof(*cells));
	m->cells = cells;
	m->cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].key != 0)
			insert_fresh(m, old[i].key, old[i].val);
	free(old);
	return 0;
}

int rco_map_put(struct rco_map *m, uint64_t key, uint64_t val)
{
	if (key == 0) {
		if (!m->has_zero)
			m->n++;
		m->has_zero = 1;
		m->zero_val = val;
		return 0;
	}
	uint64_t *v = rco_map_get(m, key);
	if (v) {
		*v = val;
		return 0;
	}
	if ((m->n + 1) * 10 > m->cap * 7) {
		int err = grow(m);
		if (err)
			return err;
	}
	insert_fresh(m, key, val);
	m->n++;
	return 0;
}

int rco_map_del(struct rco_map *m, uint64_t key)
{
	if (key == 0) {
		if (!m->has_zero)
			return 0;
		m->has_zero = 0;
		m->n--;
		return 1;
	}
	if (!m->cap)
		return 0;
	size_t mask = m->cap - 1, i = home(m, key);
	while (m->cells[i].key != key) {
		if (m->cells[i].key == 0)
			return 0;
		i = (i + 1) & mask;
	}
	/* Backward shift: pull later members of the run into the hole when
	 * the hole lies on the path from their home cell to where they are. */
	size_t hole = i;
	for (size_t j = (hole + 1) & mask; m->cells[j].key != 0; j = (j + 1) & mask) {
		size_t h = home(m, m->cells[j].key);
		/* cyclic distance home->j must be >= distance home->hole */
		if (((j - h) & mask) >= ((j - hole) & mask)) {
			m->cells[hole] = m->cells[j];
			hole = j;
		}
	}
	m->cells[hole].key = 0;
	m->cells[hole].val = 0;
	m->n--;
	return 1;
}
