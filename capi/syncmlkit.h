/* SyncMLKit C ABI. C99, one header. No C++ exception crosses it.
 *
 * Conventions: every fallible call returns an int status (SMK_OK or a
 * negative SMK_ERR_*); memory the library allocates for the caller is freed
 * with smk_free() unless a call names its own free function; input buffers
 * are pointer plus length and stay the caller's.
 *
 * ABI policy. The library's SONAME carries its major version. Within one
 * major version, a minor version may add: new functions; new fields at the
 * end of a struct with a leading `size` field (smk_server_config), which a
 * caller compiled against an older header leaves out and the library then
 * treats as zero, so every new field's zero means "as before"; new enum
 * values and status codes (a caller treats an unknown negative status as
 * an error). It never changes or removes: a function's signature or meaning,
 * a struct's existing fields or their order, the size of a struct the
 * library fills or hands out (smk_response, smk_device, smk_snapshot,
 * smk_item_counts: new data comes through new calls), a status code's or
 * enum value's meaning, who frees what. SMK_VERSION_* give the version this
 * header belongs to; smk_version() the one linked at run time.
 *
 * Threads. smk_version, smk_render_xml, smk_pim_convert and smk_free touch
 * no shared state and may be called from any thread. On one server handle,
 * every call may run on many threads at once (smk_server_process for many
 * sessions, the grant and administration calls beside them) except
 * smk_server_free, which must come after every other call on the handle has
 * returned. The host's callbacks are called on the threads that call
 * smk_server_process, several at once (each says which). */
#ifndef SYNCMLKIT_H
#define SYNCMLKIT_H

#include <stddef.h>

/* The version of this header; smk_version() gives the library's as
 * "MAJOR.MINOR.PATCH" (SMK_VERSION_STRING when they match). */
#define SMK_VERSION_MAJOR 0
#define SMK_VERSION_MINOR 1
#define SMK_VERSION_PATCH 0
#define SMK_VERSION_STRING "0.1.0"

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
    SMK_ERR_INTERNAL = -4,
    SMK_ERR_NOT_FOUND = -5 /* no such user, database, device or snapshot */
};

/* A status in words ("ok", "invalid argument", ...; "unknown status" for a
 * code this library does not know). Static storage; do not free. */
SMK_C_API const char *smk_errstr(int status);

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

    /* ---- Fields below came after the ones above; a caller whose `size`
     * ends before one gets its default (each one's zero). ---- */

    /* Element nesting allowed in one message (XML and WBXML); deeper
     * messages are refused (HTTP 400). 0 means 64. */
    unsigned max_xml_depth;
    /* More database names a client may ask for: a NULL-terminated array of
     * "alias=category" strings, category one of "contacts", "calendar",
     * "tasks", "notes" (e.g. {"addressbook=contacts", "agenda=calendar",
     * NULL}). NULL: none. smk_server_new copies them; an entry without "="
     * or with another category fails it with SMK_ERR_ARGUMENT. */
    const char *const *aliases;
    /* The server's DevID in the DevInf it sends; NULL or "" means
     * "SyncMLKit". Copied. */
    const char *server_id;
    /* The conversion profile of a client, chosen once per session from its
     * DevInf's Man, Mod and DevID (each "" when not given): returns a
     * profile name as smk_pim_convert takes ("generic", "funambol-outlook",
     * "syncevolution", "nokia", "sonyericsson"), or NULL for the library's
     * own choice. The returned string is read at once and never kept (a
     * string literal is the usual answer); an unknown name is logged as a
     * warning and the library's choice used. Optional; called from several
     * threads at once. */
    const char *(*client_profile)(void *user_data, const char *man, const char *mod, const char *dev_id);
    /* A user's time zone, an IANA name ("Europe/Berlin"), in which vCalendar
     * items with floating times from that user's devices are placed. As the
     * password callback: writes the name (NUL-terminated) into buf, which
     * holds buf_size bytes, and returns its length; returns -1 or 0 for
     * none (the times stay floating), or a length >= buf_size when buf is
     * too small (it is then called again with a larger one). Asked once per
     * session, with the client's profile. Optional; called from several
     * threads at once. */
    int (*user_time_zone)(void *user_data, const char *user, char *buf, size_t buf_size);
    /* Login throttling: users plus addresses remembered (the oldest are
     * forgotten beyond it); 0 means 100000. */
    size_t login_max_tracked;
    /* The mass-delete guard's way out: asked when a device's deletes in
     * `owner`'s database (category as in smk_server_grant) would be refused;
     * non-zero lets them through (the host's "yes, I meant it"). Optional;
     * called from several threads at once. */
    int (*mass_delete_allow)(void *user_data, const char *owner, const char *category, const char *device);
    /* Log lines with the session they belong to: `session` is the first 8
     * characters of the session's token (the "s" parameter of the RespURI
     * the server gives the client, as the lines name it; also what the trace
     * callback gets), or "" for a line of no session. When set, it receives
     * every line and `log` is not called; NULL: `log` as before. Optional;
     * called from several threads at once, on the threads that call
     * smk_server_process. */
    void (*log_session)(void *user_data, int level, const char *session, const char *message);
    /* Each message in and out as readable XML (WBXML decoded, a nested
     * WBXML DevInf rendered in place, as smk_render_xml does): for debugging
     * a client, never needed to serve one. Called on the thread that called
     * smk_server_process, after the engine answered, before
     * smk_server_process returns: first the client's message (direction
     * SMK_TRACE_IN), then the reply (SMK_TRACE_OUT); session as in
     * log_session, "" when no session took the message. A message that
     * cannot be rendered comes as one line "<!-- not rendered: why -->", a
     * reply that is no SyncML (an HTTP error's short text) as that text.
     * xml (NUL-terminated, xml_len bytes) is the library's, valid during the
     * call. Rendering costs about as much as handling the message: leave it
     * NULL unless tracing. Calls for different sessions come at once from
     * several threads. */
    void (*trace)(void *user_data, int direction, const char *session, const char *xml, size_t xml_len);
    /* Sync state shared by several server processes (docs/SCALING.md): a
     * "postgresql://..." URL (libpq's form) keeps every client's sync state,
     * the devices (nonces, DevInf) and each session between its messages in
     * that PostgreSQL database, so a load balancer may send any message to
     * any process configured alike. NULL or "": SQLite under state_dir (or
     * in the SQLite store), sessions in this process. Copied. */
    const char *state;
    /* Where smk_server_new keeps the items: NULL, "" or "sqlite" (files
     * under data_dir), or "postgresql" (in the `state` database, which is
     * then required; data_dir is not). smk_server_new_hosted ignores it. */
    const char *store;
    /* Connections each PostgreSQL pool of this server opens at most; 0 means 16. */
    size_t pg_pool;
} smk_server_config;

enum { SMK_TRACE_IN = 0, SMK_TRACE_OUT = 1 };

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

/* What a reply carries beside smk_response, which never grows (see the ABI
 * policy above): fields are added at the end of this size-versioned struct. */
typedef struct smk_reply_info {
    size_t size;          /* sizeof(smk_reply_info) as the caller compiled it */
    /* Seconds the client should wait before trying again (a throttled login,
     * no free session, a user database that cannot answer); send it as the
     * HTTP Retry-After header. 0: none. */
    unsigned retry_after;
} smk_reply_info;

/* smk_server_process() that also fills *info (may be NULL; info->size must
 * be set, SMK_ERR_ARGUMENT when it is too small for retry_after). */
SMK_C_API int smk_server_process_info(smk_server *server, const char *body, size_t body_len,
                                      const char *content_type, const char *url, const char *peer,
                                      smk_response *out, smk_reply_info *info);

/* ---- A host's own store, users and logs ---------------------------------
 * A server on the host's own datastores and user database instead of the
 * built-in SQLite store: three tables of callbacks, each with a leading
 * `size` (sizeof the struct as the caller compiled it: callbacks added later
 * go at the end, and an older caller's smaller table still works) and a
 * `void *user` handed back to every call. smk_server_new_hosted() copies the
 * tables; the caller's copies need not outlive it. The pointers in them (user,
 * stores, cursors) stay the host's and must stay valid until
 * smk_server_free() returns.
 *
 * Failures. A callback that fails returns SMK_STORE_FAILED (with an
 * explanation through smk_result_error(), which the server logs). So does,
 * in effect, a callback that returns anything but the statuses documented
 * for it, or returns OK without handing back a value that is due (read
 * without data or revision, add without GUID or revision, an empty GUID or
 * revision), or passes NULL for a string with a length above zero. Every
 * failure is logged (config->log) with the store, the call and the
 * smk_result_error() text. Then:
 *   - a failure while the server applies one of the client's items (add,
 *     replace, remove, the read before a replace, or native_format asked
 *     for that item's conversion): that item is answered 510; the rest of
 *     the message goes on. A store should change nothing
 *     when it fails (an item added without a GUID handed back is unknown to
 *     the server and comes back to the client as a new item at its next sync);
 *   - any other failure (open, begin, commit, a listing, a
 *     read of items to send, snapshot): the message is answered 500 and the
 *     session ends; every store of the session gets rollback() and the
 *     server's own sync state of the message is rolled back, so the client's
 *     next sync starts over from its last completed one. When commit() fails
 *     after the server's state was committed, that next sync is a slow one,
 *     which pairs both sides up: nothing is stored twice, but an edit or a
 *     delete of the failed message may be undone.
 * No callback failure crashes the server, and no C++ exception ever reaches
 * the host: a callback must not longjmp or throw out of the library either.
 *
 * Threads. smk_server_process() may be called from many threads at once, so
 * callbacks run on the threads that call it, several at once. Calls for one
 * opened store (the pointer open() gave) come from one session at a time,
 * one after the other; two sessions may have the same owner's database open
 * at once (two devices of one user), each through an open() of its own, so
 * a host that hands out the same pointer twice must lock it. Provider and
 * auth callbacks run from many threads at once. rollback() and close() of a
 * session the server forgets may also run on the thread that forgets it:
 * one calling smk_server_process() for another client (idle sessions are
 * swept then), smk_server_expire_idle_sessions() or smk_server_free(). A
 * callback must not call smk_server_process() or smk_server_free() on the
 * server that called it, and smk_server_free() must not run while another
 * thread is inside smk_server_process() on the same server. */

/* The status a store, provider or auth callback returns. */
enum { SMK_STORE_OK = 0, SMK_STORE_NOT_FOUND = 1, SMK_STORE_END = 2, SMK_STORE_FAILED = -1 };

/* Where a callback hands values back. Each setter copies what it is given
 * before it returns, so the callback may pass stack buffers or free its own
 * memory right after; a second call of one setter replaces the first value.
 * The smk_result is valid only during the callback it was passed to, and
 * only on that callback's thread. Strings are pointer plus length (no NUL
 * needed; NULL with length 0 is the empty string). */
typedef struct smk_result smk_result;
/* The item's GUID: add, list_next. Stable for the item's life, non-empty. */
SMK_C_API void smk_result_guid(smk_result *r, const char *guid, size_t len);
/* The item's revision: read, revision, add, replace, list_next. Non-empty;
 * it must change whenever the item's data changes (a modification counter,
 * a timestamp plus size, a hash of the data). */
SMK_C_API void smk_result_revision(smk_result *r, const char *rev, size_t len);
/* The item's data: read; base64(md5("user:password")) for md5_digest. */
SMK_C_API void smk_result_data(smk_result *r, const char *data, size_t len);
/* A content format, NUL-terminated: native_format (required), read (the
 * item's own format; not set: the native format). version may be NULL (""). */
SMK_C_API void smk_result_format(smk_result *r, const char *type, const char *version);
/* snapshot: the name the host can restore the copy from. */
SMK_C_API void smk_result_name(smk_result *r, const char *name, size_t len);
/* With SMK_STORE_FAILED (or SMK_AUTH_UNAVAILABLE): why, NUL-terminated;
 * the server logs it. NULL is ignored. */
SMK_C_API void smk_result_error(smk_result *r, const char *message);

/* One table for every store of the host; `store` is the pointer open() (or
 * open_global_address_book()) gave. Strings the library passes in
 * (guid, type, version, data) are NUL-terminated and valid during the call
 * only; data may hold NUL bytes, hence its length. */
typedef struct smk_datastore_callbacks {
    size_t size; /* sizeof(smk_datastore_callbacks) as the caller compiled it */
    /* The format items are kept in, through smk_result_format(), e.g.
     * "text/vcard" "3.0", "text/calendar" "2.0", "text/x-vnote" "1.1":
     * OK. Asked once per opened store. Required. */
    int (*native_format)(void *store, smk_result *r);
    /* A forward-only listing of every item: list_open sets *cursor (any
     * value, NULL too) and returns OK; list_next hands back the next item's
     * GUID and revision with OK, or returns END; list_close (optional: NULL
     * when there is nothing to free) is called once for every cursor a
     * list_open returning OK made, also when the listing stops early or
     * fails. The store may change between list_open and list_close (the
     * engine writes while it lists): the cursor should list a copy or
     * tolerate that. Required: list_open, list_next. */
    int (*list_open)(void *store, void **cursor, smk_result *r);
    int (*list_next)(void *store, void *cursor, smk_result *r);
    void (*list_close)(void *store, void *cursor);
    /* The item: OK with data, revision and (optionally) its format, or
     * NOT_FOUND. Required. */
    int (*read)(void *store, const char *guid, smk_result *r);
    /* The item's revision: OK with the revision, or NOT_FOUND. Required. */
    int (*revision)(void *store, const char *guid, smk_result *r);
    /* Stores a new item in format type/version (version may be ""): OK with
     * its new GUID and revision. Required. */
    int (*add)(void *store, const char *type, const char *version, const char *data, size_t len, smk_result *r);
    /* Replaces an item's data: OK with its new revision, or NOT_FOUND.
     * Required. */
    int (*replace)(void *store, const char *guid, const char *type, const char *version, const char *data,
                   size_t len, smk_result *r);
    /* Deletes an item: OK, or NOT_FOUND when there was none. Required. */
    int (*remove)(void *store, const char *guid, smk_result *r);
    /* Optional (NULL: none). The writes of one client message are grouped
     * between begin() and commit(), or rollback() when the message fails;
     * begin() comes before the first call of a message on the store. */
    int (*begin)(void *store, smk_result *r);
    int (*commit)(void *store, smk_result *r);
    int (*rollback)(void *store, smk_result *r);
    /* Optional: an online copy of the whole store, taken before a client
     * replaces everything in it (a refresh from the client), outside any
     * transaction. OK with a name to restore from (logged as a warning), or
     * NOT_FOUND: this store keeps no snapshots. A failure stops that sync
     * (500) before anything is replaced. `reason`: "refresh-from-client". */
    int (*snapshot)(void *store, const char *reason, smk_result *r);
    /* Optional: the engine no longer holds this store: once for each open()
     * that returned OK, when the session that opened it is forgotten. A
     * session that ended (completed, or ended by a failure with 500) is kept
     * for a minute to answer a resent last message, and its stores with it;
     * an idle one is forgotten after the session timeout; every one at
     * smk_server_free(). A host must not expect close() right after a
     * session's last reply. */
    void (*close)(void *store);
} smk_datastore_callbacks;

/* The access smk_provider_callbacks.grant gives a user on another's database. */
enum { SMK_GRANT_NONE = 0, SMK_GRANT_READ_ONLY = 1, SMK_GRANT_READ_WRITE = 2 };

typedef struct smk_provider_callbacks {
    size_t size; /* sizeof(smk_provider_callbacks) as the caller compiled it */
    void *user;  /* handed to open, grant and open_global_address_book */
    /* The table every opened store uses. Required; copied. */
    const smk_datastore_callbacks *datastore;
    /* `owner`'s store of `category` ("contacts", "calendar", "tasks" or
     * "notes"): OK with *store set (not NULL: the pointer given to the
     * datastore callbacks), NOT_FOUND when there is no such database (the client gets
     * 404), FAILED (the session ends with 500). Called only for a user who
     * may use the database: the owner, or one with a grant. Required. */
    int (*open)(void *user, const char *owner, const char *category, void **store, smk_result *r);
    /* SMK_GRANT_* of `username` on `owner`'s database; never asked about a
     * user's own databases. Anything else (negative: failed) is logged and
     * taken as none (404). Required. */
    int (*grant)(void *user, const char *owner, const char *category, const char *username);
    /* Optional (NULL: none): the organisation's directory, served read-only
     * to every user: OK with *store (not NULL), NOT_FOUND when there is none. */
    int (*open_global_address_book)(void *user, void **store, smk_result *r);
} smk_provider_callbacks;

/* What smk_auth_callbacks.check_password and md5_digest return. */
enum { SMK_AUTH_OK = 0, SMK_AUTH_DENIED = 1, SMK_AUTH_UNAVAILABLE = -1 };

typedef struct smk_auth_callbacks {
    size_t size; /* sizeof(smk_auth_callbacks) as the caller compiled it */
    void *user;  /* handed to check_password and md5_digest */
    /* Basic authentication: OK, DENIED (a wrong password or an unknown user:
     * 401, counted by the login throttle), UNAVAILABLE (the user database
     * cannot answer: not a wrong password; the client gets 503, try again
     * later; the server logs it, and the login throttle does not count
     * it). Anything else counts as UNAVAILABLE.
     * A user name or password holding a NUL byte is denied without a call.
     * Required. A binding must catch its language's exceptions here and
     * return UNAVAILABLE: ctypes, for one, may return 0 (OK) from a
     * Python callback that raised. */
    int (*check_password)(void *user, const char *username, const char *password);
    /* Optional: MD5 authentication: OK with base64(md5("user:password"))
     * through smk_result_data(); DENIED: no MD5 for this user (the client is
     * challenged for Basic); UNAVAILABLE (or OK without data): as above, 503
     * and logged with the smk_result_error() text. NULL: MD5 is turned away
     * for everyone. */
    int (*md5_digest)(void *user, const char *username, smk_result *r);
} smk_auth_callbacks;

/* A server on the host's own stores and users. config as for
 * smk_server_new(), except: config->data_dir is not used; config->state_dir
 * is required (the server's own state: nonces, devices, per-client sync
 * state of every store); config->password is used only when auth is NULL.
 * provider is required. On failure *error (optional) receives a message to
 * smk_free(): SMK_ERR_ARGUMENT when a required pointer or callback is
 * missing or a table's size is too small. smk_server_grant() and
 * smk_server_import_gab() do not apply to such a server (SMK_ERR_ARGUMENT):
 * grants and the directory are the provider's. */
SMK_C_API int smk_server_new_hosted(const smk_server_config *config, const smk_provider_callbacks *provider,
                                    const smk_auth_callbacks *auth, smk_server **out, char **error);

/* ---- Administration of the built-in store ------------------------------
 * For a server made by smk_server_new (SyncMLKit's SQLite store under
 * data_dir). Each call works while sessions run, from any thread: a write
 * waits for a running session's message, as a session would. `user` and
 * `owner` name a user as the password callback knows them; `category` is
 * "contacts", "calendar", "tasks" or "notes". On failure *error (may be
 * NULL) receives a message to smk_free(); SMK_ERR_NOT_FOUND when the user,
 * database, device or snapshot does not exist. The structs the library
 * hands out here never grow (see the ABI policy). */

/* One device's sync state in one of the user's databases. */
typedef struct smk_device_database {
    const char *category;  /* "contacts", ...: static storage, not freed */
    int completed;         /* a session with the device completed here: the device syncs incrementally */
    long long last_sync;   /* when that session ended, Unix seconds; -1 when not recorded (or not completed) */
    size_t items;          /* items the server knows the device holds */
} smk_device_database;

/* A device that logged in as the user, or that has sync state in one of
 * the user's databases (a grantee's device, one the device registry forgot). */
typedef struct smk_device {
    char *device;          /* its device ID (the SyncHdr's Source LocURI) */
    char *make, *model;    /* its DevInf's Man and Mod; "" when unknown */
    long long last_seen;   /* its last login as the user, Unix seconds; -1 when not in the device registry */
    smk_device_database *databases;  /* the user's databases where it has sync state, in category order */
    size_t database_count;
} smk_device;

/* Lists `user`'s devices in device-ID order. On SMK_OK *out receives an
 * array of *count devices (NULL when 0), all of it, strings included, freed
 * by one smk_devices_free(*out, *count). A user with no devices is SMK_OK
 * with *count 0. */
SMK_C_API int smk_server_devices(smk_server *server, const char *user, smk_device **out, size_t *count,
                                 char **error);
/* Frees what smk_server_devices handed out. NULL is allowed. */
SMK_C_API void smk_devices_free(smk_device *devices, size_t count);

/* Forgets a device's sync state in `user`'s database `category`, or, when
 * category is NULL, in each of the user's databases: its next sync there is
 * a slow sync that pairs its items with the server's; no item is deleted,
 * and the device stays in the device registry. *reset (may be NULL)
 * receives the number of databases where it had state; SMK_ERR_NOT_FOUND
 * when none (nothing to reset) or the database does not exist. */
SMK_C_API int smk_server_reset_device(smk_server *server, const char *user, const char *device,
                                      const char *category, size_t *reset, char **error);

/* A snapshot of a database: taken before each refresh from a client (a
 * client's "replace everything on the server") and by smk_server_snapshot;
 * the newest 5 of each database are kept. */
typedef struct smk_snapshot {
    char *name;       /* what smk_server_restore takes: "20261204T201029Z-01-refresh-from-client" */
    char *path;       /* the file */
    long long taken;  /* when, Unix seconds (from its name); -1 when its name does not say */
    char *reason;     /* why, from its name ("refresh-from-client", the reason given to smk_server_snapshot); "" when it does not say */
} smk_snapshot;

/* Lists the snapshots of `owner`'s database, oldest first. On SMK_OK *out
 * receives an array of *count snapshots (NULL when 0), freed by one
 * smk_snapshots_free(*out, *count). */
SMK_C_API int smk_server_snapshots(smk_server *server, const char *owner, const char *category,
                                   smk_snapshot **out, size_t *count, char **error);
/* Frees what smk_server_snapshots handed out. NULL is allowed. */
SMK_C_API void smk_snapshots_free(smk_snapshot *snapshots, size_t count);

/* Takes a snapshot of `owner`'s database now (online); the oldest beyond
 * the newest 5 is dropped. reason (NULL: "admin") becomes part of its name
 * (letters, digits and '-'; anything else is written as '_'). *name (may be
 * NULL) receives its name, as smk_server_snapshots gives it, to smk_free(). */
SMK_C_API int smk_server_snapshot(smk_server *server, const char *owner, const char *category, const char *reason,
                                  char **name, char **error);

/* What a restore did to a database's items. */
typedef struct smk_item_counts {
    size_t added;      /* items deleted since the snapshot, brought back */
    size_t changed;    /* items changed since, written back as they were */
    size_t unchanged;  /* items as they were */
    size_t removed;    /* items made since the snapshot, deleted */
} smk_item_counts;

/* Puts a snapshot's content back into `owner`'s database, online.
 * `snapshot` is a name smk_server_snapshots gives, its file, or "latest".
 * Each client's sync state stays: its next sync is a two-way sync that
 * brings it the snapshot's data (deleted items come back, changed ones
 * change back, items made since are deleted), with no duplicate. To be able
 * to undo it, take a snapshot first. *counts (may be NULL) receives what
 * changed. */
SMK_C_API int smk_server_restore(smk_server *server, const char *owner, const char *category,
                                 const char *snapshot, smk_item_counts *counts, char **error);

/* ---- Sessions and logins, for the host's own pages ----------------------
 * For any server (smk_server_new or smk_server_new_hosted); thread-safe. */

/* Checks a user's password for the host's own pages (a status page behind
 * HTTP Basic, say) through the SyncML logins' throttle: failures here and
 * in SyncML count together, per user and per peer address (as
 * smk_server_process's peer; may be NULL), and while either is held back
 * the password is not checked. No device is remembered. On SMK_OK *ok is
 * non-zero for the right password, and *retry_after (may be NULL) is the
 * seconds the caller should wait when the check was not made (0 else).
 * SMK_ERR_INTERNAL with *error when the password check failed. */
SMK_C_API int smk_server_check_login(smk_server *server, const char *user, const char *password, const char *peer,
                                     int *ok, unsigned *retry_after, char **error);

/* The largest request body the server accepts (max_request_size, or twice
 * max_msg_size and at least 64 KiB when that is 0): what a host should read
 * of a request body, on the wire and once inflated, before refusing it with
 * HTTP 413. 0 for NULL. */
SMK_C_API size_t smk_server_max_request_size(const smk_server *server);

/* Sessions open now (0 for NULL). */
SMK_C_API size_t smk_server_session_count(const smk_server *server);

/* Drops the sessions idle longer than session_timeout_s at once
 * (smk_server_process does so too, at most once a second). */
SMK_C_API void smk_server_expire_idle_sessions(smk_server *server);

#ifdef __cplusplus
}
#endif

#endif /* SYNCMLKIT_H */
