/* strtab.h - STRING events: raw ids of the dump to canonical ids.
 *
 * Canonical ids are what rcobj and the report see: equal names have equal
 * canonical ids (content, not the recorder's id, decides), 0 = none.  A
 * raw id used before its STRING event (possible across threads) gets a
 * pending canonical id at once; when the name arrives the pending id is
 * named, or becomes an alias of the existing id with that name.
 */
#ifndef RCPROF_STRTAB_H
#define RCPROF_STRTAB_H

#include <stddef.h>
#include <stdint.h>

struct rcp_strtab_raw;
struct rcp_strtab_name;

struct rcp_strtab_ent {
	char *name;             /* NULL while pending */
	uint32_t alias;         /* nonzero: same string as this id */
	uint64_t hash;          /* of the name */
};

struct rcp_strtab {
	struct rcp_strtab_raw *raw;     /* raw id -> canonical */
	struct rcp_strtab_name *names;  /* name -> canonical */
	size_t n, cap;                  /* ents[0] unused */
	struct rcp_strtab_ent *ents;
};

#define RCP_STRING_MAX 4096     /* longer names are cut */

void rcp_strtab_init(struct rcp_strtab *t);
void rcp_strtab_free(struct rcp_strtab *t);
/* A STRING event.  0 or -ENOMEM. */
int rcp_strtab_define(struct rcp_strtab *t, uint64_t raw, const void *s,
		      size_t len);
/* The canonical id of raw id `raw` (0 for 0, or on -ENOMEM). */
uint32_t rcp_strtab_canon(struct rcp_strtab *t, uint64_t raw);
/* Follows aliases. */
uint32_t rcp_strtab_resolve(const struct rcp_strtab *t, uint32_t id);
/* Name of a canonical id, or NULL (none / never defined). */
const char *rcp_strtab_name(const struct rcp_strtab *t, uint32_t id);
/* Hash of the name (0 when unknown). */
uint64_t rcp_strtab_hash(const struct rcp_strtab *t, uint32_t id);

#endif /* RCPROF_STRTAB_H */
