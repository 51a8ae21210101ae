/* syncmlkit-embed-example: a SyncML server the way a mail-server vendor
 * embeds SyncMLKit, in plain C99 over the C ABI alone.
 *
 * The host keeps everything SyncMLKit does not: its users (--user), its
 * address books, calendars, task lists and notes (here in memory, one
 * growable array per user and category), and its HTTP listener (a small
 * loop over POSIX sockets, one request per connection). SyncMLKit gets each
 * request body through smk_server_process() and reads and writes the
 * host's items through the datastore table below. docs/EMBEDDING.md walks
 * through this file.
 *
 *   syncmlkit-embed-example --port N --user NAME:PASSWORD [--user ...]
 *       [--bind ADDR] [--grant OWNER/CATEGORY:USER[:ro] ...] [--directory NAME]
 *       [--state DIR] [--dump-dir DIR] [--trace-dir DIR] [--no-md5] [--verbose]
 *
 * The items live as long as the process. The server's own state (nonces,
 * devices, what each client holds) goes to --state, by default a new
 * temporary directory, so a restarted example never tells a client that
 * its items were deleted: the client's next sync is a slow one. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <unistd.h>

#include "syncmlkit.h"

#define MAX_MSG_SIZE 150000           /* announced to clients */
#define MAX_HEADER 16384
#define IO_TIMEOUT_S 30

/* ---- The host's store: items in memory ------------------------------------ */

enum { CONTACTS, CALENDAR, TASKS, NOTES, CATEGORIES };
static const char *const category_names[CATEGORIES] = {"contacts", "calendar", "tasks", "notes"};
/* The format each category keeps its items in (what native_format answers). */
static const char *const native_types[CATEGORIES][2] = {
    {"text/vcard", "3.0"}, {"text/calendar", "2.0"}, {"text/calendar", "2.0"}, {"text/x-vnote", "1.1"}};

struct item {
    char *guid;
    unsigned long revision; /* the store's modification counter when the item last changed */
    char *type, *version;   /* the format the engine gave it in */
    char *data;
    size_t len;
};

struct item_array {
    struct item *items;
    size_t count, capacity;
};

/* One user's database of one category. The HTTP loop below handles one
 * request at a time, so no two callbacks ever run at once; a host that calls
 * smk_server_process() from several threads puts a lock in here (two
 * devices of one user may have the same store open at once). */
struct store {
    int category;
    struct item_array live;
    struct item_array backup;  /* the items at begin(), restored by rollback() */
    int in_transaction;
    unsigned long counter;     /* bumped by every write; never goes back, not even on rollback */
    unsigned long next_guid;
    int dirty;                 /* changed since the last --dump-dir write */
};

struct user {
    const char *name, *password;
    char md5[25];              /* base64(md5("name:password")), made at start-up */
    struct store stores[CATEGORIES];
};

static struct user *users;
static size_t user_count;
static int verbose;

static char *copy_text(const char *s, size_t len) {
    char *p = malloc(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

static void item_free(struct item *it) {
    free(it->guid);
    free(it->type);
    free(it->version);
    free(it->data);
}

static void array_clear(struct item_array *a) {
    for (size_t i = 0; i < a->count; ++i) item_free(&a->items[i]);
    free(a->items);
    a->items = NULL;
    a->count = a->capacity = 0;
}

/* A slot at the end of the array, or NULL when out of memory. */
static struct item *array_push(struct item_array *a) {
    if (a->count == a->capacity) {
        size_t capacity = a->capacity ? a->capacity * 2 : 16;
        struct item *grown = realloc(a->items, capacity * sizeof *grown);
        if (!grown) return NULL;
        a->items = grown;
        a->capacity = capacity;
    }
    struct item *it = &a->items[a->count++];
    memset(it, 0, sizeof *it);
    return it;
}

/* Sets an item's format and data; 0 when out of memory (the item unchanged). */
static int item_set(struct item *it, const char *type, const char *version, const char *data, size_t len) {
    char *t = copy_text(type ? type : "", type ? strlen(type) : 0);
    char *v = copy_text(version ? version : "", version ? strlen(version) : 0);
    char *d = copy_text(data, len);
    if (!t || !v || !d) {
        free(t);
        free(v);
        free(d);
        return 0;
    }
    free(it->type);
    free(it->version);
    free(it->data);
    it->type = t;
    it->version = v;
    it->data = d;
    it->len = len;
    return 1;
}

static int array_copy(struct item_array *to, const struct item_array *from) {
    for (size_t i = 0; i < from->count; ++i) {
        const struct item *src = &from->items[i];
        struct item *dst = array_push(to);
        if (!dst) return 0;
        dst->revision = src->revision;
        dst->guid = copy_text(src->guid, strlen(src->guid));
        if (!dst->guid || !item_set(dst, src->type, src->version, src->data, src->len)) return 0;
    }
    return 1;
}

static struct item *find(struct store *s, const char *guid) {
    for (size_t i = 0; i < s->live.count; ++i)
        if (strcmp(s->live.items[i].guid, guid) == 0) return &s->live.items[i];
    return NULL;
}

/* The revision token: the store's modification counter as text. Any token
 * works that changes whenever the item does (see docs/EMBEDDING.md). */
static void hand_revision(smk_result *r, unsigned long revision) {
    char text[24];
    int n = snprintf(text, sizeof text, "%lu", revision);
    smk_result_revision(r, text, (size_t)n);
}

/* ---- The datastore table: SyncMLKit calls these for one store at a time --- */

static int store_native_format(void *store, smk_result *r) {
    struct store *s = store;
    smk_result_format(r, native_types[s->category][0], native_types[s->category][1]);
    return SMK_STORE_OK;
}

/* The listing is a copy of every GUID and revision: the engine may write to
 * the store while it lists. */
struct listing {
    size_t next, count;
    struct {
        char *guid;
        unsigned long revision;
    } *entries;
};

static void store_list_close(void *store, void *cursor) {
    struct listing *l = cursor;
    (void)store;
    for (size_t i = 0; i < l->count; ++i) free(l->entries[i].guid);
    free(l->entries);
    free(l);
}

static int store_list_open(void *store, void **cursor, smk_result *r) {
    struct store *s = store;
    struct listing *l = calloc(1, sizeof *l);
    if (l && s->live.count > 0 && !(l->entries = calloc(s->live.count, sizeof *l->entries))) {
        free(l);
        l = NULL;
    }
    for (size_t i = 0; l && i < s->live.count; ++i) {
        if (!(l->entries[i].guid = copy_text(s->live.items[i].guid, strlen(s->live.items[i].guid)))) break;
        l->entries[i].revision = s->live.items[i].revision;
        ++l->count;
    }
    if (l && l->count < s->live.count) {
        store_list_close(store, l);
        l = NULL;
    }
    if (!l) {
        smk_result_error(r, "out of memory");
        return SMK_STORE_FAILED;
    }
    *cursor = l;
    return SMK_STORE_OK;
}

static int store_list_next(void *store, void *cursor, smk_result *r) {
    struct listing *l = cursor;
    (void)store;
    if (l->next >= l->count) return SMK_STORE_END;
    smk_result_guid(r, l->entries[l->next].guid, strlen(l->entries[l->next].guid));
    hand_revision(r, l->entries[l->next].revision);
    ++l->next;
    return SMK_STORE_OK;
}

static int store_read(void *store, const char *guid, smk_result *r) {
    const struct item *it = find(store, guid);
    if (!it) return SMK_STORE_NOT_FOUND;
    smk_result_data(r, it->data, it->len);
    smk_result_format(r, it->type, it->version);
    hand_revision(r, it->revision);
    return SMK_STORE_OK;
}

static int store_revision(void *store, const char *guid, smk_result *r) {
    const struct item *it = find(store, guid);
    if (!it) return SMK_STORE_NOT_FOUND;
    hand_revision(r, it->revision);
    return SMK_STORE_OK;
}

static int store_add(void *store, const char *type, const char *version, const char *data, size_t len,
                     smk_result *r) {
    struct store *s = store;
    char guid[32];
    int n = snprintf(guid, sizeof guid, "%s-%lu", category_names[s->category], ++s->next_guid);
    struct item *it = array_push(&s->live);
    if (!it || !(it->guid = copy_text(guid, (size_t)n)) || !item_set(it, type, version, data, len)) {
        if (it) {
            item_free(it);
            --s->live.count;
        }
        smk_result_error(r, "out of memory");
        return SMK_STORE_FAILED;
    }
    it->revision = ++s->counter;
    s->dirty = 1;
    smk_result_guid(r, it->guid, (size_t)n);
    hand_revision(r, it->revision);
    return SMK_STORE_OK;
}

static int store_replace(void *store, const char *guid, const char *type, const char *version, const char *data,
                         size_t len, smk_result *r) {
    struct store *s = store;
    struct item *it = find(s, guid);
    if (!it) return SMK_STORE_NOT_FOUND;
    if (!item_set(it, type, version, data, len)) {
        smk_result_error(r, "out of memory");
        return SMK_STORE_FAILED;
    }
    it->revision = ++s->counter;
    s->dirty = 1;
    hand_revision(r, it->revision);
    return SMK_STORE_OK;
}

static int store_remove(void *store, const char *guid, smk_result *r) {
    struct store *s = store;
    struct item *it = find(s, guid);
    (void)r;
    if (!it) return SMK_STORE_NOT_FOUND;
    item_free(it);
    *it = s->live.items[--s->live.count]; /* order does not matter to the engine */
    ++s->counter;
    s->dirty = 1;
    return SMK_STORE_OK;
}

/* The writes of one SyncML message: begin() keeps a copy of the items,
 * commit() drops it, rollback() puts it back. A database would open and
 * end a transaction here. */
static int store_begin(void *store, smk_result *r) {
    struct store *s = store;
    array_clear(&s->backup);
    if (!array_copy(&s->backup, &s->live)) {
        array_clear(&s->backup);
        smk_result_error(r, "out of memory");
        return SMK_STORE_FAILED;
    }
    s->in_transaction = 1;
    return SMK_STORE_OK;
}

static int store_commit(void *store, smk_result *r) {
    struct store *s = store;
    (void)r;
    array_clear(&s->backup);
    s->in_transaction = 0;
    return SMK_STORE_OK;
}

static int store_rollback(void *store, smk_result *r) {
    struct store *s = store;
    (void)r;
    if (s->in_transaction) {
        array_clear(&s->live);
        s->live = s->backup;
        memset(&s->backup, 0, sizeof s->backup);
        s->in_transaction = 0;
        s->dirty = 1;
    }
    return SMK_STORE_OK;
}

static const smk_datastore_callbacks datastore_table = {
    sizeof(smk_datastore_callbacks),
    store_native_format,
    store_list_open,
    store_list_next,
    store_list_close,
    store_read,
    store_revision,
    store_add,
    store_replace,
    store_remove,
    store_begin,
    store_commit,
    store_rollback,
    NULL, /* snapshot: this host keeps none */
    NULL, /* close: the stores live as long as the process */
};

/* ---- The provider table: which store is whose ---------------------------- */

static struct user *find_user(const char *name) {
    for (size_t i = 0; i < user_count; ++i)
        if (strcmp(users[i].name, name) == 0) return &users[i];
    return NULL;
}

static int provider_open(void *user, const char *owner, const char *category, void **store, smk_result *r) {
    struct user *u = find_user(owner);
    (void)user;
    (void)r;
    if (!u) return SMK_STORE_NOT_FOUND;
    for (int c = 0; c < CATEGORIES; ++c) {
        if (strcmp(category, category_names[c]) == 0) {
            *store = &u->stores[c];
            return SMK_STORE_OK;
        }
    }
    return SMK_STORE_NOT_FOUND;
}

/* Shared databases (--grant OWNER/CATEGORY:USER[:ro]): USER may sync
 * OWNER's database as "OWNER/CATEGORY". A mail server answers from its own
 * sharing settings (shared address books, delegated calendars). */
struct grant {
    const char *owner, *category, *user;
    int access;
};
static struct grant *grants;
static size_t grant_count;

static int provider_grant(void *user, const char *owner, const char *category, const char *username) {
    (void)user;
    for (size_t i = 0; i < grant_count; ++i)
        if (strcmp(grants[i].owner, owner) == 0 && strcmp(grants[i].category, category) == 0 &&
            strcmp(grants[i].user, username) == 0)
            return grants[i].access;
    return SMK_GRANT_NONE;
}

/* The Global Address Book (--directory NAME): NAME's contacts, served
 * read-only to every user as "Global Address Book/contacts". A mail server
 * hands out its directory (LDAP, its GAL) as a store of vCards. */
static const char *directory_owner;

static int provider_open_directory(void *user, void **store, smk_result *r) {
    (void)user;
    (void)r;
    struct user *u = directory_owner ? find_user(directory_owner) : NULL;
    if (!u) return SMK_STORE_NOT_FOUND;
    *store = &u->stores[CONTACTS];
    return SMK_STORE_OK;
}

static const smk_provider_callbacks provider_table = {
    sizeof(smk_provider_callbacks),
    NULL,
    &datastore_table,
    provider_open,
    provider_grant,
    provider_open_directory,
};

/* ---- The auth table: the host's own user database ------------------------- */

static int auth_check_password(void *user, const char *username, const char *password) {
    const struct user *u = find_user(username);
    (void)user;
    return u && strcmp(u->password, password) == 0 ? SMK_AUTH_OK : SMK_AUTH_DENIED;
}

static int auth_md5_digest(void *user, const char *username, smk_result *r) {
    const struct user *u = find_user(username);
    (void)user;
    if (!u) return SMK_AUTH_DENIED;
    smk_result_data(r, u->md5, strlen(u->md5));
    return SMK_AUTH_OK;
}

static smk_auth_callbacks auth_table = {
    sizeof(smk_auth_callbacks),
    NULL,
    auth_check_password,
    auth_md5_digest,
};

/* MD5 (RFC 1321), for the digest SyncML's MD5 authentication compares:
 * a host that keeps only salted hashes cannot give it and sets md5_digest
 * to NULL (--no-md5), so clients are asked for Basic instead. */
static uint32_t rotl(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static void md5(const unsigned char *msg, size_t len, unsigned char out[16]) {
    static const unsigned shifts[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
    uint32_t k[64], h[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    for (int i = 0; i < 64; ++i) k[i] = (uint32_t)(fabs(sin(i + 1.0)) * 4294967296.0);
    size_t total = (len + 8) / 64 * 64 + 64; /* the message, 0x80, zeros, the 64-bit length */
    for (size_t block = 0; block < total; block += 64) {
        uint32_t m[16];
        for (int w = 0; w < 16; ++w) {
            m[w] = 0;
            for (int b = 3; b >= 0; --b) {
                size_t at = block + (size_t)w * 4 + (size_t)b;
                unsigned byte = at < len ? msg[at] : at == len ? 0x80u : 0u;
                if (at >= total - 8) byte = (unsigned)(((uint64_t)len * 8) >> (8 * (at - (total - 8)))) & 0xffu;
                m[w] = (m[w] << 8) | byte;
            }
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
        for (unsigned i = 0; i < 64; ++i) {
            uint32_t f;
            unsigned g;
            switch (i / 16) {
                case 0: f = (b & c) | (~b & d); g = i; break;
                case 1: f = (d & b) | (~d & c); g = (5 * i + 1) % 16; break;
                case 2: f = b ^ c ^ d; g = (3 * i + 5) % 16; break;
                default: f = c ^ (b | ~d); g = (7 * i) % 16; break;
            }
            f += a + k[i] + m[g];
            a = d;
            d = c;
            c = b;
            b += rotl(f, shifts[i / 16][i % 4]);
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
    }
    for (int i = 0; i < 16; ++i) out[i] = (unsigned char)(h[i / 4] >> (8 * (i % 4)));
}

static void base64(const unsigned char *in, size_t len, char *out) {
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < len ? in[i + 2] : 0);
        *out++ = digits[v >> 18];
        *out++ = digits[(v >> 12) & 63];
        *out++ = i + 1 < len ? digits[(v >> 6) & 63] : '=';
        *out++ = i + 2 < len ? digits[v & 63] : '=';
    }
    *out = '\0';
}

/* ---- Logs, --trace-dir and the --dump-dir copy of the stores ------------- */

/* Each line with the session it belongs to ("" outside a session), so that
 * the lines of sessions running at once can be told apart. */
static void log_line(void *user_data, int level, const char *session, const char *message) {
    static const char *const names[] = {"debug", "info", "warning", "error"};
    (void)user_data;
    if (level < SMK_LOG_INFO && !verbose) return;
    fprintf(stderr, "syncmlkit %s [%s]: %s\n", names[level >= 0 && level <= 3 ? level : 3],
            session[0] ? session : "-", message);
}

/* --trace-dir DIR: every message in and out as readable XML, one file each,
 * DIR/<number>-<session>-<in|out>.xml, for looking at what a client sent. */
static const char *trace_dir;

static void trace_message(void *user_data, int direction, const char *session, const char *xml, size_t len) {
    static unsigned long number;
    char path[4096];
    (void)user_data;
    int n = snprintf(path, sizeof path, "%s/%06lu-%s-%s.xml", trace_dir, ++number, session[0] ? session : "none",
                     direction == SMK_TRACE_IN ? "in" : "out");
    FILE *f = n > 0 && (size_t)n < sizeof path ? fopen(path, "wb") : NULL;
    if (!f || fwrite(xml, 1, len, f) != len) fprintf(stderr, "cannot write %s\n", path);
    if (f) fclose(f);
}

/* dir/name into out; 0 when it does not fit. */
static int join(char *out, size_t size, const char *dir, const char *name) {
    int n = snprintf(out, size, "%s/%s", dir, name);
    return n > 0 && (size_t)n < size;
}

/* Writes every changed store to DIR/<user>/<category>/<guid>, one file per
 * item, so that tests can look into the host's memory. */
static void dump_stores(const char *dir) {
    char user_dir[2048], path[4096], file[8192];
    for (size_t u = 0; u < user_count; ++u) {
        for (int c = 0; c < CATEGORIES; ++c) {
            struct store *s = &users[u].stores[c];
            if (!s->dirty) continue;
            s->dirty = 0;
            if (!join(user_dir, sizeof user_dir, dir, users[u].name) ||
                !join(path, sizeof path, user_dir, category_names[c]))
                continue;
            mkdir(dir, 0700);
            mkdir(user_dir, 0700);
            mkdir(path, 0700);
            DIR *d = opendir(path);
            struct dirent *e;
            while (d && (e = readdir(d)) != NULL)
                if (e->d_name[0] != '.' && join(file, sizeof file, path, e->d_name)) unlink(file);
            if (d) closedir(d);
            for (size_t i = 0; i < s->live.count; ++i) {
                const struct item *it = &s->live.items[i];
                FILE *f = join(file, sizeof file, path, it->guid) ? fopen(file, "wb") : NULL;
                if (!f || fwrite(it->data, 1, it->len, f) != it->len) fprintf(stderr, "cannot write %s\n", file);
                if (f) fclose(f);
            }
        }
    }
}

/* ---- HTTP: one request per connection ------------------------------------- */

static volatile sig_atomic_t stopping;
static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

static int send_all(int fd, const char *p, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, p, len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        p += n;
        len -= (size_t)n;
    }
    return 1;
}

/* retry_after: seconds for a Retry-After header (a throttled login, no free
 * session), 0 for none. */
static void reply_after(int fd, int status, const char *content_type, const char *body, size_t len,
                        unsigned retry_after) {
    const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found"
                       : status == 405 ? "Method Not Allowed" : status == 411 ? "Length Required"
                       : status == 413 ? "Payload Too Large" : status == 415 ? "Unsupported Media Type"
                       : status == 503 ? "Service Unavailable" : "Error";
    char head[320];
    char retry[48] = "";
    if (retry_after) snprintf(retry, sizeof retry, "Retry-After: %u\r\n", retry_after);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %lu\r\n%sConnection: close\r\n\r\n",
                     status, reason, content_type, (unsigned long)len, retry);
    if (n > 0 && (size_t)n < sizeof head && send_all(fd, head, (size_t)n)) send_all(fd, body, len);
}

static void reply(int fd, int status, const char *content_type, const char *body, size_t len) {
    reply_after(fd, status, content_type, body, len, 0);
}

static void reply_text(int fd, int status, const char *text) {
    reply(fd, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* The value of header `name` in the header block (NUL-terminated), copied
 * into buf; 0 when there is none. */
static int header(const char *headers, const char *name, char *buf, size_t size) {
    size_t n = strlen(name);
    for (const char *line = strstr(headers, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1, *end = strstr(v, "\r\n");
            while (*v == ' ' || *v == '\t') ++v;
            size_t len = end ? (size_t)(end - v) : strlen(v);
            while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t')) --len;
            if (len >= size) len = size - 1;
            memcpy(buf, v, len);
            buf[len] = '\0';
            return 1;
        }
    }
    return 0;
}

static void serve(int fd, smk_server *server, const char *peer, const char *dump_dir) {
    size_t max_body = smk_server_max_request_size(server); /* what the engine accepts */
    char *buf = malloc(MAX_HEADER + max_body + 1);
    size_t used = 0;
    char *end = NULL;
    if (!buf) return;
    while (!end && used < MAX_HEADER) { /* the request line and headers */
        ssize_t n = recv(fd, buf + used, MAX_HEADER - used, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) goto done;
        used += (size_t)n;
        buf[used] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end) {
        reply_text(fd, 431, "request headers too large\n");
        goto done;
    }
    end[2] = '\0'; /* the headers, each line ending in CRLF */
    char *body = end + 4;
    size_t have = used - (size_t)(body - buf);

    char method[8], target[1024], value[256];
    if (sscanf(buf, "%7s %1023s", method, target) != 2) {
        reply_text(fd, 400, "bad request line\n");
        goto done;
    }
    if (strcmp(method, "GET") == 0) {
        if (strcmp(target, "/") == 0)
            reply_text(fd, 200, "SyncML server (syncmlkit-embed-example): POST SyncML messages to /sync\n");
        else
            reply_text(fd, 404, "not found\n");
        goto done;
    }
    if (strcmp(method, "POST") != 0) {
        reply_text(fd, 405, "GET / or POST /sync\n");
        goto done;
    }
    if (header(buf, "Transfer-Encoding", value, sizeof value) || !header(buf, "Content-Length", value, sizeof value)) {
        reply_text(fd, 411, "a Content-Length is required\n");
        goto done;
    }
    char *digits_end;
    unsigned long long length = strtoull(value, &digits_end, 10);
    if (value[0] < '0' || value[0] > '9' || *digits_end || length > max_body || have > length) {
        reply_text(fd, length > max_body ? 413 : 400, "bad or too large Content-Length\n");
        goto done;
    }
    if (header(buf, "Content-Encoding", value, sizeof value) && strcasecmp(value, "identity") != 0) {
        reply_text(fd, 415, "no content coding, please\n");
        goto done;
    }
    if (header(buf, "Expect", value, sizeof value) && strcasecmp(value, "100-continue") == 0 && have < length)
        send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    while (have < length) {
        ssize_t n = recv(fd, body + have, (size_t)length - have, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) goto done; /* the client went away or timed out */
        have += (size_t)n;
    }
    char content_type[128] = "";
    header(buf, "Content-Type", content_type, sizeof content_type);

    smk_response r;
    smk_reply_info info;
    memset(&info, 0, sizeof info);
    info.size = sizeof info;
    int rc = smk_server_process_info(server, body, have, content_type[0] ? content_type : NULL, target, peer, &r,
                                     &info);
    if (rc != SMK_OK) {
        fprintf(stderr, "smk_server_process_info: %s\n", smk_errstr(rc));
        reply_text(fd, 500, "internal error\n");
        goto done;
    }
    if (dump_dir) dump_stores(dump_dir);
    reply_after(fd, r.http_status, r.content_type, r.body, r.body_len, info.retry_after);
    smk_response_free(&r);
done:
    free(buf);
}

static int listen_on(const char *bind_addr, const char *port) {
    struct addrinfo hints, *found = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    int rc = getaddrinfo(bind_addr, port, &hints, &found);
    if (rc != 0) {
        fprintf(stderr, "--bind %s --port %s: %s\n", bind_addr, port, gai_strerror(rc));
        return -1;
    }
    int fd = socket(found->ai_family, found->ai_socktype, found->ai_protocol), one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, 16) != 0) {
        fprintf(stderr, "cannot listen on %s port %s: %s\n", bind_addr, port, strerror(errno));
        if (fd >= 0) close(fd);
        fd = -1;
    }
    freeaddrinfo(found);
    return fd;
}

/* ---- Start-up -------------------------------------------------------------- */

static int usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s --port N --user NAME:PASSWORD [--user ...] [--bind ADDR (127.0.0.1)]\n"
            "       [--grant OWNER/CATEGORY:USER[:ro] ...] [--directory NAME] [--state DIR (a new temporary one)]\n"
            "       [--dump-dir DIR] [--trace-dir DIR] [--no-md5] [--verbose]\n",
            argv0);
    return 2;
}

int main(int argc, char **argv) {
    const char *port = NULL, *bind_addr = "127.0.0.1", *state_dir = NULL, *dump_dir = NULL;
    int no_md5 = 0;
    users = calloc((size_t)argc, sizeof *users);
    grants = calloc((size_t)argc, sizeof *grants);
    if (!users || !grants) return 1;
    for (int i = 1; i < argc; ++i) {
        const char *opt = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(opt, "--no-md5") == 0) {
            no_md5 = 1;
            continue;
        }
        if (strcmp(opt, "--verbose") == 0) {
            verbose = 1;
            continue;
        }
        if (!arg) return usage(argv[0]);
        ++i;
        if (strcmp(opt, "--port") == 0) {
            port = arg;
        } else if (strcmp(opt, "--bind") == 0) {
            bind_addr = arg;
        } else if (strcmp(opt, "--state") == 0) {
            state_dir = arg;
        } else if (strcmp(opt, "--dump-dir") == 0) {
            dump_dir = arg;
        } else if (strcmp(opt, "--trace-dir") == 0) {
            trace_dir = arg;
        } else if (strcmp(opt, "--directory") == 0) {
            directory_owner = arg;
        } else if (strcmp(opt, "--grant") == 0) {
            /* OWNER/CATEGORY:USER[:ro], split in place */
            struct grant *g = &grants[grant_count++];
            char *slash = strchr(argv[i], '/'), *colon = slash ? strchr(slash, ':') : NULL;
            if (!slash || !colon) {
                fprintf(stderr, "--grant %s: OWNER/CATEGORY:USER or OWNER/CATEGORY:USER:ro\n", arg);
                return 2;
            }
            *slash = *colon = '\0';
            g->owner = argv[i];
            g->category = slash + 1;
            g->user = colon + 1;
            g->access = SMK_GRANT_READ_WRITE;
            char *ro = strchr(colon + 1, ':');
            if (ro) {
                *ro = '\0';
                if (strcmp(ro + 1, "ro") != 0) return usage(argv[0]);
                g->access = SMK_GRANT_READ_ONLY;
            }
        } else if (strcmp(opt, "--user") == 0) {
            char *colon = strchr(argv[i], ':');
            if (!colon || colon == argv[i] || strchr(argv[i], '/') || argv[i][0] == '.') {
                fprintf(stderr, "--user %s: NAME:PASSWORD, a name without '/' or a leading '.'\n", arg);
                return 2;
            }
            *colon = '\0';
            struct user *u = &users[user_count++];
            u->name = argv[i];
            u->password = colon + 1;
            char both[1024];
            int n = snprintf(both, sizeof both, "%s:%s", u->name, u->password);
            unsigned char digest[16];
            md5((const unsigned char *)both, (size_t)n < sizeof both ? (size_t)n : sizeof both - 1, digest);
            base64(digest, sizeof digest, u->md5);
            for (int c = 0; c < CATEGORIES; ++c) {
                u->stores[c].category = c;
            }
        } else {
            return usage(argv[0]);
        }
    }
    if (!port || user_count == 0) return usage(argv[0]);
    if (no_md5) auth_table.md5_digest = NULL;

    char temp_state[] = "/tmp/syncmlkit-embed-XXXXXX";
    if (!state_dir && !(state_dir = mkdtemp(temp_state))) {
        perror("mkdtemp");
        return 1;
    }

    smk_server_config config;
    memset(&config, 0, sizeof config);
    config.size = sizeof config;
    config.state_dir = state_dir;
    config.max_msg_size = MAX_MSG_SIZE;
    config.log_session = log_line;
    if (trace_dir) {
        mkdir(trace_dir, 0700);
        config.trace = trace_message;
    }
    smk_server *server = NULL;
    char *error = NULL;
    if (smk_server_new_hosted(&config, &provider_table, &auth_table, &server, &error) != SMK_OK) {
        fprintf(stderr, "cannot start: %s\n", error ? error : "out of memory");
        smk_free(error);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: accept() returns on a signal */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int listener = listen_on(bind_addr, port);
    if (listener < 0) {
        smk_server_free(server);
        return 1;
    }
    fprintf(stderr, "listening on http://%s:%s/sync for %lu user(s), state in %s\n", bind_addr, port,
            (unsigned long)user_count, state_dir);
    while (!stopping) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof from;
        int fd = accept(listener, (struct sockaddr *)&from, &from_len);
        if (fd < 0) continue; /* EINTR on a signal; the loop then ends */
        struct timeval timeout = {IO_TIMEOUT_S, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
        char peer[INET6_ADDRSTRLEN] = "";
        if (from.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, peer, sizeof peer);
        else if (from.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, peer, sizeof peer);
        serve(fd, server, peer, dump_dir);
        close(fd);
    }
    fprintf(stderr, "stopping\n");
    close(listener);
    smk_server_free(server);
    for (size_t u = 0; u < user_count; ++u)
        for (int c = 0; c < CATEGORIES; ++c) {
            array_clear(&users[u].stores[c].live);
            array_clear(&users[u].stores[c].backup);
        }
    free(users);
    free(grants);
    return 0;
}
