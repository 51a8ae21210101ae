/* A host in plain C: reads a SyncML message from a file and prints it as
 * indented XML through the C ABI, as a vendor would for a message log. */
#include <stdio.h>
#include <stdlib.h>

#include "syncmlkit.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MESSAGE-FILE\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    do {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            char *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(f);
                return 1;
            }
            buf = grown;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    fclose(f);

    char *xml = NULL, *error = NULL;
    int rc = smk_render_xml(buf, len, NULL, &xml, NULL, &error);
    free(buf);
    if (rc != SMK_OK) {
        fprintf(stderr, "%s: %s (status %d)\n", argv[1], error ? error : "out of memory", rc);
        smk_free(error);
        return 1;
    }
    printf("SyncMLKit %s\n%s", smk_version(), xml);
    smk_free(xml);
    return 0;
}
