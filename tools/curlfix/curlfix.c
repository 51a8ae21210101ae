/*
 * libsmk_curlfix.so: preloaded into Debian 12's SyncEvolution 2.0.0 client
 * so that its HTTP transport works at all.
 *
 * Why: SyncEvolution's CurlTransportAgent hands C++ lambda objects to
 * curl_easy_setopt(CURLOPT_READFUNCTION / CURLOPT_WRITEFUNCTION, ...). A
 * lambda is not a function pointer; through the varargs libcurl receives
 * NULL, falls back to fread()/fwrite() on the READDATA/WRITEDATA pointer
 * (the transport object, not a FILE *), and the client dies with SIGSEGV
 * while POSTing its first message. Debian builds SyncEvolution with libcurl
 * as its only HTTP transport, so every sync over HTTP is affected.
 *
 * What: this file defines curl_easy_setopt(). Every call goes on to the real
 * libcurl function unchanged, except that a NULL read or write callback is
 * replaced by a small C function that calls the transport's own exported
 * member functions
 *     size_t SyncEvo::CurlTransportAgent::readData(void *buf, size_t len)
 *     size_t SyncEvo::CurlTransportAgent::writeData(void *buf, size_t len)
 * on the READDATA/WRITEDATA pointer, which is what the lambdas do. In a
 * process without those symbols (any other program that inherits
 * LD_PRELOAD) nothing is replaced.
 *
 * No curl headers are used (Debian's libcurl -dev packages conflict with
 * one another); the two option numbers are libcurl's stable ABI values.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* The third argument of curl_easy_setopt is a long, a pointer or a 64-bit
 * curl_off_t. Forwarding it as one pointer-sized word is exact only where all
 * three are 64 bits wide and passed alike, as on x86-64 and aarch64 Linux. */
#if !defined(__LP64__)
#error "curlfix forwards curl_easy_setopt's argument as one 64-bit word: LP64 only"
#endif

enum {
    CURLFIX_OPT_WRITEFUNCTION = 20000 + 11, /* CURLOPTTYPE_FUNCTIONPOINT + 11 */
    CURLFIX_OPT_READFUNCTION = 20000 + 12,  /* CURLOPTTYPE_FUNCTIONPOINT + 12 */
};

typedef int (*setopt_fn)(void *handle, int option, ...);
/* A C++ member function called through a plain pointer: "this" comes first. */
typedef size_t (*member_io_fn)(void *self, void *buf, size_t len);

static member_io_fn agent_read;  /* SyncEvo::CurlTransportAgent::readData */
static member_io_fn agent_write; /* SyncEvo::CurlTransportAgent::writeData */

static int debug_enabled(void)
{
    return getenv("CURLFIX_DEBUG") != NULL;
}

/* Looks the member functions up once; false when this process is not
 * SyncEvolution (then the shim leaves every call alone). */
static int find_agent(void)
{
    if (!agent_read)
        agent_read = (member_io_fn)dlsym(RTLD_DEFAULT, "_ZN7SyncEvo18CurlTransportAgent8readDataEPvm");
    if (!agent_write)
        agent_write = (member_io_fn)dlsym(RTLD_DEFAULT, "_ZN7SyncEvo18CurlTransportAgent9writeDataEPvm");
    return agent_read && agent_write;
}

/* libcurl's callback signature: size_t cb(char *, size_t, size_t, void *). */
static size_t read_callback(char *buf, size_t size, size_t nitems, void *agent)
{
    return agent_read(agent, buf, size * nitems);
}

static size_t write_callback(char *buf, size_t size, size_t nitems, void *agent)
{
    return agent_write(agent, buf, size * nitems);
}

int curl_easy_setopt(void *handle, int option, ...)
{
    static setopt_fn real_setopt;
    va_list ap;
    void *value;

    if (!real_setopt) {
        real_setopt = (setopt_fn)dlsym(RTLD_NEXT, "curl_easy_setopt");
        if (!real_setopt) {
            fprintf(stderr, "curlfix: libcurl's curl_easy_setopt not found\n");
            abort();
        }
    }

    va_start(ap, option);
    value = va_arg(ap, void *);
    va_end(ap);

    if (value == NULL && find_agent()) {
        if (option == CURLFIX_OPT_READFUNCTION)
            value = (void *)read_callback;
        else if (option == CURLFIX_OPT_WRITEFUNCTION)
            value = (void *)write_callback;
        if (value != NULL && debug_enabled())
            fprintf(stderr, "curlfix: replaced NULL callback for option %d\n", option);
    }
    return real_setopt(handle, option, value);
}
