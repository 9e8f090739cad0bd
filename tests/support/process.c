/* Processes under test. */
#include "process.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "signer/net.h"

static bool can_connect(const char *address)
{
    net_address addr;
    if (net_address_parse(address, 0, &addr, NULL) != 0)
        return false;
    int fd = net_connect(&addr, NULL);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

int test_process_start(test_process *p, const char *const *argv, const char *address, int wait_ms)
{
    p->pid = fork();
    if (p->pid < 0)
        return -1;
    if (p->pid == 0) {
        /* A test that crashes must not leave its servers running. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s\n", argv[0]);
        _exit(127);
    }
    if (address == NULL)
        return 0;
    for (int waited = 0; waited <= wait_ms; waited += 10) {
        if (can_connect(address))
            return 0;
        if (!test_process_alive(p))
            return -1;
        usleep(10000);
    }
    test_process_stop(p, SIGKILL);
    return -1;
}

bool test_process_alive(const test_process *p)
{
    int status;
    return p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == 0;
}

int test_process_stop(test_process *p, int sig)
{
    int status = 0;
    if (p->pid <= 0)
        return -1;
    kill(p->pid, sig);
    for (int i = 0; i < 1000; i++) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        usleep(10000);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
    return -1;
}

long test_process_rss_kib(const test_process *p)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)p->pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

int test_free_port(void)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(in);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&in, sizeof(in)) == 0 &&
        getsockname(fd, (struct sockaddr *)&in, &len) == 0)
        port = ntohs(in.sin_port);
    close(fd);
    return port;
}
