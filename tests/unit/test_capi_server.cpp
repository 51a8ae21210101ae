// The C ABI's server options and the built-in store's administration, each
// seen through smk_server_process: whole sessions of scripted clients go
// through the C calls, and each option's effect is checked in the replies,
// the store, the log and the trace.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine_client.hpp"
#include "fixtures.hpp"
#include "syncmlkit.h"

using namespace smk;
using namespace smk::wire;
using smk::test::find_command;
using smk::test::find_status;
using smk::test::TestClient;
using namespace smk::test::steps;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// What the host's callbacks saw.
struct Host {
    std::mutex mutex;
    struct Line {
        int level;
        std::string session, message;
    };
    std::vector<Line> lines;
    int plain_log_calls = 0;
    struct Trace {
        int direction;
        std::string session, xml;
    };
    std::vector<Trace> traces;
    std::vector<std::string> profile_asked;  // "man|mod|devid"
    const char* profile = nullptr;
    std::map<std::string, std::string> zones;
    std::vector<std::string> allow_asked;  // "owner/category/device"
    bool allow = false;

    bool logged(const std::string& part) {
        std::lock_guard<std::mutex> lock(mutex);
        return std::any_of(lines.begin(), lines.end(), [&](const Line& l) { return has(l.message, part); });
    }
};

Host& host_of(void* user_data) { return *static_cast<Host*>(user_data); }

int password_cb(void*, const char* user, char* buf, size_t size) {
    static const std::map<std::string, std::string> users = {{"alice", "secret"}, {"bob", "hunter2"}, {"test", "test"}};
    auto it = users.find(user);
    if (it == users.end()) return -1;
    if (it->second.size() < size) std::memcpy(buf, it->second.c_str(), it->second.size() + 1);
    return static_cast<int>(it->second.size());
}

void plain_log_cb(void* user_data, int, const char*) {
    Host& h = host_of(user_data);
    std::lock_guard<std::mutex> lock(h.mutex);
    ++h.plain_log_calls;
}

void session_log_cb(void* user_data, int level, const char* session, const char* message) {
    Host& h = host_of(user_data);
    std::lock_guard<std::mutex> lock(h.mutex);
    h.lines.push_back({level, session, message});
}

void trace_cb(void* user_data, int direction, const char* session, const char* xml, size_t len) {
    Host& h = host_of(user_data);
    std::lock_guard<std::mutex> lock(h.mutex);
    REQUIRE(std::strlen(xml) == len);
    h.traces.push_back({direction, session, std::string(xml, len)});
}

const char* profile_cb(void* user_data, const char* man, const char* mod, const char* dev_id) {
    Host& h = host_of(user_data);
    std::lock_guard<std::mutex> lock(h.mutex);
    h.profile_asked.push_back(std::string(man) + "|" + mod + "|" + dev_id);
    return h.profile;
}

int zone_cb(void* user_data, const char* user, char* buf, size_t size) {
    Host& h = host_of(user_data);
    auto it = h.zones.find(user);
    if (it == h.zones.end()) return -1;
    if (it->second.size() < size) std::memcpy(buf, it->second.c_str(), it->second.size() + 1);
    return static_cast<int>(it->second.size());
}

int allow_cb(void* user_data, const char* owner, const char* category, const char* device) {
    Host& h = host_of(user_data);
    std::lock_guard<std::mutex> lock(h.mutex);
    h.allow_asked.push_back(std::string(owner) + "/" + category + "/" + device);
    return h.allow ? 1 : 0;
}

// A server made through the C ABI on a fresh directory, and a transport
// for TestClient through smk_server_process.
struct CServer {
    std::filesystem::path dir;
    std::string data_dir;
    Host host;
    smk_server* server = nullptr;

    explicit CServer(const std::function<void(smk_server_config&)>& adjust = {}) {
        static int counter = 0;
        dir = std::filesystem::temp_directory_path() /
              ("smk-capi-server-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(dir);
        data_dir = (dir / "data").string();
        smk_server_config c{};
        c.size = sizeof c;
        c.data_dir = data_dir.c_str();
        c.password = password_cb;
        c.log_session = session_log_cb;
        c.user_data = &host;
        if (adjust) adjust(c);
        char* error = nullptr;
        int rc = smk_server_new(&c, &server, &error);
        INFO((error ? error : ""));
        smk_free(error);
        REQUIRE(rc == SMK_OK);
    }
    ~CServer() {
        smk_server_free(server);
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }

    Response process(const Request& req) const {
        smk_response r{};
        smk_reply_info info{};
        info.size = sizeof info;
        int rc = smk_server_process_info(server, req.body.data(), req.body.size(), req.content_type.c_str(),
                                         req.url.c_str(), req.peer.c_str(), &r, &info);
        REQUIRE(rc == SMK_OK);
        Response out;
        out.retry_after = info.retry_after;
        out.body.assign(r.body, r.body_len);
        out.content_type = r.content_type;
        out.http_status = r.http_status;
        out.session_ended = r.session_ended != 0;
        smk_response_free(&r);
        return out;
    }
    TestClient::Transport transport() const {
        return [this](const Request& req) { return process(req); };
    }

    // The data of `owner`'s items, read through a second provider on the directory.
    std::vector<std::string> items(const std::string& owner, Category category) const {
        SqliteStoreProvider stores(data_dir);
        std::vector<std::string> out;
        if (!stores.has_database(owner, category)) return out;
        auto store = stores.open(owner, category);
        auto cursor = store->list();
        ItemVersion v;
        while (cursor->next(v)) out.push_back(store->read(v.guid)->data);
        std::sort(out.begin(), out.end());
        return out;
    }
};

std::string card(const std::string& family, const std::string& given) {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + family + ";" + given + ";;;\r\nFN:" + given + " " + family +
           "\r\nEND:VCARD\r\n";
}

// A phone with its own contacts (LUID -> vCard) and its changes since its
// last sync, syncing whole sessions.
class Phone {
public:
    Phone(const CServer& server, const std::string& device, std::string db = "contacts")
        : tc_(server.transport(), device), device_(device), db_(std::move(db)) {}

    std::string add(const std::string& data) {
        std::string luid = device_ + "-" + std::to_string(++luids_);
        items[luid] = data;
        added_.insert(luid);
        return luid;
    }
    void remove(const std::string& luid) {
        items.erase(luid);
        if (!added_.erase(luid)) deleted_.insert(luid);
    }

    struct Outcome {
        std::string alert_status, server_mode;
        std::map<std::string, std::string> status;  // by LUID
        std::size_t adds = 0, replaces = 0, deletes = 0;
    };

    // One session asking for `code` ("200" two-way, "201" slow, "203" refresh from client).
    Outcome sync(const std::string& code) {
        Outcome out;
        tc_.new_session();
        std::string next = "A" + std::to_string(++sessions_);
        Message pkg2 = init(tc_, code, db_, last_, next);
        out.alert_status = find_status(pkg2, "Alert")->data;
        const Command* alert = find_command(pkg2, CommandKind::Alert);
        REQUIRE(alert);
        out.server_mode = alert->data;
        std::vector<Command> ops;
        if (out.server_mode == "201" || out.server_mode == "203") {
            for (const auto& [luid, data] : items) ops.push_back(TestClient::item_command(CommandKind::Replace, luid, data));
        } else {
            for (const std::string& luid : added_) ops.push_back(TestClient::item_command(CommandKind::Add, luid, items[luid]));
            for (const std::string& luid : deleted_) ops.push_back(TestClient::item_command(CommandKind::Delete, luid, ""));
        }
        int id = 50;
        for (Command& op : ops) op.cmd_id = std::to_string(id++);
        Message pkg4 = client_changes(tc_, pkg2, db_, ops);
        for (const Command& s : pkg4.body)
            if (s.kind == CommandKind::Status && (s.cmd == "Add" || s.cmd == "Replace" || s.cmd == "Delete"))
                for (const std::string& luid : s.source_refs) out.status[luid] = s.data;
        Command map;
        map.kind = CommandKind::Map;
        map.cmd_id = "90";
        map.target.uri = db_;
        map.source.uri = "./" + db_;
        for (const Command& op : server_ops(pkg4)) {
            const Item& it = op.items.front();
            if (op.kind == CommandKind::Add) {
                std::string luid = device_ + "-" + std::to_string(++luids_);
                items[luid] = it.data;
                map.map_items.push_back(MapItem{{it.source.uri, ""}, {luid, ""}});
                ++out.adds;
            } else if (op.kind == CommandKind::Replace) {
                items[it.target.uri] = it.data, ++out.replaces;
            } else if (op.kind == CommandKind::Delete) {
                items.erase(it.target.uri), ++out.deletes;
            }
        }
        if (out.server_mode != "203") {
            Message m = tc_.message();
            m.body = tc_.statuses_for(pkg4);
            if (!map.map_items.empty()) m.body.push_back(map);
            tc_.send(m);
        }
        REQUIRE(tc_.last_response.session_ended);
        last_ = next;
        added_.clear();
        deleted_.clear();
        return out;
    }

    TestClient& client() { return tc_; }
    std::map<std::string, std::string> items;

private:
    TestClient tc_;
    std::string device_, db_, last_;
    int sessions_ = 0, luids_ = 0;
    std::set<std::string> added_, deleted_;
};

std::vector<std::string> sorted_values(const std::map<std::string, std::string>& m) {
    std::vector<std::string> out;
    for (const auto& [k, v] : m) out.push_back(v);
    std::sort(out.begin(), out.end());
    return out;
}

// The "s" parameter of a RespURI, cut as log lines cut it.
std::string session_of(const std::string& resp_uri) {
    std::size_t at = resp_uri.find("s=");
    REQUIRE(at != std::string::npos);
    return resp_uri.substr(at + 2, 8);
}

}  // namespace

// ---- the options of smk_server_config ----

TEST_CASE("C ABI: an alias is a database name clients may sync; a malformed one is refused") {
    static const char* const aliases[] = {"addressbook=contacts", "agenda=calendar", nullptr};
    CServer s([](smk_server_config& c) { c.aliases = aliases; });
    Phone phone(s, "IMEI:1", "addressbook");
    phone.add(card("Smith", "Ann"));
    phone.add(card("Meier", "Bert"));
    Phone::Outcome out = phone.sync("200");
    CHECK(out.alert_status == "508");  // a first sync: slow, as for "contacts"
    CHECK(out.server_mode == "201");
    CHECK(out.status.size() == 2);
    for (const auto& [luid, code] : out.status) CHECK(code == "201");
    CHECK(s.items("alice", Category::contacts) == std::vector<std::string>{card("Meier", "Bert"), card("Smith", "Ann")});

    // Without the alias the name is unknown: 404, nothing stored.
    CServer plain;
    TestClient c(plain.transport(), "IMEI:2");
    Message pkg2 = init(c, "200", "addressbook", "", "N1");
    CHECK(find_status(pkg2, "Alert")->data == "404");
    CHECK(plain.items("alice", Category::contacts).empty());

    // A malformed entry fails smk_server_new with a message naming it.
    for (const char* bad : {"journal=journal", "nocategory", "=contacts"}) {
        const char* const list[] = {"ok=tasks", bad, nullptr};
        std::string data_dir = (s.dir / "bad").string();
        smk_server_config c{};
        c.size = sizeof c;
        c.data_dir = data_dir.c_str();
        c.password = password_cb;
        c.aliases = list;
        smk_server* server = nullptr;
        char* error = nullptr;
        CHECK(smk_server_new(&c, &server, &error) == SMK_ERR_ARGUMENT);
        CHECK(server == nullptr);
        REQUIRE(error);
        CHECK(has(error, bad));
        smk_free(error);
    }
}

TEST_CASE("C ABI: the server id is the DevID of the server's DevInf") {
    std::string body = smk::test::read_fixture("captures/syncevolution/first-message/contacts-two-way-xml-basic.xml");
    for (const char* id : {"mail.example.com SyncML", ""}) {
        CServer s([&](smk_server_config& c) { c.server_id = id; });
        Request req;
        req.body = body;
        req.content_type = "application/vnd.syncml+xml";
        req.url = "/sync";
        Response r = s.process(req);
        REQUIRE(r.http_status == 200);
        Message reply = decode(r.body, Encoding::xml);
        CHECK(find_status(reply, "SyncHdr")->data == "212");
        const Command* results = find_command(reply, CommandKind::Results);
        REQUIRE(results);
        REQUIRE(results->items.at(0).devinf);
        CHECK(results->items.at(0).devinf->dev_id == (*id ? id : "SyncMLKit"));
    }
}

TEST_CASE("C ABI: the trace gets each message in and out as XML, and log lines name their session") {
    CServer s([](smk_server_config& c) {
        c.log = plain_log_cb;  // log_session is set too: it takes every line
        c.trace = trace_cb;
    });
    TestClient c(s.transport(), "IMEI:9", Encoding::wbxml);
    Message pkg2 = init(c, "201", "contacts", "", "N1");
    REQUIRE(find_status(pkg2, "SyncHdr")->data == "212");
    std::string session = session_of(pkg2.header.resp_uri);
    Message pkg4 = client_changes(c, pkg2, "contacts", {TestClient::item_command(CommandKind::Replace, "l1", card("Smith", "Ann"))});
    map_phase(c, pkg4, "contacts");
    REQUIRE(c.last_response.session_ended);

    std::lock_guard<std::mutex> lock(s.host.mutex);
    // Three messages: in, out, in, out, in, out, all of one session, as XML
    // although they travelled as WBXML.
    REQUIRE(s.host.traces.size() == 6);
    for (std::size_t i = 0; i < 6; ++i) {
        const Host::Trace& t = s.host.traces[i];
        CHECK(t.direction == (i % 2 == 0 ? SMK_TRACE_IN : SMK_TRACE_OUT));
        CHECK(t.session == session);
        CHECK(has(t.xml, "<SyncML"));
        CHECK(has(t.xml, "<MsgID>" + std::to_string(i / 2 + 1) + "</MsgID>"));
        CHECK(has(t.xml, t.direction == SMK_TRACE_IN ? "<LocURI>IMEI:9</LocURI>" : "<Status>"));
    }
    CHECK(has(s.host.traces[2].xml, "FN:Ann Smith"));   // the item the client sent
    CHECK(has(s.host.traces[1].xml, "<Data>212</Data>"));  // the login's status

    // The session's lines carry its id; the old callback is not called beside it.
    CHECK(s.host.plain_log_calls == 0);
    std::size_t in_session = 0;
    for (const Host::Line& l : s.host.lines) {
        if (has(l.message, "session " + session)) CHECK(l.session == session);
        in_session += l.session == session;
    }
    CHECK(in_session >= 2);
    CHECK(std::any_of(s.host.lines.begin(), s.host.lines.end(), [&](const Host::Line& l) {
        return l.session == session && has(l.message, "user alice on device IMEI:9");
    }));
}

TEST_CASE("C ABI: messages no session takes are traced and logged without a session") {
    CServer s([](smk_server_config& c) { c.trace = trace_cb; });
    Request req;
    req.body = "<SyncML>";
    req.content_type = "application/vnd.syncml+xml";
    req.url = "/sync";
    Response r = s.process(req);
    CHECK(r.http_status == 400);
    req.content_type = "text/html";
    CHECK(s.process(req).http_status == 415);

    std::lock_guard<std::mutex> lock(s.host.mutex);
    REQUIRE(s.host.traces.size() == 4);
    for (const Host::Trace& t : s.host.traces) CHECK(t.session.empty());
    CHECK(has(s.host.traces[0].xml, "<!-- not rendered: "));
    CHECK(has(s.host.traces[1].xml, "SyncMLKit: undecodable SyncML message"));  // the reply's text
    CHECK(s.host.traces[2].xml == "<!-- not rendered: not a SyncML message (Content-Type \"text/html\") -->");
    REQUIRE(s.host.lines.size() == 2);
    for (const Host::Line& l : s.host.lines) {
        CHECK(l.session.empty());
        CHECK(l.level == SMK_LOG_WARNING);
    }
}

namespace {

const std::string kVcal =
    "BEGIN:VCALENDAR\r\nVERSION:1.0\r\nBEGIN:VEVENT\r\nSUMMARY:Review\r\n"
    "DTSTART:20260130T090000\r\nDTEND:20260130T100000\r\nRRULE:MP1 5+ FR #0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

// A vCalendar phone's first sync of one event; the event as stored.
std::string stored_event(CServer& s) {
    TestClient phone(s.transport(), "IMEI:37");
    Message pkg2 = init_with_devinf(phone, {"IMEI:37", "text/x-vcalendar", "1.0", "calendar", "Acme", "P1"}, "201", "P1");
    Command add = TestClient::item_command(CommandKind::Add, "p-1", kVcal);
    add.meta.type = "text/x-vcalendar";
    Message pkg4 = client_changes(phone, pkg2, "calendar", {add});
    CHECK(find_status(pkg4, "Add")->data == "201");
    auto stored = s.items("alice", Category::calendar);
    REQUIRE(stored.size() == 1);
    return stored[0];
}

}  // namespace

TEST_CASE("C ABI: a user's time zone places floating vCalendar times; a profile name is applied") {
    CServer plain;
    std::string floating = stored_event(plain);
    CHECK(has(floating, "DTSTART:20260130T090000\r\n"));
    CHECK_FALSE(has(floating, "BEGIN:VTIMEZONE"));
    CHECK_FALSE(has(floating, "BYDAY=-1FR"));  // "5+" is the fifth Friday to the generic profile

    CServer s([](smk_server_config& c) {
        c.user_time_zone = zone_cb;
        c.client_profile = profile_cb;
    });
    s.host.zones["alice"] = "Europe/Berlin";
    s.host.profile = "funambol-outlook";  // this host knows its phones write "last" the Outlook way
    std::string placed = stored_event(s);
    CHECK(has(placed, "DTSTART;TZID=Europe/Berlin:20260130T090000\r\n"));
    CHECK(has(placed, "BEGIN:VTIMEZONE\r\n"));
    CHECK(has(placed, "RRULE:FREQ=MONTHLY;BYDAY=-1FR\r\n"));
    CHECK(s.host.profile_asked == std::vector<std::string>{"Acme|P1|IMEI:37"});
    CHECK(s.host.logged("conversion profile funambol-outlook"));

    // An unknown name: a warning, and the library's own choice.
    CServer odd([](smk_server_config& c) { c.client_profile = profile_cb; });
    odd.host.profile = "no-such-phone";
    std::string chosen = stored_event(odd);
    CHECK_FALSE(has(chosen, "BYDAY=-1FR"));
    CHECK(odd.host.logged("no profile \"no-such-phone\""));
    CHECK(odd.host.logged("conversion profile generic"));
}

TEST_CASE("C ABI: max_xml_depth refuses deeper messages; the request size limit is readable") {
    std::string msg = smk::test::read_fixture("captures/funambol/first-messages/contacts-vcard21-basic-twoway/msg01.xml");
    Request req;
    req.body = msg;
    req.content_type = "application/vnd.syncml+xml";
    req.url = "/sync";
    CServer sized([](smk_server_config& c) { c.max_msg_size = 10000; });
    CHECK(smk_server_max_request_size(sized.server) == 64 * 1024);
    CServer fixed([](smk_server_config& c) { c.max_request_size = 5000; });
    CHECK(smk_server_max_request_size(fixed.server) == 5000);
    CServer shallow([](smk_server_config& c) { c.max_xml_depth = 3; });
    CHECK(shallow.process(req).http_status == 400);
    CHECK(shallow.host.logged("undecodable message"));
    CServer deep;
    CHECK(deep.process(req).http_status == 200);
}

namespace {

// A login from `peer`; the SyncHdr status ("212", "401", "503").
std::string login(const CServer& s, const std::string& user, const std::string& password, const std::string& peer) {
    TestClient c(s.transport(), "dev-" + user + "-" + peer);
    c.user = user;
    c.password = password;
    c.peer = peer;
    return find_status(init(c, "200", "contacts", "", "N1"), "SyncHdr")->data;
}

}  // namespace

TEST_CASE("C ABI: login_max_tracked bounds what the login throttle remembers") {
    auto scenario = [](std::size_t max_tracked) {
        CServer s([&](smk_server_config& c) {
            c.login_free_failures = 2;
            c.login_max_tracked = max_tracked;
        });
        CHECK(login(s, "alice", "wrong", "10.0.0.1") == "401");
        CHECK(login(s, "bob", "wrong", "10.0.0.2") == "401");  // pushes alice's failure out when 4 are tracked
        CHECK(login(s, "alice", "wrong", "10.0.0.1") == "401");
        return login(s, "alice", "secret", "10.0.0.1");
    };
    CHECK(scenario(0) == "503");  // the default remembers both failures: held back
    CHECK(scenario(4) == "212");  // the first failure was forgotten
}

TEST_CASE("C ABI: smk_server_process_info hands back the Retry-After of a throttled login") {
    CServer s([](smk_server_config& c) {
        c.login_free_failures = 2;
        c.login_first_delay_s = 7;
    });
    CHECK(login(s, "alice", "wrong", "10.0.0.1") == "401");
    CHECK(login(s, "alice", "wrong", "10.0.0.1") == "401");
    unsigned retry_after = 0;
    TestClient c(
        [&](const Request& req) {
            Response r = s.process(req);
            retry_after = r.retry_after;
            return r;
        },
        "dev-alice-again");
    c.user = "alice";
    c.password = "secret";
    c.peer = "10.0.0.1";
    CHECK(find_status(init(c, "200", "contacts", "", "N1"), "SyncHdr")->data == "503");
    CHECK(retry_after > 0);
    CHECK(retry_after <= 7);
    // An info struct too small for retry_after is refused, not written past,
    // and the response is left empty, so a host that always frees it may.
    smk_response r;
    std::memset(&r, 0xab, sizeof r);
    smk_reply_info small{};
    small.size = sizeof(size_t);
    CHECK(smk_server_process_info(s.server, "x", 1, "application/vnd.syncml+xml", "/", "", &r, &small) ==
          SMK_ERR_ARGUMENT);
    CHECK(r.body == nullptr);
    CHECK(r.content_type == nullptr);
    smk_response_free(&r);
}

TEST_CASE("C ABI: the mass-delete guard asks the host before refusing") {
    for (bool allow : {false, true}) {
        CServer s([](smk_server_config& c) {
            c.mass_delete_min_items = -1;
            c.mass_delete_allow = allow_cb;
        });
        s.host.allow = allow;
        Phone phone(s, "IMEI:5");
        for (int i = 0; i < 4; ++i) phone.add(card("P" + std::to_string(i), "X"));
        phone.sync("200");
        REQUIRE(s.items("alice", Category::contacts).size() == 4);
        std::vector<std::string> luids;
        for (const auto& [luid, data] : phone.items) luids.push_back(luid);
        for (int i = 0; i < 3; ++i) phone.remove(luids[i]);
        Phone::Outcome out = phone.sync("200");
        REQUIRE(out.status.size() == 3);
        for (const auto& [luid, code] : out.status) CHECK(code == (allow ? "200" : "419"));
        CHECK(s.items("alice", Category::contacts).size() == (allow ? 1u : 4u));
        CHECK(phone.items.size() == (allow ? 1u : 4u));
        CHECK(s.host.allow_asked == std::vector<std::string>{"alice/contacts/IMEI:5"});
    }
}

TEST_CASE("C ABI: an older, smaller config leaves the newer fields unread") {
    std::string msg = smk::test::read_fixture("captures/funambol/first-messages/contacts-vcard21-basic-twoway/msg01.xml");
    Request req;
    req.body = msg;
    req.content_type = "application/vnd.syncml+xml";
    req.url = "/sync";
    // A caller compiled before max_xml_depth: its struct ends with
    // mass_delete_guard_off. What lies beyond is not its memory: junk here.
    CServer old([](smk_server_config& c) {
        c.size = offsetof(smk_server_config, mass_delete_guard_off) + sizeof c.mass_delete_guard_off;
        c.max_xml_depth = 1;
        c.aliases = reinterpret_cast<const char* const*>(std::uintptr_t{1});
        c.server_id = reinterpret_cast<const char*>(std::uintptr_t{1});
        c.client_profile = reinterpret_cast<const char* (*)(void*, const char*, const char*, const char*)>(std::uintptr_t{1});
        c.user_time_zone = reinterpret_cast<int (*)(void*, const char*, char*, size_t)>(std::uintptr_t{1});
        c.login_max_tracked = 1;
        c.mass_delete_allow = reinterpret_cast<int (*)(void*, const char*, const char*, const char*)>(std::uintptr_t{1});
        c.log_session = reinterpret_cast<void (*)(void*, int, const char*, const char*)>(std::uintptr_t{1});
        c.trace = reinterpret_cast<void (*)(void*, int, const char*, const char*, size_t)>(std::uintptr_t{1});
    });
    Response r = old.process(req);
    CHECK(r.http_status == 200);
    CHECK(has(r.body, "<Data>212</Data>"));
    // A sync with a DevInf, where a profile and a zone would be asked.
    std::string event = stored_event(old);
    CHECK(has(event, "DTSTART:20260130T090000\r\n"));
}

TEST_CASE("C ABI: smk_errstr names every status") {
    CHECK(std::string(smk_errstr(SMK_OK)) == "ok");
    CHECK(std::string(smk_errstr(SMK_ERR_NOT_FOUND)) == "not found");
    std::set<std::string> names;
    for (int code = SMK_OK; code >= SMK_ERR_NOT_FOUND; --code) names.insert(smk_errstr(code));
    CHECK(names.size() == 6);  // each its own
    CHECK(names.count("unknown status") == 0);
    CHECK(std::string(smk_errstr(-1000)) == "unknown status");
    CHECK(std::string(smk_errstr(1)) == "unknown status");
}

TEST_CASE("C ABI: the version macros match smk_version") {
    CHECK(std::string(SMK_VERSION_STRING) == smk_version());
    CHECK(std::string(SMK_VERSION_STRING) == SMK_TEST_VERSION);
    CHECK(std::to_string(SMK_VERSION_MAJOR) + "." + std::to_string(SMK_VERSION_MINOR) + "." +
              std::to_string(SMK_VERSION_PATCH) ==
          SMK_VERSION_STRING);
}

// ---- administration of the built-in store ----

namespace {

struct Devices {
    smk_device* list = nullptr;
    size_t count = 0;
    ~Devices() { smk_devices_free(list, count); }
    const smk_device* find(const std::string& id) const {
        for (size_t i = 0; i < count; ++i)
            if (id == list[i].device) return &list[i];
        return nullptr;
    }
};

const smk_device_database* database(const smk_device& d, const std::string& category) {
    for (size_t i = 0; i < d.database_count; ++i)
        if (category == d.databases[i].category) return &d.databases[i];
    return nullptr;
}

}  // namespace

TEST_CASE("C ABI admin: devices with their last sync per database, and a reset makes the next sync slow") {
    CServer s;
    long long before = static_cast<long long>(std::time(nullptr));
    // A phone that sends its DevInf, with three contacts; a calendar of one event on it too.
    TestClient first(s.transport(), "IMEI:1");
    Message pkg2 = init_with_devinf(first, {"IMEI:1", "text/vcard", "3.0", "contacts", "Acme", "P1"}, "201", "C1");
    std::vector<Command> adds;
    for (const char* n : {"Ann", "Bert", "Carl"})
        adds.push_back(TestClient::item_command(CommandKind::Add, std::string("c-") + n, card("Smith", n)));
    Message pkg4 = client_changes(first, pkg2, "contacts", adds);
    map_phase(first, pkg4, "contacts");
    REQUIRE(first.last_response.session_ended);
    Phone calendar(s, "IMEI:1", "calendar");
    calendar.sync("200");
    // Another device of alice's that never completed a sync: it stops after package 2.
    TestClient gone(s.transport(), "IMEI:2");
    init(gone, "201", "contacts", "", "G1");
    long long after = static_cast<long long>(std::time(nullptr));

    Devices d;
    char* error = nullptr;
    REQUIRE(smk_server_devices(s.server, "alice", &d.list, &d.count, &error) == SMK_OK);
    CHECK(error == nullptr);
    REQUIRE(d.count == 2);
    CHECK(std::string(d.list[0].device) == "IMEI:1");  // in device order
    const smk_device& phone = d.list[0];
    CHECK(std::string(phone.make) == "Acme");
    CHECK(std::string(phone.model) == "P1");
    CHECK(phone.last_seen >= before);
    CHECK(phone.last_seen <= after);
    REQUIRE(phone.database_count == 2);
    CHECK(std::string(phone.databases[0].category) == "contacts");
    CHECK(std::string(phone.databases[1].category) == "calendar");
    const smk_device_database* contacts = database(phone, "contacts");
    REQUIRE(contacts);
    CHECK(contacts->completed == 1);
    CHECK(contacts->items == 3);
    CHECK(contacts->last_sync >= before);
    CHECK(contacts->last_sync <= after);
    CHECK(database(phone, "calendar")->items == 0);
    CHECK(database(phone, "calendar")->completed == 1);
    const smk_device* other = d.find("IMEI:2");
    REQUIRE(other);
    CHECK(std::string(other->make).empty());  // no DevInf sent
    REQUIRE(other->database_count <= 1);
    if (other->database_count == 1) {
        CHECK(other->databases[0].completed == 0);
        CHECK(other->databases[0].last_sync == -1);
    }

    // Bob has none; a bad call says why.
    Devices none;
    CHECK(smk_server_devices(s.server, "bob", &none.list, &none.count, nullptr) == SMK_OK);
    CHECK(none.count == 0);
    CHECK(none.list == nullptr);
    CHECK(smk_server_devices(s.server, nullptr, &none.list, &none.count, &error) == SMK_ERR_ARGUMENT);
    REQUIRE(error);
    smk_free(error);

    // Reset in contacts: the next two-way sync there is a slow one (508),
    // pairing the phone's three items with the server's: no duplicate.
    size_t reset = 0;
    REQUIRE(smk_server_reset_device(s.server, "alice", "IMEI:1", "contacts", &reset, &error) == SMK_OK);
    CHECK(reset == 1);
    Devices after_reset;
    REQUIRE(smk_server_devices(s.server, "alice", &after_reset.list, &after_reset.count, nullptr) == SMK_OK);
    const smk_device* p = after_reset.find("IMEI:1");
    REQUIRE(p);
    CHECK(database(*p, "contacts") == nullptr);
    CHECK(database(*p, "calendar") != nullptr);
    first.new_session();
    pkg2 = init(first, "200", "contacts", "C1", "C2");
    CHECK(find_status(pkg2, "Alert")->data == "508");
    CHECK(find_command(pkg2, CommandKind::Alert)->data == "201");
    std::vector<Command> all;
    for (const char* n : {"Ann", "Bert", "Carl"})
        all.push_back(TestClient::item_command(CommandKind::Replace, std::string("c-") + n, card("Smith", n)));
    pkg4 = client_changes(first, pkg2, "contacts", all);
    CHECK(server_ops(pkg4).empty());
    map_phase(first, pkg4, "contacts");
    REQUIRE(first.last_response.session_ended);
    CHECK(s.items("alice", Category::contacts).size() == 3);

    // All databases; a device without state; a database that does not exist.
    CHECK(smk_server_reset_device(s.server, "alice", "IMEI:1", nullptr, &reset, nullptr) == SMK_OK);
    CHECK(reset == 2);  // contacts (state of the session just run) and calendar
    CHECK(smk_server_reset_device(s.server, "alice", "IMEI:404", nullptr, &reset, &error) == SMK_ERR_NOT_FOUND);
    CHECK(reset == 0);
    REQUIRE(error);
    CHECK(has(error, "IMEI:404"));
    smk_free(error);
    CHECK(smk_server_reset_device(s.server, "alice", "IMEI:1", "notes", nullptr, nullptr) == SMK_ERR_NOT_FOUND);
    CHECK(smk_server_reset_device(s.server, "alice", "IMEI:1", "journal", nullptr, nullptr) == SMK_ERR_ARGUMENT);
}

TEST_CASE("C ABI admin: snapshots are listed after a refresh from a client, taken, and restored") {
    CServer s;
    Phone phone(s, "IMEI:1");
    for (const char* n : {"Ann", "Bert", "Carl"}) phone.add(card("Smith", n));
    phone.sync("200");
    std::vector<std::string> original = s.items("alice", Category::contacts);
    REQUIRE(original.size() == 3);

    smk_snapshot* list = nullptr;
    size_t count = 7;
    REQUIRE(smk_server_snapshots(s.server, "alice", "contacts", &list, &count, nullptr) == SMK_OK);
    CHECK(count == 0);
    CHECK(list == nullptr);

    // Another client replaces everything with its two items: a snapshot is taken first.
    long long before = static_cast<long long>(std::time(nullptr));
    Phone recover(s, "IMEI:2");
    recover.add(card("Other", "Dora"));
    recover.add(card("Other", "Emil"));
    CHECK(recover.sync("203").alert_status == "200");
    CHECK(s.items("alice", Category::contacts) == std::vector<std::string>{card("Other", "Dora"), card("Other", "Emil")});
    REQUIRE(smk_server_snapshots(s.server, "alice", "contacts", &list, &count, nullptr) == SMK_OK);
    REQUIRE(count == 1);
    std::string refresh_name = list[0].name;
    CHECK(std::string(list[0].reason) == "refresh-from-client");
    CHECK(list[0].taken >= before - 1);
    CHECK(list[0].taken <= static_cast<long long>(std::time(nullptr)));
    CHECK(std::filesystem::is_regular_file(list[0].path));
    CHECK(has(list[0].path, refresh_name));
    smk_snapshots_free(list, count);

    // A snapshot taken now, listed after the first.
    char* taken = nullptr;
    REQUIRE(smk_server_snapshot(s.server, "alice", "contacts", "before migration", &taken, nullptr) == SMK_OK);
    REQUIRE(taken);
    std::string taken_name = taken;
    smk_free(taken);
    REQUIRE(smk_server_snapshots(s.server, "alice", "contacts", &list, &count, nullptr) == SMK_OK);
    REQUIRE(count == 2);
    CHECK(std::string(list[0].name) == refresh_name);
    CHECK(std::string(list[1].name) == taken_name);
    CHECK(std::string(list[1].reason) == "before_migration");
    smk_snapshots_free(list, count);

    // Restore by name: the three come back, the two made since go.
    smk_item_counts n{};
    char* error = nullptr;
    REQUIRE(smk_server_restore(s.server, "alice", "contacts", refresh_name.c_str(), &n, &error) == SMK_OK);
    CHECK(n.added == 3);
    CHECK(n.removed == 2);
    CHECK(n.changed == 0);
    CHECK(n.unchanged == 0);
    CHECK(s.items("alice", Category::contacts) == original);
    // The first phone's next two-way sync changes nothing (the items it holds
    // are back); the recovering one gets the three and loses its two.
    Phone::Outcome out = recover.sync("200");
    CHECK(out.adds == 3);
    CHECK(out.deletes == 2);
    CHECK(sorted_values(recover.items) == original);
    CHECK(s.items("alice", Category::contacts) == original);

    // And back to the snapshot taken by name: the two again.
    REQUIRE(smk_server_restore(s.server, "alice", "contacts", taken_name.c_str(), &n, nullptr) == SMK_OK);
    CHECK(n.added == 2);
    CHECK(n.removed == 3);
    CHECK(s.items("alice", Category::contacts) == std::vector<std::string>{card("Other", "Dora"), card("Other", "Emil")});

    // What does not exist.
    CHECK(smk_server_restore(s.server, "alice", "contacts", "20000101T000000Z-01-none", &n, &error) == SMK_ERR_NOT_FOUND);
    REQUIRE(error);
    CHECK(has(error, "20000101T000000Z-01-none"));
    smk_free(error);
    CHECK(smk_server_snapshots(s.server, "bob", "contacts", &list, &count, nullptr) == SMK_ERR_NOT_FOUND);
    CHECK(smk_server_snapshot(s.server, "alice", "notes", nullptr, nullptr, nullptr) == SMK_ERR_NOT_FOUND);
    CHECK(smk_server_snapshot(s.server, "alice", "journal", nullptr, nullptr, nullptr) == SMK_ERR_ARGUMENT);
    CHECK(smk_server_restore(nullptr, "alice", "contacts", "latest", nullptr, nullptr) == SMK_ERR_ARGUMENT);
}

TEST_CASE("C ABI: the host's own login check counts with SyncML logins; sessions are counted and expired") {
    CServer s([](smk_server_config& c) {
        c.login_free_failures = 2;
        c.session_timeout_s = 1;
    });
    int ok = -1;
    unsigned wait = 99;
    REQUIRE(smk_server_check_login(s.server, "alice", "secret", "10.0.0.7", &ok, &wait, nullptr) == SMK_OK);
    CHECK(ok == 1);
    CHECK(wait == 0);
    REQUIRE(smk_server_check_login(s.server, "alice", "guess", "10.0.0.7", &ok, &wait, nullptr) == SMK_OK);
    CHECK(ok == 0);
    CHECK(wait == 0);
    // A second failure, in SyncML from the same address: both count.
    CHECK(login(s, "alice", "guess2", "10.0.0.7") == "401");
    REQUIRE(smk_server_check_login(s.server, "alice", "secret", "10.0.0.7", &ok, &wait, nullptr) == SMK_OK);
    CHECK(ok == 0);  // held back: not even checked
    CHECK(wait >= 1);
    CHECK(smk_server_check_login(s.server, "alice", nullptr, "10.0.0.7", &ok, nullptr, nullptr) == SMK_ERR_ARGUMENT);

    // Sessions: one open after a login, none once it is idle past the timeout.
    CHECK(smk_server_session_count(s.server) == 0);
    CHECK(login(s, "bob", "hunter2", "10.0.0.8") == "212");
    CHECK(smk_server_session_count(s.server) == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));
    smk_server_expire_idle_sessions(s.server);
    CHECK(smk_server_session_count(s.server) == 0);
    CHECK(smk_server_session_count(nullptr) == 0);
    CHECK(smk_server_max_request_size(s.server) == 300000);  // twice the default max_msg_size
    CHECK(smk_server_max_request_size(nullptr) == 0);
    smk_server_expire_idle_sessions(nullptr);
}
