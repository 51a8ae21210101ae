// Whole sessions through smk::Server::process, with the SQLite store: the
// six packages, sync modes, anchors, maps, authentication, database names.
#include <catch2/catch.hpp>

#include "engine_client.hpp"
#include "fixtures.hpp"

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


}  // namespace

TEST_CASE("a first slow sync uploads, a two-way sync exchanges changes both ways") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:1");

    Message pkg2 = init(c, "201", "contacts", "", "A1");
    REQUIRE(find_status(pkg2, "SyncHdr"));
    CHECK(find_status(pkg2, "SyncHdr")->data == "212");
    CHECK(find_status(pkg2, "SyncHdr")->chal);  // a nonce for the next session
    const Command* alert_status = find_status(pkg2, "Alert");
    REQUIRE(alert_status);
    CHECK(alert_status->data == "200");
    CHECK(alert_status->target_refs == std::vector<std::string>{"contacts"});
    CHECK(alert_status->source_refs == std::vector<std::string>{"./contacts"});
    REQUIRE(alert_status->items.size() == 1);
    CHECK(alert_status->items[0].data_anchor->next == "A1");
    const Command* server_alert = find_command(pkg2, CommandKind::Alert);
    REQUIRE(server_alert);
    CHECK(server_alert->data == "201");
    CHECK(server_alert->items[0].target.uri == "./contacts");
    CHECK(server_alert->items[0].source.uri == "contacts");
    CHECK(pkg2.header.resp_uri.find("http://sync.example.com:7887/sync?s=") == 0);
    CHECK(pkg2.final);
    CHECK(find_command(pkg2, CommandKind::Get));  // the server asks for the device's DevInf

    Message pkg4 = client_changes(c, pkg2, "contacts",
                                  {TestClient::item_command(CommandKind::Add, "1", vcard("One")),
                                   TestClient::item_command(CommandKind::Add, "2", vcard("Two")),
                                   TestClient::item_command(CommandKind::Add, "3", vcard("Three"))});
    const Command* sync_status = find_status(pkg4, "Sync");
    REQUIRE(sync_status);
    CHECK(sync_status->data == "200");
    CHECK(sync_status->source_refs == std::vector<std::string>{"./contacts"});
    for (std::size_t i = 0; i < 3; ++i) {
        const Command* add_status = find_status(pkg4, "Add", i);
        REQUIRE(add_status);
        CHECK(add_status->data == "201");
        CHECK(add_status->source_refs == std::vector<std::string>{std::to_string(i + 1)});
    }
    CHECK(server_ops(pkg4).empty());  // an empty Sync: the server had nothing
    CHECK(find_command(pkg4, CommandKind::Sync));
    CHECK(pkg4.final);
    CHECK(ts.items("alice", Category::contacts).size() == 3);

    Message pkg6 = map_phase(c, pkg4, "contacts");
    CHECK(pkg6.final);
    CHECK(c.last_response.session_ended);
    CHECK(ts.logger->contains("completed"));

    // A change on the server side, then a two-way sync with changes on the client.
    ts.stores->open("alice", Category::contacts)->add(Format{"text/vcard", "3.0"}, vcard("Server"));
    c.new_session();
    c.auth = TestClient::Auth::md5;  // the nonce from the last session
    pkg2 = init(c, "200", "contacts", "A1", "A2");
    CHECK(find_status(pkg2, "SyncHdr")->data == "212");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    CHECK(find_command(pkg2, CommandKind::Alert)->data == "200");
    CHECK(find_command(pkg2, CommandKind::Get));  // still no DevInf from this device: asked again
    pkg4 = client_changes(c, pkg2, "contacts",
                          {TestClient::item_command(CommandKind::Replace, "2", vcard("Two changed")),
                           TestClient::item_command(CommandKind::Delete, "3", "")});
    CHECK(find_status(pkg4, "Replace")->data == "200");
    CHECK(find_status(pkg4, "Delete")->data == "200");
    std::vector<Command> ops = server_ops(pkg4);
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].kind == CommandKind::Add);
    CHECK(ops[0].items[0].data == vcard("Server"));
    map_phase(c, pkg4, "contacts");
    CHECK(c.last_response.session_ended);

    auto items = ts.items("alice", Category::contacts);
    CHECK(items.size() == 3);
    CHECK(std::count(items.begin(), items.end(), vcard("Two changed")) == 1);
    CHECK(std::count(items.begin(), items.end(), vcard("Three")) == 0);

    // Nothing changed since: the next two-way sync sends nothing either way.
    c.new_session();
    pkg2 = init(c, "200", "contacts", "A2", "A3");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    pkg4 = client_changes(c, pkg2, "contacts", {});
    CHECK(server_ops(pkg4).empty());
}

TEST_CASE("anchors that do not match turn a two-way sync into a slow sync (508)") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:2");
    // Funambol sends its first sync as 200 with Last 0.
    Message pkg2 = init(c, "200", "contacts", "0", "1795597065");
    CHECK(find_status(pkg2, "Alert")->data == "508");
    CHECK(find_command(pkg2, CommandKind::Alert)->data == "201");
    // One-way requests keep their direction: 202 -> 203, 204 -> 205.
    TestClient d(*ts.server, "IMEI:3");
    pkg2 = init(d, "202", "contacts", "x", "y");
    CHECK(find_status(pkg2, "Alert")->data == "508");
    CHECK(find_command(pkg2, CommandKind::Alert)->data == "203");
    TestClient e(*ts.server, "IMEI:4");
    pkg2 = init(e, "251", "contacts", "x", "y");  // Funambol's 251 is served as 204
    CHECK(find_status(pkg2, "Alert")->data == "508");
    CHECK(find_command(pkg2, CommandKind::Alert)->data == "205");
}

TEST_CASE("a slow sync pairs identical items instead of duplicating them") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    store->add(Format{"text/vcard", "3.0"}, vcard("Same"));
    store->add(Format{"text/vcard", "3.0"}, vcard("ServerOnly"));
    TestClient c(*ts.server, "IMEI:5");
    Message pkg2 = init(c, "201", "contacts", "", "N1");
    // The client re-encodes: LF line ends, other property order, a PRODID.
    std::string reencoded = "BEGIN:VCARD\nVERSION:3.0\nPRODID:-//x//y//EN\nFN:Test Same\nN:Same;Test;;;\nEND:VCARD\n";
    Message pkg4 = client_changes(c, pkg2, "contacts",
                                  {TestClient::item_command(CommandKind::Replace, "L1", reencoded),
                                   TestClient::item_command(CommandKind::Add, "L2", vcard("ClientOnly"))});
    std::vector<Command> ops = server_ops(pkg4);
    REQUIRE(ops.size() == 1);  // only what the client lacks
    CHECK(ops[0].items[0].data == vcard("ServerOnly"));
    CHECK(ts.items("alice", Category::contacts).size() == 3);
}

TEST_CASE("refresh from server sends everything; refresh from client replaces the server's data") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    for (int i = 0; i < 5; ++i) store->add(Format{"text/vcard", "3.0"}, vcard("S" + std::to_string(i)));
    TestClient c(*ts.server, "IMEI:6");
    Message pkg2 = init(c, "205", "contacts", "", "R1");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    Message pkg4 = client_changes(c, pkg2, "contacts", {});
    CHECK(server_ops(pkg4).size() == 5);
    map_phase(c, pkg4, "contacts");
    CHECK(c.last_response.session_ended);

    c.new_session();
    pkg2 = init(c, "203", "contacts", "R1", "R2");
    CHECK(find_command(pkg2, CommandKind::Alert)->data == "203");
    pkg4 = client_changes(c, pkg2, "contacts",
                          {TestClient::item_command(CommandKind::Replace, "cx", vcard("S0")),
                           TestClient::item_command(CommandKind::Replace, "new", vcard("Fresh"))});
    // No Sync from the server and no package 5: the session ends here.
    CHECK_FALSE(find_command(pkg4, CommandKind::Sync));
    CHECK(pkg4.final);
    CHECK(c.last_response.session_ended);
    auto items = ts.items("alice", Category::contacts);
    CHECK(items.size() == 2);
}

TEST_CASE("a multi-message package 4 within a small MaxMsgSize") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    for (int i = 0; i < 40; ++i) store->add(Format{"text/vcard", "3.0"}, vcard("Many" + std::to_string(i)));
    TestClient c(*ts.server, "IMEI:7");
    c.max_msg_size = "4000";
    Message pkg2 = init(c, "205", "contacts", "", "M1");
    CHECK(c.last_response.body.size() <= 4000);
    Message reply = client_changes(c, pkg2, "contacts", {});
    std::size_t received = 0, messages = 0;
    while (true) {
        CHECK(c.last_response.body.size() <= 4000);
        received += server_ops(reply).size();
        ++messages;
        if (reply.final) break;
        REQUIRE(messages < 50);
        Message next = c.message(false);
        next.body = c.statuses_for(reply);
        reply = c.send(next);
    }
    CHECK(received == 40);
    CHECK(messages > 3);
    map_phase(c, reply, "contacts");
    CHECK(c.last_response.session_ended);
}

TEST_CASE("authentication: wrong password, missing credentials, MD5 challenge") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:8");
    c.password = "wrong";
    Message reply = init(c, "200", "contacts", "", "W1");
    const Command* hs = find_status(reply, "SyncHdr");
    CHECK(hs->data == "401");
    REQUIRE(hs->chal);
    CHECK(hs->chal->meta.type == "syncml:auth-basic");
    CHECK(find_status(reply, "Alert")->data == "401");
    CHECK(reply.header.resp_uri.empty());
    CHECK(c.last_response.session_ended);
    CHECK(ts.items("alice", Category::contacts).empty());

    TestClient n(*ts.server, "IMEI:9");
    n.auth = TestClient::Auth::none;
    reply = init(n, "200", "contacts", "", "W1");
    CHECK(find_status(reply, "SyncHdr")->data == "407");
    CHECK(find_status(reply, "SyncHdr")->chal->meta.type == "syncml:auth-md5");

    // SyncEvolution's first message: MD5 over an empty nonce, refused with a
    // challenge; the retry in a new session with the nonce is accepted.
    TestClient m(*ts.server, "IMEI:10");
    m.auth = TestClient::Auth::md5;
    reply = init(m, "200", "contacts", "", "W1");
    CHECK(find_status(reply, "SyncHdr")->data == "401");
    CHECK_FALSE(m.nonce.empty());
    m.new_session();
    reply = init(m, "200", "contacts", "", "W1");
    CHECK(find_status(reply, "SyncHdr")->data == "212");
}

TEST_CASE("database names: unknown, shared with and without a grant, Global Address Book") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:11");
    Message reply = init(c, "200", "Contacts", "", "D1");  // names are case-exact
    CHECK(find_status(reply, "Alert")->data == "404");

    TestClient d(*ts.server, "IMEI:12");
    reply = init(d, "201", "bob/contacts", "", "D1");
    CHECK(find_status(reply, "Alert")->data == "404");  // no grant: looks like no database
    ts.stores->add_grant("bob", Category::contacts, "alice", Access::read_only);
    TestClient e(*ts.server, "IMEI:13");
    reply = init(e, "201", "bob/contacts", "", "D1");
    CHECK(find_status(reply, "Alert")->data == "200");
    CHECK(find_command(reply, CommandKind::Alert)->data == "205");  // read-only: server to client

    TestClient f(*ts.server, "IMEI:14");
    reply = init(f, "200", "card", "", "D1");  // Funambol's default name
    CHECK(find_status(reply, "Alert")->data == "508");

    std::istringstream gab(vcard("Directory"));
    ts.stores->import_global_address_book(gab);
    TestClient g(*ts.server, "IMEI:15");
    reply = init(g, "200", "Global Address Book/contacts", "", "G1");
    CHECK(find_command(reply, CommandKind::Alert)->data == "205");
    Message pkg4 = client_changes(g, reply, "Global Address Book/contacts",
                                  {TestClient::item_command(CommandKind::Add, "x", vcard("Intruder"))});
    CHECK(find_status(pkg4, "Add")->data == "403");
    CHECK(server_ops(pkg4).size() == 1);
}

TEST_CASE("a resent message is answered from the cache and applied once") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:16");
    Message pkg2 = init(c, "201", "contacts", "", "X1");
    Message m = c.message();
    m.body = c.statuses_for(pkg2);
    m.body.push_back(TestClient::sync("contacts", {TestClient::item_command(CommandKind::Add, "1", vcard("Once"))}));
    std::string first = encode(c.send(m), Encoding::xml);
    // The same message again, to the same URL.
    Request again;
    std::string body = encode(m, Encoding::xml);
    again.body = body;
    again.content_type = content_type(Encoding::xml);
    again.url = pkg2.header.resp_uri;
    Response r = ts.server->process(again);
    CHECK(r.body == c.last_response.body);
    CHECK(ts.items("alice", Category::contacts).size() == 1);
}

TEST_CASE("protocol errors: SyncML 1.0, undecodable bodies, unsupported commands") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:17");
    c.version = "1.0";
    Message reply = init(c, "200", "contacts", "", "V1");
    CHECK(find_status(reply, "SyncHdr")->data == "513");

    Request bad;
    bad.body = "<SyncML><SyncHdr>";
    bad.content_type = "application/vnd.syncml+xml";
    Response r = ts.server->process(bad);
    CHECK(r.http_status == 400);
    CHECK(r.body.find("undecodable") != std::string::npos);
    bad.content_type = "text/html";
    CHECK(ts.server->process(bad).http_status == 415);

    TestClient d(*ts.server, "IMEI:18");
    Message m = d.message();
    m.body.push_back(TestClient::alert("200", "contacts", "./contacts", "", "E1"));
    Command exec;
    exec.kind = CommandKind::Exec;
    exec.cmd_id = "7";
    m.body.push_back(exec);
    Command odd = TestClient::alert("299", "calendar", "./calendar", "", "E1");
    odd.cmd_id = "8";
    m.body.push_back(odd);
    reply = d.send(m);
    CHECK(find_status(reply, "Exec")->data == "406");
    CHECK(find_status(reply, "Alert", 1)->data == "406");  // for that database only
    CHECK(find_status(reply, "Alert", 0)->data == "508");
}

TEST_CASE("the recorded SyncEvolution first message is answered") {
    TestServer ts;
    ts.auth->users["test"] = "test";
    std::string body = smk::test::read_fixture("captures/syncevolution/first-message/contacts-two-way-xml-basic.xml");
    Request req;
    req.body = body;
    req.content_type = "application/vnd.syncml+xml";
    req.url = "/sync";
    Response r = ts.server->process(req);
    REQUIRE(r.http_status == 200);
    Message reply = decode(r.body, Encoding::xml);
    CHECK(find_status(reply, "SyncHdr")->data == "212");
    CHECK(find_status(reply, "Put")->data == "200");
    CHECK(find_status(reply, "Get")->data == "200");
    const Command* results = find_command(reply, CommandKind::Results);
    REQUIRE(results);
    CHECK(results->items.at(0).devinf->dev_typ == "server");
    CHECK_FALSE(results->items.at(0).devinf->swv.empty());
    // One datastore per database, notes included, each with its preferred format.
    std::vector<std::string> stores;
    for (const DataStore& ds : results->items.at(0).devinf->datastores)
        stores.push_back(ds.source_ref + " " + ds.rx_pref.value_or(ContentType{}).type);
    CHECK(stores == std::vector<std::string>{"contacts text/vcard", "calendar text/calendar", "tasks text/calendar",
                                             "notes text/x-vnote"});
    CHECK(find_command(reply, CommandKind::Alert));
    CHECK_FALSE(find_command(reply, CommandKind::Get));  // its DevInf came with the Put
}

TEST_CASE("an item larger than the client's MaxMsgSize goes in chunks to a client that takes large objects") {
    TestServer ts;
    std::string big = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Big;Item;;;\r\nFN:Item Big\r\nNOTE:" + std::string(12000, 'x') +
                      "\r\nEND:VCARD\r\n";
    ts.stores->open("alice", Category::contacts)->add(Format{"text/vcard", "3.0"}, big);
    ts.stores->open("alice", Category::contacts)->add(Format{"text/vcard", "3.0"}, vcard("Small"));
    TestClient c(*ts.server, "IMEI:19");
    c.max_msg_size = "4000";
    Message m = c.message();
    m.body.push_back(devinf_put({"IMEI:19", "text/vcard", "3.0", "contacts", "", "", true}));
    m.body.push_back(TestClient::alert("205", "contacts", "./contacts", "", "L1"));
    Message reply = c.send(m);
    reply = client_changes(c, reply, "contacts", {});
    std::string reassembled;
    std::size_t chunks = 0, small = 0;
    std::string declared;
    for (int round = 0; round < 20; ++round) {
        CHECK(c.last_response.body.size() <= 4000);
        for (const Command& op : server_ops(reply)) {
            const Item& it = op.items.at(0);
            if (it.data == vcard("Small")) {
                ++small;
                continue;
            }
            if (!it.meta.size.empty()) declared = it.meta.size;
            reassembled += it.data;
            ++chunks;
        }
        if (reply.final) break;
        Message next = c.message(false);
        next.body = c.statuses_for(reply);
        reply = c.send(next);
    }
    CHECK(reply.final);
    CHECK(reassembled == big);
    CHECK(declared == std::to_string(big.size()));
    CHECK(chunks >= 4);
    CHECK(small == 1);
}

TEST_CASE("an item the client refuses (Status matched by CmdRef, MsgRef 0) is offered again next time") {
    TestServer ts;
    ts.stores->open("alice", Category::contacts)->add(Format{"text/vcard", "3.0"}, vcard("Refused"));
    TestClient c(*ts.server, "IMEI:20");
    Message pkg2 = init(c, "205", "contacts", "", "F1");
    Message pkg4 = client_changes(c, pkg2, "contacts", {});
    std::vector<Command> ops = server_ops(pkg4);
    REQUIRE(ops.size() == 1);
    // Package 5: the client could not store it, and (as the Funambol client
    // does for some statuses) says MsgRef 0.
    Message pkg5 = c.message();
    pkg5.body = c.statuses_for(pkg4);
    for (Command& s : pkg5.body)
        if (s.cmd_ref == ops[0].cmd_id) {
            s.data = "415";
            s.msg_ref = "0";
        }
    c.send(pkg5);
    CHECK(c.last_response.session_ended);
    CHECK(ts.logger->contains("answered 415"));

    c.new_session();
    pkg2 = init(c, "200", "contacts", "F1", "F2");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    pkg4 = client_changes(c, pkg2, "contacts", {});
    ops = server_ops(pkg4);
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].kind == CommandKind::Add);
    CHECK(ops[0].items[0].data == vcard("Refused"));
}

TEST_CASE("a client that vanishes mid-sync loses nothing and duplicates nothing") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:21");
    Message pkg2 = init(c, "201", "contacts", "", "V1");
    client_changes(c, pkg2, "contacts",
                   {TestClient::item_command(CommandKind::Add, "1", vcard("Kept1")),
                    TestClient::item_command(CommandKind::Add, "2", vcard("Kept2"))});
    // The client never sends package 5. Its session is dropped.
    CHECK(ts.server->session_count() == 1);
    ts.server.reset();  // a restart, which drops every session
    ServerConfig config;
    config.auth = ts.auth;
    config.datastores = ts.stores;
    config.logger = ts.logger;
    config.state_dir = (ts.dir / "state").string();
    ts.server = std::make_unique<Server>(config);
    CHECK(ts.logger->contains("dropped unfinished"));
    // The items of the broken session were committed with their mapping.
    CHECK(ts.items("alice", Category::contacts).size() == 2);

    // The client believes nothing completed and tries two-way with the
    // anchors it had before: a full exchange, which pairs what is there.
    TestClient again(*ts.server, "IMEI:21");
    pkg2 = init(again, "200", "contacts", "", "V2");
    CHECK(find_status(pkg2, "Alert")->data == "508");
    Message pkg4 = client_changes(again, pkg2, "contacts",
                                  {TestClient::item_command(CommandKind::Replace, "1", vcard("Kept1")),
                                   TestClient::item_command(CommandKind::Replace, "2", vcard("Kept2"))});
    CHECK(server_ops(pkg4).empty());
    CHECK(ts.items("alice", Category::contacts).size() == 2);
}

TEST_CASE("idle sessions expire") {
    TestServer ts;
    ServerConfig config;
    config.auth = ts.auth;
    config.datastores = ts.stores;
    config.state_dir = (ts.dir / "state2").string();
    config.session_timeout = std::chrono::seconds(0);
    Server server(config);
    TestClient c(server, "IMEI:22");
    init(c, "201", "contacts", "", "E1");
    CHECK(server.session_count() == 1);
    server.expire_idle_sessions();
    CHECK(server.session_count() == 0);
}


TEST_CASE("a vCard 2.1 client's contact reaches a vCard 3.0 client as 3.0, and back") {
    TestServer ts;
    // The Funambol plug-in's kind of item: vCard 2.1, nameless parameters,
    // quoted-printable with a soft break.
    std::string v21 =
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN:M=C3=BCller;J=C3=B6rg;;;\r\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=B6rg M=\r\n"
        "=C3=BCller\r\nTEL;WORK;VOICE:+49 30 1234\r\nNOTE;ENCODING=QUOTED-PRINTABLE:two=0D=0Alines\r\nEND:VCARD\r\n";
    v21.replace(v21.find("N:M=C3"), 2, "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:");
    TestClient outlook(*ts.server, "fol-device");
    Message pkg2 = init_with_devinf(outlook, {"fol-device", "text/x-vcard", "2.1"}, "201", "O1");
    Command add = TestClient::item_command(CommandKind::Add, "outlook-1", v21);
    add.meta.type = "text/x-vcard";
    Message pkg4 = client_changes(outlook, pkg2, "contacts", {add});
    CHECK(find_status(pkg4, "Add")->data == "201");
    map_phase(outlook, pkg4, "contacts");

    // Stored once, as vCard 3.0.
    auto stored = ts.items("alice", Category::contacts);
    REQUIRE(stored.size() == 1);
    CHECK(stored[0].find("VERSION:3.0\r\n") != std::string::npos);
    CHECK(stored[0].find("TEL;TYPE=WORK,VOICE:+49 30 1234\r\n") != std::string::npos);

    TestClient evolution(*ts.server, "syncevo-device");
    pkg2 = init_with_devinf(evolution, {"syncevo-device", "text/vcard", "3.0"}, "205", "E1");
    pkg4 = client_changes(evolution, pkg2, "contacts", {});
    std::vector<Command> ops = server_ops(pkg4);
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].meta.type == "text/vcard");
    const std::string& got = ops[0].items[0].data;
    CHECK(got.find("VERSION:3.0\r\n") != std::string::npos);
    CHECK(got.find("N:M\xC3\xBCller;J\xC3\xB6rg;;;\r\n") != std::string::npos);
    CHECK(got.find("FN:J\xC3\xB6rg M\xC3\xBCller\r\n") != std::string::npos);
    CHECK(got.find("NOTE:two\\nlines\r\n") != std::string::npos);
    map_phase(evolution, pkg4, "contacts");

    // The 3.0 client adds a contact; the 2.1 client receives vCard 2.1.
    evolution.new_session();
    pkg2 = init(evolution, "200", "contacts", "E1", "E2");
    Command add30 = TestClient::item_command(CommandKind::Add, "evo-2",
                                             "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\n"
                                             "TEL;TYPE=CELL:+1 555 0100\r\nNOTE:caf\xC3\xA9\\, bar\r\nEND:VCARD\r\n");
    pkg4 = client_changes(evolution, pkg2, "contacts", {add30});
    map_phase(evolution, pkg4, "contacts");
    outlook.new_session();
    pkg2 = init(outlook, "200", "contacts", "O1", "O2");
    pkg4 = client_changes(outlook, pkg2, "contacts", {});
    ops = server_ops(pkg4);
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].meta.type == "text/x-vcard");
    const std::string& old = ops[0].items[0].data;
    CHECK(old.find("VERSION:2.1\r\n") != std::string::npos);
    CHECK(old.find("TEL;CELL:+1 555 0100\r\n") != std::string::npos);
    CHECK(old.find("NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:caf=C3=A9, bar\r\n") != std::string::npos);
}

TEST_CASE("a client's Replace does not wipe the fields its CTCap lacks") {
    TestServer ts;
    ts.stores->open("alice", Category::contacts)
        ->add(Format{"text/vcard", "3.0"},
              "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\nTEL;TYPE=CELL:+1 555 0100\r\n"
              "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQ\r\nNOTE:keep me unless cleared\r\nEND:VCARD\r\n");
    TestClient c(*ts.server, "IMEI:23");
    Message m = c.message();
    Command put = devinf_put({"IMEI:23", "text/vcard", "3.0"});
    CTCap cap;
    cap.type = "text/vcard";
    cap.version = "3.0";
    for (const char* name : {"BEGIN", "END", "VERSION", "N", "FN", "TEL", "NOTE"}) {
        Property p;
        p.name = name;
        cap.properties.push_back(p);
    }
    put.items[0].devinf->datastores[0].ctcaps.push_back(cap);
    m.body.push_back(put);
    m.body.push_back(TestClient::alert("205", "contacts", "./contacts", "", "M1"));
    Message pkg4 = client_changes(c, c.send(m), "contacts", {});
    std::string guid = server_ops(pkg4).at(0).items.at(0).source.uri;
    map_phase(c, pkg4, "contacts");  // the client's LUID is "c" + GUID

    c.new_session();
    Message pkg2 = init(c, "200", "contacts", "M1", "M2");
    // A new number, and NOTE sent empty: cleared. No PHOTO: the client cannot hold one.
    Command replace = TestClient::item_command(
        CommandKind::Replace, "c" + guid,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\nTEL;TYPE=CELL:+1 555 0199\r\nNOTE:\r\nEND:VCARD\r\n");
    pkg4 = client_changes(c, pkg2, "contacts", {replace});
    CHECK(find_status(pkg4, "Replace")->data == "200");
    auto items = ts.items("alice", Category::contacts);
    REQUIRE(items.size() == 1);
    CHECK(items[0].find("TEL;TYPE=CELL:+1 555 0199") != std::string::npos);
    CHECK(items[0].find("PHOTO;TYPE=JPEG;ENCODING=b:/9j/4AAQ") != std::string::npos);
    CHECK(items[0].find("NOTE") == std::string::npos);
}

TEST_CASE("a refresh from the client is preceded by a snapshot, which restores the data online") {
    TestServer ts;
    auto store = ts.stores->open("alice", Category::contacts);
    store->add(Format{"text/vcard", "3.0"}, vcard("Precious1"));
    store->add(Format{"text/vcard", "3.0"}, vcard("Precious2"));
    store.reset();
    CHECK(ts.stores->snapshots("alice", Category::contacts).empty());

    TestClient c(*ts.server, "IMEI:24");
    Message pkg2 = init(c, "203", "contacts", "", "R1");
    CHECK(find_command(pkg2, CommandKind::Alert)->data == "203");
    client_changes(c, pkg2, "contacts", {TestClient::item_command(CommandKind::Add, "x", vcard("Wrong side"))});
    CHECK(c.last_response.session_ended);
    auto after = ts.items("alice", Category::contacts);
    REQUIRE(after.size() == 1);  // the server's two are gone, as asked
    auto snapshots = ts.stores->snapshots("alice", Category::contacts);
    REQUIRE(snapshots.size() == 1);
    CHECK(snapshots[0].find("refresh-from-client") != std::string::npos);
    CHECK(ts.logger->contains("is kept in " + snapshots[0]));

    // The user ran the recover in the wrong direction: one call brings the
    // data back, with the server running.
    ts.stores->restore("alice", Category::contacts, snapshots[0]);
    auto restored = ts.items("alice", Category::contacts);
    REQUIRE(restored.size() == 2);
    CHECK(std::count(restored.begin(), restored.end(), vcard("Precious1")) == 1);
    CHECK_THROWS_AS(ts.stores->restore("alice", Category::contacts, (ts.dir / "none.sqlite").string()), DatastoreError);

    // The client's state stays: its next sync is a two-way sync that brings
    // it the restored data (test_store_admin counts it item by item).
    c.new_session();
    pkg2 = init(c, "200", "contacts", "R1", "R2");
    CHECK(find_status(pkg2, "Alert")->data == "200");
}

TEST_CASE("a resume (225) after an interrupted session carries it on; a stale one becomes a slow sync") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:225");
    Message pkg2 = init(c, "201", "contacts", "", "R1");
    Message pkg4 = client_changes(c, pkg2, "contacts", {TestClient::item_command(CommandKind::Add, "1", vcard("One"))});
    map_phase(c, pkg4, "contacts");

    // The next session is cut after package 3: one more item stored, no anchors saved.
    c.new_session();
    pkg2 = init(c, "200", "contacts", "R1", "R2");
    REQUIRE(find_status(pkg2, "Alert")->data == "200");
    client_changes(c, pkg2, "contacts", {TestClient::item_command(CommandKind::Add, "2", vcard("Two"))});

    // The client resumes it: the anchors of the last completed session still
    // match, and the session left open ends and leaves its resume point
    // (test_suspend_resume.cpp has the rest).
    c.new_session();
    pkg2 = init(c, "225", "contacts", "R1", "R2");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    REQUIRE(find_command(pkg2, CommandKind::Alert));
    CHECK(find_command(pkg2, CommandKind::Alert)->data == "200");
    pkg4 = client_changes(c, pkg2, "contacts", {TestClient::item_command(CommandKind::Add, "2", vcard("Two"))});
    CHECK(find_status(pkg4, "Add")->data == "200");  // known already: not stored twice
    map_phase(c, pkg4, "contacts");
    CHECK(c.last_response.session_ended);
    CHECK(ts.items("alice", Category::contacts).size() == 2);

    // With anchors that do not match, the resume becomes a slow sync (508).
    c.new_session();
    pkg2 = init(c, "225", "contacts", "stale", "R3");
    CHECK(find_status(pkg2, "Alert")->data == "508");
    CHECK(find_command(pkg2, CommandKind::Alert)->data == "201");

    // SyncML 1.1 has no resume.
    TestClient old(*ts.server, "IMEI:225-11");
    old.version = "1.1";
    pkg2 = init(old, "225", "contacts", "", "X1");
    CHECK(find_status(pkg2, "Alert")->data == "406");
}

TEST_CASE("a server Replace or Delete whose reply never reached the client is sent again") {
    TestServer ts;
    TestClient c(*ts.server, "IMEI:lost");
    auto store = ts.stores->open("alice", Category::contacts);
    std::string keep = store->add(Format{"text/vcard", "3.0"}, vcard("Keep")).guid;
    std::string gone = store->add(Format{"text/vcard", "3.0"}, vcard("Gone")).guid;
    Message pkg2 = init(c, "201", "contacts", "", "K1");
    Message pkg4 = client_changes(c, pkg2, "contacts", {});
    map_phase(c, pkg4, "contacts");

    // Changed on the server; the client's two-way sync gets package 4 and
    // then vanishes (its statuses never arrive).
    REQUIRE(store->replace(keep, Format{"text/vcard", "3.0"}, vcard("Kept")));
    REQUIRE(store->remove(gone));
    for (int round = 0; round < 2; ++round) {
        c.new_session();
        pkg2 = init(c, round == 0 ? "200" : "225", "contacts", "K1", "K2");
        REQUIRE(find_command(pkg2, CommandKind::Alert)->data == "200");  // the anchors still match
        pkg4 = client_changes(c, pkg2, "contacts", {});
        std::vector<Command> ops = server_ops(pkg4);
        REQUIRE(ops.size() == 2);
        std::size_t replaces = 0, deletes = 0;
        for (const Command& op : ops) {
            replaces += op.kind == CommandKind::Replace && op.items.at(0).data == vcard("Kept");
            deletes += op.kind == CommandKind::Delete && op.items.at(0).target.uri == "c" + gone;
        }
        CHECK(replaces == 1);
        CHECK(deletes == 1);
    }
    // This time the client confirms: the next sync has nothing to send.
    map_phase(c, pkg4, "contacts");
    c.new_session();
    pkg2 = init(c, "200", "contacts", "K2", "K3");
    pkg4 = client_changes(c, pkg2, "contacts", {});
    CHECK(server_ops(pkg4).empty());
}
