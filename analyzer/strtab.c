/* strtab.c - canonical strings (see strtab.h).  Both maps are uthash
 * tables: strings are few (types, labels, module paths), and entries live
 * until the end of the analysis. */
#include <errno.h>
#include <stdlib.h>
#include <uthash.h>

#include "strtab.h"
#include "util.h"

struct rcp_strtab_raw {
	uint64_t raw;
	uint32_t canon;
	UT_hash_handle hh;
};

struct rcp_strtab_name {
	const char *name;       /* == ents[canon].name */
	uint32_t canon;
	UT_hash_handle hh;
};

void rcp_strtab_init(struct rcp_strtab *t)
{
	memset(t, 0, sizeof(*t));
}

void rcp_strtab_free(struct rcp_strtab *t)
{
	struct rcp_strtab_raw *r, *rt;
	struct rcp_strtab_name *n, *nt;

	HASH_ITER(hh, t->raw, r, rt) {
		HASH_DEL(t->raw, r);
		free(r);
	}
	HASH_ITER(hh, t->names, n, nt) {
		HASH_DEL(t->names, n);
		free(n);
	}
	for (size_t i = 1; i < t->n; i++)      /* ents[0] is unused */
		free(t->ents[i].name);
	free(t->ents);
	memset(t, 0, sizeof(*t));
}

/* A new canonical id, 0 on -ENOMEM. */
static uint32_t new_ent(struct rcp_strtab *t)
{
	if (t->n == 0)
		t->n = 1;       /* id 0 = none */
	if (t->n >= UINT32_MAX || rcp_grow(&t->ents, &t->cap, t->n, sizeof(*t->ents)))
		return 0;
	memset(&t->ents[t->n], 0, sizeof(t->ents[0]));
	return (uint32_t)t->n++;
}

static struct rcp_strtab_raw *raw_get(struct rcp_strtab *t, uint64_t raw)
{
	struct rcp_strtab_raw *r;
	HASH_FIND(hh, t->raw, &raw, sizeof(raw), r);
	return r;
}

/* Canonical id for a name; creates it (named) when new.  0 on -ENOMEM. */
static uint32_t by_name(struct rcp_strtab *t, const char *s, size_t len,
			uint32_t reuse)
{
	struct rcp_strtab_name *n;

	HASH_FIND(hh, t->names, s, len, n);
	if (n)
		return n->canon;
	uint32_t id = reuse ? reuse : new_ent(t);
	if (!id)
		return 0;
	char *copy = strndup(s, len);
	n = calloc(1, sizeof(*n));
	if (!copy || !n) {
		free(copy);
		free(n);
		return 0;
	}
	t->ents[id].name = copy;
	t->ents[id].hash = rcp_fnv(RCP_FNV_INIT, copy, len);
	n->name = copy;
	n->canon = id;
	HASH_ADD_KEYPTR(hh, t->names, n->name, len, n);
	return id;
}

int rcp_strtab_define(struct rcp_strtab *t, uint64_t raw, const void *s,
		      size_t len)
{
	if (raw == 0)
		return 0;
	if (len > RCP_STRING_MAX)
		len = RCP_STRING_MAX;
	/* names are C strings: stop at an embedded NUL */
	const char *nul = memchr(s, 0, len);
	if (nul)
		len = (size_t)(nul - (const char *)s);

	struct rcp_strtab_raw *r = raw_get(t, raw);
	if (r && t->ents[r->canon].name == NULL && t->ents[r->canon].alias == 0) {
		/* pending: name it, or alias it to the existing id */
		struct rcp_strtab_name *n;
		HASH_FIND(hh, t->names, s, len, n);
		if (n) {
			t->ents[r->canon].alias = n->canon;
			return 0;
		}
		return by_name(t, s, len, r->canon) ? 0 : -ENOMEM;
	}
	uint32_t id = by_name(t, s, len, 0);
	if (!id)
		return -ENOMEM;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		r->raw = raw;
		HASH_ADD(hh, t->raw, raw, sizeof(r->raw), r);
	}
	r->canon = id;          /* a redefinition wins from now on */
	return 0;
}

uint32_t rcp_strtab_canon(struct rcp_strtab *t, uint64_t raw)
{
	if (raw == 0)
		return 0;
	struct rcp_strtab_raw *r = raw_get(t, raw);
	if (r)
		return r->canon;
	uint32_t id = new_ent(t);
	if (!id)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return 0;
	r->raw = raw;
	r->canon = id;
	HASH_ADD(hh, t->raw, raw, sizeof(r->raw), r);
	return id;
}

uint32_t rcp_strtab_resolve(const struct rcp_strtab *t, uint32_t id)
{
	/* aliases point to named entries, never to other aliases */
	if (id && id < t->n && t->ents[id].alias)
		id = t->ents[id].alias;
	return id < t->n ? id : 0;
}

const char *rcp_strtab_name(const struct rcp_strtab *t, uint32_t id)
{
	id = rcp_strtab_resolve(t, id);
	return id ? t->ents[id].name : NULL;
}

uint64_t rcp_strtab_hash(const struct rcp_strtab *t, uint32_t id)
{
	id = rcp_strtab_resolve(t, id);
	return id ? t->ents[id].hash : 0;
}
