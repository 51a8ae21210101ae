// The C ABI over the C++ API: thin and mechanical, catching every exception.
#include "syncmlkit.h"
#include "hosted_server.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <cstddef>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <vector>

#include "syncmlkit/pim.hpp"
#include "syncmlkit/server.hpp"
#include "syncmlkit/postgres_store.hpp"
#include "syncmlkit/sqlite_store.hpp"
#include "syncmlkit/version.hpp"
#include "syncmlkit/wire.hpp"

namespace {

char* copy_out(const std::string& s) {
    auto* p = static_cast<char*>(std::malloc(s.size() + 1));
    if (p) std::memcpy(p, s.c_str(), s.size() + 1);
    return p;
}

void set_error(char** error, const std::string& what) {
    if (error) *error = copy_out(what);
}

// The parts of the caller's config its struct has (an older, smaller one
// leaves the later fields zero).
smk_server_config read_config(const smk_server_config* given) {
    smk_server_config c{};
    std::size_t n = given->size < sizeof c ? given->size : sizeof c;
    std::memcpy(&c, given, n);
    return c;
}

// A string the host writes into our buffer: `write` returns its length
// (retried once with a buffer that fits), or a negative number for none.
template <typename Write>
std::optional<std::string> written_by(Write write) {
    std::vector<char> buf(256);
    for (int attempt = 0; attempt < 2; ++attempt) {
        int n = write(buf.data(), buf.size());
        // A password or zone name beyond 64 KiB is a broken callback (a
        // binding's error path may hand back any number), not a value.
        if (n < 0 || n > 65536) return std::nullopt;
        if (static_cast<std::size_t>(n) < buf.size()) return std::string(buf.data(), static_cast<std::size_t>(n));
        buf.resize(static_cast<std::size_t>(n) + 1);
    }
    return std::nullopt;
}

class CallbackAuth : public smk::AuthProvider {
public:
    CallbackAuth(int (*password)(void*, const char*, char*, size_t), void* user_data)
        : password_(password), user_data_(user_data) {}
    std::optional<std::string> password(const std::string& user) override {
        return written_by([&](char* buf, std::size_t size) { return password_(user_data_, user.c_str(), buf, size); });
    }

private:
    int (*password_)(void*, const char*, char*, size_t);
    void* user_data_;
};

// The host's log: with the session when it takes it (log_session), else
// the line alone (log).
class CallbackLogger : public smk::Logger {
public:
    CallbackLogger(void (*log)(void*, int, const char*), void (*log_session)(void*, int, const char*, const char*),
                   void* user_data)
        : log_(log), log_session_(log_session), user_data_(user_data) {}
    void log(smk::LogLevel level, std::string_view message) override { log_in_session(level, "", message); }
    void log_in_session(smk::LogLevel level, std::string_view session, std::string_view message) override {
        std::string text(message);
        if (log_session_)
            log_session_(user_data_, static_cast<int>(level), std::string(session).c_str(), text.c_str());
        else
            log_(user_data_, static_cast<int>(level), text.c_str());
    }

private:
    void (*log_)(void*, int, const char*);
    void (*log_session_)(void*, int, const char*, const char*);
    void* user_data_;
};

// What the caller asked for does not exist: SMK_ERR_NOT_FOUND.
struct NotFound : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Runs `body`, turning every exception into a status and a message.
template <typename Body>
int guarded(char** error, Body body) {
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return SMK_ERR_NOMEM;
    } catch (const NotFound& e) {
        set_error(error, e.what());
        return SMK_ERR_NOT_FOUND;
    } catch (const std::exception& e) {
        set_error(error, e.what());
        return SMK_ERR_INTERNAL;
    } catch (...) {
        set_error(error, "unknown failure");
        return SMK_ERR_INTERNAL;
    }
}

// "alias=category" entries, NULL-terminated, as ServerConfig::aliases.
std::map<std::string, std::string> read_aliases(const char* const* entries) {
    std::map<std::string, std::string> out;
    for (; entries && *entries; ++entries) {
        std::string entry(*entries);
        std::size_t eq = entry.find('=');
        std::string category = eq == std::string::npos ? "" : entry.substr(eq + 1);
        if (eq == 0 || !smk::category_from_name(category))
            throw std::invalid_argument("smk_server_new: alias \"" + entry +
                                        "\" is not alias=contacts, calendar, tasks or notes");
        out[entry.substr(0, eq)] = category;
    }
    return out;
}

// Renders a message for the trace; a line saying why when it cannot. A
// reply that is no SyncML is a short text of ours, shown as it is.
std::string trace_text(std::string_view bytes, const std::string& content_type, bool reply) {
    try {
        std::optional<smk::wire::Encoding> enc = smk::wire::encoding_from_content_type(content_type);
        if (!enc && content_type.empty()) enc = smk::wire::sniff_encoding(bytes);
        if (!enc && reply) return std::string(bytes);
        if (!enc) return "<!-- not rendered: not a SyncML message (Content-Type \"" + content_type + "\") -->";
        return smk::wire::render_xml(bytes, *enc);
    } catch (const std::exception& e) {
        return std::string("<!-- not rendered: ") + e.what() + " -->";
    }
}

std::optional<smk::Category> category_from(const char* name) {
    if (!name) return std::nullopt;
    return smk::category_from_name(name);
}

}  // namespace

struct smk_server {
    std::shared_ptr<smk::BuiltinStoreProvider> stores;
    std::unique_ptr<smk::Server> server;
    std::string state_dir;
    void (*trace)(void*, int, const char*, const char*, size_t) = nullptr;
    void* user_data = nullptr;
    std::size_t max_request_size = 0;
};

extern "C" {

const char* smk_version(void) { return smk::version(); }

const char* smk_errstr(int status) {
    switch (status) {
        case SMK_OK: return "ok";
        case SMK_ERR_ARGUMENT: return "invalid argument";
        case SMK_ERR_DECODE: return "message could not be decoded";
        case SMK_ERR_NOMEM: return "out of memory";
        case SMK_ERR_INTERNAL: return "internal error";
        case SMK_ERR_NOT_FOUND: return "not found";
    }
    return "unknown status";
}

int smk_pim_convert(const char* data, size_t len, const char* from, const char* to, const char* profile, char** out,
                    size_t* out_len, char** warnings) {
    if (warnings) *warnings = nullptr;
    if (!out || !to || (!data && len)) return SMK_ERR_ARGUMENT;
    *out = nullptr;
    try {
        namespace pim = smk::pim;
        std::string_view input(data ? data : "", len);
        std::optional<pim::Format> source = from ? pim::format_named(from) : pim::detect_format(input);
        bool json = std::string_view(to) == "json";
        std::optional<pim::Format> target = json ? source : pim::format_named(to);
        pim::Profile chosen = profile ? pim::profile_named(profile) : pim::Profile{};
        if (!source || !target || (profile && chosen.name != profile)) return SMK_ERR_ARGUMENT;
        pim::ReadResult r = pim::read(input, *source, chosen);
        std::vector<pim::Warning> notes = r.warnings;
        std::string result;
        if (r.item) result = json ? pim::to_json(*r.item) : pim::write(*r.item, *target, chosen, &notes);
        if (warnings && !notes.empty()) {
            std::string text;
            for (const pim::Warning& w : notes)
                text += (w.line ? "line " + std::to_string(w.line) + ": " : std::string()) + w.message + "\n";
            *warnings = copy_out(text);
        }
        if (!r.item) return SMK_ERR_DECODE;
        *out = copy_out(result);
        if (!*out) return SMK_ERR_NOMEM;
        if (out_len) *out_len = result.size();
        return SMK_OK;
    } catch (const std::bad_alloc&) {
        return SMK_ERR_NOMEM;
    } catch (const std::exception&) {
        return SMK_ERR_INTERNAL;
    }
}

int smk_render_xml(const char* bytes, size_t len, const char* content_type, char** out, size_t* out_len,
                   char** error) {
    if (error) *error = nullptr;
    if (!out || (!bytes && len)) {
        set_error(error, "smk_render_xml: out and bytes must not be NULL");
        return SMK_ERR_ARGUMENT;
    }
    *out = nullptr;
    try {
        std::string_view input(bytes ? bytes : "", len);
        std::optional<smk::wire::Encoding> enc = content_type
                                                     ? smk::wire::encoding_from_content_type(content_type)
                                                     : smk::wire::sniff_encoding(input);
        if (!enc) {
            set_error(error, content_type ? std::string("not a SyncML content type: ") + content_type
                                          : std::string("neither XML nor WBXML"));
            return SMK_ERR_ARGUMENT;
        }
        std::string xml = smk::wire::render_xml(input, *enc);
        *out = copy_out(xml);
        if (!*out) return SMK_ERR_NOMEM;
        if (out_len) *out_len = xml.size();
        return SMK_OK;
    } catch (const smk::wire::DecodeError& e) {
        set_error(error, e.what());
        return SMK_ERR_DECODE;
    } catch (const std::bad_alloc&) {
        return SMK_ERR_NOMEM;
    } catch (const std::exception& e) {
        set_error(error, e.what());
        return SMK_ERR_INTERNAL;
    }
}

void smk_free(void* p) { std::free(p); }

int smk_server_new(const smk_server_config* given, smk_server** out, char** error) {
    return smk::capi::new_server(given, nullptr, out, error);
}

}  // extern "C"

// smk_server_new(), and smk_server_new_hosted() with `hosted` (host_store.cpp).
int smk::capi::new_server(const smk_server_config* given, const Hosted* hosted, smk_server** out, char** error) {
    if (error) *error = nullptr;
    if (!given || !out || given->size < offsetof(smk_server_config, user_data) + sizeof(void*)) {
        set_error(error, "smk_server_new: config and out are required, with config->size set");
        return SMK_ERR_ARGUMENT;
    }
    *out = nullptr;
    smk_server_config c = read_config(given);
    std::string state_url = c.state ? c.state : "";
    std::string store_kind = c.store && *c.store ? c.store : "sqlite";
    bool pg_items = !hosted && store_kind == "postgresql";
    if (!hosted && store_kind != "sqlite" && !pg_items) {
        set_error(error, "smk_server_new: config->store is \"" + store_kind + "\", neither sqlite nor postgresql");
        return SMK_ERR_ARGUMENT;
    }
    if (pg_items && state_url.empty()) {
        set_error(error, "smk_server_new: config->store \"postgresql\" needs config->state (a postgresql:// URL)");
        return SMK_ERR_ARGUMENT;
    }
    if (hosted ? c.state_dir == nullptr && state_url.empty() : (!c.data_dir && !pg_items) || !c.password) {
        set_error(error, hosted ? "smk_server_new_hosted: config->state_dir (or config->state) is required"
                                : "smk_server_new: data_dir and password are required");
        return SMK_ERR_ARGUMENT;
    }
    try {
        auto handle = std::make_unique<smk_server>();
        std::size_t pool = c.pg_pool ? c.pg_pool : 16;
        if (pg_items) handle->stores = std::make_shared<smk::PostgresStoreProvider>(state_url, pool);
        else if (!hosted) handle->stores = std::make_shared<smk::SqliteStoreProvider>(c.data_dir);
        smk::ServerConfig config;
        if (hosted && hosted->auth) config.auth = hosted->auth;
        else if (c.password) config.auth = std::make_shared<CallbackAuth>(c.password, c.user_data);
        else throw std::invalid_argument("smk_server_new_hosted: auth or config->password is required");
        if (hosted) config.datastores = hosted->datastores;
        else config.datastores = handle->stores;
        if (c.log || c.log_session)
            config.logger = std::make_shared<CallbackLogger>(c.log, c.log_session, c.user_data);
        config.state_dir = c.state_dir ? c.state_dir : c.data_dir ? std::string(c.data_dir) + "/state" : std::string();
        config.state = state_url;
        config.state_pool = pool;
        handle->state_dir = config.state_dir;
        handle->trace = c.trace;
        handle->user_data = c.user_data;
        if (c.max_msg_size) config.max_msg_size = c.max_msg_size;
        if (c.session_timeout_s) config.session_timeout = std::chrono::seconds(c.session_timeout_s);
        if (c.max_request_size) config.max_request_size = c.max_request_size;
        if (c.max_obj_size) config.max_obj_size = c.max_obj_size;
        if (c.max_commands_per_message) config.max_commands_per_message = c.max_commands_per_message;
        if (c.max_sessions) config.max_sessions = c.max_sessions;
        if (c.max_sessions_per_user) config.max_sessions_per_user = c.max_sessions_per_user;
        if (c.max_session_lifetime_s) config.max_session_lifetime = std::chrono::seconds(c.max_session_lifetime_s);
        if (c.max_devices_per_user) config.max_devices_per_user = c.max_devices_per_user;
        if (c.login_free_failures) config.login_throttle.free_failures = c.login_free_failures < 0 ? 0u : static_cast<unsigned>(c.login_free_failures);
        if (c.login_first_delay_s) config.login_throttle.first_delay = std::chrono::seconds(c.login_first_delay_s);
        if (c.login_max_delay_s) config.login_throttle.max_delay = std::chrono::seconds(c.login_max_delay_s);
        auto policy = [](int code) {
            switch (code) {
                case SMK_CONFLICT_SERVER_WINS: return smk::ConflictPolicy::server_wins;
                case SMK_CONFLICT_CLIENT_WINS: return smk::ConflictPolicy::client_wins;
                case SMK_CONFLICT_NEWER_WINS: return smk::ConflictPolicy::newer_wins;
                case SMK_CONFLICT_KEEP_BOTH: return smk::ConflictPolicy::keep_both;
                default: return smk::ConflictPolicy::merge;
            }
        };
        smk::ConflictPolicy fixed = policy(c.conflict_policy);
        auto chooser = c.conflict_policy_for;
        void* user_data = c.user_data;
        config.conflict_policy = [=](const std::string& owner, smk::Category category) {
            return chooser ? policy(chooser(user_data, owner.c_str(), smk::category_name(category))) : fixed;
        };
        if (c.mass_delete_min_items) config.mass_delete_guard.min_items = c.mass_delete_min_items < 0 ? 0 : static_cast<std::size_t>(c.mass_delete_min_items);
        if (c.mass_delete_max_percent) config.mass_delete_guard.max_percent = c.mass_delete_max_percent;
        if (c.mass_delete_guard_off) config.mass_delete_guard.enabled = false;
        if (c.max_xml_depth) config.max_xml_depth = c.max_xml_depth;
        config.aliases = read_aliases(c.aliases);
        if (c.server_id && *c.server_id) config.server_id = c.server_id;
        if (c.login_max_tracked) config.login_throttle.max_tracked = c.login_max_tracked;
        if (auto profile_for = c.client_profile) {
            std::shared_ptr<smk::Logger> logger = config.logger;
            config.client_profile = [=](std::string_view man, std::string_view mod, std::string_view dev_id) {
                const char* name = profile_for(user_data, std::string(man).c_str(), std::string(mod).c_str(),
                                               std::string(dev_id).c_str());
                if (name) {
                    smk::pim::Profile named = smk::pim::profile_named(name);
                    if (named.name == name) return named;
                    if (logger)
                        logger->log(smk::LogLevel::warning, std::string("client_profile: no profile \"") + name +
                                                                "\"; the library's choice is used");
                }
                return smk::pim::profile_for(man, mod, dev_id);
            };
        }
        if (auto zone_of = c.user_time_zone) {
            config.user_time_zone = [=](const std::string& user) {
                return written_by([&](char* buf, std::size_t size) {
                           return zone_of(user_data, user.c_str(), buf, size);
                       }).value_or(std::string());
            };
        }
        if (auto allow = c.mass_delete_allow) {
            config.mass_delete_guard.allow = [=](const std::string& owner, smk::Category category,
                                                 const std::string& device) {
                return allow(user_data, owner.c_str(), smk::category_name(category), device.c_str()) != 0;
            };
        }
        handle->max_request_size = smk::effective_max_request_size(config);
        handle->server = std::make_unique<smk::Server>(std::move(config));
        *out = handle.release();
        return SMK_OK;
    } catch (const std::bad_alloc&) {
        return SMK_ERR_NOMEM;
    } catch (const std::invalid_argument& e) {
        set_error(error, e.what());
        return SMK_ERR_ARGUMENT;
    } catch (const std::exception& e) {
        set_error(error, e.what());
        return SMK_ERR_INTERNAL;
    }
}

extern "C" {

void smk_server_free(smk_server* server) { delete server; }

int smk_server_grant(smk_server* server, const char* owner, const char* category, const char* user, int read_only) {
    std::optional<smk::Category> cat = category_from(category);
    if (!server || !server->stores || !owner || !user || !cat) return SMK_ERR_ARGUMENT;
    try {
        server->stores->add_grant(owner, *cat, user, read_only ? smk::Access::read_only : smk::Access::read_write);
        return SMK_OK;
    } catch (const std::exception&) {
        return SMK_ERR_INTERNAL;
    }
}

int smk_server_import_gab(smk_server* server, const char* vcf_path, size_t* count, char** error) {
    if (error) *error = nullptr;
    if (!server || !vcf_path) return SMK_ERR_ARGUMENT;
    if (!server->stores) {
        set_error(error, "smk_server_import_gab: the Global Address Book of a hosted server is the host's");
        return SMK_ERR_ARGUMENT;
    }
    try {
        std::ifstream in(vcf_path, std::ios::binary);
        if (!in) {
            set_error(error, std::string("cannot read ") + vcf_path);
            return SMK_ERR_ARGUMENT;
        }
        std::size_t n = server->stores->import_global_address_book(in);
        if (count) *count = n;
        return SMK_OK;
    } catch (const std::bad_alloc&) {
        return SMK_ERR_NOMEM;
    } catch (const std::exception& e) {
        set_error(error, e.what());
        return SMK_ERR_INTERNAL;
    }
}

int smk_server_process(smk_server* server, const char* body, size_t body_len, const char* content_type,
                       const char* url, const char* peer, smk_response* out) {
    return smk_server_process_info(server, body, body_len, content_type, url, peer, out, nullptr);
}

int smk_server_process_info(smk_server* server, const char* body, size_t body_len, const char* content_type,
                            const char* url, const char* peer, smk_response* out, smk_reply_info* info) {
    if (out) *out = smk_response{};  // freeing it is safe whatever this returns
    if (!server || !out || (!body && body_len)) return SMK_ERR_ARGUMENT;
    if (info && info->size < offsetof(smk_reply_info, retry_after) + sizeof info->retry_after) return SMK_ERR_ARGUMENT;
    try {
        smk::Request req;
        req.body = std::string_view(body ? body : "", body_len);
        req.content_type = content_type ? content_type : "";
        req.url = url ? url : "";
        req.peer = peer ? peer : "";
        smk::Response r = server->server->process(req);
        if (server->trace) {
            std::string in = trace_text(req.body, req.content_type, false);
            server->trace(server->user_data, SMK_TRACE_IN, r.session.c_str(), in.c_str(), in.size());
            std::string reply = trace_text(r.body, r.content_type, true);
            server->trace(server->user_data, SMK_TRACE_OUT, r.session.c_str(), reply.c_str(), reply.size());
        }
        out->body = static_cast<char*>(std::malloc(r.body.size() + 1));
        out->content_type = copy_out(r.content_type);
        if (!out->body || !out->content_type) {
            smk_response_free(out);
            return SMK_ERR_NOMEM;
        }
        std::memcpy(out->body, r.body.data(), r.body.size());
        out->body[r.body.size()] = '\0';
        out->body_len = r.body.size();
        out->http_status = r.http_status;
        out->session_ended = r.session_ended ? 1 : 0;
        // Only the fields the caller's struct has (it may be older and smaller).
        if (info) info->retry_after = r.retry_after;
        return SMK_OK;
    } catch (const std::bad_alloc&) {
        return SMK_ERR_NOMEM;
    } catch (const std::exception&) {
        return SMK_ERR_INTERNAL;
    }
}

void smk_response_free(smk_response* response) {
    if (!response) return;
    std::free(response->body);
    std::free(response->content_type);
    *response = smk_response{};
}

}  // extern "C"

// ---- Administration of the built-in store ----

namespace {

smk::Category category_arg(const char* name) {
    std::optional<smk::Category> c = category_from(name);
    if (!c) throw std::invalid_argument(std::string("no database kind \"") + (name ? name : "(null)") +
                                        "\" (contacts, calendar, tasks, notes)");
    return *c;
}

// Checks the handle and the names every admin call takes.
void require(smk_server* server, std::initializer_list<const char*> names) {
    if (!server) throw std::invalid_argument("no server handle");
    if (!server->stores) throw std::invalid_argument("not a server on the built-in store");
    for (const char* n : names)
        if (!n || !*n) throw std::invalid_argument("a user, owner or device name is required");
}

void require_database(smk_server* server, const std::string& owner, smk::Category c) {
    if (!server->stores->has_database(owner, c))
        throw NotFound("no database " + owner + "/" + smk::category_name(c));
}

// A status for the caller's mistakes as for everything else.
template <typename Body>
int admin_call(char** error, Body body) {
    if (error) *error = nullptr;
    return guarded(error, [&]() -> int {
        try {
            body();
            return SMK_OK;
        } catch (const std::invalid_argument& e) {
            set_error(error, e.what());
            return SMK_ERR_ARGUMENT;
        }
    });
}

// Arrays handed to the caller: malloc'ed, every string too, so that one
// free function takes them apart whatever language allocated the pointer.
char* dup_or_throw(const std::string& s) {
    char* p = copy_out(s);
    if (!p) throw std::bad_alloc();
    return p;
}

template <typename T>
T* alloc_array(std::size_t n) {
    if (n == 0) return nullptr;
    auto* p = static_cast<T*>(std::calloc(n, sizeof(T)));
    if (!p) throw std::bad_alloc();
    return p;
}

// "<category>-20261204T201029Z-01-reason.sqlite" -> name, time, reason.
void describe_snapshot(const std::string& path, smk::Category c, smk_snapshot& out) {
    std::string stem = std::filesystem::path(path).stem().string();
    std::string prefix = std::string(smk::category_name(c)) + "-";
    std::string name = stem.rfind(prefix, 0) == 0 ? stem.substr(prefix.size()) : stem;
    out.name = dup_or_throw(name);
    out.path = dup_or_throw(path);
    out.taken = -1;
    std::tm tm{};
    char z = 0;
    int seq = 0, used = 0;
    std::string reason;
    if (std::sscanf(name.c_str(), "%4d%2d%2dT%2d%2d%2d%c-%d-%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                    &tm.tm_min, &tm.tm_sec, &z, &seq, &used) >= 8 &&
        z == 'Z' && used > 0) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        out.taken = static_cast<long long>(timegm(&tm));
        reason = name.substr(static_cast<std::size_t>(used));
    }
    out.reason = dup_or_throw(reason);
}

}  // namespace

extern "C" {

int smk_server_devices(smk_server* server, const char* user, smk_device** out, size_t* count, char** error) {
    if (out) *out = nullptr;
    if (count) *count = 0;
    return admin_call(error, [&] {
        require(server, {user});
        if (!out || !count) throw std::invalid_argument("smk_server_devices: out and count are required");
        std::map<std::string, smk::KnownDevice> known;
        for (smk::KnownDevice& d : server->server->known_devices(user)) known[d.device] = d;
        std::map<std::string, std::vector<std::pair<smk::Category, smk::ClientSyncState>>> states;
        for (smk::Category c : {smk::Category::contacts, smk::Category::calendar, smk::Category::tasks,
                                smk::Category::notes})
            for (smk::ClientSyncState& s : server->stores->client_states(user, c)) states[s.device].emplace_back(c, s);
        std::set<std::string> all;
        for (const auto& d : known) all.insert(d.first);
        for (const auto& d : states) all.insert(d.first);

        smk_device* list = alloc_array<smk_device>(all.size());
        std::size_t n = 0;
        try {
            for (const std::string& id : all) {
                smk_device& d = list[n++];
                d.last_seen = -1;
                d.device = dup_or_throw(id);
                auto reg = known.find(id);
                d.make = dup_or_throw(reg == known.end() ? "" : reg->second.make);
                d.model = dup_or_throw(reg == known.end() ? "" : reg->second.model);
                if (reg != known.end()) d.last_seen = reg->second.last_seen;
                const auto& dbs = states[id];
                d.databases = alloc_array<smk_device_database>(dbs.size());
                d.database_count = dbs.size();
                for (std::size_t i = 0; i < dbs.size(); ++i) {
                    smk_device_database& db = d.databases[i];
                    db.category = smk::category_name(dbs[i].first);
                    db.completed = dbs[i].second.completed ? 1 : 0;
                    db.last_sync = dbs[i].second.completed && dbs[i].second.when ? *dbs[i].second.when : -1;
                    db.items = dbs[i].second.items;
                }
            }
        } catch (...) {
            smk_devices_free(list, n);
            throw;
        }
        *out = list;
        *count = n;
    });
}

void smk_devices_free(smk_device* devices, size_t count) {
    if (!devices) return;
    for (std::size_t i = 0; i < count; ++i) {
        std::free(devices[i].device);
        std::free(devices[i].make);
        std::free(devices[i].model);
        std::free(devices[i].databases);
    }
    std::free(devices);
}

int smk_server_reset_device(smk_server* server, const char* user, const char* device, const char* category,
                            size_t* reset, char** error) {
    if (reset) *reset = 0;
    return admin_call(error, [&] {
        require(server, {user, device});
        std::vector<smk::Category> dbs;
        if (category) {
            dbs.push_back(category_arg(category));
            require_database(server, user, dbs.front());
        } else {
            dbs = {smk::Category::contacts, smk::Category::calendar, smk::Category::tasks, smk::Category::notes};
        }
        std::size_t n = 0;
        for (smk::Category c : dbs) n += server->stores->forget_client(user, c, device) ? 1 : 0;
        if (reset) *reset = n;
        if (n == 0)
            throw NotFound(std::string("device \"") + device + "\" has no sync state in " +
                           (category ? std::string(user) + "/" + category : "any database of " + std::string(user)));
    });
}

int smk_server_snapshots(smk_server* server, const char* owner, const char* category, smk_snapshot** out,
                         size_t* count, char** error) {
    if (out) *out = nullptr;
    if (count) *count = 0;
    return admin_call(error, [&] {
        require(server, {owner});
        if (!out || !count) throw std::invalid_argument("smk_server_snapshots: out and count are required");
        smk::Category c = category_arg(category);
        require_database(server, owner, c);
        std::vector<std::string> files = server->stores->snapshots(owner, c);
        smk_snapshot* list = alloc_array<smk_snapshot>(files.size());
        std::size_t n = 0;
        try {
            for (const std::string& f : files) describe_snapshot(f, c, list[n++]);
        } catch (...) {
            smk_snapshots_free(list, n);
            throw;
        }
        *out = list;
        *count = n;
    });
}

void smk_snapshots_free(smk_snapshot* snapshots, size_t count) {
    if (!snapshots) return;
    for (std::size_t i = 0; i < count; ++i) {
        std::free(snapshots[i].name);
        std::free(snapshots[i].path);
        std::free(snapshots[i].reason);
    }
    std::free(snapshots);
}

int smk_server_snapshot(smk_server* server, const char* owner, const char* category, const char* reason,
                        char** name, char** error) {
    if (name) *name = nullptr;
    return admin_call(error, [&] {
        require(server, {owner});
        smk::Category c = category_arg(category);
        require_database(server, owner, c);
        std::shared_ptr<smk::Datastore> store = server->stores->open(owner, c);
        std::optional<std::string> taken = store ? store->snapshot(reason ? reason : "admin") : std::nullopt;
        if (!taken) throw std::runtime_error("no snapshot taken of " + std::string(owner) + "/" + category);
        if (name) {
            smk_snapshot described{};
            try {
                describe_snapshot(*taken, c, described);
            } catch (...) {
                std::free(described.name);
                std::free(described.path);
                throw;
            }
            *name = described.name;
            described.name = nullptr;
            std::free(described.path);
            std::free(described.reason);
        }
    });
}

int smk_server_restore(smk_server* server, const char* owner, const char* category, const char* snapshot,
                       smk_item_counts* counts, char** error) {
    if (counts) *counts = smk_item_counts{};
    return admin_call(error, [&] {
        require(server, {owner, snapshot});
        smk::Category c = category_arg(category);
        require_database(server, owner, c);
        if (!server->stores->find_snapshot(owner, c, snapshot))
            throw NotFound(std::string("no snapshot \"") + snapshot + "\" of " + owner + "/" + category);
        smk::ItemCounts n;
        server->stores->restore(owner, c, snapshot, n);
        if (counts) *counts = smk_item_counts{n.added, n.changed, n.unchanged, n.removed};
    });
}

int smk_server_check_login(smk_server* server, const char* user, const char* password, const char* peer, int* ok,
                           unsigned* retry_after, char** error) {
    if (ok) *ok = 0;
    if (retry_after) *retry_after = 0;
    if (error) *error = nullptr;
    if (!server || !user || !password || !ok) {
        set_error(error, "smk_server_check_login: server, user, password and ok are required");
        return SMK_ERR_ARGUMENT;
    }
    return guarded(error, [&] {
        smk::LoginCheck check = server->server->check_login(user, password, peer ? peer : "");
        *ok = check.ok ? 1 : 0;
        if (retry_after) *retry_after = check.retry_after;
        return SMK_OK;
    });
}

size_t smk_server_max_request_size(const smk_server* server) { return server ? server->max_request_size : 0; }

size_t smk_server_session_count(const smk_server* server) {
    return server ? server->server->session_count() : 0;
}

void smk_server_expire_idle_sessions(smk_server* server) {
    if (!server) return;
    try {
        server->server->expire_idle_sessions();
    } catch (...) {
        // A session that ends writes its resume point; a failure there is
        // logged by the session and leaves nothing to report here.
    }
}

}  // extern "C"
