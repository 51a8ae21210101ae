// Linked into every unit test program (tests/CMakeLists.txt): with
// SMK_TEST_SESSION_STORE in the environment, every smk::Server the tests
// make keeps its sessions in a SessionStore of its own between messages, so
// that each message of every session is handled by a Session rebuilt from
// what the last one saved, as when several processes share the sessions
// (ctest's *_via_blob and *_via_postgres entries):
//   memory     a MemorySessionStore;
//   postgres   the PostgreSQL store in a schema of its own on the test
//              server (pg_test.hpp), dropped with the Server.
// Either ends its sessions when its Server goes, as a Server's own do.
#include <atomic>
#include <cstdlib>
#include <random>
#include <string>
#include <unistd.h>

#include "engine/session_archive.hpp"
#include "pg_test.hpp"
#include "state/memory_session_store.hpp"
#include "state/postgres/session_store.hpp"

namespace smk::test {

namespace {

std::atomic<std::size_t> g_stores_made{0};

// The PostgreSQL store of one Server, in a schema of its own.
class SchemaSessionStore : public state::SessionStore {
public:
    SchemaSessionStore() {
        static std::atomic<int> counter{0};
        schema_ = "t_sessions_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                  std::to_string(std::random_device{}() % 100000);
        std::string server = pg_server_url();
        pg::Connection(server).exec("CREATE SCHEMA " + schema_);
        std::string url = server + (server.find('?') == std::string::npos ? "?" : "&") +
                          "options=-csearch_path%3D" + schema_;
        inner_ = state::open_postgres_sessions(url, 8);
    }
    ~SchemaSessionStore() override {
        inner_.reset();
        try {
            pg::Connection(pg_server_url()).exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
        } catch (const std::exception&) {
        }
    }
    std::unique_ptr<Lease> lock(const std::string& t) override { return inner_->lock(t); }
    std::optional<std::string> load(const std::string& t) override { return inner_->load(t); }
    std::optional<state::SessionInfo> info(const std::string& t) override { return inner_->info(t); }
    void save(const std::string& t, const std::string& u, const std::string& d, bool f, std::string_view b) override {
        inner_->save(t, u, d, f, b);
    }
    void erase(const std::string& t) override { inner_->erase(t); }
    std::vector<std::string> idle(std::int64_t a, std::int64_t b, std::size_t n) override {
        return inner_->idle(a, b, n);
    }
    std::vector<std::string> of_device(const std::string& u, const std::string& d) override {
        return inner_->of_device(u, d);
    }
    std::vector<state::SessionInfo> of_user(const std::string& u) override { return inner_->of_user(u); }
    std::size_t count_open() override { return inner_->count_open(); }
    bool process_local() const override { return true; }

private:
    std::string schema_;
    std::unique_ptr<state::SessionStore> inner_;
};

}  // namespace

/// How many stores the mode has made (one a Server): a test checks that
/// the mode is in force when the environment asks for it.
std::size_t session_stores_made() { return g_stores_made; }

namespace {

const bool g_sessions_via_blob = [] {
    const char* env = std::getenv("SMK_TEST_SESSION_STORE");
    std::string mode = env ? env : "";
    if (mode == "memory")
        smk::engine::set_session_store_for_tests([]() -> std::unique_ptr<state::SessionStore> {
            ++g_stores_made;
            return std::make_unique<state::MemorySessionStore>();
        });
    else if (mode == "postgres")
        smk::engine::set_session_store_for_tests([]() -> std::unique_ptr<state::SessionStore> {
            ++g_stores_made;
            return std::make_unique<SchemaSessionStore>();
        });
    return !mode.empty();
}();

}  // namespace
}  // namespace smk::test
