/* source_file.h — HEROKUPQ_SOURCE=file:PATH: a file holding the URL;
 * file:DIR/ (a trailing slash): a directory holding one file per config var,
 * DIR/VAR, as a Kubernetes Secret volume holds one file per key.
 *
 * Read on every fetch (the cache decides when: a cold cache, a connection
 * that failed as stale, or the file changed). The path is opened afresh each
 * time, following symlinks then: a Kubernetes Secret volume updates by
 * swapping its `..data` symlink, and the next read sees the new file. A file
 * rewritten in place (Vault Agent) is read again too. Read bounded, O_CLOEXEC,
 * O_NONBLOCK (a FIFO does not block), regular files only.
 *
 * A read counts only when it is whole: the file did not change while it was
 * read (the same inode, size and modification time before and after, on the
 * descriptor and on the path), and the URL's line ends in a line end, or the
 * file has not been modified for a second (waited for, within
 * HEROKUPQ_API_TIMEOUT_MS). Otherwise the fetch fails ("is being written"):
 * the previous URL stands, and the file is read again after the back-off. */
#ifndef HPQ_SOURCE_FILE_H
#define HPQ_SOURCE_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define HPQ_MAX_FILE (64 * 1024)

/* The URL in the file for config var var (file:DIR/: DIR/var; file:PATH:
 * PATH, whatever var), malloc'd; or NULL with the reason in err. */
char *hpq_source_file_fetch(const struct hpq_config *cfg, const char *var, char *err,
                            size_t errlen);

/* Whether the file is not the one last read: another inode or device (a
 * rename, a symlink swap), another size or modification time (a rewrite in
 * place), or it appeared or went away. One stat(2); false before any read. */
bool hpq_source_file_changed(const struct hpq_config *cfg, const char *var);

/* Fork handlers: the lock of what was last read (a leaf: nothing else is
 * taken while it is held). */
void hpq_source_file_lock(void);
void hpq_source_file_unlock(void);

#endif
