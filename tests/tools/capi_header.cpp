// capi/syncmlkit.h included from C++ (a vendor's C++ or a binding generator
// reading it): compiled -pedantic -Wall -Wextra -Werror as C++11 and C++17,
// linked against the installed library and run (tools/install.cmake). The
// link fails if a declaration lacks C linkage.
#include <syncmlkit.h>

#include <cstdio>

int main() {
    const char* (*version)(void) = &smk_version;
    void (*release)(void*) = &smk_free;
    release(nullptr);
    std::printf("syncmlkit %s\n", version());
    return 0;
}
