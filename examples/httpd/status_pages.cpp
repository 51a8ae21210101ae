#include "status_pages.hpp"

#include <cctype>
#include <cstdint>
#include <ctime>

#include "access_log.hpp"
#include "syncmlkit/version.hpp"

namespace smk::httpd {

namespace {

// "2026-12-04 20:11:02 UTC", as syncmlkit-admin writes times.
std::string utc_time(std::int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

// Client data on the page: printable ASCII and spaces as they are, anything
// else as \xNN, at most 200 bytes.
std::string shown(const std::string& s) { return escape_for_log(s, 200, true); }

std::string plural(std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

bool base64_decode(const std::string& in, std::string& out) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    out.clear();
    std::uint32_t bits = 0;
    int count = 0;
    std::size_t i = 0;
    for (; i < in.size() && in[i] != '='; ++i) {
        int v = value(in[i]);
        if (v < 0) return false;
        bits = (bits << 6) | static_cast<std::uint32_t>(v);
        if (++count == 4) {
            out += static_cast<char>((bits >> 16) & 0xFF);
            out += static_cast<char>((bits >> 8) & 0xFF);
            out += static_cast<char>(bits & 0xFF);
            bits = 0;
            count = 0;
        }
    }
    for (std::size_t j = i; j < in.size(); ++j)
        if (in[j] != '=') return false;
    if (count == 1) return false;
    if (count == 2) out += static_cast<char>((bits >> 4) & 0xFF);
    if (count == 3) {
        out += static_cast<char>((bits >> 10) & 0xFF);
        out += static_cast<char>((bits >> 2) & 0xFF);
    }
    return true;
}

HttpReply sign_in_reply() {
    HttpReply r = text_reply(401, "sign in with the user name and password your SyncML client uses");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"SyncMLKit\"");
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

}  // namespace

std::string front_page(const std::string& version, const std::string& url) {
    std::string base = url;
    if (!base.empty() && base.back() == '/') base.pop_back();
    // The names are lib/engine/database_name.cpp's (the category names and
    // the Funambol plug-ins' defaults); tests/httpd checks the two agree.
    return "syncmlkit-httpd " + version +
           ": a SyncML server (OMA DS 1.1 and 1.2).\n"
           "\n"
           "Point your SyncML client at\n"
           "  " + url + "\n"
           "(any path works) with your user name and password.\n"
           "\n"
           "Databases, as you name them in the client:\n"
           "  contacts    your address book  (also: card, scard)\n"
           "  calendar    your events        (also: event, sevent, scal, cal)\n"
           "  tasks       your tasks         (also: task, stask)\n"
           "  notes       your notes         (also: note, snote)\n"
           "  OWNER/contacts, OWNER/calendar, OWNER/tasks, OWNER/notes\n"
           "              another user's database, when OWNER has granted it to you\n"
           "  Global Address Book/contacts\n"
           "              the organisation's directory, read-only\n"
           "\n"
           "Your devices and their last syncs: " + base + kDevicesPath + "\n"
           "(sign in with the same user name and password).\n";
}

bool parse_basic_authorization(const std::string& header, std::string& user, std::string& password) {
    std::size_t i = 0;
    while (i < header.size() && header[i] == ' ') ++i;
    static const std::string scheme = "basic";
    if (header.size() < i + scheme.size()) return false;
    for (std::size_t k = 0; k < scheme.size(); ++k)
        if (std::tolower(static_cast<unsigned char>(header[i + k])) != scheme[k]) return false;
    i += scheme.size();
    if (i >= header.size() || header[i] != ' ') return false;
    while (i < header.size() && header[i] == ' ') ++i;
    std::size_t end = header.size();
    while (end > i && header[end - 1] == ' ') --end;
    std::string decoded;
    if (!base64_decode(header.substr(i, end - i), decoded)) return false;
    std::size_t colon = decoded.find(':');
    if (colon == std::string::npos) return false;
    user = decoded.substr(0, colon);
    password = decoded.substr(colon + 1);
    return true;
}

HttpReply devices_page(const DevicesBackend& backend, const std::string& authorization, const std::string& peer) {
    std::string user, password;
    if (!parse_basic_authorization(authorization, user, password)) return sign_in_reply();
    smk::LoginCheck login = backend.check_login(user, password, peer);
    if (login.retry_after > 0) {
        HttpReply r = text_reply(429, "too many failed logins: try again in " + std::to_string(login.retry_after) +
                                          " seconds");
        r.headers.emplace_back("Retry-After", std::to_string(login.retry_after));
        r.headers.emplace_back("Cache-Control", "no-store");
        return r;
    }
    if (!login.ok) return sign_in_reply();

    // Her own databases, and only the devices that logged in as her: a
    // grantee's device with state in her database is not hers to see.
    std::vector<smk::Category> databases = backend.databases(user);
    std::vector<std::vector<smk::ClientSyncState>> states;
    for (smk::Category c : databases) states.push_back(backend.states(user, c));
    std::vector<smk::KnownDevice> devices = backend.devices(user);

    std::string text = "syncmlkit-httpd " + std::string(smk::version()) + ": the devices of " + shown(user) + "\n";
    if (devices.empty()) text += "\nNo device has logged in as " + shown(user) + " yet.\n";
    for (const smk::KnownDevice& d : devices) {
        text += "\n" + shown(d.device) + "\n";
        text += "  make: " + (d.make.empty() ? std::string("unknown") : shown(d.make)) +
                ", model: " + (d.model.empty() ? std::string("unknown") : shown(d.model)) +
                ", last login: " + utc_time(d.last_seen) + "\n";
        for (std::size_t i = 0; i < databases.size(); ++i) {
            const char* name = smk::category_name(databases[i]);
            const smk::ClientSyncState* s = nullptr;
            for (const smk::ClientSyncState& candidate : states[i])
                if (candidate.device == d.device) s = &candidate;
            if (!s) {
                text += std::string("  ") + name + ": never synced\n";
            } else if (!s->completed) {
                text += std::string("  ") + name + ": no completed sync (" + plural(s->items, "item", "items") + ")\n";
            } else {
                text += std::string("  ") + name + ": last sync " +
                        (s->when ? utc_time(*s->when) : std::string("at a time not recorded")) + " (" +
                        plural(s->items, "item", "items") + ")\n";
            }
        }
    }
    HttpReply r = text_reply(200, std::move(text));
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
}

}  // namespace smk::httpd
