// Item data that is not valid UTF-8: the engine repairs a client's text items
// before it converts and stores them (one warning line each, status as
// usual), leaves base64 items alone, honours a declared CHARSET, and what
// another client gets back is valid UTF-8 inside well-formed XML.
#include <catch2/catch.hpp>
#include <pugixml.hpp>

#include "engine/item_text.hpp"
#include "engine_client.hpp"
#include "wire/text.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_status;
using smk::test::TestClient;
using smk::test::TestServer;
using namespace smk::test::steps;
using namespace std::string_literals;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const std::string kFFFD = "\xEF\xBF\xBD";

Command add_card(const std::string& luid, const std::string& data, const std::string& type = "text/vcard",
                 const std::string& format = "") {
    Command add = TestClient::item_command(CommandKind::Add, luid, format == "b64" ? base64_encode(data) : data);
    add.meta.type = type;
    add.meta.format = format;
    return add;
}

std::string card30(const std::string& n, const std::string& fn, const std::string& extra = "") {
    return "BEGIN:VCARD\r\nVERSION:3.0\r\nN:" + n + "\r\nFN:" + fn + "\r\n" + extra + "END:VCARD\r\n";
}

// A Latin-1 card, one of garbage bytes, a valid one with 4-byte emoji.
const std::string kLatin1 = card30("M\xFCller;J\xF6rg;;;", "J\xF6rg M\xFCller");
const std::string kGarbage =
    card30("Garbage;G;;;", "G Garbage", "NOTE:bs\b ctl\x01 overlong\xC0\xAF surr\xED\xA0\x80 ff\xFF!\r\n"s);
const std::string kEmoji = card30("Smile;Ann;;;", "Ann \xF0\x9F\x98\x80 Smile",
                                  "NOTE:\xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD\r\n");

std::size_t lines_with(test::MemoryLogger& log, const std::vector<std::string>& parts) {
    std::lock_guard<std::mutex> lock(log.mutex);
    std::size_t n = 0;
    for (const std::string& l : log.lines) {
        bool all = true;
        for (const std::string& p : parts) all = all && has(l, p);
        n += all;
    }
    return n;
}

const std::string* stored_with(const std::vector<std::string>& items, const std::string& part) {
    for (const std::string& s : items)
        if (has(s, part)) return &s;
    return nullptr;
}

bool well_formed(const std::string& xml) {
    pugi::xml_document doc;
    return is_xml_text(xml) && doc.load_buffer(xml.data(), xml.size(), pugi::parse_full, pugi::encoding_utf8);
}

}  // namespace

TEST_CASE("text items that are not UTF-8 are repaired, logged, and reach another client as well-formed XML") {
    TestServer ts;
    // The receiving client syncs first, so that it later gets the items in a two-way sync.
    TestClient evo(*ts.server, "evo-1");
    Message pkg2 = init_with_devinf(evo, {"evo-1", "text/vcard", "3.0"}, "201", "E1");
    map_phase(evo, client_changes(evo, pkg2, "contacts", {}), "contacts");

    // A phone over WBXML, which carries its bytes exactly as they are.
    TestClient phone(*ts.server, "phone-1", Encoding::wbxml);
    pkg2 = init(phone, "201", "contacts", "", "P1");
    // The same card in base64: binary to the engine, never repaired by it.
    Message pkg4 = client_changes(phone, pkg2, "contacts",
                                  {add_card("l-1", kLatin1), add_card("g-1", kGarbage), add_card("e-1", kEmoji),
                                   add_card("b-1", card30("Binary;B;;;", "B Binary"), "text/vcard", "b64")});
    for (std::size_t i = 0; i < 4; ++i) {
        const Command* st = find_status(pkg4, "Add", i);
        REQUIRE(st);
        CHECK(st->data == "201");
    }
    map_phase(phone, pkg4, "contacts");

    std::vector<std::string> stored = ts.items("alice", Category::contacts);
    REQUIRE(stored.size() == 4);
    for (const std::string& s : stored) CHECK(is_xml_text(s));
    const std::string* latin1 = stored_with(stored, "J\xC3\xB6rg M\xC3\xBCller");
    REQUIRE(latin1);
    CHECK(has(*latin1, "N:M\xC3\xBCller;J\xC3\xB6rg;;;"));
    const std::string* garbage = stored_with(stored, "G Garbage");
    REQUIRE(garbage);
    CHECK(has(*garbage, "bs" + kFFFD + " ctl" + kFFFD + " overlong" + kFFFD + " surr" + kFFFD + " ff\xC3\xBF!"));
    // Valid UTF-8, 4-byte emoji included, is stored byte for byte.
    CHECK(stored_with(stored, kEmoji));

    // One warning per repaired item, naming device, database, item and count.
    test::MemoryLogger& log = *ts.logger;
    CHECK(lines_with(log, {"device phone-1", "alice/contacts", "item l-1", "not valid UTF-8", "(4 repairs)"}) == 1);
    CHECK(lines_with(log, {"device phone-1", "alice/contacts", "item g-1", "not valid UTF-8", "(5 repairs)"}) == 1);
    CHECK(lines_with(log, {"item e-1", "UTF-8"}) == 0);
    CHECK(lines_with(log, {"item b-1", "UTF-8"}) == 0);
    CHECK(lines_with(log, {"not valid UTF-8"}) == 2);

    // The other client's two-way sync gets them, in well-formed XML.
    evo.new_session();
    pkg2 = init(evo, "200", "contacts", "E1", "E2");
    pkg4 = client_changes(evo, pkg2, "contacts", {});
    const std::string& reply = evo.last_response.body;
    CHECK(well_formed(reply));
    std::vector<Command> ops = server_ops(pkg4);
    REQUIRE(ops.size() == 4);
    std::size_t seen = 0;
    for (const Command& op : ops) {
        CHECK(op.kind == CommandKind::Add);
        const std::string& data = op.items.at(0).data;
        CHECK(is_xml_text(data));
        seen += has(data, "J\xC3\xB6rg M\xC3\xBCller") + has(data, "Ann \xF0\x9F\x98\x80 Smile") +
                has(data, "G Garbage") + has(data, "B Binary");
    }
    CHECK(seen == 4);
    CHECK(has(reply, "Ann \xF0\x9F\x98\x80 Smile"));
    map_phase(evo, pkg4, "contacts");

    // A Replace is repaired the same way.
    phone.new_session();
    pkg2 = init(phone, "200", "contacts", "P1", "P2");
    Command replace = add_card("l-1", card30("M\xFCller;J\xF6rg;;;", "J\xF6rg M\xFCller", "NOTE:caf\xE9\r\n"));
    replace.kind = CommandKind::Replace;
    pkg4 = client_changes(phone, pkg2, "contacts", {replace});
    CHECK(find_status(pkg4, "Replace")->data == "200");
    CHECK(lines_with(log, {"device phone-1", "item l-1", "not valid UTF-8", "(5 repairs)"}) == 1);
    stored = ts.items("alice", Category::contacts);
    const std::string* replaced = stored_with(stored, "caf\xC3\xA9");
    REQUIRE(replaced);
    CHECK(has(*replaced, "J\xC3\xB6rg M\xC3\xBCller"));
    for (const std::string& s : stored) CHECK(is_xml_text(s));
}

TEST_CASE("Latin-1 sent raw inside an XML message is repaired too") {
    TestServer ts;
    TestClient client(*ts.server, "xml-1");
    Message pkg2 = init(client, "201", "contacts", "", "X1");
    // Our encoder would repair the bytes on the way out: the message is
    // written with a marker, and the raw bytes go in its place.
    Message m = client.message();
    m.body = client.statuses_for(pkg2);
    m.body.push_back(TestClient::sync("contacts", {add_card("x-1", card30("@@;@@;;;", "@@"))}));
    std::string body = encode(m, Encoding::xml);
    for (std::size_t at; (at = body.find("@@")) != std::string::npos;) body.replace(at, 2, "K\xF6hler");
    REQUIRE_FALSE(is_xml_text(body));
    Request req;
    req.body = body;
    req.content_type = content_type(Encoding::xml);
    req.url = pkg2.header.resp_uri.empty() ? client.url : pkg2.header.resp_uri;
    Response res = ts.server->process(req);
    REQUIRE(res.http_status == 200);
    CHECK(well_formed(res.body));
    Message pkg4 = decode(res.body, Encoding::xml);
    REQUIRE(find_status(pkg4, "Add"));
    CHECK(find_status(pkg4, "Add")->data == "201");
    std::vector<std::string> stored = ts.items("alice", Category::contacts);
    REQUIRE(stored.size() == 1);
    CHECK(is_xml_text(stored[0]));
    CHECK(has(stored[0], "FN:K\xC3\xB6hler\r\n"));
    CHECK(lines_with(*ts.logger, {"device xml-1", "item x-1", "not valid UTF-8", "(3 repairs)"}) == 1);
}

TEST_CASE("a declared CHARSET is honoured, not read twice") {
    TestServer ts;
    TestClient phone(*ts.server, "phone-2", Encoding::wbxml);
    Message pkg2 = init(phone, "201", "contacts", "", "P1");
    // vCard 2.1 with raw 8-bit Latin-1 and its label (converted to the
    // store's vCard 3.0), and a 3.0 card with a Latin-2 line (kept as 3.0).
    const std::string v21 = "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=ISO-8859-1:M\xFCller;J\xF6rg\r\n"
                            "FN;CHARSET=ISO-8859-1;ENCODING=8BIT:J\xF6rg M\xFCller\r\nEND:VCARD\r\n";
    const std::string v30 = "BEGIN:VCARD\r\nVERSION:3.0\r\nN;CHARSET=ISO-8859-2:\xA3\xF3" "d\xBC;Pawe\xB3;;;\r\n"
                            "FN:Pawe\xC5\x82 \xC5\x81\xC3\xB3" "d\xC5\xBA\r\nEND:VCARD\r\n";
    Message pkg4 = client_changes(phone, pkg2, "contacts",
                                  {add_card("v21", v21, "text/x-vcard"), add_card("v30", v30, "text/vcard")});
    CHECK(find_status(pkg4, "Add", 0)->data == "201");
    CHECK(find_status(pkg4, "Add", 1)->data == "201");
    std::vector<std::string> stored = ts.items("alice", Category::contacts);
    REQUIRE(stored.size() == 2);
    for (const std::string& s : stored) {
        CHECK(is_xml_text(s));
        CHECK_FALSE(has(s, "\xC3\x83"));  // no "Ã": nothing was read twice
    }
    const std::string* card21 = stored_with(stored, "J\xC3\xB6rg M\xC3\xBCller");
    REQUIRE(card21);
    CHECK(has(*card21, "M\xC3\xBCller;J\xC3\xB6rg"));
    const std::string* card30 = stored_with(stored, "Pawe\xC5\x82;;;");
    REQUIRE(card30);
    CHECK(has(*card30, "\xC5\x81\xC3\xB3" "d\xC5\xBA;Pawe\xC5\x82;;;"));  // Łódź;Paweł
    CHECK(lines_with(*ts.logger, {"item v21", "(4 repairs)"}) == 1);
    CHECK(lines_with(*ts.logger, {"item v30", "(4 repairs)"}) == 1);
}

TEST_CASE("valid UTF-8 items pass unchanged and unlogged") {
    TestServer ts;
    TestClient phone(*ts.server, "phone-3", Encoding::wbxml);
    Message pkg2 = init(phone, "201", "contacts", "", "P1");
    Message pkg4 = client_changes(phone, pkg2, "contacts", {add_card("e-1", kEmoji)});
    CHECK(find_status(pkg4, "Add")->data == "201");
    std::vector<std::string> stored = ts.items("alice", Category::contacts);
    REQUIRE(stored.size() == 1);
    CHECK(stored[0] == kEmoji);
    CHECK(lines_with(*ts.logger, {"UTF-8"}) == 0);
}

TEST_CASE("is_text_item: which items the engine treats as text") {
    using engine::is_text_item;
    CHECK(is_text_item("", "text/vcard"));
    CHECK(is_text_item("chr", "text/x-vcard"));
    CHECK(is_text_item("CHR", "TEXT/CALENDAR"));
    CHECK(is_text_item("", "text/x-s4j-sifc"));
    CHECK(is_text_item("", ""));  // the store's native format
    CHECK_FALSE(is_text_item("b64", "text/x-s4j-sifc"));
    CHECK_FALSE(is_text_item("bin", "text/plain"));
    CHECK_FALSE(is_text_item("", "image/jpeg"));
    CHECK_FALSE(is_text_item("", "application/octet-stream"));
}

TEST_CASE("repair_item_text: declared charsets, folded lines, XML declarations") {
    using engine::repair_item_text;
    auto fixed = [](std::string s, std::size_t& n) {
        n = repair_item_text(s);
        return s;
    };
    std::size_t n = 0;
    // Valid: untouched.
    CHECK(fixed(kEmoji, n) == kEmoji);
    CHECK(n == 0);
    // A folded line keeps its line's charset on the continuation.
    CHECK(fixed("BEGIN:VNOTE\r\nBODY;CHARSET=ISO-8859-1:caf\xE9\r\n  cr\xE8me\r\nEND:VNOTE\r\n", n) ==
          "BEGIN:VNOTE\r\nBODY;CHARSET=UTF-8:caf\xC3\xA9\r\n  cr\xC3\xA8me\r\nEND:VNOTE\r\n");
    CHECK(n == 2);
    // A quoted parameter value may hold ':'; Windows-1252's own characters.
    CHECK(fixed("BEGIN:VCARD\r\nX-A;TYPE=\"a:b\";CHARSET=windows-1252:\x80\x93x\x94\r\nEND:VCARD\r\n", n) ==
          "BEGIN:VCARD\r\nX-A;TYPE=\"a:b\";CHARSET=UTF-8:\xE2\x82\xAC\xE2\x80\x9Cx\xE2\x80\x9D\r\nEND:VCARD\r\n");
    CHECK(n == 3);
    // Another charset, through ICU: KOI8-R.
    CHECK(fixed("BEGIN:VCARD\r\nFN;CHARSET=KOI8-R:\xE9\xD7\xC1\xCE\r\nEND:VCARD\r\n", n) ==
          "BEGIN:VCARD\r\nFN;CHARSET=UTF-8:\xD0\x98\xD0\xB2\xD0\xB0\xD0\xBD\r\nEND:VCARD\r\n");  // Иван
    CHECK(n == 4);
    // A quoted-printable line is left to its decoder; a stray raw byte in it,
    // and lines without a charset, follow repair_utf8.
    CHECK(fixed("BEGIN:VCARD\r\nNOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:a=E9=\r\nb\r\nFN:\xFC\x01\r\nEND:VCARD\r\n",
                n) == "BEGIN:VCARD\r\nNOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=ISO-8859-1:a=E9=\r\nb\r\nFN:\xC3\xBC" +
                          kFFFD + "\r\nEND:VCARD\r\n");
    CHECK(n == 2);
    // A CHARSET=UTF-8 line with broken bytes is repaired, not transcoded.
    CHECK(fixed("BEGIN:VCARD\r\nFN;CHARSET=UTF-8:M\xFCller \xE2\x82\xAC\r\nEND:VCARD\r\n", n) ==
          "BEGIN:VCARD\r\nFN;CHARSET=UTF-8:M\xC3\xBCller \xE2\x82\xAC\r\nEND:VCARD\r\n");
    CHECK(n == 1);
    // SIF sent as text in ISO-8859-1: transcoded, and the declaration follows.
    CHECK(fixed("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><contact><LastName>M\xFCller</LastName></contact>", n) ==
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?><contact><LastName>M\xC3\xBCller</LastName></contact>");
    CHECK(n == 1);
    // Plain text.
    CHECK(fixed("Gr\xFC\xDF" "e\x00!"s, n) == "Gr\xC3\xBC\xC3\x9F" "e" + kFFFD + "!");
    CHECK(n == 3);
}

TEST_CASE("a large UTF-8 item goes out in chunks cut between characters, so XML carries it intact") {
    TestServer ts;
    std::string note;
    for (int i = 0; i < 1500; ++i) note += "\xC3\xBC\xE2\x82\xAC\xF0\x9F\x98\x80";  // ü€😀: 2, 3 and 4 bytes
    std::string big = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Big;Item;;;\r\nFN:Item Big\r\nNOTE:" + note + "\r\nEND:VCARD\r\n";
    ts.stores->open("alice", Category::contacts)->add(Format{"text/vcard", "3.0"}, big);
    TestClient c(*ts.server, "IMEI:utf8-chunks");
    c.max_msg_size = "4000";
    Message m = c.message();
    m.body.push_back(devinf_put({"IMEI:utf8-chunks", "text/vcard", "3.0", "contacts", "", "", true}));
    m.body.push_back(TestClient::alert("205", "contacts", "./contacts", "", "L1"));
    Message reply = c.send(m);
    reply = client_changes(c, reply, "contacts", {});
    std::string reassembled;
    std::size_t chunks = 0;
    for (int round = 0; round < 30; ++round) {
        CHECK(well_formed(c.last_response.body));
        for (const Command& op : server_ops(reply)) {
            const std::string& part = op.items.at(0).data;
            CHECK(is_xml_text(part));  // each chunk whole characters
            reassembled += part;
            ++chunks;
        }
        if (reply.final) break;
        Message next = c.message(false);
        next.body = c.statuses_for(reply);
        reply = c.send(next);
    }
    CHECK(reply.final);
    CHECK(chunks >= 4);
    CHECK(reassembled == big);
    CHECK(lines_with(*ts.logger, {"UTF-8"}) == 0);
}
