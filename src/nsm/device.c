/* The real NSM: /dev/nsm and its one ioctl, which takes an iovec with the
 * CBOR request and an iovec for the CBOR response (AWS's nsm-driver). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backend.h"

struct nsm_message {
    struct iovec request;
    struct iovec response;
};

#define NSM_IOCTL_MAGIC 0x0A
#define NSM_IOCTL_REQUEST _IOWR(NSM_IOCTL_MAGIC, 0, struct nsm_message)

typedef struct device {
    int fd;
} device;

int nsm_device_open(const char *path, void **state, signer_error *err)
{
    device *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return signer_error_set(err, SIGNER_ERR_NO_MEMORY, "out of memory");
    d->fd = open(path, O_RDWR | O_CLOEXEC);
    if (d->fd < 0) {
        int e = errno;
        free(d);
        return signer_error_set(err, SIGNER_ERR_IO, "cannot open the NSM device %s: %s%s", path,
                                strerror(e),
                                e == ENOENT ? " (not inside a Nitro Enclave? use --nsm sim:CONFIG "
                                              "for development)"
                                            : "");
    }
    *state = d;
    return 0;
}

static int device_transact(void *state, const uint8_t *request, size_t request_len,
                           uint8_t *response, size_t *response_len, signer_error *err)
{
    device *d = state;
    struct nsm_message msg = {
        .request = {.iov_base = (void *)request, .iov_len = request_len},
        .response = {.iov_base = response, .iov_len = *response_len},
    };
    int rc;
    do {
        rc = ioctl(d->fd, NSM_IOCTL_REQUEST, &msg);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0)
        return signer_error_set(err, SIGNER_ERR_IO, "NSM ioctl failed: %s",
                                errno == EMSGSIZE ? "request too large" : strerror(errno));
    if (msg.response.iov_len > *response_len)
        return signer_error_set(err, SIGNER_ERR_PROTOCOL, "NSM answer larger than its buffer");
    *response_len = msg.response.iov_len;
    return 0;
}

static void device_close(void *state)
{
    device *d = state;
    if (d == NULL)
        return;
    close(d->fd);
    free(d);
}

const nsm_backend nsm_device_backend = {
    .name = "device",
    .transact = device_transact,
    .close = device_close,
};
