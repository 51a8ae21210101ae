#include "generated_messages.hpp"

#include <string>

namespace smk::test {
using namespace smk::wire;

namespace {

std::string n(const char* prefix, unsigned seed, unsigned i = 0) {
    return std::string(prefix) + std::to_string(seed) + "-" + std::to_string(i);
}

Meta full_meta(unsigned seed, Version v) {
    Meta m;
    m.field_level = v == Version::v1_2 && seed % 2 == 0;  // 1.2 only
    m.format = "b64";
    m.type = "text/x-vcard";
    m.mark = "unread";
    m.size = std::to_string(1000 + seed);
    m.anchor = Anchor{std::to_string(seed), std::to_string(seed + 1)};
    m.version = "2.1";
    m.next_nonce = "bm9uY2U" + std::to_string(seed) + "=";
    m.max_msg_size = "150000";
    m.max_obj_size = "4000000";
    m.emi = {"emi-a", n("emi", seed)};
    m.mem = Mem{true, "8192", "100"};
    return m;
}

Item item(unsigned seed, unsigned i, std::string data) {
    Item it;
    it.target = {n("luid", seed, i), "target name"};
    it.source = {n("guid", seed, i), ""};
    it.meta.type = "text/x-vcard";
    it.data = std::move(data);
    it.has_data = true;
    return it;
}

// Payloads that exercise the encoders: line ends of both kinds, markup
// characters, a CDATA terminator, UTF-8.
std::string tricky_vcard(unsigned seed) {
    return "BEGIN:VCARD\r\nVERSION:2.1\r\nN:M\xC3\xBCller;J\xC3\xBCrgen;;;\r\nFN:J\xC3\xBCrgen M\xC3\xBCller\r\n"
           "NOTE:a <b> & c ]]> d\nbare LF above\r\nTEL;WORK:+49 " +
           std::to_string(seed) + "\r\nEND:VCARD\r\n";
}

Command command(CommandKind kind, unsigned& cmd_id) {
    Command c;
    c.kind = kind;
    c.cmd_id = std::to_string(cmd_id++);
    return c;
}

}  // namespace

DevInf sample_devinf(const char* ver_dtd, unsigned seed) {
    DevInf d;
    d.ver_dtd = ver_dtd;
    d.man = "SyncMLKit";
    d.mod = "Test Device";
    d.oem = "OEM";
    d.fwv = "1.0";
    d.swv = n("sw", seed);
    d.hwv = "hw";
    d.dev_id = n("IMEI:", seed);
    d.dev_typ = "phone";
    d.utc = true;
    d.support_large_objs = true;
    d.support_number_of_changes = seed % 2 == 1;
    DataStore ds;
    ds.source_ref = "./contacts";
    ds.display_name = "Contacts";
    ds.max_guid_size = "64";
    ds.rx_pref = ContentType{"text/vcard", "3.0"};
    ds.rx = {{"text/x-vcard", "2.1"}, {"text/vcard", "3.0"}};
    ds.tx_pref = ContentType{"text/vcard", "3.0"};
    ds.tx = {{"text/x-vcard", "2.1"}};
    CTCap cap;
    cap.type = "text/vcard";
    cap.version = "3.0";
    cap.field_level = true;
    Property tel;
    tel.name = "TEL";
    tel.data_type = "chr";
    tel.max_occur = "5";
    tel.max_size = "40";
    tel.no_truncate = true;
    tel.display_name = "Phone";
    tel.params.push_back(PropParam{"TYPE", "", {"WORK", "HOME", "CELL"}, "Kind"});
    Property begin;
    begin.name = "BEGIN";
    begin.val_enum = {"VCARD"};
    cap.properties = {begin, tel};
    ds.ctcaps.push_back(cap);
    ds.ds_mem = DSMem{true, "65536", "1000"};
    ds.hierarchical_sync = true;
    ds.sync_types = {"1", "2", "3", "4", "5", "6", "7"};
    ds.filter_rx = {{"syncml:filtertype-cgi", "1.0"}};
    ds.filter_caps.push_back(FilterCap{{"text/vcard", "3.0"}, {"BEGIN", "TEL"}, {"N", "FN"}});
    if (std::string(ver_dtd) != "1.2") {  // 1.2-only elements have no 1.1 tokens
        ds.ctcaps.clear();
        ds.hierarchical_sync = false;
        ds.filter_rx.clear();
        ds.filter_caps.clear();
    }
    d.datastores.push_back(ds);
    DataStore cal;
    cal.source_ref = "./calendar";
    cal.rx_pref = ContentType{"text/calendar", "2.0"};
    cal.tx_pref = ContentType{"text/calendar", "2.0"};
    cal.ds_mem = DSMem{};  // present and empty
    cal.sync_types = {"1", "2"};
    d.datastores.push_back(cal);
    // The 1.1 layout: a flat device-level list.
    CTCap flat;
    flat.type = "text/x-vcalendar";
    Property dtstart;
    dtstart.name = "DTSTART";
    dtstart.data_type = "datetime";
    dtstart.max_size = "20";
    dtstart.display_name = "Start";
    Property cls;
    cls.name = "CLASS";
    cls.val_enum = {"PUBLIC", "PRIVATE"};
    cls.params.push_back(PropParam{"X-SEED", "chr", {}, n("param", seed)});
    flat.properties = {dtstart, cls};
    d.ctcaps = {flat};
    d.exts.push_back(Ext{"X-funambol-smartslow", {}});
    d.exts.push_back(Ext{"X-Vendor", {"a", "b"}});
    return d;
}

Message sample_message(Version version, unsigned seed, const char* devinf_type) {
    Message m;
    const char* v = version_string(version);
    m.header.ver_dtd = v;
    m.header.ver_proto = std::string("SyncML/") + v;
    m.header.session_id = std::to_string(1000 + seed);
    m.header.msg_id = std::to_string(1 + seed % 7);
    m.header.target = {"http://sync.example.com:7887/sync?s=" + std::to_string(seed), ""};
    m.header.source = {n("IMEI:", seed), "alice"};
    m.header.resp_uri = "http://sync.example.com:7887/sync?s=abc&x=1";
    m.header.no_resp = seed % 3 == 0;
    Cred cred;
    cred.meta.format = "b64";
    cred.meta.type = "syncml:auth-md5";
    cred.data = "x2EHlRSZiRM209YwocVlVg==";
    m.header.cred = cred;
    m.header.meta.max_msg_size = "20000";
    m.header.meta.max_obj_size = "4000000";

    unsigned id = 1;
    Command status = command(CommandKind::Status, id);
    status.msg_ref = "1";
    status.cmd_ref = "0";
    status.cmd = "SyncHdr";
    status.target_refs = {m.header.target.uri};
    status.source_refs = {m.header.source.uri, "second"};
    Cred chal;
    chal.meta.type = "syncml:auth-md5";
    chal.meta.format = "b64";
    chal.meta.next_nonce = "Tm9uY2U=";
    status.chal = chal;
    status.data = "401";
    Item status_item;
    status_item.source = {"guid-1", ""};
    status_item.data = "detail";
    status_item.has_data = true;
    status.items.push_back(status_item);
    Item anchor_item;
    anchor_item.data_anchor = Anchor{"", std::to_string(seed) + "-next"};
    anchor_item.has_data = true;
    status.items.push_back(anchor_item);
    m.body.push_back(status);

    Command alert = command(CommandKind::Alert, id);
    alert.no_resp = true;
    alert.cred = cred;
    alert.data = "200";
    alert.correlator = version == Version::v1_2 ? "corr-1" : "";
    Item alert_item;
    alert_item.target = {"contacts", ""};
    alert_item.source = {"./contacts", ""};
    alert_item.meta.anchor = Anchor{"20261124T101010Z", "20261125T101010Z"};
    alert_item.meta.max_obj_size = "100000";
    if (version == Version::v1_2) {
        Filter f;
        f.meta.type = "syncml:filtertype-cgi";
        Item field;
        field.meta.type = "text/vcard";
        field.data = "TEL;EMAIL";
        field.has_data = true;
        f.field.push_back(field);
        Item record;
        record.meta.type = "syncml:filtertype-cgi";
        record.data = "&LUID&EQ;4";
        record.has_data = true;
        f.record.push_back(record);
        f.filter_type = "INCLUSIVE";
        alert_item.target_filter.push_back(f);
    }
    alert.items.push_back(alert_item);
    m.body.push_back(alert);

    Command put = command(CommandKind::Put, id);
    put.lang = "en";
    put.meta.type = devinf_type;
    Item devinf_item;
    devinf_item.source = {std::string("./devinf") + (version == Version::v1_2 ? "12" : version == Version::v1_1 ? "11" : "10"), ""};
    devinf_item.devinf = sample_devinf(v, seed);
    devinf_item.has_data = true;
    put.items.push_back(devinf_item);
    m.body.push_back(put);

    Command get = command(CommandKind::Get, id);
    get.meta.type = devinf_type;
    Item get_item;
    get_item.target = devinf_item.source;
    get.items.push_back(get_item);
    m.body.push_back(get);

    Command results = command(CommandKind::Results, id);
    results.msg_ref = "1";
    results.cmd_ref = "4";
    results.meta.type = devinf_type;
    results.target_refs = {"./devinf12"};
    results.source_refs = {"./devinf12"};
    results.items.push_back(devinf_item);
    m.body.push_back(results);

    Command sync = command(CommandKind::Sync, id);
    sync.target = {"contacts", ""};
    sync.source = {"./contacts", ""};
    sync.meta.max_obj_size = "100000";
    sync.number_of_changes = "6";
    Command add = command(CommandKind::Add, id);
    add.meta.type = "text/x-vcard";
    add.items.push_back(item(seed, 1, tricky_vcard(seed)));
    add.items.push_back(item(seed, 2, ""));  // an empty <Data/>
    Item chunk = item(seed, 3, std::string(3000, 'x'));
    chunk.more_data = true;
    chunk.meta.size = "9000";
    add.items.push_back(chunk);
    sync.children.push_back(add);
    Command replace = command(CommandKind::Replace, id);
    replace.no_resp = true;
    replace.items.push_back(item(seed, 4, "BEGIN:VCARD\nVERSION:3.0\nFN:LF only\nEND:VCARD\n"));
    if (version == Version::v1_2) replace.items.back().target_parent = {"folder-1", ""};
    sync.children.push_back(replace);
    Command del = command(CommandKind::Delete, id);
    del.archive = true;
    del.sft_del = true;
    Item del_item;
    del_item.source = {n("luid", seed, 5), ""};
    del.items.push_back(del_item);
    sync.children.push_back(del);
    Command copy = command(CommandKind::Copy, id);
    copy.items.push_back(item(seed, 6, "copy"));
    sync.children.push_back(copy);
    if (version == Version::v1_2) {
        Command move = command(CommandKind::Move, id);
        Item moved = item(seed, 7, "");
        moved.has_data = false;
        moved.source_parent = {"old-parent", ""};
        moved.target_parent = {"new-parent", ""};
        move.items.push_back(moved);
        sync.children.push_back(move);
    }
    Command atomic = command(CommandKind::Atomic, id);
    atomic.meta.type = "text/x-vcard";
    Command seq = command(CommandKind::Sequence, id);
    Command inner_add = command(CommandKind::Add, id);
    inner_add.items.push_back(item(seed, 8, "nested"));
    seq.children.push_back(inner_add);
    atomic.children.push_back(seq);
    sync.children.push_back(atomic);
    m.body.push_back(sync);

    Command map = command(CommandKind::Map, id);
    map.target = {"contacts", ""};
    map.source = {"./contacts", ""};
    map.meta = full_meta(seed, version);
    for (unsigned i = 0; i < 3; ++i) map.map_items.push_back(MapItem{{n("guid", seed, i), ""}, {n("luid", seed, i), ""}});
    m.body.push_back(map);

    Command exec = command(CommandKind::Exec, id);
    exec.cred = cred;
    exec.correlator = version == Version::v1_2 ? "c-9" : "";
    exec.items.push_back(item(seed, 9, "run"));
    m.body.push_back(exec);

    Command search = command(CommandKind::Search, id);
    search.no_results = true;
    search.target = {"results", ""};
    search.source = {"contacts", ""};
    search.more_sources = {{"calendar", ""}};
    search.lang = "en";
    search.meta.type = "syncml:filtertype-cgi";
    search.data = "N=Smith";
    m.body.push_back(search);

    m.final = seed % 2 == 0;
    return m;
}

Message contacts_message(std::size_t contacts) {
    Message m;
    m.header.session_id = "1795597065";
    m.header.msg_id = "2";
    m.header.target = {"http://127.0.0.1:7887/sync", ""};
    m.header.source = {"fol-pimsync-bench", ""};
    m.header.meta.max_msg_size = "250000";
    unsigned id = 1;
    Command status = command(CommandKind::Status, id);
    status.msg_ref = "1";
    status.cmd_ref = "0";
    status.cmd = "SyncHdr";
    status.target_refs = {"fol-pimsync-bench"};
    status.source_refs = {"http://127.0.0.1:7887/sync"};
    status.data = "212";
    m.body.push_back(status);
    Command sync = command(CommandKind::Sync, id);
    sync.target = {"contacts", ""};
    sync.source = {"contact", ""};
    sync.number_of_changes = std::to_string(contacts);
    for (std::size_t i = 0; i < contacts; ++i) {
        Command add = command(CommandKind::Add, id);
        add.meta.type = "text/x-vcard";
        std::string k = std::to_string(i);
        Item it;
        it.source = {"outlook-entry-" + k, ""};
        it.has_data = true;
        it.data = "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Lastname" + k + ";Firstname" + k + ";;Dr.;\r\n"
                  "FN:Dr. Firstname" + k + " Lastname" + k + "\r\nORG:Example Widgets GmbH;R & D\r\n"
                  "TEL;WORK;VOICE:+49 30 1234567" + k + "\r\nTEL;CELL:+49 170 765432" + k + "\r\n"
                  "EMAIL;INTERNET:firstname" + k + ".lastname@example.com\r\n"
                  "ADR;WORK:;;Hauptstrasse " + k + ";Berlin;;10115;Germany\r\n"
                  "NOTE:asked for <samples>\r\nEND:VCARD\r\n";
        add.items.push_back(std::move(it));
        sync.children.push_back(std::move(add));
    }
    m.body.push_back(std::move(sync));
    m.final = true;
    return m;
}

}  // namespace smk::test
