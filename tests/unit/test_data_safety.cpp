// No duplicate, no loss, no surprise: slow-sync pairing, the fallback from a
// one-way sync without history, conflicts under each policy, deletes against
// changes, and the mass-delete guard. Each scenario drives whole sessions
// through Server::process with simulated clients that keep their own items,
// and checks the final data on every side item by item.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "engine_client.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_command;
using smk::test::TestClient;
using smk::test::TestServer;
using namespace smk::test::steps;

namespace {

const Format kVcard30{"text/vcard", "3.0"};

std::string card(const std::string& family, const std::string& given, const std::string& more = "") {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + family + ";" + given + ";;;\r\nFN:" + given + " " + family + "\r\n" +
           more + "END:VCARD\r\n";
}

// A client with items of its own (LUID -> vCard) and the changes made since
// its last sync, as a real client keeps them.
class SimClient {
public:
    SimClient(Server& server, const std::string& device) : tc_(server, device), device_(device) {}

    std::string add(const std::string& data) {
        std::string luid = device_ + "-" + std::to_string(++luids_);
        items[luid] = data;
        added_.insert(luid);
        return luid;
    }
    void change(const std::string& luid, const std::string& data) {
        items.at(luid) = data;
        if (!added_.count(luid)) changed_.insert(luid);
    }
    void remove(const std::string& luid) {
        items.erase(luid);
        if (!added_.erase(luid)) changed_.erase(luid), deleted_.insert(luid);
    }
    std::string luid_of(const std::string& needle) const {
        for (const auto& [luid, data] : items)
            if (data.find(needle) != std::string::npos) return luid;
        return "";
    }
    std::size_t count(const std::string& needle) const {
        return std::count_if(items.begin(), items.end(),
                             [&](const auto& kv) { return kv.second.find(needle) != std::string::npos; });
    }

    struct Outcome {
        std::string alert_status, server_mode;
        std::map<std::string, std::string> status;  ///< by LUID, for the client's changes
        std::size_t adds = 0, replaces = 0, deletes = 0;  ///< from the server
    };

    /// One session asking for `code` ("200", "201", "202", ...). With
    /// `vanish_before_map`, the client stores the server's items and is gone
    /// before its Map: its anchors stay, and it counts what it received as
    /// its own new items, as a client that never completed the session does.
    /// `before_map` runs between the server's reply and the client's Map
    /// (another client's session in that window).
    Outcome sync(const std::string& code, bool vanish_before_map = false, const std::function<void()>& before_map = {}) {
        Outcome out;
        tc_.new_session();
        std::string next = "A" + std::to_string(++sessions_);
        Message pkg2 = init(tc_, code, "contacts", last_, next);
        out.alert_status = smk::test::find_status(pkg2, "Alert")->data;
        const Command* alert = find_command(pkg2, CommandKind::Alert);
        REQUIRE(alert);
        out.server_mode = alert->data;
        std::vector<Command> ops;
        if (out.server_mode == "201" || out.server_mode == "203") {
            for (const auto& [luid, data] : items) ops.push_back(TestClient::item_command(CommandKind::Replace, luid, data));
        } else if (out.server_mode == "200" || out.server_mode == "202") {
            for (const std::string& luid : added_) ops.push_back(TestClient::item_command(CommandKind::Add, luid, items[luid]));
            for (const std::string& luid : changed_)
                ops.push_back(TestClient::item_command(CommandKind::Replace, luid, items[luid]));
            for (const std::string& luid : deleted_) ops.push_back(TestClient::item_command(CommandKind::Delete, luid, ""));
        }
        if (out.server_mode == "205") items.clear();
        int id = 50;
        for (Command& op : ops) op.cmd_id = std::to_string(id++);
        Message pkg4 = client_changes(tc_, pkg2, "contacts", ops);
        for (const Command& s : pkg4.body)
            if (s.kind == CommandKind::Status && (s.cmd == "Add" || s.cmd == "Replace" || s.cmd == "Delete"))
                for (const std::string& luid : s.source_refs) out.status[luid] = s.data;
        Command map;
        map.kind = CommandKind::Map;
        map.cmd_id = "90";
        map.target.uri = "contacts";
        map.source.uri = "./contacts";
        for (const Command& op : server_ops(pkg4)) {
            const Item& it = op.items.front();
            if (op.kind == CommandKind::Add) {
                std::string luid = device_ + "-" + std::to_string(++luids_);  // the client's own new id
                items[luid] = it.data;
                map.map_items.push_back(MapItem{{it.source.uri, ""}, {luid, ""}});
                ++out.adds;
            } else if (op.kind == CommandKind::Replace) {
                items[it.target.uri] = it.data, ++out.replaces;
            } else if (op.kind == CommandKind::Delete) {
                items.erase(it.target.uri), ++out.deletes;
            }
        }
        if (vanish_before_map) {
            for (const MapItem& mi : map.map_items) added_.insert(mi.source.uri);
            return out;
        }
        if (before_map) before_map();
        if (out.server_mode != "202" && out.server_mode != "203") {
            Message m = tc_.message();
            m.body = tc_.statuses_for(pkg4);
            if (!map.map_items.empty()) m.body.push_back(map);
            tc_.send(m);
        }
        REQUIRE(tc_.last_response.session_ended);
        last_ = next;
        added_.clear();
        changed_.clear();
        deleted_.clear();
        return out;
    }

    std::map<std::string, std::string> items;

private:
    TestClient tc_;
    std::string device_;
    std::string last_;
    int sessions_ = 0, luids_ = 0;
    std::set<std::string> added_, changed_, deleted_;
};

std::size_t count_in(const std::vector<std::string>& items, const std::string& needle) {
    return std::count_if(items.begin(), items.end(), [&](const std::string& d) { return d.find(needle) != std::string::npos; });
}

// The repro's three contacts, plain and as SyncEvolution writes items back.
std::vector<std::string> plain_three() {
    return {card("Smith", "Ann", "TEL;TYPE=WORK:+49 30 1234567\r\nEMAIL;TYPE=INTERNET:ann@example.com\r\n"),
            card("Meier", "Bert", "ORG:Example GmbH\r\nEMAIL;TYPE=INTERNET:bert@example.org\r\n"),
            card("Dubois", "Chlo\xC3\xA9", "TEL;TYPE=CELL:+33 6 12 34 56 78\r\nNOTE:Met at the conference\\, 2026\r\n")};
}

std::string written_back(const std::string& family, const std::string& given, const std::string& org,
                         const std::string& tel, const std::string& email, const std::string& note) {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Synthesis AG//NONSGML SyncML Engine V3.4.0.47//EN\r\n"
           "REV:20100328T103410Z\r\nN:" + family + ";" + given + ";;;\r\nFN:" + given + " " + family +
           "\r\nX-EVOLUTION-FILE-AS:\r\nX-GENDER:\r\nNICKNAME:\r\nTITLE:\r\nORG:" + org + ";;;\r\nROLE:\r\n" +
           tel + "\r\n" + email + "\r\nURL:\r\nX-MOZILLA-HTML:\r\nADR:;;;;;;\r\nBDAY:\r\nNOTE:" + note +
           "\r\nPHOTO:\r\nGEO:;\r\nEND:VCARD\r\n";
}

std::vector<std::string> rewritten_three() {
    return {written_back("Smith", "Ann", "", "TEL;TYPE=WORK:+49 30 1234567", "EMAIL;TYPE=INTERNET:ann@example.com", ""),
            written_back("Meier", "Bert", "Example GmbH", "TEL:", "EMAIL;TYPE=INTERNET:bert@example.org", ""),
            written_back("Dubois", "Chlo\xC3\xA9", "", "TEL;TYPE=CELL:+33 6 12 34 56 78", "EMAIL:",
                         "Met at the conference\\, 2026")};
}

}  // namespace

TEST_CASE("three clients' first syncs of the same contacts, one in the written-back form, leave 3 items") {
    TestServer ts;
    SimClient a(*ts.server, "dev-a"), b(*ts.server, "dev-b"), c(*ts.server, "dev-c");
    for (const std::string& d : plain_three()) a.add(d), b.add(d);
    for (const std::string& d : rewritten_three()) c.add(d);

    CHECK(b.sync("200").server_mode == "201");
    CHECK(a.sync("200").server_mode == "201");
    // An earlier client's Replace rewrites Bert and Chloé on the server, as in the repro.
    a.change(a.luid_of("Bert"), card("Meier", "Bert", "ORG:Example GmbH\r\nEMAIL;TYPE=INTERNET:bert@example.org\r\n"
                                                      "REV:20100328T103410Z\r\n"));
    a.sync("200");
    auto out = c.sync("200");
    CHECK(out.server_mode == "201");
    CHECK(out.adds == 0);  // nothing comes back as a copy

    auto server = ts.items("alice", Category::contacts);
    CHECK(server.size() == 3);
    for (const char* name : {"Ann", "Bert", "Chlo"}) {
        CHECK(count_in(server, name) == 1);
        CHECK(c.count(name) == 1);
        CHECK(a.count(name) == 1);
    }
    // And again: nothing moves.
    for (SimClient* client : {&a, &b, &c}) client->sync("200");
    CHECK(ts.items("alice", Category::contacts).size() == 3);
    CHECK(a.items.size() == 3);
    CHECK(b.items.size() == 3);
    CHECK(c.items.size() == 3);
}

TEST_CASE("slow syncs in a row from two clients holding halves plus a common part end with the union") {
    TestServer ts;
    SimClient a(*ts.server, "half-a"), b(*ts.server, "half-b");
    const int kPeople = 200, kCommon = 20;
    auto person = [](int i, bool rewritten) {
        std::string family = "Person" + std::to_string(i), given = "Given" + std::to_string(i % 7);
        std::string tel = "+49 30 " + std::to_string(1000000 + i), email = "p" + std::to_string(i) + "@example.com";
        if (!rewritten)
            return card(family, given, "TEL;TYPE=CELL:" + tel + "\r\nEMAIL:" + email + "\r\n");
        // Another form of the same person: property order, spacing of the
        // number, letter case of the address, empty properties, PRODID/REV/UID.
        return "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//x//y//EN\r\nUID:u" + std::to_string(i) +
               "\r\nREV:20260101T000000Z\r\nEMAIL;TYPE=INTERNET:P" + std::to_string(i) +
               "@Example.com\r\nFN:" + given + " " + family + "\r\nN:" + family + ";" + given +
               ";;;\r\nTEL;TYPE=CELL:+4930" + std::to_string(1000000 + i) + "\r\nORG:;;;\r\nNOTE:\r\nEND:VCARD\r\n";
    };
    // Half each, plus kCommon held by both (in different forms).
    for (int i = 0; i < kPeople / 2 + kCommon / 2; ++i) a.add(person(i, false));
    for (int i = kPeople / 2 - kCommon / 2; i < kPeople; ++i) b.add(person(i, true));
    REQUIRE(a.items.size() + b.items.size() == kPeople + kCommon);

    for (int round = 0; round < 5; ++round) {
        INFO("round " << round);
        a.sync("201");
        b.sync("201");
    }
    a.sync("200");  // what b brought in its last slow sync
    auto server = ts.items("alice", Category::contacts);
    CHECK(server.size() == kPeople);
    CHECK(a.items.size() == kPeople);
    CHECK(b.items.size() == kPeople);
    std::size_t duplicates = 0, losses = 0;
    for (int i = 0; i < kPeople; ++i) {
        std::string needle = "Person" + std::to_string(i) + ";";
        for (std::size_t n : {count_in(server, needle), a.count(needle), b.count(needle)}) {
            if (n == 0) ++losses;
            if (n > 1) duplicates += n - 1;
        }
    }
    CHECK(duplicates == 0);
    CHECK(losses == 0);
}

TEST_CASE("two people of one name are not paired when their e-mails and phones differ") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    store->add(kVcard30, card("Smith", "John", "EMAIL:john@work.example\r\n"));
    SimClient c(*ts.server, "dev-j");
    c.add(card("Smith", "John", "EMAIL:john@home.example\r\n"));
    c.add(card("Smith", "John", "EMAIL:JOHN@work.example\r\nTEL:+1 555 0100\r\n"));  // the same, with more
    c.sync("201");
    auto server = ts.items("alice", Category::contacts);
    CHECK(server.size() == 2);
    CHECK(count_in(server, "john@home.example") == 1);
    CHECK(count_in(server, "+1 555 0100") == 1);  // the client's phone merged into the paired item
    CHECK(c.items.size() == 2);
}

TEST_CASE("a one-way sync from a client without history adds and pairs but deletes nothing") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    for (int i = 0; i < 20; ++i) store->add(kVcard30, card("Server" + std::to_string(i), "S"));
    SimClient c(*ts.server, "new-client");
    c.add(card("Server3", "S"));  // one the server has
    c.add(card("Fresh", "F"));
    auto out = c.sync("202");
    CHECK(out.alert_status == "508");
    CHECK(out.server_mode == "203");
    auto server = ts.items("alice", Category::contacts);
    CHECK(server.size() == 21);
    for (int i = 0; i < 20; ++i) CHECK(count_in(server, "Server" + std::to_string(i) + ";") == 1);
    CHECK(count_in(server, "Fresh;") == 1);
    CHECK(ts.stores->snapshots("alice", Category::contacts).empty());  // nothing to protect: nothing deleted

    // The user's Recover (an explicit refresh from the client) still replaces the server's data.
    SimClient r(*ts.server, "recover");
    r.add(card("Only", "O"));
    out = r.sync("203");
    CHECK(out.server_mode == "203");
    server = ts.items("alice", Category::contacts);
    CHECK(server.size() == 1);
    CHECK(count_in(server, "Only;") == 1);
    CHECK(ts.stores->snapshots("alice", Category::contacts).size() == 1);
}

namespace {

// Two clients holding the same contact after a first sync of each.
struct TwoClients {
    TestServer ts;
    SimClient a, b;
    std::string la, lb;
    explicit TwoClients(ConflictPolicy policy)
        : ts(150000, [policy](ServerConfig& c) { c.conflict_policy = [policy](const std::string&, Category) { return policy; }; }),
          a(*ts.server, "phone-a"),
          b(*ts.server, "phone-b") {
        a.add(card("Kim", "Lee", "TEL:+1 555 0001\r\nEMAIL:lee@old.example\r\n"));
        a.sync("200");
        b.sync("200");
        la = a.luid_of("Kim");
        lb = b.luid_of("Kim");
        REQUIRE(!lb.empty());
    }
};

}  // namespace

TEST_CASE("a phone changed on one client and an e-mail on another: both changes are kept (merge, 207)") {
    TwoClients t(ConflictPolicy::merge);
    t.a.change(t.la, card("Kim", "Lee", "TEL:+1 555 0002\r\nEMAIL:lee@old.example\r\n"));
    t.b.change(t.lb, card("Kim", "Lee", "TEL:+1 555 0001\r\nEMAIL:lee@new.example\r\n"));
    t.a.sync("200");
    auto out = t.b.sync("200");
    CHECK(out.status[t.lb] == "207");
    CHECK(out.replaces == 1);  // the merged version goes back to b
    auto server = t.ts.items("alice", Category::contacts);
    REQUIRE(server.size() == 1);
    CHECK(count_in(server, "+1 555 0002") == 1);
    CHECK(count_in(server, "lee@new.example") == 1);
    CHECK(t.b.count("+1 555 0002") == 1);
    CHECK(t.b.count("lee@new.example") == 1);
    t.a.sync("200");
    CHECK(t.a.items.size() == 1);
    CHECK(t.a.count("lee@new.example") == 1);
    CHECK(t.ts.logger->contains("conflict"));
}

TEST_CASE("one field changed differently on both sides: the server's wins, the client's is kept as a second item (209)") {
    TwoClients t(ConflictPolicy::merge);
    t.a.change(t.la, card("Kim", "Lee", "TEL:+1 555 0002\r\nEMAIL:lee@old.example\r\n"));
    t.b.change(t.lb, card("Kim", "Lee", "TEL:+1 555 0003\r\nEMAIL:lee@old.example\r\n"));
    t.a.sync("200");
    auto out = t.b.sync("200");
    CHECK(out.status[t.lb] == "209");
    CHECK(out.adds == 1);
    auto server = t.ts.items("alice", Category::contacts);
    CHECK(server.size() == 2);
    CHECK(count_in(server, "+1 555 0002") == 1);
    CHECK(count_in(server, "+1 555 0003") == 1);
    CHECK(t.b.items.size() == 2);  // b got the server's version as a new item
    t.a.sync("200");
    CHECK(t.a.items.size() == 2);
    CHECK(t.ts.logger->contains("the version that lost was"));
}

TEST_CASE("each conflict policy gives its status and its result") {
    struct Case {
        ConflictPolicy policy;
        const char* status;
        std::size_t server_items;
        const char* kept;
    };
    for (Case c : {Case{ConflictPolicy::server_wins, "419", 1, "+1 555 0002"},
                   Case{ConflictPolicy::client_wins, "208", 1, "+1 555 0003"},
                   Case{ConflictPolicy::keep_both, "209", 2, "+1 555 0003"},
                   Case{ConflictPolicy::newer_wins, "208", 1, "+1 555 0003"}}) {
        INFO("status " << c.status);
        TwoClients t(c.policy);
        t.a.change(t.la, card("Kim", "Lee", "REV:20260101T000000Z\r\nTEL:+1 555 0002\r\n"));
        t.b.change(t.lb, card("Kim", "Lee", "REV:20260102T000000Z\r\nTEL:+1 555 0003\r\n"));
        t.a.sync("200");
        auto out = t.b.sync("200");
        CHECK(out.status[t.lb] == c.status);
        auto server = t.ts.items("alice", Category::contacts);
        CHECK(server.size() == c.server_items);
        CHECK(count_in(server, c.kept) == 1);
        t.a.sync("200");
        t.b.sync("200");
        CHECK(t.a.items.size() == c.server_items);  // every side converges
        CHECK(t.b.items.size() == c.server_items);
        CHECK(t.ts.logger->contains("the version that lost was"));
    }
}

TEST_CASE("a delete on one client against a change on another keeps the changed item") {
    TwoClients t(ConflictPolicy::merge);
    t.a.change(t.la, card("Kim", "Lee", "TEL:+1 555 0009\r\n"));
    t.b.remove(t.lb);
    t.a.sync("200");
    auto out = t.b.sync("200");
    CHECK(out.status[t.lb] == "419");
    CHECK(out.adds == 1);  // b gets the changed item back
    auto server = t.ts.items("alice", Category::contacts);
    REQUIRE(server.size() == 1);
    CHECK(count_in(server, "+1 555 0009") == 1);
    CHECK(t.b.count("+1 555 0009") == 1);

    // And the other way round: deleted on the server (by a), changed on b.
    t.a.remove(t.a.luid_of("Kim"));
    std::string lb = t.b.luid_of("Kim");
    t.b.change(lb, card("Kim", "Lee", "TEL:+1 555 0010\r\n"));
    t.a.sync("200");
    t.b.sync("200");
    server = t.ts.items("alice", Category::contacts);
    REQUIRE(server.size() == 1);
    CHECK(count_in(server, "+1 555 0010") == 1);
    t.a.sync("200");
    CHECK(t.a.count("+1 555 0010") == 1);
}

TEST_CASE("a slow sync does not undo a change made on the server with the client's stale copy") {
    TwoClients t(ConflictPolicy::merge);
    t.a.change(t.la, card("Kim", "Lee", "TEL:+1 555 0002\r\nEMAIL:lee@old.example\r\n"));
    t.a.sync("200");
    auto out = t.b.sync("201");  // b, unchanged, sends its old copy in a slow sync
    CHECK(out.server_mode == "201");
    auto server = t.ts.items("alice", Category::contacts);
    REQUIRE(server.size() == 1);
    CHECK(count_in(server, "+1 555 0002") == 1);
    CHECK(t.b.count("+1 555 0002") == 1);
    CHECK(t.b.items.size() == 1);
}

TEST_CASE("items a client stored but never mapped are paired when it sends them back, not duplicated") {
    TestServer ts;
    SimClient a(*ts.server, "dev-a"), b(*ts.server, "dev-b");
    for (int i = 0; i < 10; ++i) a.add(card("Item" + std::to_string(i), "I", "EMAIL:i" + std::to_string(i) + "@x.example\r\n"));
    a.sync("200");
    b.sync("200");
    for (int i = 10; i < 15; ++i) a.add(card("Item" + std::to_string(i), "I"));
    a.sync("200");
    auto out = b.sync("200", /*vanish_before_map=*/true);  // b stores 5 Adds, its Map never comes
    CHECK(out.adds == 5);
    out = b.sync("200");  // b reports the 5 as its own new items
    CHECK(out.adds == 0);  // nothing sent again
    auto server = ts.items("alice", Category::contacts);
    CHECK(server.size() == 15);
    CHECK(b.items.size() == 15);
    for (int i = 0; i < 15; ++i) {
        std::string needle = "Item" + std::to_string(i) + ";";
        CHECK(count_in(server, needle) == 1);
        CHECK(b.count(needle) == 1);
    }
    CHECK(ts.logger->contains("paired, not added"));
    a.sync("200");
    CHECK(a.items.size() == 15);
}

TEST_CASE("an Add awaiting a client's Map keeps its base: a later conflict merges") {
    // b is sent Kim; before b's Map comes, a's session changes Kim's phone.
    // The version b was sent must be kept as the base of a later conflict:
    // b then changes Kim's e-mail, and the three-way merge keeps both
    // changes in one item. Without the base the two phones would clash
    // and both versions be kept as two items.
    TestServer ts(150000, [](ServerConfig& c) {
        c.conflict_policy = [](const std::string&, Category) { return ConflictPolicy::merge; };
    });
    SimClient a(*ts.server, "dev-a"), b(*ts.server, "dev-b");
    a.add(card("Kim", "Lee", "TEL:+1 555 0001\r\nEMAIL:lee@old.example\r\n"));
    a.sync("200");
    auto out = b.sync("200", false, [&] {
        a.change(a.luid_of("Kim"), card("Kim", "Lee", "TEL:+1 555 0002\r\nEMAIL:lee@old.example\r\n"));
        a.sync("200");
    });
    REQUIRE(out.adds == 1);
    b.change(b.luid_of("Kim"), card("Kim", "Lee", "TEL:+1 555 0001\r\nEMAIL:lee@new.example\r\n"));
    out = b.sync("200");
    auto server = ts.items("alice", Category::contacts);
    CHECK(server.size() == 1);
    CHECK(count_in(server, "+1 555 0002") == 1);
    CHECK(count_in(server, "lee@new.example") == 1);
    CHECK(b.items.size() == 1);
    CHECK(b.count("+1 555 0002") == 1);
    a.sync("200");
    CHECK(a.items.size() == 1);
    CHECK(a.count("lee@new.example") == 1);
}

TEST_CASE("the mass-delete guard refuses a client's deletes of most of a store, and the client gets them back") {
    TestServer ts;
    SimClient c(*ts.server, "deleter");
    for (int i = 0; i < 40; ++i) c.add(card("P" + std::to_string(i), "X"));
    c.sync("200");
    REQUIRE(ts.items("alice", Category::contacts).size() == 40);
    std::vector<std::string> luids;
    for (const auto& [luid, data] : c.items) luids.push_back(luid);
    for (int i = 0; i < 30; ++i) c.remove(luids[i]);
    auto out = c.sync("200");
    std::size_t refused = 0;
    for (const auto& [luid, code] : out.status) refused += code == "419";
    CHECK(refused == 30);
    CHECK(ts.items("alice", Category::contacts).size() == 40);  // unchanged
    CHECK(out.adds == 30);                                      // back on the client
    CHECK(c.items.size() == 40);
    CHECK(ts.logger->contains("mass-delete guard"));

    // A few deletes pass.
    luids.clear();
    for (const auto& [luid, data] : c.items) luids.push_back(luid);
    for (int i = 0; i < 5; ++i) c.remove(luids[i]);
    out = c.sync("200");
    CHECK(ts.items("alice", Category::contacts).size() == 35);
    CHECK(c.items.size() == 35);

    // An explicit refresh from the client is not blocked.
    SimClient r(*ts.server, "recover");
    r.add(card("Keep", "K"));
    r.sync("203");
    CHECK(ts.items("alice", Category::contacts).size() == 1);
}

TEST_CASE("the host can let a mass delete through, or turn the guard off") {
    bool allowed = false;
    TestServer ts(150000, [&](ServerConfig& c) {
        c.mass_delete_guard.allow = [&](const std::string& owner, Category, const std::string& device) {
            return allowed && owner == "alice" && device == "deleter";
        };
    });
    SimClient c(*ts.server, "deleter");
    for (int i = 0; i < 30; ++i) c.add(card("P" + std::to_string(i), "X"));
    c.sync("200");
    std::vector<std::string> luids;
    for (const auto& [luid, data] : c.items) luids.push_back(luid);
    allowed = true;
    for (int i = 0; i < 25; ++i) c.remove(luids[i]);
    c.sync("200");
    CHECK(ts.items("alice", Category::contacts).size() == 5);
    CHECK(c.items.size() == 5);
}
