/* Destinations the proxy may reach.  The proxy refuses to start for a
 * remote that is not on the list, so a misconfigured host cannot turn it
 * into an open relay. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proxy.h"

/* Lower-cases the host and checks the HOST:PORT shape. */
static int normalise(const char *in, char *out, size_t cap, signer_error *err)
{
    size_t n = strlen(in);
    const char *colon = strrchr(in, ':');
    if (n == 0 || n >= cap || colon == NULL || colon == in || colon[1] == '\0')
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "\"%.80s\" is not HOST:PORT", in);
    for (const char *p = colon + 1; *p; p++)
        if (!isdigit((unsigned char)*p))
            return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT, "bad port in \"%.80s\"", in);
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    return 0;
}

int proxy_allowlist_add(proxy_allowlist *list, const char *host_port, signer_error *err)
{
    if (list->count >= PROXY_ALLOWLIST_MAX)
        return signer_error_set(err, SIGNER_ERR_INVALID_ARGUMENT,
                                "more than %d allowed destinations", PROXY_ALLOWLIST_MAX);
    if (normalise(host_port, list->entries[list->count], sizeof(list->entries[0]), err) != 0)
        return -1;
    list->count++;
    return 0;
}

int proxy_allowlist_load(proxy_allowlist *list, const char *path, signer_error *err)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return signer_error_set(err, SIGNER_ERR_IO, "cannot open allowlist %s: %s", path,
                                strerror(errno));
    char line[512];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = line, *e;
        while (isspace((unsigned char)*s))
            s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = '\0';
        if (*s == '\0')
            continue;
        if (proxy_allowlist_add(list, s, err) != 0) {
            char ctx[64];
            snprintf(ctx, sizeof(ctx), "%s line %d", path, lineno);
            rc = signer_error_wrap(err, ctx);
        }
    }
    fclose(f);
    return rc;
}

bool proxy_allowlist_allows(const proxy_allowlist *list, const char *host_port)
{
    char norm[272];
    if (normalise(host_port, norm, sizeof(norm), NULL) != 0)
        return false;
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->entries[i], norm) == 0)
            return true;
    return false;
}
