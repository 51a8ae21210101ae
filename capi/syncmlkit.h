/* SyncMLKit C ABI. C99, one header. No C++ exception crosses it.
 *
 * Conventions: every fallible call returns an int status (SMK_OK or a
 * negative SMK_ERR_*); memory the library allocates for the caller is freed
 * with smk_free(); input buffers are pointer plus length and stay the
 * caller's. */
#ifndef SYNCMLKIT_H
#define SYNCMLKIT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define SMK_C_API __declspec(dllexport)
#else
#define SMK_C_API __attribute__((visibility("default")))
#endif

enum {
    SMK_OK = 0,
    SMK_ERR_ARGUMENT = -1, /* a required pointer was NULL, or an unknown content type */
    SMK_ERR_DECODE = -2,   /* the message could not be decoded */
    SMK_ERR_NOMEM = -3,
    SMK_ERR_INTERNAL = -4
};

/* "MAJOR.MINOR.PATCH" of the library. Static storage; do not free. */
SMK_C_API const char *smk_version(void);

/* Renders one SyncML message, XML or WBXML, as indented XML text with a
 * nested WBXML DevInf decoded in place.
 *   bytes, len     the message as received
 *   content_type   the HTTP Content-Type, or NULL to tell the encoding from
 *                  the first bytes
 *   out, out_len   on SMK_OK: a NUL-terminated string the caller frees with
 *                  smk_free(); out_len may be NULL
 *   error          optional; on failure receives a message the caller frees
 *                  with smk_free() (NULL when out of memory) */
SMK_C_API int smk_render_xml(const char *bytes, size_t len, const char *content_type, char **out, size_t *out_len,
                             char **error);

/* Converts one contact, calendar item or note between formats, as the server
 * does between its clients.
 *   data, len      the item
 *   from           its format ("vcard21", "vcard30", "vcard40", "vcal10",
 *                  "ical20", "sifc", "sife", "sift", "sifn", "vnote11",
 *                  "text"), or NULL to tell it from the content
 *   to             the format to write, or "json" for the normalized model
 *   profile        a client profile ("generic", "funambol-outlook",
 *                  "syncevolution", "nokia", "sonyericsson") or NULL
 *   out, out_len   on SMK_OK: the converted item, NUL-terminated, freed with
 *                  smk_free(); out_len may be NULL
 *   warnings       optional; receives the warnings (what the input got
 *                  wrong, what the target cannot carry), one per line,
 *                  "line N: ..." where a line is known, or NULL when there
 *                  are none; freed with smk_free()
 * Returns SMK_ERR_ARGUMENT for an unknown format or profile name and
 * SMK_ERR_DECODE when nothing could be read. */
SMK_C_API int smk_pim_convert(const char *data, size_t len, const char *from, const char *to, const char *profile,
                              char **out, size_t *out_len, char **warnings);

/* Frees memory the library handed out. NULL is allowed. */
SMK_C_API void smk_free(void *p);

/* ---- The server ---------------------------------------------------------
 * A SyncML server on SyncMLKit's own SQLite store. The host feeds it each
 * HTTP request's body and gets the reply to send back; it does no I/O of its
 * own. smk_server_process() may be called from many threads at once. */

typedef struct smk_server smk_server;

enum { SMK_LOG_DEBUG = 0, SMK_LOG_INFO = 1, SMK_LOG_WARNING = 2, SMK_LOG_ERROR = 3 };

typedef struct smk_server_config {
    /* sizeof(smk_server_config) as the caller compiled it: fields added later
     * go at the end, and an older caller's smaller struct still works. */
    size_t size;
    /* Where users' data lives: <data_dir>/<user>/<category>.sqlite. Required. */
    const char *data_dir;
    /* Where the server keeps nonces and devices' DevInf; NULL means
     * <data_dir>/state. */
    const char *state_dir;
    /* The largest message a client may send; 0 means 150000. */
    size_t max_msg_size;
    /* Idle sessions are dropped after this many seconds; 0 means 600. */
    unsigned session_timeout_s;
    /* The user check. Writes the user's password (NUL-terminated) into buf,
     * which holds buf_size bytes, and returns its length; returns -1 for an
     * unknown user, or a length >= buf_size when buf is too small. Called
     * from several threads at once. Required. */
    int (*password)(void *user_data, const char *username, char *buf, size_t buf_size);
    /* Log lines (optional; NULL drops them). Called from several threads. */
    void (*log)(void *user_data, int level, const char *message);
    void *user_data;
    /* Limits (docs/SECURITY.md); 0 means the default given.
     * The largest message accepted: 0 means twice max_msg_size, at least 64 KiB. */
    size_t max_request_size;
    /* The largest item, whole or in chunks; 0 means 4000000. */
    size_t max_obj_size;
    /* Commands plus items in one message; 0 means 5000. */
    size_t max_commands_per_message;
    /* Open sessions in all (0: 2000) and per user (0: 8). */
    size_t max_sessions;
    size_t max_sessions_per_user;
    /* A session is dropped this many seconds after it began; 0 means 14400. */
    unsigned max_session_lifetime_s;
    /* Devices remembered per user; 0 means 32. */
    size_t max_devices_per_user;
    /* Login throttling: failures allowed before a delay (0: 5; -1 turns
     * throttling off), the first delay and its cap in seconds (0: 2, 300). */
    int login_free_failures;
    unsigned login_first_delay_s;
    unsigned login_max_delay_s;
    /* Conflicts (an item changed on both sides since the client's last
     * sync; docs/DATA-SAFETY.md): one of SMK_CONFLICT_*; 0 is MERGE. The
     * callback, when set, chooses per database and overrides the field. */
    int conflict_policy;
    int (*conflict_policy_for)(void *user_data, const char *owner, const char *category);
    /* The mass-delete guard: a two-way or one-way sync deleting more than
     * mass_delete_max_percent (0: 50) of a store of more than
     * mass_delete_min_items (0: 20; -1: any size) items has its deletes
     * refused; mass_delete_guard_off non-zero turns the guard off. */
    int mass_delete_min_items;
    unsigned mass_delete_max_percent;
    int mass_delete_guard_off;
} smk_server_config;

enum {
    SMK_CONFLICT_MERGE = 0,
    SMK_CONFLICT_SERVER_WINS = 1,
    SMK_CONFLICT_CLIENT_WINS = 2,
    SMK_CONFLICT_NEWER_WINS = 3,
    SMK_CONFLICT_KEEP_BOTH = 4
};

/* Creates a server. On failure *error receives a message to smk_free(). */
SMK_C_API int smk_server_new(const smk_server_config *config, smk_server **out, char **error);
SMK_C_API void smk_server_free(smk_server *server);

/* Lets `user` sync `owner`'s database ("contacts", "calendar", "tasks" or "notes"),
 * read-only when read_only is non-zero. */
SMK_C_API int smk_server_grant(smk_server *server, const char *owner, const char *category, const char *user,
                               int read_only);

/* Replaces the Global Address Book with the vCards of the file at vcf_path;
 * *count (may be NULL) receives their number. */
SMK_C_API int smk_server_import_gab(smk_server *server, const char *vcf_path, size_t *count, char **error);

typedef struct smk_response {
    char *body;           /* the reply's bytes (binary for WBXML); freed by smk_response_free */
    size_t body_len;
    char *content_type;   /* NUL-terminated */
    int http_status;      /* 200 whenever a SyncML reply exists (503 login throttling is a SyncML status) */
    int session_ended;    /* non-zero: the session is over */
} smk_response;

/* Handles one client message: the request body, its Content-Type, the URL it
 * was sent to (path and query at least) and the peer's address (for logs;
 * may be NULL). Fills *out; free it with smk_response_free(). */
SMK_C_API int smk_server_process(smk_server *server, const char *body, size_t body_len, const char *content_type,
                                 const char *url, const char *peer, smk_response *out);
SMK_C_API void smk_response_free(smk_response *response);

#ifdef __cplusplus
}
#endif

#endif /* SYNCMLKIT_H */
