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

/* Frees memory the library handed out. NULL is allowed. */
SMK_C_API void smk_free(void *p);

#ifdef __cplusplus
}
#endif

#endif /* SYNCMLKIT_H */
