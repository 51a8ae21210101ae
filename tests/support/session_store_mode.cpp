// Linked into every unit test program (tests/CMakeLists.txt): with
// SMK_TEST_SESSION_STORE=memory in the environment, every smk::Server the
// tests make keeps its sessions in a SessionStore of its own between
// messages, so that each message of every session is handled by a Session
// rebuilt from what the last one saved, as when several processes share
// the sessions (ctest's *_via_blob entries).
#include <cstdlib>
#include <string>

#include "engine/session_archive.hpp"
#include "state/memory_session_store.hpp"

#include <atomic>

namespace smk::test {

namespace {
std::atomic<std::size_t> g_stores_made{0};
}  // namespace

/// How many stores the mode has made (one a Server): a test checks that
/// the mode is in force when the environment asks for it.
std::size_t session_stores_made() { return g_stores_made; }

namespace {

const bool g_sessions_via_blob = [] {
    const char* mode = std::getenv("SMK_TEST_SESSION_STORE");
    if (!mode || std::string(mode) != "memory") return false;
    smk::engine::set_session_store_for_tests([] {
        ++g_stores_made;
        return std::make_unique<smk::state::MemorySessionStore>();
    });
    return true;
}();

}  // namespace
}  // namespace smk::test
