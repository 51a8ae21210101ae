// Element tree to message model. Elements are matched by local name, so a
// prefix, a missing or lowercase namespace (Funambol sends none) all read the
// same; the version comes from VerDTD. Unknown elements are skipped.
#include <cstring>
#include <string>

#include "text.hpp"
#include "trees.hpp"

namespace smk::wire {
namespace {

using pugi::xml_node;

std::string_view local_name(xml_node n) {
    const char* name = n.name();
    const char* colon = std::strchr(name, ':');
    return colon ? std::string_view(colon + 1) : std::string_view(name);
}

bool is(xml_node n, const char* name) { return local_name(n) == name; }

// Text and CDATA children, concatenated, exactly as sent.
std::string raw_text(xml_node n) {
    xml_node first = n.first_child();
    if (first && !first.next_sibling() && (first.type() == pugi::node_pcdata || first.type() == pugi::node_cdata))
        return first.value();
    std::string out;
    for (xml_node c = first; c; c = c.next_sibling())
        if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
    return out;
}

// An element's text, trimmed. Names, URIs, codes and DevInf fields are text
// by definition: bytes that are not valid UTF-8 are repaired (repair_utf8)
// here, so the model holds what the server will later write. Item data is
// kept as sent (raw_text): it may be binary, or in a charset it declares.
std::string text(xml_node n) {
    std::string s(trim(raw_text(n)));
    repair_utf8(s);
    return s;
}

template <typename F>
void for_each_element(xml_node parent, F f) {
    for (xml_node c = parent.first_child(); c; c = c.next_sibling())
        if (c.type() == pugi::node_element) f(c, local_name(c));
}

// ---- MetInf ----

void read_meta_into(xml_node n, Meta& m) {
    for_each_element(n, [&](xml_node c, std::string_view name) {
        if (name == "MetInf") read_meta_into(c, m);  // a wrapper some encoders add
        else if (name == "FieldLevel") m.field_level = true;
        else if (name == "Format") m.format = text(c);
        else if (name == "Type") m.type = text(c);
        else if (name == "Mark") m.mark = text(c);
        else if (name == "Size") m.size = text(c);
        else if (name == "Anchor") {
            Anchor a;
            for_each_element(c, [&](xml_node e, std::string_view en) {
                if (en == "Last") a.last = text(e);
                else if (en == "Next") a.next = text(e);
            });
            m.anchor = a;
        } else if (name == "Version") m.version = text(c);
        else if (name == "NextNonce") m.next_nonce = text(c);
        else if (name == "MaxMsgSize") m.max_msg_size = text(c);
        else if (name == "MaxObjSize") m.max_obj_size = text(c);
        else if (name == "EMI") m.emi.push_back(text(c));
        else if (name == "Mem") {
            Mem mem;
            for_each_element(c, [&](xml_node e, std::string_view en) {
                if (en == "SharedMem") mem.shared_mem = true;
                else if (en == "FreeMem") mem.free_mem = text(e);
                else if (en == "FreeID") mem.free_id = text(e);
            });
            m.mem = mem;
        }
    });
}

Meta read_meta(xml_node n) {
    Meta m;
    read_meta_into(n, m);
    return m;
}

// ---- DevInf ----

ContentType read_content_type(xml_node n) {
    ContentType ct;
    for_each_element(n, [&](xml_node c, std::string_view name) {
        if (name == "CTType") ct.type = text(c);
        else if (name == "VerCT") ct.version = text(c);
    });
    return ct;
}

PropParam read_prop_param(xml_node n) {
    PropParam p;
    for_each_element(n, [&](xml_node c, std::string_view name) {
        if (name == "ParamName") p.name = text(c);
        else if (name == "DataType") p.data_type = text(c);
        else if (name == "ValEnum") p.val_enum.push_back(text(c));
        else if (name == "DisplayName") p.display_name = text(c);
    });
    return p;
}

Property read_property(xml_node n) {
    Property p;
    for_each_element(n, [&](xml_node c, std::string_view name) {
        if (name == "PropName") p.name = text(c);
        else if (name == "DataType") p.data_type = text(c);
        else if (name == "MaxOccur") p.max_occur = text(c);
        else if (name == "MaxSize" || name == "Size") p.max_size = text(c);
        else if (name == "NoTruncate") p.no_truncate = true;
        else if (name == "ValEnum") p.val_enum.push_back(text(c));
        else if (name == "DisplayName") p.display_name = text(c);
        else if (name == "PropParam") p.params.push_back(read_prop_param(c));
    });
    return p;
}

// A CTCap element in either layout: 1.2 nests Property elements inside one
// CTCap per type; 1.1 runs CTType, PropName, ParamName ... flat, each
// CTType opening a new type and each PropName a new property.
void read_ctcaps(xml_node n, std::vector<CTCap>& out) {
    CTCap* cap = nullptr;
    Property* prop = nullptr;
    PropParam* param = nullptr;
    auto current_cap = [&]() -> CTCap& {
        if (!cap) {
            out.emplace_back();
            cap = &out.back();
        }
        return *cap;
    };
    for_each_element(n, [&](xml_node c, std::string_view name) {
        if (name == "CTType") {
            out.emplace_back();
            cap = &out.back();
            cap->type = text(c);
            prop = nullptr;
            param = nullptr;
        } else if (name == "VerCT") {
            current_cap().version = text(c);
        } else if (name == "FieldLevel") {
            current_cap().field_level = true;
        } else if (name == "Property") {
            current_cap().properties.push_back(read_property(c));
            prop = nullptr;
            param = nullptr;
        } else if (name == "PropName") {
            current_cap().properties.emplace_back();
            prop = &cap->properties.back();
            prop->name = text(c);
            param = nullptr;
        } else if (name == "ParamName" && prop) {
            prop->params.emplace_back();
            param = &prop->params.back();
            param->name = text(c);
        } else if (prop) {
            std::string value = text(c);
            if (name == "ValEnum") (param ? param->val_enum : prop->val_enum).push_back(value);
            else if (name == "DataType") (param ? param->data_type : prop->data_type) = value;
            else if (name == "DisplayName") (param ? param->display_name : prop->display_name) = value;
            else if ((name == "Size" || name == "MaxSize") && !param) prop->max_size = value;
            else if (name == "MaxOccur" && !param) prop->max_occur = value;
            else if (name == "NoTruncate" && !param) prop->no_truncate = true;
        }
    });
}

DataStore read_datastore(xml_node n) {
    DataStore ds;
    for_each_element(n, [&](xml_node c, std::string_view name) {
        if (name == "SourceRef") ds.source_ref = text(c);
        else if (name == "DisplayName") ds.display_name = text(c);
        else if (name == "MaxGUIDSize") ds.max_guid_size = text(c);
        else if (name == "Rx-Pref") ds.rx_pref = read_content_type(c);
        else if (name == "Rx") ds.rx.push_back(read_content_type(c));
        else if (name == "Tx-Pref") ds.tx_pref = read_content_type(c);
        else if (name == "Tx") ds.tx.push_back(read_content_type(c));
        else if (name == "CTCap") read_ctcaps(c, ds.ctcaps);
        else if (name == "DSMem") {
            DSMem mem;
            for_each_element(c, [&](xml_node e, std::string_view en) {
                if (en == "SharedMem") mem.shared_mem = true;
                else if (en == "MaxMem") mem.max_mem = text(e);
                else if (en == "MaxID") mem.max_id = text(e);
            });
            ds.ds_mem = mem;
        } else if (name == "SupportHierarchicalSync") ds.hierarchical_sync = true;
        else if (name == "SyncCap") {
            for_each_element(c, [&](xml_node e, std::string_view en) {
                if (en == "SyncType") ds.sync_types.push_back(text(e));
            });
        } else if (name == "Filter-Rx") ds.filter_rx.push_back(read_content_type(c));
        else if (name == "FilterCap") {
            FilterCap fc;
            fc.content_type = read_content_type(c);
            for_each_element(c, [&](xml_node e, std::string_view en) {
                if (en == "FilterKeyword") fc.keywords.push_back(text(e));
                else if (en == "PropName") fc.prop_names.push_back(text(e));
            });
            ds.filter_caps.push_back(std::move(fc));
        }
    });
    return ds;
}

DevInf read_devinf(xml_node n) {
    DevInf d;
    for_each_element(n, [&](xml_node c, std::string_view name) {
        if (name == "VerDTD") d.ver_dtd = text(c);
        else if (name == "Man") d.man = text(c);
        else if (name == "Mod") d.mod = text(c);
        else if (name == "OEM") d.oem = text(c);
        else if (name == "FwV") d.fwv = text(c);
        else if (name == "SwV") d.swv = text(c);
        else if (name == "HwV") d.hwv = text(c);
        else if (name == "DevID") d.dev_id = text(c);
        else if (name == "DevTyp") d.dev_typ = text(c);
        else if (name == "UTC") d.utc = true;
        else if (name == "SupportLargeObjs") d.support_large_objs = true;
        else if (name == "SupportNumberOfChanges") d.support_number_of_changes = true;
        else if (name == "DataStore") d.datastores.push_back(read_datastore(c));
        else if (name == "CTCap") read_ctcaps(c, d.ctcaps);
        else if (name == "Ext") {
            Ext ext;
            for_each_element(c, [&](xml_node e, std::string_view en) {
                if (en == "XNam") ext.name = text(e);
                else if (en == "XVal") ext.values.push_back(text(e));
            });
            d.exts.push_back(std::move(ext));
        }
    });
    return d;
}

// ---- SyncML ----

Location read_location(xml_node n) {
    Location loc;
    for_each_element(n, [&](xml_node c, std::string_view name) {
        if (name == "LocURI") loc.uri = text(c);
        else if (name == "LocName") loc.name = text(c);
    });
    return loc;
}

Cred read_cred(xml_node n) {
    Cred cred;
    for_each_element(n, [&](xml_node c, std::string_view name) {
        if (name == "Meta") cred.meta = read_meta(c);
        else if (name == "Data") cred.data = text(c);
    });
    return cred;
}

class MessageReader {
public:
    explicit MessageReader(const DecodeLimits& limits) : limits_(limits) {}

    Message read(const pugi::xml_document& doc) {
        xml_node root = doc.document_element();
        if (!root) fail(doc, "no root element");
        if (!is(root, "SyncML")) fail(root, "root element is <" + std::string(root.name()) + ">, not <SyncML>");
        Message msg;
        xml_node hdr, body;
        for_each_element(root, [&](xml_node c, std::string_view name) {
            if (name == "SyncHdr" && !hdr) hdr = c;
            else if (name == "SyncBody" && !body) body = c;
        });
        if (!hdr) fail(root, "<SyncML> has no <SyncHdr>");
        if (!body) fail(root, "<SyncML> has no <SyncBody>");
        read_header(hdr, msg.header);
        msg.body.reserve(count_commands(body));
        for_each_element(body, [&](xml_node c, std::string_view name) {
            if (name == "Final") msg.final = true;
            else if (auto kind = command_from_name(name)) msg.body.push_back(read_command(c, *kind));
        });
        return msg;
    }

private:
    [[noreturn]] void fail(xml_node at, const std::string& what) const {
        std::ptrdiff_t offset = at.offset_debug();
        throw DecodeError("SyncML: " + what, offset < 0 ? 0 : static_cast<std::size_t>(offset));
    }

    void read_header(xml_node n, Header& h) {
        h.ver_dtd.clear();
        h.ver_proto.clear();
        for_each_element(n, [&](xml_node c, std::string_view name) {
            if (name == "VerDTD") h.ver_dtd = text(c);
            else if (name == "VerProto") h.ver_proto = text(c);
            else if (name == "SessionID") h.session_id = text(c);
            else if (name == "MsgID") h.msg_id = text(c);
            else if (name == "Target") h.target = read_location(c);
            else if (name == "Source") h.source = read_location(c);
            else if (name == "RespURI") h.resp_uri = text(c);
            else if (name == "NoResp") h.no_resp = true;
            else if (name == "Cred") h.cred = read_cred(c);
            else if (name == "Meta") h.meta = read_meta(c);
        });
    }

    Filter read_filter(xml_node n) {
        Filter f;
        for_each_element(n, [&](xml_node c, std::string_view name) {
            if (name == "Meta") f.meta = read_meta(c);
            else if (name == "FilterType") f.filter_type = text(c);
            else if (name == "Field" || name == "Record") {
                auto& items = name == "Field" ? f.field : f.record;
                for_each_element(c, [&](xml_node e, std::string_view en) {
                    if (en == "Item") items.push_back(read_item(e));
                });
            }
        });
        return f;
    }

    Item read_item(xml_node n) {
        Item item;
        for_each_element(n, [&](xml_node c, std::string_view name) {
            if (name == "Target") {
                item.target = read_location(c);
                for_each_element(c, [&](xml_node e, std::string_view en) {
                    if (en == "Filter") item.target_filter.push_back(read_filter(e));
                });
            } else if (name == "Source") item.source = read_location(c);
            else if (name == "SourceParent") item.source_parent = read_location(c);
            else if (name == "TargetParent") item.target_parent = read_location(c);
            else if (name == "Meta") item.meta = read_meta(c);
            else if (name == "MoreData") item.more_data = true;
            else if (name == "Data") read_item_data(c, item);
        });
        return item;
    }

    void read_item_data(xml_node data, Item& item) {
        item.has_data = true;
        for_each_element(data, [&](xml_node c, std::string_view name) {
            if (name == "DevInf" && !item.devinf) item.devinf = read_devinf(c);
            else if (name == "Anchor" && !item.data_anchor) item.data_anchor = read_meta(data).anchor;
        });
        if (!item.devinf && !item.data_anchor) item.data = raw_text(data);
    }

    // A DevInf sent as escaped text (or CDATA) instead of as elements.
    void read_devinf_text(Item& item, const Meta& command_meta) {
        if (item.devinf || item.data.empty()) return;
        const std::string& type = item.meta.type.empty() ? command_meta.type : item.meta.type;
        if (type.find("devinf") == std::string::npos) return;
        std::string_view body = trim(item.data);
        if (body.empty() || body.front() != '<') return;
        pugi::xml_document doc;
        try {
            parse_devinf_xml_tree(body, limits_, doc);
        } catch (const DecodeError&) {
            return;  // not a DevInf after all: the data stays as it was sent
        }
        xml_node root = doc.document_element();
        if (!root || !is(root, "DevInf")) return;
        item.devinf = read_devinf(root);
        item.data.clear();
    }

    // Children are counted first so that a Sync of hundreds of commands fills
    // its vector in one allocation instead of moving them on every growth.
    static std::size_t count_commands(xml_node n) {
        std::size_t count = 0;
        for_each_element(n, [&](xml_node, std::string_view name) { count += command_from_name(name).has_value(); });
        return count;
    }

    Command read_command(xml_node n, CommandKind kind) {
        Command cmd;
        cmd.kind = kind;
        if (kind == CommandKind::Sync || kind == CommandKind::Atomic || kind == CommandKind::Sequence)
            cmd.children.reserve(count_commands(n));
        bool have_source = false;
        for_each_element(n, [&](xml_node c, std::string_view name) {
            if (name == "CmdID") cmd.cmd_id = text(c);
            else if (name == "NoResp") cmd.no_resp = true;
            else if (name == "NoResults") cmd.no_results = true;
            else if (name == "Archive") cmd.archive = true;
            else if (name == "SftDel") cmd.sft_del = true;
            else if (name == "Cred") cmd.cred = read_cred(c);
            else if (name == "Chal") cmd.chal = read_cred(c);
            else if (name == "Lang") cmd.lang = text(c);
            else if (name == "Meta") cmd.meta = read_meta(c);
            else if (name == "Target") cmd.target = read_location(c);
            else if (name == "Source") {
                if (have_source) cmd.more_sources.push_back(read_location(c));
                else cmd.source = read_location(c);
                have_source = true;
            } else if (name == "Data") cmd.data = text(c);
            else if (name == "Correlator") cmd.correlator = text(c);
            else if (name == "NumberOfChanges") cmd.number_of_changes = text(c);
            else if (name == "MsgRef") cmd.msg_ref = text(c);
            else if (name == "CmdRef") cmd.cmd_ref = text(c);
            else if (name == "Cmd") cmd.cmd = text(c);
            else if (name == "TargetRef") cmd.target_refs.push_back(text(c));
            else if (name == "SourceRef") cmd.source_refs.push_back(text(c));
            else if (name == "Item") cmd.items.push_back(read_item(c));
            else if (name == "MapItem") {
                MapItem mi;
                for_each_element(c, [&](xml_node e, std::string_view en) {
                    if (en == "Target") mi.target = read_location(e);
                    else if (en == "Source") mi.source = read_location(e);
                });
                cmd.map_items.push_back(std::move(mi));
            } else if (auto child = command_from_name(name)) {
                cmd.children.push_back(read_command(c, *child));
            }
        });
        if (kind == CommandKind::Put || kind == CommandKind::Results)
            for (Item& item : cmd.items) read_devinf_text(item, cmd.meta);
        return cmd;
    }

    const DecodeLimits& limits_;
};

}  // namespace

Message read_message(const pugi::xml_document& doc, const DecodeLimits& limits) {
    return MessageReader(limits).read(doc);
}

}  // namespace smk::wire
