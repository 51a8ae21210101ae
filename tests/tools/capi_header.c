/* capi/syncmlkit.h as a C vendor sees it: the installed header alone,
 * compiled -std=c99 -pedantic -Wall -Wextra -Wstrict-prototypes -Werror and
 * linked against the installed library (tools/install.cmake), which compares
 * the version this prints with the project's. */
#include <syncmlkit.h>

#include <stdio.h>

int main(void) {
    smk_free(NULL);
    printf("syncmlkit %s\n", smk_version());
    return 0;
}
