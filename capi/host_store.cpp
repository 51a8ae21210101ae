// The C ABI's host tables (smk_datastore_callbacks, smk_provider_callbacks,
// smk_auth_callbacks) as smk::Datastore, smk::DatastoreProvider and
// smk::AuthProvider. Every way a callback can fail or hand back nonsense ends
// here as a DatastoreError (the engine answers 510 for an item, or ends the
// session with 500 and rolls the message back) or an AuthUnavailable (503),
// with a message that says which store, which call and why; nothing a
// callback does can throw through C, and nothing thrown here reaches the host.
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <optional>
#include <string>

#include "hosted_server.hpp"
#include "syncmlkit.h"
#include "syncmlkit/datastore.hpp"
#include "syncmlkit/server.hpp"

// What a callback hands back through the smk_result_* setters.
struct smk_result {
    std::optional<std::string> guid, revision, data, name, error;
    std::optional<smk::Format> format;
    /// A setter was called with nonsense (NULL with a length): what.
    const char* garbage = nullptr;
    bool out_of_memory = false;
};

namespace {

// A name a client chose (an owner in "bob/contacts", a user name) as a log
// line may show it: no line breaks or other control bytes a client could
// use to forge lines, at most 64 bytes.
std::string printable_name(const std::string& s) {
    std::string out;
    for (char c : s.substr(0, 64)) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
    return out;
}

using smk::DatastoreError;

// Stores `text` in `field`, or notes what was wrong with it. Never throws:
// the caller is C.
void set_text(smk_result* r, std::optional<std::string> smk_result::*field, const char* text, size_t len,
              const char* garbage) noexcept {
    if (!r) return;
    if (!text && len) {
        r->garbage = garbage;
        return;
    }
    try {
        r->*field = std::string(text ? text : "", len);
    } catch (...) {
        r->out_of_memory = true;
    }
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

// The three tables as the library keeps them (copied, zero beyond what the
// caller's `size` covers), and where the adapter's own log lines go.
struct Tables {
    smk_datastore_callbacks ds{};
    smk_provider_callbacks provider{};
    smk_auth_callbacks auth{};
    std::function<void(smk::LogLevel, const std::string&)> log;
};

template <class Table>
void copy_table(Table& to, const Table* from) {
    std::memcpy(&to, from, from->size < sizeof to ? from->size : sizeof to);
    to.size = sizeof to;
}

std::string status_text(int rc) {
    switch (rc) {
        case SMK_STORE_OK: return "SMK_STORE_OK";
        case SMK_STORE_NOT_FOUND: return "SMK_STORE_NOT_FOUND";
        case SMK_STORE_END: return "SMK_STORE_END";
        case SMK_STORE_FAILED: return "SMK_STORE_FAILED";
        default: return std::to_string(rc);
    }
}

// A call of one store (or of the provider) and what came back of it.
class Call {
public:
    Call(const std::string& where, const char* name) : where_(where), name_(name) {}
    smk_result r;

    // The status, once the setters' own mishaps are ruled out. FAILED and
    // any status not in `allowed` (besides OK) throw.
    int check(int rc, int allowed = SMK_STORE_OK) const {
        if (r.out_of_memory) throw DatastoreError(prefix() + "out of memory copying what it handed back");
        if (r.garbage) throw DatastoreError(prefix() + r.garbage);
        if (rc == SMK_STORE_OK || rc == allowed) return rc;
        if (rc == SMK_STORE_FAILED)
            throw DatastoreError(prefix() + "failed: " + (r.error ? *r.error : std::string("(no message)")));
        throw DatastoreError(prefix() + "returned " + status_text(rc) + ", not a status it may return");
    }
    // A value due with OK that was not handed back (or was empty).
    [[noreturn]] void missing(const char* what) const {
        throw DatastoreError(prefix() + "returned SMK_STORE_OK without " + what);
    }
    const std::string& text(const std::optional<std::string>& v, const char* what) const {
        if (!v || v->empty()) missing(what);
        return *v;
    }

private:
    std::string prefix() const { return "host store " + where_ + ": " + name_ + " "; }
    const std::string& where_;
    const char* name_;
};

class HostCursor final : public smk::ItemCursor {
public:
    HostCursor(std::shared_ptr<const Tables> t, void* store, void* cursor, const std::string& where)
        : t_(std::move(t)), store_(store), cursor_(cursor), where_(where) {}
    ~HostCursor() override {
        if (t_->ds.list_close) t_->ds.list_close(store_, cursor_);
    }
    bool next(smk::ItemVersion& out) override {
        if (done_) return false;
        Call call(where_, "list_next");
        if (call.check(t_->ds.list_next(store_, cursor_, &call.r), SMK_STORE_END) == SMK_STORE_END) {
            done_ = true;
            return false;
        }
        out.guid = call.text(call.r.guid, "a GUID (smk_result_guid)");
        out.revision = call.text(call.r.revision, "a revision (smk_result_revision)");
        return true;
    }

private:
    std::shared_ptr<const Tables> t_;
    void* store_;
    void* cursor_;
    std::string where_;
    bool done_ = false;
};

class HostStore final : public smk::Datastore {
public:
    HostStore(std::shared_ptr<const Tables> t, void* store, std::string where)
        : t_(std::move(t)), store_(store), where_(std::move(where)) {}
    ~HostStore() override {
        if (t_->ds.close) t_->ds.close(store_);
    }

    smk::Format native_format() const override {
        if (!native_) {
            Call call(where_, "native_format");
            call.check(t_->ds.native_format(store_, &call.r));
            if (!call.r.format || call.r.format->type.empty()) call.missing("a format (smk_result_format)");
            native_ = call.r.format;
        }
        return *native_;
    }

    std::unique_ptr<smk::ItemCursor> list() override {
        Call call(where_, "list_open");
        void* cursor = nullptr;
        int rc = t_->ds.list_open(store_, &cursor, &call.r);
        try {
            call.check(rc);
            return std::make_unique<HostCursor>(t_, store_, cursor, where_);
        } catch (...) {
            if (rc == SMK_STORE_OK && t_->ds.list_close) t_->ds.list_close(store_, cursor);
            throw;
        }
    }

    std::optional<smk::StoredItem> read(const std::string& guid) override {
        if (has_nul(guid)) return std::nullopt;  // no store GUID holds one
        Call call(where_, "read");
        if (call.check(t_->ds.read(store_, guid.c_str(), &call.r), SMK_STORE_NOT_FOUND) == SMK_STORE_NOT_FOUND)
            return std::nullopt;
        if (!call.r.data) call.missing("the item's data (smk_result_data)");
        smk::StoredItem item;
        item.guid = guid;
        item.revision = call.text(call.r.revision, "a revision (smk_result_revision)");
        item.format = call.r.format && !call.r.format->type.empty() ? *call.r.format : native_format();
        item.data = std::move(*call.r.data);
        last_read_ = {guid, item.revision, std::hash<std::string>{}(item.data)};
        return item;
    }

    std::optional<std::string> revision(const std::string& guid) override {
        if (has_nul(guid)) return std::nullopt;
        Call call(where_, "revision");
        if (call.check(t_->ds.revision(store_, guid.c_str(), &call.r), SMK_STORE_NOT_FOUND) == SMK_STORE_NOT_FOUND)
            return std::nullopt;
        return call.text(call.r.revision, "a revision (smk_result_revision)");
    }

    smk::ItemVersion add(const smk::Format& format, std::string_view data) override {
        Call call(where_, "add");
        std::string copy(data);  // NUL-terminated for the host
        call.check(t_->ds.add(store_, format.type.c_str(), format.version.c_str(), copy.c_str(), copy.size(), &call.r));
        smk::ItemVersion added;
        added.guid = call.text(call.r.guid, "the new item's GUID (smk_result_guid)");
        added.revision = call.text(call.r.revision, "the new item's revision (smk_result_revision)");
        if (has_nul(added.guid)) call.missing("a GUID free of NUL bytes");
        return added;
    }

    std::optional<std::string> replace(const std::string& guid, const smk::Format& format,
                                       std::string_view data) override {
        if (has_nul(guid)) return std::nullopt;
        Call call(where_, "replace");
        std::string copy(data);
        int rc = t_->ds.replace(store_, guid.c_str(), format.type.c_str(), format.version.c_str(), copy.c_str(),
                                copy.size(), &call.r);
        if (call.check(rc, SMK_STORE_NOT_FOUND) == SMK_STORE_NOT_FOUND) return std::nullopt;
        std::string rev = call.text(call.r.revision, "the item's new revision (smk_result_revision)");
        // The engine reads an item before it replaces it: new data under the
        // revision it had then is a store whose revisions do not follow its
        // changes, and other clients would never be sent this one.
        if (last_read_.guid == guid && last_read_.revision == rev &&
            last_read_.data_hash != std::hash<std::string>{}(copy) && t_->log)
            t_->log(smk::LogLevel::warning, "host store " + where_ + ": replace kept the revision \"" + rev +
                                                "\" of item " + guid +
                                                " while its data changed; other clients will not be sent the "
                                                "change (a revision must change with the data)");
        last_read_ = {};
        return rev;
    }

    bool remove(const std::string& guid) override {
        if (has_nul(guid)) return false;
        Call call(where_, "remove");
        return call.check(t_->ds.remove(store_, guid.c_str(), &call.r), SMK_STORE_NOT_FOUND) == SMK_STORE_OK;
    }

    void begin() override { transaction(t_->ds.begin, "begin"); }
    void commit() override { transaction(t_->ds.commit, "commit"); }
    void rollback() override { transaction(t_->ds.rollback, "rollback"); }

    std::optional<std::string> snapshot(std::string_view reason) override {
        if (!t_->ds.snapshot) return std::nullopt;
        Call call(where_, "snapshot");
        std::string why(reason);
        if (call.check(t_->ds.snapshot(store_, why.c_str(), &call.r), SMK_STORE_NOT_FOUND) == SMK_STORE_NOT_FOUND)
            return std::nullopt;
        return call.text(call.r.name, "a name (smk_result_name)");
    }

private:
    void transaction(int (*fn)(void*, smk_result*), const char* name) {
        if (!fn) return;
        Call call(where_, name);
        call.check(fn(store_, &call.r));
    }

    std::shared_ptr<const Tables> t_;
    void* store_;
    std::string where_;
    mutable std::optional<smk::Format> native_;
    struct {
        std::string guid, revision;
        std::size_t data_hash = 0;
    } last_read_;
};

class HostProvider final : public smk::DatastoreProvider {
public:
    explicit HostProvider(std::shared_ptr<const Tables> t) : t_(std::move(t)) {}

    std::shared_ptr<smk::Datastore> open(const std::string& owner, smk::Category category) override {
        if (has_nul(owner)) return nullptr;
        std::string where = owner + "/" + smk::category_name(category);
        Call call(where, "open");
        void* store = nullptr;
        int rc = t_->provider.open(t_->provider.user, owner.c_str(), smk::category_name(category), &store, &call.r);
        return wrap(call, rc, store, where);
    }

    std::optional<smk::Access> grant(const std::string& owner, smk::Category category,
                                     const std::string& user) override {
        if (has_nul(owner) || has_nul(user)) return std::nullopt;
        int g = t_->provider.grant(t_->provider.user, owner.c_str(), smk::category_name(category), user.c_str());
        if (g == SMK_GRANT_READ_WRITE) return smk::Access::read_write;
        if (g == SMK_GRANT_READ_ONLY) return smk::Access::read_only;
        if (g != SMK_GRANT_NONE && t_->log)
            t_->log(smk::LogLevel::error, "host provider: grant of " + printable_name(user) + " on " +
                                              printable_name(owner) + "/" +
                                              smk::category_name(category) + " returned " + std::to_string(g) +
                                              "; taken as no grant");
        return std::nullopt;
    }

    std::shared_ptr<smk::Datastore> open_global_address_book() override {
        if (!t_->provider.open_global_address_book) return nullptr;
        std::string where = "Global Address Book";
        Call call(where, "open_global_address_book");
        void* store = nullptr;
        int rc = t_->provider.open_global_address_book(t_->provider.user, &store, &call.r);
        return wrap(call, rc, store, where);
    }

private:
    std::shared_ptr<smk::Datastore> wrap(const Call& call, int rc, void* store, const std::string& where) {
        try {
            if (call.check(rc, SMK_STORE_NOT_FOUND) == SMK_STORE_NOT_FOUND) return nullptr;
            if (!store) call.missing("a store (*store left NULL)");
            return std::make_shared<HostStore>(t_, store, where);
        } catch (...) {
            // Opened but not to be closed by a HostStore: closed here.
            if (rc == SMK_STORE_OK && store && t_->ds.close) t_->ds.close(store);
            throw;
        }
    }

    std::shared_ptr<const Tables> t_;
};

class HostAuth final : public smk::AuthProvider {
public:
    explicit HostAuth(std::shared_ptr<const Tables> t) : t_(std::move(t)) {}

    bool check_password(const std::string& user, const std::string& password) override {
        // A C string would end at the NUL: "secret\0x" must not pass as "secret".
        if (has_nul(user) || has_nul(password)) return false;
        int rc = t_->auth.check_password(t_->auth.user, user.c_str(), password.c_str());
        if (rc == SMK_AUTH_OK) return true;
        if (rc == SMK_AUTH_DENIED) return false;
        throw smk::AuthUnavailable("the host's user database did not answer for \"" + printable(user) +
                                   "\" (check_password returned " + auth_status(rc) + ")");
    }

    std::optional<std::string> md5_digest(const std::string& user) override {
        if (!t_->auth.md5_digest || has_nul(user)) return std::nullopt;
        smk_result r;
        int rc = t_->auth.md5_digest(t_->auth.user, user.c_str(), &r);
        if (rc == SMK_AUTH_DENIED) return std::nullopt;
        std::string why;
        if (rc != SMK_AUTH_OK) why = "md5_digest returned " + auth_status(rc);
        else if (r.out_of_memory) why = "out of memory copying md5_digest's digest";
        else if (r.garbage || !r.data || r.data->empty()) why = "md5_digest returned SMK_AUTH_OK without a digest";
        else return std::move(*r.data);
        if (r.error) why += ": " + *r.error;
        throw smk::AuthUnavailable("the host's user database did not answer for \"" + printable(user) + "\" (" + why +
                                   ")");
    }

private:
    static std::string auth_status(int rc) {
        switch (rc) {
            case SMK_AUTH_UNAVAILABLE: return "SMK_AUTH_UNAVAILABLE";
            default: return std::to_string(rc) + ", not a status it may return";
        }
    }
    // A user name as a log line may show it.
    static std::string printable(const std::string& s) {
        std::string out;
        for (char c : s.substr(0, 64)) out += static_cast<unsigned char>(c) < 0x20 || c == '"' ? '?' : c;
        return out;
    }

    std::shared_ptr<const Tables> t_;
};

// Has a table of `size` bytes the member ending at `end`?
bool covers(std::size_t size, std::size_t end) { return size >= end; }
#define SMK_END_OF(type, member) (offsetof(type, member) + sizeof(static_cast<type*>(nullptr)->member))

int refuse(char** error, const std::string& why) {
    if (error) {
        *error = static_cast<char*>(std::malloc(why.size() + 1));
        if (*error) std::memcpy(*error, why.c_str(), why.size() + 1);
    }
    return SMK_ERR_ARGUMENT;
}

// The one guard between C and everything above.
template <class F>
int guarded(char** error, F&& body) noexcept {
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return SMK_ERR_NOMEM;
    } catch (const std::exception& e) {
        refuse(error, e.what());
        return SMK_ERR_INTERNAL;
    } catch (...) {
        return SMK_ERR_INTERNAL;
    }
}

}  // namespace

extern "C" {

void smk_result_guid(smk_result* r, const char* guid, size_t len) {
    set_text(r, &smk_result::guid, guid, len, "handed back a NULL GUID with a length");
}

void smk_result_revision(smk_result* r, const char* rev, size_t len) {
    set_text(r, &smk_result::revision, rev, len, "handed back a NULL revision with a length");
}

void smk_result_data(smk_result* r, const char* data, size_t len) {
    set_text(r, &smk_result::data, data, len, "handed back NULL data with a length");
}

void smk_result_name(smk_result* r, const char* name, size_t len) {
    set_text(r, &smk_result::name, name, len, "handed back a NULL name with a length");
}

void smk_result_format(smk_result* r, const char* type, const char* version) {
    if (!r) return;
    if (!type) {
        r->garbage = "handed back a NULL format type";
        return;
    }
    try {
        r->format = smk::Format{type, version ? version : ""};
    } catch (...) {
        r->out_of_memory = true;
    }
}

void smk_result_error(smk_result* r, const char* message) {
    if (!r || !message) return;
    try {
        r->error = std::string(message, strnlen(message, 1000));
    } catch (...) {
        r->out_of_memory = true;
    }
}

int smk_server_new_hosted(const smk_server_config* config, const smk_provider_callbacks* provider,
                          const smk_auth_callbacks* auth, smk_server** out, char** error) {
    if (error) *error = nullptr;
    if (out) *out = nullptr;
    return guarded(error, [&]() -> int {
        if (!config || !out || !covers(config->size, SMK_END_OF(smk_server_config, user_data)))
            return refuse(error, "smk_server_new_hosted: config and out are required, with config->size set");
        if (!provider || !covers(provider->size, SMK_END_OF(smk_provider_callbacks, grant)) || !provider->open ||
            !provider->grant)
            return refuse(error, "smk_server_new_hosted: provider needs its size, open and grant");
        const smk_datastore_callbacks* ds = provider->datastore;
        if (!ds || !covers(ds->size, SMK_END_OF(smk_datastore_callbacks, remove)) || !ds->native_format ||
            !ds->list_open || !ds->list_next || !ds->read || !ds->revision || !ds->add || !ds->replace ||
            !ds->remove)
            return refuse(error,
                          "smk_server_new_hosted: provider->datastore needs its size, native_format, list_open, "
                          "list_next, read, revision, add, replace and remove");
        if (auth && (!covers(auth->size, SMK_END_OF(smk_auth_callbacks, check_password)) || !auth->check_password))
            return refuse(error, "smk_server_new_hosted: auth needs its size and check_password");

        auto tables = std::make_shared<Tables>();
        copy_table(tables->ds, ds);
        copy_table(tables->provider, provider);
        tables->provider.datastore = &tables->ds;
        if (auth) copy_table(tables->auth, auth);
        // The adapter's own lines go where the engine's go: log_session when
        // the caller's struct has it and it is set (it replaces log), else log.
        void (*log_session)(void*, int, const char*, const char*) =
            covers(config->size, SMK_END_OF(smk_server_config, log_session)) ? config->log_session : nullptr;
        if (log_session) {
            void* user_data = config->user_data;
            tables->log = [log_session, user_data](smk::LogLevel level, const std::string& line) {
                log_session(user_data, static_cast<int>(level), "", line.c_str());
            };
        } else if (void (*log)(void*, int, const char*) = config->log) {
            void* user_data = config->user_data;
            tables->log = [log, user_data](smk::LogLevel level, const std::string& line) {
                log(user_data, static_cast<int>(level), line.c_str());
            };
        }
        smk::capi::Hosted hosted;
        hosted.datastores = std::make_shared<HostProvider>(tables);
        if (auth) hosted.auth = std::make_shared<HostAuth>(tables);
        return smk::capi::new_server(config, &hosted, out, error);
    });
}

}  // extern "C"
