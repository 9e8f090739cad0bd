/* One connection: read frames, answer each in order, write answers in
 * batches.  Pipelined requests are all answered before the next write, so
 * a client that sends many frames pays for one write per batch. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "signer/memory.h"

#define READ_CHUNK (64u * 1024)
#define FLUSH_THRESHOLD (64u * 1024)
#define FLUSH_AGE_NS 5000000L /* an answer waits at most ~5 ms for its batch */
#define SESSION_SEND_TIMEOUT_MS 60000 /* for the client to take an answer */

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int flush(session *s)
{
    signer_error err;
    if (s->out.len == 0)
        return 0;
    int rc = net_write_all(s->fd, s->out.data, s->out.len, &err);
    signer_buf_clear(&s->out); /* wipes: answers may hold sealed keys */
    if (rc != 0)
        signer_log(SIGNER_LOG_INFO, "%s: %s", s->peer, err.message);
    return rc;
}

/* Answers an oversize frame and arranges for its payload to be skipped, so
 * the session survives without ever buffering it. */
static int reject_oversize(session *s, uint32_t len)
{
    char msg[128];
    snprintf(msg, sizeof(msg), "frame of %u bytes exceeds the limit of %u bytes", len,
             s->cfg->max_frame);
    signer_log(SIGNER_LOG_INFO, "%s: %s", s->peer, msg);
    s->skip = len;
    return rpc_encode_err(&s->out, msg, NULL);
}

/* Handles every complete frame in the input buffer. */
static int process_input(session *s)
{
    for (;;) {
        size_t avail = s->in.len - s->in_pos;
        if (s->skip > 0) {
            size_t n = avail < s->skip ? avail : (size_t)s->skip;
            signer_wipe(s->in.data + s->in_pos, n); /* it may carry key material */
            s->in_pos += n;
            s->skip -= n;
            if (s->skip > 0)
                return 0;
            continue;
        }
        if (avail < RPC_FRAME_HEADER_BYTES)
            return 0;
        const uint8_t *frame = s->in.data + s->in_pos;
        uint32_t len = rpc_frame_length(frame);
        if (len > s->cfg->max_frame) {
            s->in_pos += RPC_FRAME_HEADER_BYTES;
            if (reject_oversize(s, len) != 0)
                return -1;
            continue;
        }
        if (avail - RPC_FRAME_HEADER_BYTES < len)
            return 0;
        if (s->out.len == 0)
            s->out_since = now_ns();
        if (dispatch_request(s, frame + RPC_FRAME_HEADER_BYTES, len) != 0)
            return -1;
        /* The request may have carried key material. */
        signer_wipe(s->in.data + s->in_pos, RPC_FRAME_HEADER_BYTES + len);
        s->in_pos += RPC_FRAME_HEADER_BYTES + len;
        /* Pipelined answers go out in batches, but a batch of slow calls
         * (BLS, KMS) must not hold the first answers back. */
        if ((s->out.len >= FLUSH_THRESHOLD || now_ns() - s->out_since >= FLUSH_AGE_NS) &&
            flush(s) != 0)
            return -1;
    }
}

/* Makes room to read.  The buffer grows only when it is full of one
 * unfinished frame, and then doubles: memory follows the bytes that really
 * arrive, never the length a header claims. */
static int prepare_read(session *s, signer_error *err)
{
    if (s->in_pos > 0) {
        signer_buf_consume(&s->in, s->in_pos);
        s->in_pos = 0;
    }
    if (s->in.len < s->in.cap)
        return 0;
    return signer_buf_reserve(&s->in, s->in.cap ? 1 : READ_CHUNK, err);
}

/* Waits for the rest of a frame that has begun; false after
 * --frame-timeout of silence. */
static bool frame_arrives(session *s)
{
    struct pollfd p = {.fd = s->fd, .events = POLLIN};
    int rc;
    do {
        rc = poll(&p, 1, (int)s->cfg->frame_timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0)
        signer_log(SIGNER_LOG_INFO, "%s: no byte for %u ms in the middle of a frame; closing",
                   s->peer, s->cfg->frame_timeout_ms);
    return rc != 0;
}

static void session_loop(session *s)
{
    signer_error err;
    for (;;) {
        if (process_input(s) != 0)
            break;
        /* Everything buffered is answered: write the batch. */
        if (flush(s) != 0)
            break;
        if (prepare_read(s, &err) != 0) {
            signer_log(SIGNER_LOG_WARN, "%s: %s", s->peer, err.message);
            break;
        }
        /* An idle session may wait forever (Signatory keeps one connection
         * for its whole life), but half a frame must not hold its buffer
         * and its thread for ever. */
        if ((s->in.len > s->in_pos || s->skip > 0) && !frame_arrives(s))
            break;
        ssize_t n = read(s->fd, s->in.data + s->in.len, s->in.cap - s->in.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0)
                signer_log(SIGNER_LOG_INFO, "%s: read: %s", s->peer, strerror(errno));
            else if (s->in.len - s->in_pos > 0 || s->skip > 0)
                signer_log(SIGNER_LOG_INFO, "%s: disconnected in the middle of a frame", s->peer);
            break;
        }
        s->in.len += (size_t)n;
    }
}

void session_serve(int fd, const daemon_config *cfg, const char *peer)
{
    session s;
    memset(&s, 0, sizeof(s));
    s.fd = fd;
    s.cfg = cfg;
    snprintf(s.peer, sizeof(s.peer), "%s", peer);
    keychain_init(&s.keys, cfg->max_keys, cfg->max_total_keys);
    /* A client that stops reading its answers cannot pin the session (and
     * a graceful stop) for longer than this. */
    struct timeval send_timeout = {SESSION_SEND_TIMEOUT_MS / 1000, 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
    s.scratch = signer_secure_alloc(sizeof(signer_key));
    if (s.scratch == NULL)
        signer_log(SIGNER_LOG_ERROR, "%s: out of memory", s.peer);
    else
        session_loop(&s);
    sealer_close(s.sealer);
    keychain_free(&s.keys);
    signer_secure_free(s.scratch, sizeof(signer_key));
    signer_buf_free(&s.in);
    signer_buf_free(&s.out);
    close(fd);
}
