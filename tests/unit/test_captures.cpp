// Every message that real clients sent decodes, and the fields a server
// relies on come out right.
#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "syncmlkit/wire.hpp"

using namespace smk::wire;
using smk::test::read_fixture;

namespace {

Message decode_fixture(const std::string& path) {
    std::string bytes = read_fixture(path);
    auto enc = path.size() > 6 && path.compare(path.size() - 6, 6, ".wbxml") == 0 ? Encoding::wbxml : Encoding::xml;
    return decode(bytes, enc);
}

std::vector<std::string> command_list(const std::vector<Command>& cmds) {
    std::vector<std::string> out;
    for (const Command& c : cmds) out.push_back(std::string(command_name(c.kind)) + ":" + c.cmd_id);
    return out;
}

const Command& find(const Message& m, CommandKind kind) {
    for (const Command& c : m.body)
        if (c.kind == kind) return c;
    FAIL("no " << command_name(kind));
    throw;
}

}  // namespace

TEST_CASE("every captured message decodes") {
    auto files = smk::test::capture_files();
    REQUIRE(files.size() >= 180);
    for (const std::string& f : files) {
        INFO(f);
        Message m = decode_fixture(f);
        CHECK(m.version().has_value());
        CHECK_FALSE(m.header.session_id.empty());
        CHECK_FALSE(m.header.msg_id.empty());
        CHECK_FALSE(m.body.empty());
    }
}

TEST_CASE("SyncEvolution first message, WBXML with MD5 and a nested WBXML DevInf") {
    Message m = decode_fixture("captures/syncevolution/first-message/contacts-two-way-wbxml-md5.wbxml");
    CHECK(m.version() == Version::v1_2);
    CHECK(m.header.session_id == "5");
    CHECK(m.header.msg_id == "1");
    CHECK(m.header.target.uri == "http://127.0.0.1:17880/sync");
    CHECK(m.header.source.uri == "syncevo-ci-client");
    CHECK(m.header.source.name == "test");
    REQUIRE(m.header.cred);
    CHECK(m.header.cred->meta.type == "syncml:auth-md5");
    CHECK(m.header.cred->meta.format == "b64");
    CHECK(m.header.cred->data == "x2EHlRSZiRM209YwocVlVg==");
    CHECK(to_number(m.header.meta.max_msg_size) == 150000u);
    CHECK(to_number(m.header.meta.max_obj_size) == 4000000u);
    CHECK(command_list(m.body) == std::vector<std::string>{"Put:1", "Get:2", "Alert:3"});
    CHECK(m.final);

    const Command& put = find(m, CommandKind::Put);
    CHECK(put.meta.type == "application/vnd.syncml-devinf+wbxml");
    REQUIRE(put.items.size() == 1);
    CHECK(put.items[0].source.uri == "./devinf12");
    REQUIRE(put.items[0].devinf);
    const DevInf& d = *put.items[0].devinf;
    CHECK(d.ver_dtd == "1.2");
    CHECK(d.man == "Patrick Ohly");
    CHECK(d.mod == "SyncEvolution");
    CHECK(d.dev_id == "syncevo-ci-client");
    CHECK(d.dev_typ == "workstation");
    CHECK(d.utc);
    CHECK(d.support_large_objs);
    CHECK(d.support_number_of_changes);
    REQUIRE(d.datastores.size() >= 1);
    const DataStore& ds = d.datastores[0];
    CHECK(ds.source_ref == "./contacts");
    CHECK(ds.max_guid_size == "64");
    REQUIRE(ds.rx_pref);
    CHECK(*ds.rx_pref == ContentType{"text/vcard", "3.0"});
    CHECK(ds.rx == std::vector<ContentType>{{"text/x-vcard", "2.1"}});
    REQUIRE_FALSE(ds.ctcaps.empty());
    CHECK(ds.ctcaps[0].type == "text/vcard");
    CHECK(ds.ctcaps[0].properties[0].name == "BEGIN");
    CHECK(ds.ctcaps[0].properties[0].val_enum == std::vector<std::string>{"VCARD"});
    CHECK(ds.ctcaps[0].properties[2].max_occur == "1");

    const Command& alert = find(m, CommandKind::Alert);
    CHECK(alert.data == "201");
    REQUIRE(alert.items.size() == 1);
    CHECK(alert.items[0].source.uri == "./contacts");
    REQUIRE(alert.items[0].meta.anchor);
    CHECK_FALSE(alert.items[0].meta.anchor->next.empty());
}

TEST_CASE("the WBXML and the wbxml2xml rendering of a message decode to the same model") {
    for (const char* stem : {"captures/syncevolution/first-message/contacts-two-way-wbxml-md5",
                             "captures/syncevolution/first-message/calendar-two-way-wbxml-md5",
                             "captures/syncevolution/sessions/contacts-1-first-sync-slow-wbxml/msg003_010_outgoing",
                             "captures/syncevolution/sessions/contacts-1-first-sync-slow-wbxml/msg002_007_incoming"}) {
        INFO(stem);
        Message binary = decode_fixture(std::string(stem) + ".wbxml");
        Message text = decode_fixture(std::string(stem) + ".decoded.xml");
        // wbxml2xml renames the DevInf type from +wbxml to +xml.
        for (Command& c : binary.body)
            if (c.meta.type == "application/vnd.syncml-devinf+wbxml") c.meta.type = "application/vnd.syncml-devinf+xml";
        CHECK(binary == text);
    }
}

TEST_CASE("SyncEvolution slow sync in WBXML: three Adds with their LUIDs and vCards") {
    Message m = decode_fixture("captures/syncevolution/sessions/contacts-1-first-sync-slow-wbxml/msg002_006_outgoing.wbxml");
    const Command& sync = find(m, CommandKind::Sync);
    CHECK(sync.target.uri == "contacts");
    CHECK(sync.source.uri == "./contacts");
    int adds = 0;
    for (const Command& c : sync.children) {
        if (c.kind != CommandKind::Add) continue;
        ++adds;
        REQUIRE(c.items.size() == 1);
        CHECK_FALSE(c.items[0].source.uri.empty());
        CHECK(c.items[0].data.rfind("BEGIN:VCARD", 0) == 0);
    }
    CHECK(adds == 3);
}

TEST_CASE("Funambol first message: no namespaces, Basic auth, Alert with anchors, DevInf") {
    Message m = decode_fixture("captures/funambol/first-messages/contacts-vcard21-basic-twoway/msg01.xml");
    CHECK(m.version() == Version::v1_2);
    CHECK(m.header.session_id == "1795597065");
    CHECK(m.header.source.uri == "fol-pimsync-test");
    CHECK(m.header.source.name.empty());
    REQUIRE(m.header.cred);
    CHECK(m.header.cred->meta.type == "syncml:auth-basic");
    CHECK(m.header.cred->data == "YWxpY2U6c2VjcmV0");
    CHECK(m.header.meta.max_msg_size == "125000");
    CHECK(command_list(m.body) == std::vector<std::string>{"Alert:1", "Get:2", "Put:3"});
    const Command& alert = m.body[0];
    CHECK(alert.data == "200");
    CHECK(alert.items[0].target.uri == "contacts");
    CHECK(alert.items[0].source.uri == "contact");
    CHECK(alert.items[0].meta.anchor == Anchor{"0", "1795597065"});
    const Command& get = m.body[1];
    CHECK(get.items[0].target.uri == "./devinf12");
    const DevInf& d = *m.body[2].items.at(0).devinf;
    CHECK(d.mod == "Funambol Outlook Plug-in");
    CHECK(d.swv == "8.0.0");
    REQUIRE(d.datastores.size() == 1);
    CHECK(d.datastores[0].source_ref == "contact");
    CHECK(d.datastores[0].sync_types == std::vector<std::string>{"2", "1", "5", "3", "6", "4"});
}

TEST_CASE("item data arrives exactly: escaped entities, character references, CRLF") {
    Message m = decode_fixture("captures/funambol/parser-probe/server-msg2-add-entity-escaped-no-cdata.xml");
    const Command& sync = find(m, CommandKind::Sync);
    const std::string& data = sync.children.at(0).items.at(0).data;
    CHECK(data.rfind("BEGIN:VCARD\r\nVERSION:2.1\r\n", 0) == 0);
    CHECK(data.find("NOTE:amp=& lt=< gt=> quot=\" apos=' dec=A hex=B\r\n") != std::string::npos);
    CHECK(m.body[1].target_refs == std::vector<std::string>{"contacts"});
    CHECK(m.body[1].source_refs == std::vector<std::string>{"contact"});
}

TEST_CASE("Sony Ericsson P900: SyncML 1.0 with a flat 1.1-style CTCap list") {
    Message m = decode_fixture("captures/horde/testcase_P900_tasksandcalendar/syncml_client_10.xml");
    CHECK(m.version() == Version::v1_0);
    CHECK(m.header.session_id == "1613468436");
    CHECK(m.header.meta.max_msg_size == "200000");
    CHECK(command_list(m.body) == std::vector<std::string>{"Put:1", "Get:2", "Alert:3"});
    const DevInf& d = *m.body[0].items.at(0).devinf;
    CHECK(d.ver_dtd == "1.0");
    CHECK(d.mod == "P900");
    REQUIRE_FALSE(d.datastores.empty());
    CHECK(d.datastores[0].source_ref == "c:\\Documents\\agenda\\agenda");
    CHECK(d.datastores[0].max_guid_size == "4");
    CHECK(d.datastores[0].ds_mem.has_value());
    REQUIRE_FALSE(d.ctcaps.empty());
    CHECK(d.ctcaps[0].type == "text/x-vcalendar");
    const Property* attendee = nullptr;
    for (const Property& p : d.ctcaps[0].properties)
        if (p.name == "ATTENDEE") attendee = &p;
    REQUIRE(attendee);
    REQUIRE(attendee->params.size() >= 3);
    CHECK(attendee->params[0].name == "EXPECT");
    CHECK(attendee->params[1].name == "ROLE");
}

TEST_CASE("Funambol Outlook 3.0.15: SyncML 1.1, base64 SIF-E items") {
    Message first = decode_fixture("captures/horde/testcase_funambol_outlook3015_calendar/syncml_client_10.xml");
    CHECK(first.version() == Version::v1_1);
    CHECK(first.header.session_id == "1168032875");
    CHECK(first.header.meta.max_msg_size == "250000");
    Message second = decode_fixture("captures/horde/testcase_funambol_outlook3015_calendar/syncml_client_11.xml");
    CHECK(command_list(second.body) == std::vector<std::string>{"Status:1", "Status:2", "Sync:3"});
    const Command& replace = second.body[2].children.at(0);
    CHECK(replace.kind == CommandKind::Replace);
    CHECK(replace.cmd_id == "4");
    const Item& it = replace.items.at(0);
    std::string format = it.meta.format.empty() ? replace.meta.format : it.meta.format;
    std::string type = it.meta.type.empty() ? replace.meta.type : it.meta.type;
    CHECK(format == "b64");
    CHECK(type == "text/x-s4j-sife");
    CHECK_FALSE(it.data.empty());
}

TEST_CASE("sync4j Pocket PC and Synthesis PalmOS first messages") {
    Message ppc = decode_fixture("captures/horde/testcase_sync4j_pocketpc_contacts/syncml_client_10.xml");
    CHECK(ppc.version() == Version::v1_1);
    CHECK(ppc.header.session_id == "26429128");
    CHECK(ppc.header.meta.max_msg_size == "16384");
    CHECK(ppc.header.cred->meta.type == "syncml:auth-basic");
    Message palm = decode_fixture("captures/horde/testcase_synthesis_tasks/syncml_client_10.xml");
    CHECK(palm.header.source.name == "syncmltest");
    CHECK(palm.header.meta.max_msg_size == "10000");
    CHECK(command_list(palm.body) == std::vector<std::string>{"Put:1", "Get:2", "Alert:3"});
    CHECK(palm.body[0].items.at(0).devinf->datastores.at(0).source_ref == "./tasks");
}

TEST_CASE("SyncEvolution refresh from server: Status list and Map") {
    Message m = decode_fixture("captures/syncevolution/sessions/contacts-4-refresh-from-server-xml/msg003_010_outgoing.xml");
    CHECK(m.header.msg_id == "3");
    const Command& map = find(m, CommandKind::Map);
    CHECK(map.cmd_id == "7");
    CHECK(map.target.uri == "contacts");
    REQUIRE_FALSE(map.map_items.empty());
    for (const MapItem& mi : map.map_items) {
        CHECK_FALSE(mi.target.uri.empty());
        CHECK_FALSE(mi.source.uri.empty());
    }
    const Command& hdr_status = m.body.at(0);
    CHECK(hdr_status.kind == CommandKind::Status);
    CHECK(hdr_status.cmd == "SyncHdr");
    CHECK(hdr_status.cmd_ref == "0");
}
