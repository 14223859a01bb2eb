/* rcprof.h - the instrumented reference-counting API and the profiler hooks.
 *
 * An application includes this header and links with -lrc (build/librc.so).
 * It runs normally without the profiler; started with
 * LD_PRELOAD=librcprof.so every call below is observed and recorded.
 *
 * Glossary
 *   object   - memory returned by rc_new(), or any object a program counts
 *              itself and announces with rcprof_note_new().
 *   count    - the number of counted references to an object.  The object
 *              is destroyed when it reaches zero.
 *   edge     - a counted reference stored in a field ("slot") of another
 *              object and declared with rc_set() or rcprof_note_edge().
 *              Only edges form the object graph; every other counted
 *              reference is treated as held from outside the graph, so an
 *              undeclared reference can hide a cycle but never invent one.
 */
#ifndef RCPROF_H
#define RCPROF_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RCPROF_API __attribute__((visibility("default")))
#else
#define RCPROF_API
#endif

/* Allocate a zeroed object of `size` bytes with count 1.  `type` names its
 * type (a string that outlives the object, normally a literal).  `dtor`
 * (may be NULL) runs when the count drops to zero, before the memory is
 * released.  Returns NULL on failure (errno is ENOMEM). */
RCPROF_API void *rc_new(size_t size, const char *type, void (*dtor)(void *obj));

/* Add one reference.  Returns obj; NULL is ignored (and returned). */
RCPROF_API void *rc_retain(void *obj);

/* Drop one reference.  At zero the destructor runs, then the memory is
 * freed.  NULL is ignored. */
RCPROF_API void rc_release(void *obj);

/* The current count of obj (0 for NULL). */
RCPROF_API long rc_refcount(const void *obj);

/* Strong store into a field of `owner`: retains `value`, releases the
 * pointer previously stored at `slot`, stores `value`.  `slot` is the
 * address of a pointer field inside `owner` (e.g. &node->next).  The new
 * value is retained before the old one is released, so storing the value a
 * slot already holds is safe.  Declares the edge owner -> value. */
RCPROF_API void rc_set(void *owner, void *slot, void *value);

/* --- Hooks for programs with their own reference counting ---------------
 * No-ops in librc.so, recorded by librcprof.so. */

/* obj was created with `refcount` references; `type` must outlive obj. */
RCPROF_API void rcprof_note_new(const void *obj, size_t size, const char *type,
                                long refcount);
RCPROF_API void rcprof_note_retain(const void *obj);
/* The count of obj goes down by one.  Call it just before the decrement:
 * the recorder stamps the release at the call, and a release stamped after
 * its decrement can be ordered after the free done meanwhile by another
 * thread that dropped the last reference.  (rcprof-report forgives that
 * within 10 us of the free; a thread preempted between its decrement and
 * the call can take longer.) */
RCPROF_API void rcprof_note_release(const void *obj);
/* obj was destroyed. */
RCPROF_API void rcprof_note_free(const void *obj);
/* `slot` (an address inside owner) now holds a counted reference to target;
 * a NULL target clears the slot. */
RCPROF_API void rcprof_note_edge(const void *owner, const void *slot,
                                 const void *target);
/* Keep the full retain/release history of objects of this type, with
 * backtraces (same as RCPROF_SUSPECT). */
RCPROF_API void rcprof_suspect(const char *type);
/* Mark a point of the run for analysis. */
RCPROF_API void rcprof_snapshot(const char *label);

#ifdef __cplusplus
}
#endif

#endif /* RCPROF_H */
