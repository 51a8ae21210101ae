/* A SyncML host in plain C: one user from the command line, SyncMLKit's
 * SQLite store in a data directory, and the messages of one session read
 * from files instead of HTTP. Each reply is printed as readable XML. A real
 * host hands smk_server_process() each HTTP request body the same way.
 *
 *   server DATA_DIR USER:PASSWORD MESSAGE-FILE... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncmlkit.h"

static const char *the_user, *the_password;

static int password(void *user_data, const char *username, char *buf, size_t size) {
    (void)user_data;
    if (strcmp(username, the_user) != 0) return -1;
    size_t n = strlen(the_password);
    if (n < size) memcpy(buf, the_password, n + 1);
    return (int)n;
}

static void log_line(void *user_data, int level, const char *message) {
    (void)user_data;
    fprintf(stderr, "[%d] %s\n", level, message);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 65536, used = 0, n;
    char *buf = malloc(cap);
    while (buf && (n = fread(buf + used, 1, cap - used, f)) > 0) {
        used += n;
        if (used == cap) {
            char *grown = realloc(buf, cap *= 2);
            if (!grown) {
                free(buf);
                buf = NULL;
            }
            buf = grown;
        }
    }
    fclose(f);
    *len = used;
    return buf;
}

int main(int argc, char **argv) {
    if (argc < 4 || !strchr(argv[2], ':')) {
        fprintf(stderr, "usage: %s DATA_DIR USER:PASSWORD MESSAGE-FILE...\n", argv[0]);
        return 2;
    }
    char *colon = strchr(argv[2], ':');
    *colon = '\0';
    the_user = argv[2];
    the_password = colon + 1;

    smk_server_config config;
    memset(&config, 0, sizeof config);
    config.size = sizeof config;
    config.data_dir = argv[1];
    config.password = password;
    config.log = log_line;
    smk_server *server = NULL;
    char *error = NULL;
    if (smk_server_new(&config, &server, &error) != SMK_OK) {
        fprintf(stderr, "cannot start: %s\n", error ? error : "out of memory");
        smk_free(error);
        return 1;
    }
    const char *url = "/sync";
    for (int i = 3; i < argc; ++i) {
        size_t len = 0;
        char *msg = read_file(argv[i], &len);
        if (!msg) {
            perror(argv[i]);
            smk_server_free(server);
            return 1;
        }
        smk_response r;
        int rc = smk_server_process(server, msg, len, NULL, url, "127.0.0.1", &r);
        free(msg);
        if (rc != SMK_OK) {
            fprintf(stderr, "%s: status %d\n", argv[i], rc);
            smk_server_free(server);
            return 1;
        }
        char *xml = NULL;
        if (r.http_status == 200 && smk_render_xml(r.body, r.body_len, r.content_type, &xml, NULL, NULL) == SMK_OK)
            printf("==> reply to %s (HTTP %d)\n%s", argv[i], r.http_status, xml);
        else
            printf("==> reply to %s (HTTP %d): %s", argv[i], r.http_status, r.body);
        smk_free(xml);
        smk_response_free(&r);
    }
    smk_server_free(server);
    return 0;
}
