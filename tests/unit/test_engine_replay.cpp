// Whole sessions replayed from the recorded messages of the real SyncEvolution
// client (tests/fixtures/captures/syncevolution/sessions): their structure and
// quirks as sent, with the credentials, session and RespURI adapted to this
// server, and each reply asserted.
#include <catch2/catch.hpp>

#include "../../lib/engine/md5.hpp"
#include "../../lib/wire/text.hpp"
#include "engine_client.hpp"
#include "fixtures.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_command;
using smk::test::find_status;
using smk::test::TestServer;

namespace {

struct Replay {
    Replay(TestServer& server, Encoding encoding) : ts(server), enc(encoding) {}
    TestServer& ts;
    Encoding enc;
    std::string url = "/sync";
    std::string nonce;

    Message send(Message m) {
        std::string body = encode(m, enc);
        Request req;
        req.body = body;
        req.content_type = content_type(enc);
        req.url = url;
        Response r = ts.server->process(req);
        REQUIRE(r.http_status == 200);
        Message reply = decode(r.body, enc);
        if (!reply.header.resp_uri.empty()) url = reply.header.resp_uri;
        const Command* hs = find_status(reply, "SyncHdr");
        if (hs && hs->chal && !hs->chal->meta.next_nonce.empty())
            nonce = base64_decode(hs->chal->meta.next_nonce).value_or("");
        last_ended = r.session_ended;
        return reply;
    }
    bool last_ended = false;
};

Message fixture(const std::string& path, Encoding enc) { return decode(smk::test::read_fixture(path), enc); }

// The MD5 credentials SyncEvolution computes once it has our nonce.
void sign_md5(Message& m, const std::string& user, const std::string& password, const std::string& nonce) {
    std::string secret = base64_encode(engine::md5(user + ":" + password));
    m.header.cred->data = base64_encode(engine::md5(secret + ":" + nonce));
}

}  // namespace

TEST_CASE("replay: SyncEvolution's first slow sync of 3 contacts over WBXML, with the MD5 challenge") {
    TestServer ts;
    ts.auth->users["test"] = "test";
    Replay r(ts, Encoding::wbxml);
    const std::string dir = "captures/syncevolution/sessions/contacts-1-first-sync-slow-wbxml/";

    // Package 1 as recorded: MD5 over an empty nonce, refused with a challenge.
    Message pkg1 = fixture(dir + "msg001_002_outgoing.wbxml", Encoding::wbxml);
    Message reply = r.send(pkg1);
    CHECK(find_status(reply, "SyncHdr")->data == "401");
    REQUIRE(find_status(reply, "SyncHdr")->chal);
    CHECK(find_status(reply, "SyncHdr")->chal->meta.type == "syncml:auth-md5");
    CHECK(r.last_ended);
    REQUIRE_FALSE(r.nonce.empty());

    // The client retries in a new session with the nonce.
    pkg1.header.session_id = "6";
    sign_md5(pkg1, "test", "test", r.nonce);
    reply = r.send(pkg1);
    CHECK(find_status(reply, "SyncHdr")->data == "212");
    CHECK(find_status(reply, "Put")->data == "200");
    CHECK(find_status(reply, "Get")->data == "200");
    const Command* results = find_command(reply, CommandKind::Results);
    REQUIRE(results);
    CHECK(results->meta.type == "application/vnd.syncml-devinf+wbxml");
    CHECK(find_status(reply, "Alert")->data == "200");
    const Command* alert = find_command(reply, CommandKind::Alert);
    REQUIRE(alert);
    CHECK(alert->data == "201");
    CHECK(alert->items.at(0).target.uri == "./contacts");
    CHECK(reply.final);

    // Package 3: three Adds.
    Message pkg3 = fixture(dir + "msg002_006_outgoing.wbxml", Encoding::wbxml);
    pkg3.header.session_id = "6";
    reply = r.send(pkg3);
    CHECK(find_status(reply, "Sync")->data == "200");
    CHECK(find_status(reply, "Sync")->source_refs == std::vector<std::string>{"./contacts"});
    for (int i = 0; i < 3; ++i) CHECK(find_status(reply, "Add", i)->data == "201");
    const Command* sync = find_command(reply, CommandKind::Sync);
    REQUIRE(sync);
    CHECK(sync->children.empty());
    CHECK(reply.final);
    CHECK(ts.items("test", Category::contacts).size() == 3);

    // Package 5: the status of our Sync; package 6 ends the session.
    Message pkg5 = fixture(dir + "msg003_010_outgoing.wbxml", Encoding::wbxml);
    pkg5.header.session_id = "6";
    reply = r.send(pkg5);
    CHECK(find_status(reply, "SyncHdr")->data == "200");
    CHECK(reply.final);
    CHECK(r.last_ended);
}

TEST_CASE("replay: SyncEvolution's two-way sync with an Add, a Replace and a Delete over XML") {
    TestServer ts;
    ts.auth->users["test"] = "test";
    Replay r(ts, Encoding::xml);
    const std::string dir = "captures/syncevolution/sessions/contacts-2-two-way-changes-xml/";
    Message pkg1 = fixture(dir + "msg001_002_outgoing.xml", Encoding::xml);
    // Without stored anchors the two-way request becomes a slow sync.
    Message reply = r.send(pkg1);
    std::string code = find_status(reply, "SyncHdr")->data;
    if (code == "401") {
        pkg1.header.session_id += "1";
        sign_md5(pkg1, "test", "test", r.nonce);
        reply = r.send(pkg1);
    }
    CHECK(find_status(reply, "SyncHdr")->data == "212");
    CHECK(find_status(reply, "Alert")->data == "508");
    CHECK(find_command(reply, CommandKind::Alert)->data == "201");

    Message pkg3 = fixture(dir + "msg002_006_outgoing.xml", Encoding::xml);
    pkg3.header.session_id = pkg1.header.session_id;
    reply = r.send(pkg3);
    CHECK(find_status(reply, "Sync")->data == "200");
    // In a slow sync the Replace of an unknown item is stored as new and the
    // Delete of an unknown one gets 211.
    CHECK(find_status(reply, "Add")->data == "201");
    CHECK(find_status(reply, "Replace")->data == "201");
    CHECK(find_status(reply, "Delete")->data == "211");
    CHECK(reply.final);
}
