// Large objects both ways, through smk::Server::process: chunks from the
// client (213, 424, 413, 416, Alert 223 when one is broken off), chunks to
// the client (reassembled here and compared byte for byte, item by item),
// the client's MaxObjSize and MaxMsgSize, its Alert 223, a lost reply, and
// package 2 split over messages.
#include <catch2/catch.hpp>

#include <map>

#include "engine_client.hpp"
#include "../../lib/wire/text.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_command;
using smk::test::find_status;
using smk::test::TestClient;
using smk::test::TestServer;
using namespace smk::test::steps;

namespace {

std::string vcard(const std::string& name) {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + name + ";Test;;;\r\nFN:Test " + name + "\r\nEND:VCARD\r\n";
}

// A contact with a photo of `bytes` pseudo-random bytes (base64, folded at
// 75 columns with CRLF) and a note of 2, 3 and 4-byte UTF-8 characters.
std::string photo_vcard(const std::string& name, std::size_t bytes, unsigned seed = 1) {
    std::string photo(bytes, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (char& ch : photo) {
        x = x * 1664525u + 1013904223u;
        ch = static_cast<char>(x >> 24);
    }
    std::string b64 = base64_encode(photo);
    std::string line = "PHOTO;ENCODING=b;TYPE=JPEG:" + b64;
    std::string folded;
    for (std::size_t i = 0; i < line.size(); i += 74) {
        if (i) folded += "\r\n ";
        folded += line.substr(i, 74);
    }
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + name + ";Photo;;;\r\nFN:Photo " + name +
           "\r\nNOTE:Gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x98\x80\r\n" + folded + "\r\nEND:VCARD\r\n";
}

Command chunk(CommandKind kind, const std::string& luid, const std::string& data, bool more,
              const std::string& size = "") {
    Command op = TestClient::item_command(kind, luid, data);
    op.items[0].more_data = more;
    op.items[0].meta.size = size;
    return op;
}

// One message of the client's package 3: statuses for `previous` (if any)
// and a Sync of `ops`.
Message client_message(TestClient& c, const Message* previous, std::vector<Command> ops, bool final) {
    Message m = c.message(final);
    if (previous) m.body = c.statuses_for(*previous);
    m.body.push_back(TestClient::sync("contacts", std::move(ops)));
    return m;
}

// The status codes answering the client's `cmd` commands, in order.
std::vector<std::string> codes(const Message& reply, const std::string& cmd) {
    std::vector<std::string> out;
    for (const Command& c : reply.body)
        if (c.kind == CommandKind::Status && c.cmd == cmd) out.push_back(c.data);
    return out;
}

std::vector<const Command*> alerts(const Message& reply, const std::string& code) {
    std::vector<const Command*> out;
    for (const Command& c : reply.body)
        if (c.kind == CommandKind::Alert && c.data == code) out.push_back(&c);
    return out;
}

// The client's side of package 4: reassembles chunked items strictly (a
// chunk of another item while one is open is an error), counts what came
// whole, and answers 213 for each chunk but the last.
struct Receiver {
    std::map<std::string, std::string> items;  ///< by GUID, as last received whole
    std::map<std::string, int> deliveries;     ///< by GUID
    std::map<std::string, CommandKind> kinds;
    std::vector<std::string> adds;  ///< GUIDs of whole Adds, to map
    std::string open_guid, open_data;
    std::optional<std::uint64_t> declared;
    std::size_t chunks = 0, messages = 0, largest = 0, restarts = 0;
    std::vector<std::string> errors;
    bool allow_restart = false;  ///< a new first chunk of the open item starts it again

    void take(const Message& reply, std::size_t bytes) {
        ++messages;
        largest = std::max(largest, bytes);
        for (const Command& op : server_ops(reply)) {
            const Item& it = op.items.at(0);
            const std::string& guid = it.source.uri;
            if (!open_guid.empty() && guid != open_guid) errors.push_back("item " + guid + " inside chunks of " + open_guid);
            if (!open_guid.empty() && guid == open_guid && !it.meta.size.empty()) {
                if (!allow_restart) errors.push_back("a second first chunk of " + guid);
                ++restarts;
                open_data.clear();
            }
            if (open_guid.empty() && (it.more_data || !it.meta.size.empty())) {
                open_guid = guid;
                open_data.clear();
                declared = to_number(it.meta.size);
            }
            if (!open_guid.empty()) {
                ++chunks;
                open_data += it.data;
                if (it.more_data) continue;
                if (!declared || *declared != open_data.size())
                    errors.push_back("item " + guid + ": " + std::to_string(open_data.size()) + " bytes, Size " +
                                     (declared ? std::to_string(*declared) : "none"));
                whole(op, guid, std::move(open_data));
                open_guid.clear();
                open_data.clear();
                declared.reset();
                continue;
            }
            whole(op, guid, it.data);
        }
    }
    void whole(const Command& op, const std::string& guid, std::string data) {
        std::string key = op.kind == CommandKind::Delete ? op.items[0].target.uri : guid;
        items[key] = std::move(data);
        ++deliveries[key];
        kinds[key] = op.kind;
        if (op.kind == CommandKind::Add) adds.push_back(guid);
    }
    // Statuses for every command of `reply`: 213 for a chunk before the last.
    std::vector<Command> statuses(TestClient& c, const Message& reply) const {
        std::vector<Command> out = c.statuses_for(reply);
        for (const Command& op : server_ops(reply))
            for (Command& s : out)
                if (s.cmd_ref == op.cmd_id && op.items.at(0).more_data) s.data = "213";
        return out;
    }
};

// Runs package 4 from `reply` to its last message, answering each with
// statuses; then package 5 with a Map of every Add. Returns the last reply.
Message download(TestClient& c, Message reply, Receiver& r, int max_rounds = 600) {
    for (int round = 0; round < max_rounds && !reply.final; ++round) {
        r.take(reply, c.last_response.body.size());
        Message next = c.message(false);
        next.body = r.statuses(c, reply);
        reply = c.send(next);
    }
    REQUIRE(reply.final);
    r.take(reply, c.last_response.body.size());
    Message m = c.message();
    m.body = r.statuses(c, reply);
    Command map;
    map.kind = CommandKind::Map;
    map.cmd_id = "90";
    map.target.uri = "contacts";
    map.source.uri = "./contacts";
    for (const std::string& guid : r.adds) map.map_items.push_back(MapItem{{guid, ""}, {"c" + guid, ""}});
    r.adds.clear();
    if (!map.map_items.empty()) m.body.push_back(map);
    return c.send(m);
}

// A two-way sync of a client that changed nothing: what the server sends.
Receiver sync_again(TestClient& c, const std::string& last, const std::string& next) {
    c.new_session();
    Message m = c.message();
    m.body.push_back(TestClient::alert("200", "contacts", "./contacts", last, next));
    Message pkg2 = c.send(m);
    REQUIRE(find_status(pkg2, "Alert"));
    CHECK(find_status(pkg2, "Alert")->data == "200");
    Receiver r;
    download(c, client_changes(c, pkg2, "contacts", {}), r);
    CHECK(c.last_response.session_ended);
    return r;
}

std::size_t count_lines(TestServer& ts, const std::string& text) {
    std::size_t n = 0;
    std::lock_guard<std::mutex> lock(ts.logger->mutex);
    for (const std::string& l : ts.logger->lines) n += l.find(text) != std::string::npos;
    return n;
}

}  // namespace

// ---------------------------------------------------------------- client to server

TEST_CASE("large objects in: chunks are answered 213 and stored byte for byte, base64 included") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:lo-in");
    Message reply = init(c, "201", "contacts", "", "I1");
    std::string big = photo_vcard("In", 30000);
    // Plain text in chunks of 4000 bytes; the second one sent twice, as a
    // client does when the reply is lost: it is answered from the cache and
    // its data is not taken twice.
    std::vector<std::string> statuses;
    for (std::size_t off = 0; off < big.size(); off += 4000) {
        bool more = off + 4000 < big.size();
        Message m = client_message(c, &reply, {chunk(CommandKind::Add, "p1", big.substr(off, 4000), more,
                                                     off ? "" : std::to_string(big.size()))},
                                   false);
        reply = c.send(m);
        if (off == 4000) {
            std::string first = c.last_response.body;
            CHECK(encode(c.send(m), Encoding::xml) == encode(reply, Encoding::xml));
            CHECK(c.last_response.body == first);
        }
        for (const std::string& s : codes(reply, "Add")) statuses.push_back(s);
    }
    std::size_t n = (big.size() + 3999) / 4000;
    REQUIRE(statuses.size() == n);
    CHECK(std::count(statuses.begin(), statuses.end(), "213") == static_cast<long>(n - 1));
    CHECK(statuses.back() == "201");
    // Base64 in chunks that cut its quads (Size counts the base64 text).
    std::string other = photo_vcard("Base64", 9000, 7);
    std::string b64 = base64_encode(other);
    statuses.clear();
    for (std::size_t off = 0; off < b64.size(); off += 3001) {
        Command op = chunk(CommandKind::Add, "p2", b64.substr(off, 3001), off + 3001 < b64.size(),
                           off ? "" : std::to_string(b64.size()));
        op.meta.format = "b64";
        reply = c.send(client_message(c, &reply, {op}, false));
        for (const std::string& s : codes(reply, "Add")) statuses.push_back(s);
    }
    CHECK(statuses.back() == "201");
    CHECK(std::count(statuses.begin(), statuses.end(), "213") == static_cast<long>(statuses.size() - 1));
    reply = c.send(client_message(c, &reply, {TestClient::item_command(CommandKind::Add, "s1", vcard("Small"))}, true));
    CHECK(codes(reply, "Add") == std::vector<std::string>{"201"});
    CHECK(alerts(reply, "223").empty());
    std::vector<std::string> stored = ts.items("alice", Category::contacts);
    std::sort(stored.begin(), stored.end());
    std::vector<std::string> expected{big, other, vcard("Small")};
    std::sort(expected.begin(), expected.end());
    CHECK(stored == expected);  // each exactly once, byte for byte
}

TEST_CASE("large objects in: 424 when the chunks miss the Size, nothing stored, logged") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:lo-424");
    Message reply = init(c, "201", "contacts", "", "I1");
    std::string big = photo_vcard("Short", 6000);
    reply = c.send(client_message(c, &reply, {chunk(CommandKind::Add, "x", big.substr(0, 3000), true,
                                                    std::to_string(big.size() + 10))},
                                  false));
    CHECK(codes(reply, "Add") == std::vector<std::string>{"213"});
    reply = c.send(client_message(c, &reply, {chunk(CommandKind::Add, "x", big.substr(3000), false)}, false));
    CHECK(codes(reply, "Add") == std::vector<std::string>{"424"});
    // Too much is as wrong as too little.
    reply = c.send(client_message(c, &reply, {chunk(CommandKind::Add, "y", big.substr(0, 3000), true, "100")}, false));
    CHECK(codes(reply, "Add") == std::vector<std::string>{"213"});
    reply = c.send(client_message(c, &reply, {chunk(CommandKind::Add, "y", big.substr(3000), false)}, true));
    CHECK(codes(reply, "Add") == std::vector<std::string>{"424"});
    CHECK(ts.items("alice", Category::contacts).empty());
    CHECK(count_lines(ts, "were announced; dropped (424)") == 2);
}

TEST_CASE("large objects in: 416 for a declared Size above MaxObjSize, 413 for data past it") {
    TestServer ts(150000, [](ServerConfig& cfg) { cfg.max_obj_size = 20000; });
    TestClient c(*ts.server, "IMEI:lo-413");
    Message reply = init(c, "201", "contacts", "", "I1");
    std::string big = photo_vcard("Big", 30000);
    // Declared too large: 416, and its later chunks 413.
    reply = c.send(client_message(c, &reply, {chunk(CommandKind::Add, "d", big.substr(0, 5000), true,
                                                    std::to_string(big.size()))},
                                  false));
    CHECK(codes(reply, "Add") == std::vector<std::string>{"416"});
    reply = c.send(client_message(c, &reply, {chunk(CommandKind::Add, "d", big.substr(5000, 5000), true)}, false));
    CHECK(codes(reply, "Add") == std::vector<std::string>{"413"});
    reply = c.send(client_message(c, &reply, {chunk(CommandKind::Add, "d", big.substr(10000), false)}, false));
    CHECK(codes(reply, "Add") == std::vector<std::string>{"413"});
    // Whole and too large: 413.
    reply = c.send(client_message(c, &reply, {TestClient::item_command(CommandKind::Add, "w", big)}, false));
    CHECK(codes(reply, "Add") == std::vector<std::string>{"413"});
    // A Size that lies low: 213 until the data passes MaxObjSize, then 413.
    std::vector<std::string> got;
    for (std::size_t off = 0; off < big.size(); off += 6000) {
        reply = c.send(client_message(c, &reply, {chunk(CommandKind::Add, "l", big.substr(off, 6000), off + 6000 < big.size(),
                                                        off ? "" : "1000")},
                                      false));
        for (const std::string& s : codes(reply, "Add")) got.push_back(s);
    }
    // 3 x 6000 bytes fit 20000; the fourth chunk passes it, and the rest are refused with it.
    std::size_t n = (big.size() + 5999) / 6000;
    std::vector<std::string> want(n, "413");
    want[0] = want[1] = want[2] = "213";
    CHECK(got == want);
    reply = c.send(client_message(c, &reply, {TestClient::item_command(CommandKind::Add, "ok", vcard("Fits"))}, true));
    CHECK(codes(reply, "Add") == std::vector<std::string>{"201"});
    CHECK(ts.items("alice", Category::contacts) == std::vector<std::string>{vcard("Fits")});
    CHECK(count_lines(ts, "larger than MaxObjSize") == 3);  // once per refused item
}

TEST_CASE("large objects in: an item broken off by another gets Alert 223, its chunks dropped and logged") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:lo-223");
    Message reply = init(c, "201", "contacts", "", "I1");
    std::string big = photo_vcard("Broken", 12000);
    reply = c.send(client_message(c, &reply, {chunk(CommandKind::Add, "a", big.substr(0, 5000), true,
                                                    std::to_string(big.size()))},
                                  false));
    CHECK(codes(reply, "Add") == std::vector<std::string>{"213"});
    CHECK(alerts(reply, "223").empty());
    // Another item instead of the next chunk: the broken one is dropped
    // with Alert 223 naming it; the new one is stored.
    reply = c.send(client_message(c, &reply, {TestClient::item_command(CommandKind::Add, "b", vcard("Other"))}, false));
    CHECK(codes(reply, "Add") == std::vector<std::string>{"201"});
    auto a223 = alerts(reply, "223");
    REQUIRE(a223.size() == 1);
    REQUIRE(a223[0]->items.size() == 1);
    CHECK(a223[0]->items[0].target.uri == "a");
    CHECK(count_lines(ts, "item a: 5000 bytes of chunks dropped") == 1);
    // The same item again, whole in chunks: stored once.
    for (std::size_t off = 0; off < big.size(); off += 5000)
        reply = c.send(client_message(c, &reply, {chunk(CommandKind::Add, "a", big.substr(off, 5000), off + 5000 < big.size(),
                                                        off ? "" : std::to_string(big.size()))},
                                      false));
    CHECK(codes(reply, "Add") == std::vector<std::string>{"201"});
    // A Replace of the same LUID is another command: it breaks off an Add.
    reply = c.send(client_message(c, &reply, {chunk(CommandKind::Add, "c", big.substr(0, 4000), true,
                                                    std::to_string(big.size()))},
                                  false));
    reply = c.send(client_message(c, &reply, {chunk(CommandKind::Replace, "c", big.substr(4000), false)}, false));
    CHECK(alerts(reply, "223").size() == 1);
    CHECK(codes(reply, "Replace") == std::vector<std::string>{"201"});  // a Replace of an unknown item adds it
    // A message that does not go on with it (statuses only) breaks it off too.
    reply = c.send(client_message(c, &reply, {chunk(CommandKind::Add, "d", big.substr(0, 4000), true,
                                                    std::to_string(big.size()))},
                                  false));
    Message only_statuses = c.message(false);
    only_statuses.body = c.statuses_for(reply);
    reply = c.send(only_statuses);
    REQUIRE(alerts(reply, "223").size() == 1);
    CHECK(alerts(reply, "223")[0]->items[0].target.uri == "d");
    // The package ends before the last chunk: broken off in package 4.
    reply = c.send(client_message(c, &reply, {chunk(CommandKind::Add, "e", big.substr(0, 4000), true,
                                                    std::to_string(big.size()))},
                                  true));
    CHECK(codes(reply, "Add") == std::vector<std::string>{"213"});
    REQUIRE(alerts(reply, "223").size() == 1);
    CHECK(alerts(reply, "223")[0]->items[0].target.uri == "e");
    CHECK(count_lines(ts, "bytes of chunks dropped") == 4);
    CHECK(ts.logger->contains("the client's package ended before its last chunk"));
    // Stored: b, a (whole), c (the Replace's data alone); d and e nothing.
    std::vector<std::string> stored = ts.items("alice", Category::contacts);
    CHECK(stored.size() == 3);
    CHECK(std::count(stored.begin(), stored.end(), big) == 1);
    CHECK(std::count(stored.begin(), stored.end(), vcard("Other")) == 1);
    CHECK(std::count(stored.begin(), stored.end(), big.substr(4000)) == 1);
}

// ---------------------------------------------------------------- server to client

TEST_CASE("large objects out: chunks fit MaxMsgSize and reassemble byte for byte, item by item") {
    for (Encoding enc : {Encoding::xml, Encoding::wbxml}) {
        DYNAMIC_SECTION((enc == Encoding::xml ? "xml" : "wbxml")) {
            TestServer ts;
            auto store = ts.stores->open("alice", Category::contacts);
            std::map<std::string, std::string> expected;
            std::string guid = store->add(Format{"text/vcard", "3.0"}, photo_vcard("One", 40000, 1)).guid;
            expected[guid] = photo_vcard("One", 40000, 1);
            for (int i = 0; i < 5; ++i)
                expected[store->add(Format{"text/vcard", "3.0"}, vcard("S" + std::to_string(i))).guid] = vcard("S" + std::to_string(i));
            expected[store->add(Format{"text/vcard", "3.0"}, photo_vcard("Two", 25000, 2)).guid] = photo_vcard("Two", 25000, 2);
            TestClient c(*ts.server, "IMEI:lo-out", enc);
            c.max_msg_size = "4000";
            Message m = c.message();
            m.body.push_back(devinf_put({"IMEI:lo-out", "text/vcard", "3.0", "contacts", "", "", true}));
            m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "L1"));
            Message pkg2 = c.send(m);
            Receiver r;
            download(c, client_changes(c, pkg2, "contacts", {}), r);
            CHECK(c.last_response.session_ended);
            CHECK(r.errors.empty());
            CHECK(r.largest <= 4000);
            CHECK(r.items == expected);
            for (const auto& [guid, n] : r.deliveries) CHECK(n == 1);
            CHECK(r.chunks > 20);
            // Everything was delivered and mapped: the next sync sends nothing.
            Receiver again = sync_again(c, "L1", "L2");
            CHECK(again.items.empty());
            // A changed large item goes as a Replace in chunks, confirmed once.
            std::string changed = photo_vcard("Changed", 30000, 9);
            REQUIRE(store->replace(guid, Format{"text/vcard", "3.0"}, changed));
            Receiver third = sync_again(c, "L2", "L3");
            CHECK(third.errors.empty());
            CHECK(third.items == std::map<std::string, std::string>{{guid, changed}});
            CHECK(third.kinds[guid] == CommandKind::Replace);
            CHECK(third.largest <= 4000);
            Receiver fourth = sync_again(c, "L3", "L4");
            CHECK(fourth.items.empty());
        }
    }
}

TEST_CASE("large objects out: never beyond the client's MaxObjSize; sent once the limit allows") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    std::string big = photo_vcard("Big", 30000);
    std::string big_guid = store->add(Format{"text/vcard", "3.0"}, big).guid;
    store->add(Format{"text/vcard", "3.0"}, vcard("Small"));
    TestClient c(*ts.server, "IMEI:lo-maxobj");
    c.max_msg_size = "8000";
    // MaxObjSize in the SyncHdr: 20000.
    Message m = c.message();
    m.header.meta.max_obj_size = "20000";
    m.body.push_back(devinf_put({"IMEI:lo-maxobj", "text/vcard", "3.0", "contacts", "", "", true}));
    m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "M1"));
    Message pkg2 = c.send(m);
    Receiver r;
    download(c, client_changes(c, pkg2, "contacts", {}), r);
    CHECK(r.items.size() == 1);
    CHECK(r.items.begin()->second == vcard("Small"));
    CHECK(count_lines(ts, "more than the client's MaxObjSize of 20000; not sent") == 1);
    // The Alert's Meta says 10000 for this database, the SyncHdr 4000000: the
    // Alert's counts, so still not sent.
    c.new_session();
    m = c.message();
    m.header.meta.max_obj_size = "4000000";
    Command alert = TestClient::alert("200", "contacts", "./contacts", "M1", "M2");
    alert.items[0].meta.max_obj_size = "10000";
    m.body.push_back(alert);
    pkg2 = c.send(m);
    Receiver second;
    download(c, client_changes(c, pkg2, "contacts", {}), second);
    CHECK(second.items.empty());
    CHECK(count_lines(ts, "more than the client's MaxObjSize of 10000; not sent") == 1);
    // The limit grows: it goes, in chunks, and once.
    c.new_session();
    m = c.message();
    m.header.meta.max_obj_size = "4000000";
    m.body.push_back(TestClient::alert("200", "contacts", "./contacts", "M2", "M3"));
    pkg2 = c.send(m);
    Receiver third;
    download(c, client_changes(c, pkg2, "contacts", {}), third);
    CHECK(third.errors.empty());
    CHECK(third.items == std::map<std::string, std::string>{{big_guid, big}});
    CHECK(third.chunks >= 4);
    CHECK(sync_again(c, "M3", "M4").items.empty());
}

TEST_CASE("large objects out: a client without large objects gets an oversized item whole, alone, logged") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    std::map<std::string, std::string> expected;
    for (int i = 0; i < 6; ++i)
        expected[store->add(Format{"text/vcard", "3.0"}, vcard("A" + std::to_string(i))).guid] = vcard("A" + std::to_string(i));
    std::string big = photo_vcard("Whole", 12000);
    std::string big_guid = store->add(Format{"text/vcard", "3.0"}, big).guid;
    expected[big_guid] = big;
    for (int i = 0; i < 6; ++i)
        expected[store->add(Format{"text/vcard", "3.0"}, vcard("B" + std::to_string(i))).guid] = vcard("B" + std::to_string(i));
    TestClient c(*ts.server, "IMEI:lo-none");
    c.max_msg_size = "3000";
    Message m = c.message();
    m.body.push_back(devinf_put({"IMEI:lo-none", "text/vcard", "3.0", "contacts", "", "", false}));
    m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "N1"));
    Message reply = client_changes(c, c.send(m), "contacts", {});
    Receiver r;
    std::size_t oversized = 0;
    for (int round = 0; round < 50 && !reply.final; ++round) {
        r.take(reply, c.last_response.body.size());
        std::vector<Command> ops = server_ops(reply);
        if (c.last_response.body.size() > 3000) {
            ++oversized;
            REQUIRE(ops.size() == 1);  // alone
            CHECK(ops[0].items[0].source.uri == big_guid);
            CHECK_FALSE(ops[0].items[0].more_data);
        }
        Message next = c.message(false);
        next.body = r.statuses(c, reply);
        reply = c.send(next);
    }
    REQUIRE(reply.final);
    r.take(reply, c.last_response.body.size());
    if (c.last_response.body.size() > 3000) ++oversized;
    CHECK(oversized == 1);
    CHECK(r.chunks == 0);
    CHECK(r.items == expected);
    CHECK(count_lines(ts, "beyond the client's MaxMsgSize (it takes no large objects)") == 1);
}

TEST_CASE("large objects out: the client's Alert 223 restarts the item once, then leaves it for the next session") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    std::string big = photo_vcard("Again", 30000);
    std::string guid = store->add(Format{"text/vcard", "3.0"}, big).guid;
    TestClient c(*ts.server, "IMEI:lo-a223");
    c.max_msg_size = "4000";
    Message m = c.message();
    m.body.push_back(devinf_put({"IMEI:lo-a223", "text/vcard", "3.0", "contacts", "", "", true}));
    m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "R1"));
    Message reply = client_changes(c, c.send(m), "contacts", {});
    Receiver r;
    r.allow_restart = true;
    auto alert223 = [&](const Message& previous) {
        Message next = c.message(false);
        next.body = r.statuses(c, previous);
        Command a;
        a.kind = CommandKind::Alert;
        a.cmd_id = "77";
        a.data = "223";
        Item it;
        it.target.uri = guid;  // our item's Source, as the client names it back
        a.items.push_back(it);
        next.body.push_back(a);
        return next;
    };
    // Three chunks in, the client says it dropped them.
    for (int i = 0; i < 3; ++i) {
        r.take(reply, c.last_response.body.size());
        Message next = c.message(false);
        next.body = r.statuses(c, reply);
        reply = c.send(next);
    }
    reply = c.send(alert223(reply));
    CHECK(find_status(reply, "Alert")->data == "200");
    std::vector<Command> ops = server_ops(reply);
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].items[0].meta.size == std::to_string(big.size()));  // a first chunk again
    download(c, reply, r);
    CHECK(r.restarts == 1);
    CHECK(r.errors.empty());
    CHECK(r.items == std::map<std::string, std::string>{{guid, big}});
    CHECK(ts.logger->contains("the client dropped its chunks (223) after"));

    // Next session: 223 twice. The item is left for the session after.
    c.new_session();
    REQUIRE(store->replace(guid, Format{"text/vcard", "3.0"}, big + "NOTE:x\r\n"));
    std::string changed = big + "NOTE:x\r\n";
    m = c.message();
    m.body.push_back(TestClient::alert("200", "contacts", "./contacts", "R1", "R2"));
    reply = client_changes(c, c.send(m), "contacts", {});
    REQUIRE(server_ops(reply).size() == 1);
    CHECK(server_ops(reply)[0].kind == CommandKind::Replace);
    reply = c.send(alert223(reply));
    REQUIRE(server_ops(reply).size() == 1);
    CHECK_FALSE(server_ops(reply)[0].items[0].meta.size.empty());  // restarted
    reply = c.send(alert223(reply));
    CHECK(server_ops(reply).empty());  // given up for this session
    CHECK(reply.final);
    Message pkg5 = c.message();
    pkg5.body = c.statuses_for(reply);
    c.send(pkg5);
    CHECK(c.last_response.session_ended);
    CHECK(ts.logger->contains("the client dropped its chunks (223); due again next session"));
    // The session after sends the Replace again, whole in chunks.
    Receiver next = sync_again(c, "R2", "R3");
    CHECK(next.errors.empty());
    CHECK(next.items == std::map<std::string, std::string>{{guid, changed}});
    CHECK(next.kinds[guid] == CommandKind::Replace);
    CHECK(sync_again(c, "R3", "R4").items.empty());
}

TEST_CASE("large objects out: an Alert 223 for an item not sent in chunks changes nothing") {
    // GUIDs of two databases may be alike, and the Alert names none: only
    // the item going out in chunks (or the last that did) is meant by it.
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    std::string guid = store->add(Format{"text/vcard", "3.0"}, vcard("Whole")).guid;
    TestClient c(*ts.server, "IMEI:lo-x223");
    Message m = c.message();
    m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "X1"));
    Message reply = client_changes(c, c.send(m), "contacts", {});
    REQUIRE(server_ops(reply).size() == 1);
    Message pkg5 = c.message();
    pkg5.body = c.statuses_for(reply);
    Command map;
    map.kind = CommandKind::Map;
    map.cmd_id = "90";
    map.target.uri = "contacts";
    map.source.uri = "./contacts";
    map.map_items.push_back(MapItem{{guid, ""}, {"c" + guid, ""}});
    pkg5.body.push_back(map);
    Command a;
    a.kind = CommandKind::Alert;
    a.cmd_id = "91";
    a.data = "223";
    Item it;
    it.target.uri = guid;
    a.items.push_back(it);
    pkg5.body.push_back(a);
    reply = c.send(pkg5);
    CHECK(c.last_response.session_ended);
    CHECK(ts.logger->contains("which is not an item we sent in chunks"));
    CHECK(sync_again(c, "X1", "X2").items.empty());  // still delivered
}

TEST_CASE("large objects out: a Status 223 for a chunk restarts the item from its first chunk") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    std::string big = photo_vcard("Status", 20000);
    std::string guid = store->add(Format{"text/vcard", "3.0"}, big).guid;
    TestClient c(*ts.server, "IMEI:lo-s223");
    c.max_msg_size = "4000";
    Message m = c.message();
    m.body.push_back(devinf_put({"IMEI:lo-s223", "text/vcard", "3.0", "contacts", "", "", true}));
    m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "S1"));
    Message reply = client_changes(c, c.send(m), "contacts", {});
    Receiver r;
    r.allow_restart = true;
    r.take(reply, c.last_response.body.size());
    Message next = c.message(false);
    next.body = r.statuses(c, reply);
    reply = c.send(next);
    r.take(reply, c.last_response.body.size());
    next = c.message(false);
    next.body = r.statuses(c, reply);
    for (Command& s : next.body)
        if (s.cmd == "Add") s.data = "223";  // the client lost what came before
    reply = c.send(next);
    REQUIRE(server_ops(reply).size() == 1);
    CHECK(server_ops(reply)[0].items[0].meta.size == std::to_string(big.size()));
    download(c, reply, r);
    CHECK(r.restarts == 1);
    CHECK(r.errors.empty());
    CHECK(r.items == std::map<std::string, std::string>{{guid, big}});
    CHECK(r.deliveries[guid] == 1);
    CHECK(sync_again(c, "S1", "S2").items.empty());
}

TEST_CASE("large objects out: a refused chunk stops the item; it is offered again next session") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    std::string big = photo_vcard("Refused", 20000);
    std::string guid = store->add(Format{"text/vcard", "3.0"}, big).guid;
    TestClient c(*ts.server, "IMEI:lo-refuse");
    c.max_msg_size = "4000";
    Message m = c.message();
    m.body.push_back(devinf_put({"IMEI:lo-refuse", "text/vcard", "3.0", "contacts", "", "", true}));
    m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "F1"));
    Message reply = client_changes(c, c.send(m), "contacts", {});
    REQUIRE(server_ops(reply).size() == 1);
    REQUIRE(server_ops(reply)[0].items[0].more_data);
    Message next = c.message(false);
    next.body = c.statuses_for(reply, 200);
    for (Command& s : next.body)
        if (s.cmd == "Add") s.data = "507";  // the client cannot hold it
    reply = c.send(next);
    CHECK(server_ops(reply).empty());
    CHECK(reply.final);
    Message pkg5 = c.message();
    pkg5.body = c.statuses_for(reply);
    c.send(pkg5);
    CHECK(c.last_response.session_ended);
    Receiver again = sync_again(c, "F1", "F2");
    CHECK(again.errors.empty());
    CHECK(again.items == std::map<std::string, std::string>{{guid, big}});
}

TEST_CASE("large objects out: a lost reply is answered again and the chunks still add up") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    std::string big = photo_vcard("Lost", 30000);
    std::string guid = store->add(Format{"text/vcard", "3.0"}, big).guid;
    TestClient c(*ts.server, "IMEI:lo-lost");
    c.max_msg_size = "4000";
    Message m = c.message();
    m.body.push_back(devinf_put({"IMEI:lo-lost", "text/vcard", "3.0", "contacts", "", "", true}));
    m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "T1"));
    Message reply = client_changes(c, c.send(m), "contacts", {});
    Receiver r;
    std::size_t resent = 0;
    for (int round = 0; round < 100 && !reply.final; ++round) {
        r.take(reply, c.last_response.body.size());
        Message next = c.message(false);
        next.body = r.statuses(c, reply);
        reply = c.send(next);
        if (round % 3 == 1) {
            // The reply is lost on the way: the client sends the same bytes again.
            std::string first = c.last_response.body;
            std::string bytes = encode(next, Encoding::xml);
            Request again;
            again.body = bytes;
            again.content_type = content_type(Encoding::xml);
            again.url = reply.header.resp_uri;
            Response r2 = ts.server->process(again);
            CHECK(r2.body == first);
            ++resent;
        }
    }
    REQUIRE(reply.final);
    r.take(reply, c.last_response.body.size());
    CHECK(resent >= 2);
    CHECK(r.errors.empty());
    CHECK(r.items == std::map<std::string, std::string>{{guid, big}});
    CHECK(r.deliveries[guid] == 1);
    CHECK(ts.logger->contains("resent; answering with the reply already sent"));
}

TEST_CASE("large objects out: a session dropped amid the chunks sends the item whole next time, once") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    std::string big = photo_vcard("Dropped", 30000);
    std::string guid = store->add(Format{"text/vcard", "3.0"}, big).guid;
    store->add(Format{"text/vcard", "3.0"}, vcard("Before"));
    TestClient c(*ts.server, "IMEI:lo-drop");
    c.max_msg_size = "4000";
    Message m = c.message();
    m.body.push_back(devinf_put({"IMEI:lo-drop", "text/vcard", "3.0", "contacts", "", "", true}));
    m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "D1"));
    Message reply = client_changes(c, c.send(m), "contacts", {});
    Receiver r;
    for (int i = 0; i < 3; ++i) {
        r.take(reply, c.last_response.body.size());
        Message next = c.message(false);
        next.body = r.statuses(c, reply);
        reply = c.send(next);
    }
    // The client goes away (its partial item is gone with it) and starts again
    // with a slow sync, as its anchors were never saved.
    c.new_session();
    m = c.message();
    m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "D2"));
    Receiver second;
    download(c, client_changes(c, c.send(m), "contacts", {}), second);
    CHECK(second.errors.empty());
    CHECK(second.items.size() == 2);
    CHECK(second.items[guid] == big);
    CHECK(second.deliveries[guid] == 1);
    CHECK(sync_again(c, "D2", "D3").items.empty());
}

// ---------------------------------------------------------------- package 2

TEST_CASE("package 2 larger than the client's MaxMsgSize goes over several messages") {
    for (int variant : {0, 1, 2}) {
        bool client_final = variant == 1;
        // Variant 2: a device ID so long that the SyncHdr's status takes more
        // than the room the server counts on; every message still moves on.
        std::string device = variant == 2 ? "IMEI:" + std::string(450, '7') : "IMEI:pkg2-split";
        std::size_t max_size = variant == 2 ? 2200 : 1300;
        DYNAMIC_SECTION("variant " << variant) {
            TestServer ts;
            ts.stores->open("alice", Category::contacts)->add(Format{"text/vcard", "3.0"}, vcard("Down"));
            TestClient c(*ts.server, device);
            c.max_msg_size = std::to_string(max_size);
            Message m = c.message();
            Command get;
            get.kind = CommandKind::Get;
            get.cmd_id = "2";
            get.meta.type = "application/vnd.syncml-devinf+xml";
            Item gi;
            gi.target.uri = "./devinf12";
            get.items.push_back(gi);
            m.body.push_back(get);
            int id = 3;
            for (const char* db : {"contacts", "calendar", "tasks"}) {
                Command a = TestClient::alert("201", db, std::string("./") + db, "", "P1");
                a.cmd_id = std::to_string(id++);
                m.body.push_back(a);
            }
            Message reply = c.send(m);
            std::vector<Message> pkg2{reply};
            std::vector<std::size_t> sizes{c.last_response.body.size()};
            for (int round = 0; round < 10 && !reply.final; ++round) {
                Message next = c.message(client_final);
                next.body = c.statuses_for(reply);
                if (!client_final) {
                    Command more;
                    more.kind = CommandKind::Alert;
                    more.cmd_id = "50";
                    more.data = "222";
                    Item it;
                    it.target.uri = "http://sync.example.com:7887/sync";
                    it.source.uri = device;
                    more.items.push_back(it);
                    next.body.push_back(more);
                }
                reply = c.send(next);
                pkg2.push_back(reply);
                sizes.push_back(c.last_response.body.size());
            }
            REQUIRE(reply.final);
            CHECK(pkg2.size() >= 4);  // the Results alone (too large for any), then the rest
            std::size_t results = 0, sync_alerts = 0, gets = 0;
            for (std::size_t i = 0; i < pkg2.size(); ++i) {
                std::size_t commands = 0;
                for (const Command& cmd : pkg2[i].body) {
                    if (cmd.kind == CommandKind::Status) continue;
                    ++commands;
                    if (cmd.kind == CommandKind::Results) ++results;
                    if (cmd.kind == CommandKind::Alert && cmd.data == "201") ++sync_alerts;
                    if (cmd.kind == CommandKind::Get) ++gets;
                    CHECK(cmd.kind != CommandKind::Sync);
                }
                // Within MaxMsgSize, or a single command too large for any message.
                CHECK((sizes[i] <= max_size || commands == 1));
                CHECK(pkg2[i].final == (i + 1 == pkg2.size()));
            }
            CHECK(results == 1);
            CHECK(sync_alerts == 3);
            CHECK(gets == 1);
            // Every command of package 1 answered once, in order (statuses
            // that do not fit wait for the next message, as commands do).
            std::vector<std::string> answered;
            for (const Message& part : pkg2)
                for (const Command& cmd : part.body)
                    if (cmd.kind == CommandKind::Status && cmd.msg_ref == "1") answered.push_back(cmd.cmd_ref);
            CHECK(answered == std::vector<std::string>{"0", "2", "3", "4", "5"});
            INFO("messages of package 2: " << pkg2.size());
            // Package 3 and the rest go on as usual.
            Message pkg3 = c.message();
            pkg3.body = c.statuses_for(reply);
            pkg3.body.push_back(TestClient::sync("contacts", {TestClient::item_command(CommandKind::Add, "u1", vcard("Up"))}, 60));
            pkg3.body.push_back(TestClient::sync("calendar", {}, 70));
            pkg3.body.push_back(TestClient::sync("tasks", {}, 80));
            Message pkg4 = c.send(pkg3);
            CHECK(codes(pkg4, "Add") == std::vector<std::string>{"201"});
            Receiver r;
            download(c, pkg4, r);
            CHECK(c.last_response.session_ended);
            CHECK(r.items.size() == 1);
            CHECK(r.items.begin()->second == vcard("Down"));
            CHECK(ts.items("alice", Category::contacts).size() == 2);
        }
    }
}
