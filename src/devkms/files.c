/* Files of the state directory: bounded reads, and writes that survive a
 * crash at any point (temporary file, fsync, rename, directory fsync). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devkms.h"
#include "signer/file.h"

bool devkms_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int devkms_path(char *out, size_t size, const char *dir, const char *name, signer_error *err)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= size)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "path too long: %s/%s", dir,
                                name);
    return 0;
}

int devkms_file_read(const char *path, size_t max, signer_buf *out, signer_error *err)
{
    signer_buf_clear(out);
    return signer_read_file(path, max, out, err);
}

static int fsync_dir_of(const char *path, signer_error *err)
{
    char copy[PATH_MAX];
    snprintf(copy, sizeof(copy), "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return signer_error_set(err, SIGNER_ERR_IO, "cannot open the directory of %s: %s", path,
                                strerror(errno));
    int rc = fsync(fd) == 0 ? 0
                            : signer_error_set(err, SIGNER_ERR_IO,
                                               "fsync of the directory of "
                                               "%s failed: %s",
                                               path, strerror(errno));
    close(fd);
    return rc;
}

int devkms_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                             signer_error *err)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return signer_error_set(err, SIGNER_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    const uint8_t *p = data;
    size_t left = len;
    int rc = 0;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = signer_error_set(err, SIGNER_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (rc == 0 && fchmod(fd, mode) != 0)
        rc = signer_error_set(err, SIGNER_ERR_IO, "chmod %s: %s", tmp, strerror(errno));
    if (rc == 0 && fsync(fd) != 0)
        rc = signer_error_set(err, SIGNER_ERR_IO, "fsync %s: %s", tmp, strerror(errno));
    close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = signer_error_set(err, SIGNER_ERR_IO, "rename to %s: %s", path, strerror(errno));
    if (rc != 0) {
        unlink(tmp);
        return -1;
    }
    return fsync_dir_of(path, err);
}
