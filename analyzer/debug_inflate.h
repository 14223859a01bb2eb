/* debug_inflate.h - a file's compressed DWARF inflated ahead, for libdw.
 *
 * libdw (0.188) inflates every SHF_COMPRESSED debug section with zlib's
 * streaming inflate when it opens a file, also the sections symbolization
 * never reads (location lists, macros, call frames).  For glibc's debug
 * file from libc6-dbg that is 10 MB of output, most of the analysis time
 * of a short dump.  rcp_debug_inflated builds an image of such a file in
 * memory instead: every byte outside the compressed sections at its
 * original offset (so program headers and notes stay valid), the debug
 * sections symbolization reads inflated with libdeflate (whole-buffer,
 * several times faster than zlib) and appended, the others emptied
 * (SHT_NOBITS), and a new section header table after them.  libdwfl
 * reads the image in place (dwfl_report_offline_memory).
 */
#ifndef RCPROF_DEBUG_INFLATE_H
#define RCPROF_DEBUG_INFLATE_H

#include <stddef.h>

/* The image of the ELF file open at fd, *size its length; NULL when the
 * file has nothing to inflate, is not a 64-bit ELF of this byte order,
 * uses a compression other than zlib, or anything fails (libdw then reads
 * the file itself, as before).  fd is neither closed nor moved.  Free
 * with rcp_debug_image_free. */
void *rcp_debug_inflated(int fd, size_t *size);
void rcp_debug_image_free(void *img, size_t size);

/* Where distributions install separate debug files. */
#define RCP_DEBUG_ROOT "/usr/lib/debug"

/* ROOT/.build-id/xx/yyyy.debug for that build-id into name (size bytes):
 * 0, or -1 when the id is shorter than 2 or longer than 64 bytes or the
 * name does not fit. */
int rcp_debug_build_id_path(const char *root, const unsigned char *id,
			    size_t len, char *name, size_t size);

/* The image of ROOT/.build-id/xx/yyyy.debug, the debug file of that
 * build-id, when it exists, has something to inflate and its own build-id
 * note matches; *path (if path) is then set to the file's name, from
 * malloc.  Otherwise NULL, and the caller searches as before. */
void *rcp_debug_inflated_by_build_id(const char *root, const unsigned char *id,
				     size_t len, size_t *size, char **path);

#endif /* RCPROF_DEBUG_INFLATE_H */
