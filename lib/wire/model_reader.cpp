// Element tree to message model. Elements are matched by local name, so a
// prefix, a missing or lowercase namespace (Funambol sends none) all read the
// same; the version comes from VerDTD. Unknown elements are skipped. Each
// element's name was looked up once, as a Tag (element_tree.hpp), so fields
// are told apart by comparing numbers; values are copied once, from the tree
// straight into the model's strings.
#include <array>
#include <cstring>
#include <optional>
#include <string>

#include "element_tree.hpp"
#include "text.hpp"
#include "trees.hpp"

namespace smk::wire {
namespace {

using Id = std::uint32_t;
using T = Tag;
constexpr Id npos = ElementTree::npos;

class Reader {
public:
    Reader(const ElementTree& tree, const DecodeLimits& limits) : t_(tree), limits_(limits) {}

    Message read() {
        Id root = t_.document_element();
        if (root == npos) fail(0, "no root element");
        if (node(root).tag != T::SyncML)
            fail(root, "root element is <" + std::string(t_.view(node(root))) + ">, not <SyncML>");
        Message msg;
        Id hdr = npos, body = npos;
        for_each_element(root, [&](Id c, Tag name) {
            if (name == T::SyncHdr && hdr == npos) hdr = c;
            else if (name == T::SyncBody && body == npos) body = c;
        });
        if (hdr == npos) fail(root, "<SyncML> has no <SyncHdr>");
        if (body == npos) fail(root, "<SyncML> has no <SyncBody>");
        read_header(hdr, msg.header);
        msg.body.reserve(count_commands(body));
        for_each_element(body, [&](Id c, Tag name) {
            if (name == T::Final) msg.final = true;
            else if (auto kind = command_of(name)) read_command(c, *kind, msg.body.emplace_back());
        });
        return msg;
    }

private:
    const ElementTree::Node& node(Id id) const { return t_.node(id); }

    // The command an element names, by its Tag.
    static std::optional<CommandKind> command_of(Tag tag) {
        static const auto table = [] {
            std::array<signed char, static_cast<std::size_t>(Tag::Count_) + 1> t{};
            for (std::size_t i = 0; i < static_cast<std::size_t>(Tag::Count_); ++i) {
                auto kind = command_from_name(tag_info(static_cast<Tag>(i)).name);
                t[i] = kind ? static_cast<signed char>(*kind) : -1;
            }
            t[static_cast<std::size_t>(Tag::Count_)] = -1;
            return t;
        }();
        signed char k = table[static_cast<std::size_t>(tag)];
        if (k < 0) return std::nullopt;
        return static_cast<CommandKind>(k);
    }

    template <typename F>
    void for_each_element(Id parent, F f) const {
        for (Id c = node(parent).first_child; c != npos; c = node(c).next_sibling)
            if (node(c).kind == ElementTree::Kind::element) f(c, node(c).tag);
    }

    // Text and CDATA children, concatenated, exactly as sent; a single one
    // is returned as a view, more are joined in scratch_.
    std::string_view raw_text(Id e) {
        Id first = node(e).first_child;
        if (first == npos) return {};
        if (node(first).next_sibling == npos)
            return node(first).kind == ElementTree::Kind::element ? std::string_view() : t_.view(node(first));
        scratch_.clear();
        for (Id c = first; c != npos; c = node(c).next_sibling)
            if (node(c).kind != ElementTree::Kind::element) scratch_ += t_.view(node(c));
        return scratch_;
    }

    // An element's text, trimmed. Names, URIs, codes and DevInf fields are text
    // by definition: bytes that are not valid UTF-8 are repaired (repair_utf8)
    // here, so the model holds what the server will later write. Item data is
    // kept as sent (raw_text): it may be binary, or in a charset it declares.
    void set(std::string& out, Id e) {
        std::string_view v = trim(raw_text(e));
        out.assign(v.data(), v.size());
        repair_utf8(out);
    }
    std::string text(Id e) {
        std::string s;
        set(s, e);
        return s;
    }

// ---- MetInf ----

void read_meta_into(Id n, Meta& m) {
    for_each_element(n, [&](Id c, Tag name) {
        if (name == T::MetInf) read_meta_into(c, m);  // a wrapper some encoders add
        else if (name == T::FieldLevel) m.field_level = true;
        else if (name == T::Format) set(m.format, c);
        else if (name == T::Type) set(m.type, c);
        else if (name == T::Mark) set(m.mark, c);
        else if (name == T::Size) set(m.size, c);
        else if (name == T::Anchor) {
            Anchor a;
            for_each_element(c, [&](Id e, Tag en) {
                if (en == T::Last) set(a.last, e);
                else if (en == T::Next) set(a.next, e);
            });
            m.anchor = a;
        } else if (name == T::Version) set(m.version, c);
        else if (name == T::NextNonce) set(m.next_nonce, c);
        else if (name == T::MaxMsgSize) set(m.max_msg_size, c);
        else if (name == T::MaxObjSize) set(m.max_obj_size, c);
        else if (name == T::EMI) m.emi.push_back(text(c));
        else if (name == T::Mem) {
            Mem mem;
            for_each_element(c, [&](Id e, Tag en) {
                if (en == T::SharedMem) mem.shared_mem = true;
                else if (en == T::FreeMem) set(mem.free_mem, e);
                else if (en == T::FreeID) set(mem.free_id, e);
            });
            m.mem = mem;
        }
    });
}

// Equal to m = read_meta(n), without the copy when m is still empty.
void replace_meta(Id n, Meta& m) {
    static const Meta kEmpty;
    if (m == kEmpty) read_meta_into(n, m);
    else m = read_meta(n);
}
// The same for a Meta still default-constructed until `seen`.
void replace_meta(Id n, Meta& m, bool& seen) {
    if (!seen) read_meta_into(n, m);
    else m = read_meta(n);
    seen = true;
}

Meta read_meta(Id n) {
    Meta m;
    read_meta_into(n, m);
    return m;
}

// ---- DevInf ----

ContentType read_content_type(Id n) {
    ContentType ct;
    for_each_element(n, [&](Id c, Tag name) {
        if (name == T::CTType) set(ct.type, c);
        else if (name == T::VerCT) set(ct.version, c);
    });
    return ct;
}

PropParam read_prop_param(Id n) {
    PropParam p;
    for_each_element(n, [&](Id c, Tag name) {
        if (name == T::ParamName) set(p.name, c);
        else if (name == T::DataType) set(p.data_type, c);
        else if (name == T::ValEnum) p.val_enum.push_back(text(c));
        else if (name == T::DisplayName) set(p.display_name, c);
    });
    return p;
}

Property read_property(Id n) {
    Property p;
    for_each_element(n, [&](Id c, Tag name) {
        if (name == T::PropName) set(p.name, c);
        else if (name == T::DataType) set(p.data_type, c);
        else if (name == T::MaxOccur) set(p.max_occur, c);
        else if (name == T::DevMaxSize || name == T::Size) set(p.max_size, c);
        else if (name == T::NoTruncate) p.no_truncate = true;
        else if (name == T::ValEnum) p.val_enum.push_back(text(c));
        else if (name == T::DisplayName) set(p.display_name, c);
        else if (name == T::PropParam) p.params.push_back(read_prop_param(c));
    });
    return p;
}

// A CTCap element in either layout: 1.2 nests Property elements inside one
// CTCap per type; 1.1 runs CTType, PropName, ParamName ... flat, each
// CTType opening a new type and each PropName a new property.
void read_ctcaps(Id n, std::vector<CTCap>& out) {
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
    for_each_element(n, [&](Id c, Tag name) {
        if (name == T::CTType) {
            out.emplace_back();
            cap = &out.back();
            set(cap->type, c);
            prop = nullptr;
            param = nullptr;
        } else if (name == T::VerCT) {
            set(current_cap().version, c);
        } else if (name == T::FieldLevel) {
            current_cap().field_level = true;
        } else if (name == T::Property) {
            current_cap().properties.push_back(read_property(c));
            prop = nullptr;
            param = nullptr;
        } else if (name == T::PropName) {
            current_cap().properties.emplace_back();
            prop = &cap->properties.back();
            set(prop->name, c);
            param = nullptr;
        } else if (name == T::ParamName && prop) {
            prop->params.emplace_back();
            param = &prop->params.back();
            set(param->name, c);
        } else if (prop) {
            std::string value = text(c);
            if (name == T::ValEnum) (param ? param->val_enum : prop->val_enum).push_back(value);
            else if (name == T::DataType) (param ? param->data_type : prop->data_type) = value;
            else if (name == T::DisplayName) (param ? param->display_name : prop->display_name) = value;
            else if ((name == T::Size || name == T::DevMaxSize) && !param) prop->max_size = value;
            else if (name == T::MaxOccur && !param) prop->max_occur = value;
            else if (name == T::NoTruncate && !param) prop->no_truncate = true;
        }
    });
}

DataStore read_datastore(Id n) {
    DataStore ds;
    for_each_element(n, [&](Id c, Tag name) {
        if (name == T::SourceRef) set(ds.source_ref, c);
        else if (name == T::DisplayName) set(ds.display_name, c);
        else if (name == T::MaxGUIDSize) set(ds.max_guid_size, c);
        else if (name == T::RxPref) ds.rx_pref = read_content_type(c);
        else if (name == T::Rx) ds.rx.push_back(read_content_type(c));
        else if (name == T::TxPref) ds.tx_pref = read_content_type(c);
        else if (name == T::Tx) ds.tx.push_back(read_content_type(c));
        else if (name == T::CTCap) read_ctcaps(c, ds.ctcaps);
        else if (name == T::DSMem) {
            DSMem mem;
            for_each_element(c, [&](Id e, Tag en) {
                if (en == T::SharedMem) mem.shared_mem = true;
                else if (en == T::MaxMem) set(mem.max_mem, e);
                else if (en == T::MaxID) set(mem.max_id, e);
            });
            ds.ds_mem = mem;
        } else if (name == T::SupportHierarchicalSync) ds.hierarchical_sync = true;
        else if (name == T::SyncCap) {
            for_each_element(c, [&](Id e, Tag en) {
                if (en == T::SyncType) ds.sync_types.push_back(text(e));
            });
        } else if (name == T::FilterRx) ds.filter_rx.push_back(read_content_type(c));
        else if (name == T::FilterCap) {
            FilterCap fc;
            fc.content_type = read_content_type(c);
            for_each_element(c, [&](Id e, Tag en) {
                if (en == T::FilterKeyword) fc.keywords.push_back(text(e));
                else if (en == T::PropName) fc.prop_names.push_back(text(e));
            });
            ds.filter_caps.push_back(std::move(fc));
        }
    });
    return ds;
}

DevInf read_devinf(Id n) {
    DevInf d;
    for_each_element(n, [&](Id c, Tag name) {
        if (name == T::VerDTD) set(d.ver_dtd, c);
        else if (name == T::Man) set(d.man, c);
        else if (name == T::Mod) set(d.mod, c);
        else if (name == T::OEM) set(d.oem, c);
        else if (name == T::FwV) set(d.fwv, c);
        else if (name == T::SwV) set(d.swv, c);
        else if (name == T::HwV) set(d.hwv, c);
        else if (name == T::DevID) set(d.dev_id, c);
        else if (name == T::DevTyp) set(d.dev_typ, c);
        else if (name == T::UTC) d.utc = true;
        else if (name == T::SupportLargeObjs) d.support_large_objs = true;
        else if (name == T::SupportNumberOfChanges) d.support_number_of_changes = true;
        else if (name == T::DataStore) d.datastores.push_back(read_datastore(c));
        else if (name == T::CTCap) read_ctcaps(c, d.ctcaps);
        else if (name == T::Ext) {
            Ext ext;
            for_each_element(c, [&](Id e, Tag en) {
                if (en == T::XNam) set(ext.name, e);
                else if (en == T::XVal) ext.values.push_back(text(e));
            });
            d.exts.push_back(std::move(ext));
        }
    });
    return d;
}

// ---- SyncML ----

// Equal to loc = read_location(n), read in place.
void read_location(Id n, Location& loc) {
    loc.uri.clear();
    loc.name.clear();
    for_each_element(n, [&](Id c, Tag name) {
        if (name == T::LocURI) set(loc.uri, c);
        else if (name == T::LocName) set(loc.name, c);
    });
}

Location read_location(Id n) {
    Location loc;
    read_location(n, loc);
    return loc;
}

Cred read_cred(Id n) {
    Cred cred;
    for_each_element(n, [&](Id c, Tag name) {
        if (name == T::Meta) replace_meta(c, cred.meta);
        else if (name == T::Data) set(cred.data, c);
    });
    return cred;
}

    [[noreturn]] void fail(Id at, const std::string& what) const {
        std::int64_t offset = node(at).offset;
        throw DecodeError("SyncML: " + what, offset < 0 ? 0 : static_cast<std::size_t>(offset));
    }

    void read_header(Id n, Header& h) {
        h.ver_dtd.clear();
        h.ver_proto.clear();
        for_each_element(n, [&](Id c, Tag name) {
            if (name == T::VerDTD) set(h.ver_dtd, c);
            else if (name == T::VerProto) set(h.ver_proto, c);
            else if (name == T::SessionID) set(h.session_id, c);
            else if (name == T::MsgID) set(h.msg_id, c);
            else if (name == T::Target) read_location(c, h.target);
            else if (name == T::Source) read_location(c, h.source);
            else if (name == T::RespURI) set(h.resp_uri, c);
            else if (name == T::NoResp) h.no_resp = true;
            else if (name == T::Cred) h.cred = read_cred(c);
            else if (name == T::Meta) replace_meta(c, h.meta);
        });
    }

    Filter read_filter(Id n) {
        Filter f;
        for_each_element(n, [&](Id c, Tag name) {
            if (name == T::Meta) replace_meta(c, f.meta);
            else if (name == T::FilterType) set(f.filter_type, c);
            else if (name == T::Field || name == T::Record) {
                auto& items = name == T::Field ? f.field : f.record;
                for_each_element(c, [&](Id e, Tag en) {
                    if (en == T::Item) items.push_back(read_item(e));
                });
            }
        });
        return f;
    }

    Item read_item(Id n) {
        Item item;
        read_item(n, item);
        return item;
    }

    // `item` is default-constructed.
    void read_item(Id n, Item& item) {
        bool have_meta = false;
        for_each_element(n, [&](Id c, Tag name) {
            if (name == T::Target) {
                read_location(c, item.target);
                for_each_element(c, [&](Id e, Tag en) {
                    if (en == T::Filter) item.target_filter.push_back(read_filter(e));
                });
            } else if (name == T::Source) read_location(c, item.source);
            else if (name == T::SourceParent) read_location(c, item.source_parent);
            else if (name == T::TargetParent) read_location(c, item.target_parent);
            else if (name == T::Meta) replace_meta(c, item.meta, have_meta);
            else if (name == T::MoreData) item.more_data = true;
            else if (name == T::Data) read_item_data(c, item);
        });
    }

    void read_item_data(Id data, Item& item) {
        item.has_data = true;
        for_each_element(data, [&](Id c, Tag name) {
            if (name == T::DevInf && !item.devinf) item.devinf = read_devinf(c);
            else if (name == T::Anchor && !item.data_anchor) item.data_anchor = read_meta(data).anchor;
        });
        if (!item.devinf && !item.data_anchor) {
            std::string_view v = raw_text(data);
            item.data.assign(v.data(), v.size());
        }
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
        ElementTree tree;
        tree.from_pugi(doc);
        Id root = tree.document_element();
        if (root == npos || tree.node(root).tag != T::DevInf) return;
        item.devinf = Reader(tree, limits_).read_devinf(root);
        item.data.clear();
    }

    // Children are counted first so that a Sync of hundreds of commands fills
    // its vector in one allocation instead of moving them on every growth.
    std::size_t count_commands(Id n) const {
        std::size_t count = 0;
        for_each_element(n, [&](Id, Tag name) { count += command_of(name).has_value(); });
        return count;
    }

    void read_command(Id n, CommandKind kind, Command& cmd) {
        cmd.kind = kind;
        if (kind == CommandKind::Sync || kind == CommandKind::Atomic || kind == CommandKind::Sequence)
            cmd.children.reserve(count_commands(n));
        bool have_source = false, have_meta = false;
        for_each_element(n, [&](Id c, Tag name) {
            if (name == T::CmdID) set(cmd.cmd_id, c);
            else if (name == T::NoResp) cmd.no_resp = true;
            else if (name == T::NoResults) cmd.no_results = true;
            else if (name == T::Archive) cmd.archive = true;
            else if (name == T::SftDel) cmd.sft_del = true;
            else if (name == T::Cred) cmd.cred = read_cred(c);
            else if (name == T::Chal) cmd.chal = read_cred(c);
            else if (name == T::Lang) set(cmd.lang, c);
            else if (name == T::Meta) replace_meta(c, cmd.meta, have_meta);
            else if (name == T::Target) read_location(c, cmd.target);
            else if (name == T::Source) {
                if (have_source) cmd.more_sources.push_back(read_location(c));
                else read_location(c, cmd.source);
                have_source = true;
            } else if (name == T::Data) set(cmd.data, c);
            else if (name == T::Correlator) set(cmd.correlator, c);
            else if (name == T::NumberOfChanges) set(cmd.number_of_changes, c);
            else if (name == T::MsgRef) set(cmd.msg_ref, c);
            else if (name == T::CmdRef) set(cmd.cmd_ref, c);
            else if (name == T::Cmd) set(cmd.cmd, c);
            else if (name == T::TargetRef) cmd.target_refs.push_back(text(c));
            else if (name == T::SourceRef) cmd.source_refs.push_back(text(c));
            else if (name == T::Item) read_item(c, cmd.items.emplace_back());
            else if (name == T::MapItem) {
                MapItem mi;
                for_each_element(c, [&](Id e, Tag en) {
                    if (en == T::Target) read_location(e, mi.target);
                    else if (en == T::Source) read_location(e, mi.source);
                });
                cmd.map_items.push_back(std::move(mi));
            } else if (auto child = command_of(name)) {
                read_command(c, *child, cmd.children.emplace_back());
            }
        });
        if (kind == CommandKind::Put || kind == CommandKind::Results)
            for (Item& item : cmd.items) read_devinf_text(item, cmd.meta);
    }

    const ElementTree& t_;
    const DecodeLimits& limits_;
    std::string scratch_;
};

}  // namespace

Message read_message(const ElementTree& tree, const DecodeLimits& limits) { return Reader(tree, limits).read(); }

}  // namespace smk::wire
