/* See harness.h. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

void harness_temp_dir(char *out, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(out, size, "%s/devkms-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(out) == NULL) {
        perror("mkdtemp");
        abort();
    }
}

static int read_credentials(devkms_proc *p)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/credentials.json", p->state_dir);
    json_error_t jerr;
    json_t *c = json_load_file(path, 0, &jerr);
    if (c == NULL)
        return -1;
    snprintf(p->access_key, sizeof(p->access_key), "%s",
             json_string_value(json_object_get(c, "access_key_id")));
    snprintf(p->secret, sizeof(p->secret), "%s",
             json_string_value(json_object_get(c, "secret_access_key")));
    snprintf(p->region, sizeof(p->region), "%s", json_string_value(json_object_get(c, "region")));
    json_decref(c);
    return 0;
}

int devkms_start(devkms_proc *p, const char *state_dir, const char *const *extra)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->state_dir, sizeof(p->state_dir), "%s", state_dir);
    snprintf(p->ca_path, sizeof(p->ca_path), "%s/ca.pem", state_dir);
    snprintf(p->log_path, sizeof(p->log_path), "%s.log", state_dir);
    const char *argv[32] = {DEVKMS_PATH, "--listen", "127.0.0.1:0", "--state", state_dir};
    int argc = 5;
    for (int i = 0; extra && extra[i] && argc < 31; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    int out[2];
    if (pipe(out) != 0)
        return -1;
    int log = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* no orphan if the test dies */
        dup2(out[1], 1);
        if (log >= 0)
            dup2(log, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    if (log >= 0)
        close(log);
    p->pid = pid;
    /* Wait for "devkms: ready at https://127.0.0.1:PORT (...)". */
    char line[512];
    size_t n = 0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct pollfd pfd = {out[0], POLLIN, 0};
        clock_gettime(CLOCK_MONOTONIC, &now);
        int left = 15000 - (int)((now.tv_sec - start.tv_sec) * 1000 +
                                 (now.tv_nsec - start.tv_nsec) / 1000000);
        if (left <= 0 || poll(&pfd, 1, left) <= 0)
            break;
        ssize_t r = read(out[0], line + n, sizeof(line) - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        line[n] = '\0';
        char *url = strstr(line, "https://");
        if (url != NULL && strchr(url, ' ') != NULL) {
            *strchr(url, ' ') = '\0';
            snprintf(p->endpoint, sizeof(p->endpoint), "%s/", url);
            break;
        }
    }
    close(out[0]); /* devkms writes nothing more to stdout */
    if (p->endpoint[0] == '\0' || read_credentials(p) != 0) {
        fprintf(stderr, "devkms did not start; its log (%s) says:\n", p->log_path);
        char *text = devkms_log(p);
        size_t len = text ? strlen(text) : 0;
        fprintf(stderr, "%s\n", text ? text + (len > 2000 ? len - 2000 : 0) : "");
        free(text);
        devkms_stop(p, SIGKILL);
        return -1;
    }
    return 0;
}

int devkms_stop(devkms_proc *p, int sig)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, sig);
    int status = 0;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR) {
    }
    p->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool devkms_log_has_sanitizer_report(const devkms_proc *p)
{
    char *text = devkms_log(p);
    bool found = text && (strstr(text, "Sanitizer") || strstr(text, "runtime error:"));
    free(text);
    return found;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void harness_remove(const devkms_proc *p)
{
    nftw(p->state_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    unlink(p->log_path);
}

char *devkms_log(const devkms_proc *p)
{
    FILE *f = fopen(p->log_path, "r");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = calloc(1, (size_t)n + 1);
    if (text != NULL && fread(text, 1, (size_t)n, f) != (size_t)n)
        text[0] = '\0';
    fclose(f);
    return text;
}

static size_t collect(char *data, size_t size, size_t nmemb, void *cls)
{
    signer_buf *b = cls;
    return signer_buf_append(b, data, size * nmemb, NULL) == 0 ? size * nmemb : 0;
}

int kms_call_as(const devkms_proc *p, const char *op, json_t *request, const char *secret,
                const char *extra_header, kms_reply *out)
{
    memset(out, 0, sizeof(*out));
    out->type = out->message = "";
    char *body = json_dumps(request, JSON_COMPACT);
    json_decref(request);
    CURL *curl = curl_easy_init();
    if (body == NULL || curl == NULL) {
        free(body);
        curl_easy_cleanup(curl);
        return -1;
    }
    char target[128], userpwd[256], sigv4[64];
    snprintf(target, sizeof(target), "X-Amz-Target: TrentService.%s", op);
    snprintf(userpwd, sizeof(userpwd), "%s:%s", p->access_key, secret ? secret : p->secret);
    snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:kms", p->region);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/x-amz-json-1.1");
    h = curl_slist_append(h, target);
    if (extra_header)
        h = curl_slist_append(h, extra_header);
    signer_buf answer = SIGNER_BUF_INIT;
    curl_easy_setopt(curl, CURLOPT_URL, p->endpoint);
    curl_easy_setopt(curl, CURLOPT_CAINFO, p->ca_path);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    if (secret == NULL || secret[0] != '\0') { /* "": send it unsigned */
        curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4);
        curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd);
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
        json_error_t jerr;
        out->body = json_loadb((const char *)answer.data, answer.len, 0, &jerr);
        if (out->status != 200 && out->body != NULL) {
            const char *t = json_string_value(json_object_get(out->body, "__type"));
            const char *m = json_string_value(json_object_get(out->body, "message"));
            out->type = t ? t : "";
            out->message = m ? m : "";
        }
    }
    signer_buf_free(&answer);
    curl_slist_free_all(h);
    curl_easy_cleanup(curl);
    free(body);
    return rc == CURLE_OK ? 0 : -1;
}

int kms_call(const devkms_proc *p, const char *op, json_t *request, kms_reply *out)
{
    return kms_call_as(p, op, request, NULL, NULL, out);
}

void kms_reply_free(kms_reply *r)
{
    json_decref(r->body);
    memset(r, 0, sizeof(*r));
}

const char *reply_string(const kms_reply *r, const char *name)
{
    return json_string_value(json_object_get(r->body, name));
}

char *b64_encode(const uint8_t *data, size_t len)
{
    char *text = malloc(4 * ((len + 2) / 3) + 1);
    if (text != NULL)
        EVP_EncodeBlock((unsigned char *)text, data, (int)len);
    return text;
}

int b64_decode(const char *text, signer_buf *out)
{
    size_t n = strlen(text);
    if (n % 4 != 0 || signer_buf_reserve(out, n / 4 * 3, NULL) != 0)
        return -1;
    int len = EVP_DecodeBlock(out->data + out->len, (const unsigned char *)text, (int)n);
    if (len < 0)
        return -1;
    len -= (n > 0 && text[n - 1] == '=') + (n > 1 && text[n - 2] == '=');
    out->len += (size_t)len;
    return 0;
}
