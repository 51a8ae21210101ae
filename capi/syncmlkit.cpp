// The C ABI over the C++ API: thin and mechanical, catching every exception.
#include "syncmlkit.h"
#include "hosted_server.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <cstddef>
#include <fstream>
#include <vector>

#include "syncmlkit/pim.hpp"
#include "syncmlkit/server.hpp"
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

class CallbackAuth : public smk::AuthProvider {
public:
    CallbackAuth(int (*password)(void*, const char*, char*, size_t), void* user_data)
        : password_(password), user_data_(user_data) {}
    std::optional<std::string> password(const std::string& user) override {
        std::vector<char> buf(256);
        for (int attempt = 0; attempt < 2; ++attempt) {
            int n = password_(user_data_, user.c_str(), buf.data(), buf.size());
            if (n < 0) return std::nullopt;
            if (static_cast<std::size_t>(n) < buf.size()) return std::string(buf.data(), static_cast<std::size_t>(n));
            buf.resize(static_cast<std::size_t>(n) + 1);
        }
        return std::nullopt;
    }

private:
    int (*password_)(void*, const char*, char*, size_t);
    void* user_data_;
};

class CallbackLogger : public smk::Logger {
public:
    CallbackLogger(void (*log)(void*, int, const char*), void* user_data) : log_(log), user_data_(user_data) {}
    void log(smk::LogLevel level, std::string_view message) override {
        std::string text(message);
        log_(user_data_, static_cast<int>(level), text.c_str());
    }

private:
    void (*log_)(void*, int, const char*);
    void* user_data_;
};

std::optional<smk::Category> category_from(const char* name) {
    if (!name) return std::nullopt;
    return smk::category_from_name(name);
}

}  // namespace

struct smk_server {
    std::shared_ptr<smk::SqliteStoreProvider> stores;
    std::unique_ptr<smk::Server> server;
};

extern "C" {

const char* smk_version(void) { return smk::version(); }

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
    if (hosted ? c.state_dir == nullptr : !c.data_dir || !c.password) {
        set_error(error, hosted ? "smk_server_new_hosted: config->state_dir is required"
                                : "smk_server_new: data_dir and password are required");
        return SMK_ERR_ARGUMENT;
    }
    try {
        auto handle = std::make_unique<smk_server>();
        if (!hosted) handle->stores = std::make_shared<smk::SqliteStoreProvider>(c.data_dir);
        smk::ServerConfig config;
        if (hosted && hosted->auth) config.auth = hosted->auth;
        else if (c.password) config.auth = std::make_shared<CallbackAuth>(c.password, c.user_data);
        else throw std::invalid_argument("smk_server_new_hosted: auth or config->password is required");
        if (hosted) config.datastores = hosted->datastores;
        else config.datastores = handle->stores;
        if (c.log) config.logger = std::make_shared<CallbackLogger>(c.log, c.user_data);
        config.state_dir = c.state_dir ? c.state_dir : std::string(c.data_dir) + "/state";
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
    if (!server || !out || (!body && body_len)) return SMK_ERR_ARGUMENT;
    *out = smk_response{};
    try {
        smk::Request req;
        req.body = std::string_view(body ? body : "", body_len);
        req.content_type = content_type ? content_type : "";
        req.url = url ? url : "";
        req.peer = peer ? peer : "";
        smk::Response r = server->server->process(req);
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
