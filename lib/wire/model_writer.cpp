// Message model to element events, in the element order of the SyncML 1.2
// DTDs (1.1 orders the same elements the same way). Each command writes only
// the fields its content model has.
#include "element_sink.hpp"

namespace smk::wire {
namespace {

class MessageWriter {
public:
    explicit MessageWriter(ElementSink& sink) : s_(sink) {}

    void message(const Message& msg) {
        s_.open(Tag::SyncML);
        header(msg.header);
        s_.open(Tag::SyncBody);
        for (const Command& c : msg.body) command(c);
        if (msg.final) s_.flag(Tag::Final);
        s_.close();
        s_.close();
    }

    void one_command(const Command& c) { command(c); }

private:
    void leaf(Tag tag, const std::string& value) {
        if (!value.empty()) s_.text(tag, value);
    }
    void flag(Tag tag, bool on) {
        if (on) s_.flag(tag);
    }

    void meta(const Meta& m) {
        if (m.empty()) return;
        s_.open(Tag::Meta);
        flag(Tag::FieldLevel, m.field_level);
        leaf(Tag::Format, m.format);
        leaf(Tag::Type, m.type);
        leaf(Tag::Mark, m.mark);
        leaf(Tag::Size, m.size);
        if (m.anchor) anchor(*m.anchor);
        leaf(Tag::Version, m.version);
        leaf(Tag::NextNonce, m.next_nonce);
        leaf(Tag::MaxMsgSize, m.max_msg_size);
        leaf(Tag::MaxObjSize, m.max_obj_size);
        for (const std::string& emi : m.emi) s_.text(Tag::EMI, emi);
        if (m.mem) {
            if (!m.mem->shared_mem && m.mem->free_mem.empty() && m.mem->free_id.empty()) {
                s_.flag(Tag::Mem);
            } else {
                s_.open(Tag::Mem);
                flag(Tag::SharedMem, m.mem->shared_mem);
                leaf(Tag::FreeMem, m.mem->free_mem);
                leaf(Tag::FreeID, m.mem->free_id);
                s_.close();
            }
        }
        s_.close();
    }

    void anchor(const Anchor& a) {
        s_.open(Tag::Anchor);
        leaf(Tag::Last, a.last);
        s_.text(Tag::Next, a.next);
        s_.close();
    }

    void location(Tag tag, const Location& loc, const std::vector<Filter>* filters = nullptr) {
        bool has_filter = filters && !filters->empty();
        if (loc.empty() && !has_filter) return;
        s_.open(tag);
        s_.text(Tag::LocURI, loc.uri);
        leaf(Tag::LocName, loc.name);
        if (has_filter) filter(filters->front());
        s_.close();
    }

    void filter(const Filter& f) {
        s_.open(Tag::Filter);
        meta(f.meta);
        for (auto [tag, items] : {std::pair{Tag::Field, &f.field}, std::pair{Tag::Record, &f.record}}) {
            if (items->empty()) continue;
            s_.open(tag);
            item(items->front());
            s_.close();
        }
        leaf(Tag::FilterType, f.filter_type);
        s_.close();
    }

    void cred(Tag tag, const Boxed<Cred>& c) {
        if (!c) return;
        s_.open(tag);
        meta(c->meta);
        if (tag == Tag::Cred) s_.text(Tag::Data, c->data);
        s_.close();
    }

    void item(const Item& it) {
        s_.open(Tag::Item);
        location(Tag::Target, it.target, &it.target_filter);
        location(Tag::Source, it.source);
        location(Tag::SourceParent, it.source_parent);
        location(Tag::TargetParent, it.target_parent);
        meta(it.meta);
        if (it.devinf) {
            s_.open(Tag::Data);
            devinf(*it.devinf);
            s_.close();
        } else if (it.data_anchor) {
            s_.open(Tag::Data);
            anchor(*it.data_anchor);
            s_.close();
        } else if (it.has_data || !it.data.empty()) {
            s_.payload(Tag::Data, it.data);
        }
        flag(Tag::MoreData, it.more_data);
        s_.close();
    }

    void items(const Command& c) {
        for (const Item& it : c.items) item(it);
    }

    void refs(const Command& c) {
        for (const std::string& r : c.target_refs) s_.text(Tag::TargetRef, r);
        for (const std::string& r : c.source_refs) s_.text(Tag::SourceRef, r);
    }

    void children(const Command& c) {
        for (const Command& child : c.children) command(child);
    }

    void command(const Command& c) {
        static constexpr Tag kTags[] = {
            Tag::Add, Tag::Alert, Tag::Atomic, Tag::Copy, Tag::Delete, Tag::Exec, Tag::Get, Tag::Map,
            Tag::Move, Tag::Put, Tag::Replace, Tag::Results, Tag::Search, Tag::Sequence, Tag::Status, Tag::Sync,
        };
        s_.open(kTags[static_cast<int>(c.kind)]);
        s_.text(Tag::CmdID, c.cmd_id);
        switch (c.kind) {
            case CommandKind::Alert:
                flag(Tag::NoResp, c.no_resp);
                cred(Tag::Cred, c.cred);
                leaf(Tag::Data, c.data);
                leaf(Tag::Correlator, c.correlator);
                items(c);
                break;
            case CommandKind::Status:
                leaf(Tag::MsgRef, c.msg_ref);
                s_.text(Tag::CmdRef, c.cmd_ref);
                s_.text(Tag::Cmd, c.cmd);
                refs(c);
                cred(Tag::Cred, c.cred);
                cred(Tag::Chal, c.chal);
                s_.text(Tag::Data, c.data);
                items(c);
                break;
            case CommandKind::Results:
                leaf(Tag::MsgRef, c.msg_ref);
                s_.text(Tag::CmdRef, c.cmd_ref);
                meta(c.meta);
                refs(c);
                items(c);
                break;
            case CommandKind::Get:
            case CommandKind::Put:
                flag(Tag::NoResp, c.no_resp);
                leaf(Tag::Lang, c.lang);
                cred(Tag::Cred, c.cred);
                meta(c.meta);
                items(c);
                break;
            case CommandKind::Sync:
                flag(Tag::NoResp, c.no_resp);
                cred(Tag::Cred, c.cred);
                location(Tag::Target, c.target);
                location(Tag::Source, c.source);
                meta(c.meta);
                leaf(Tag::NumberOfChanges, c.number_of_changes);
                children(c);
                break;
            case CommandKind::Add:
            case CommandKind::Copy:
            case CommandKind::Move:
            case CommandKind::Replace:
            case CommandKind::Delete:
                flag(Tag::NoResp, c.no_resp);
                flag(Tag::Archive, c.archive);
                flag(Tag::SftDel, c.sft_del);
                cred(Tag::Cred, c.cred);
                meta(c.meta);
                items(c);
                break;
            case CommandKind::Map:
                location(Tag::Target, c.target);
                location(Tag::Source, c.source);
                cred(Tag::Cred, c.cred);
                meta(c.meta);
                for (const MapItem& mi : c.map_items) {
                    s_.open(Tag::MapItem);
                    location(Tag::Target, mi.target);
                    location(Tag::Source, mi.source);
                    s_.close();
                }
                break;
            case CommandKind::Atomic:
            case CommandKind::Sequence:
                flag(Tag::NoResp, c.no_resp);
                meta(c.meta);
                children(c);
                break;
            case CommandKind::Exec:
                flag(Tag::NoResp, c.no_resp);
                cred(Tag::Cred, c.cred);
                meta(c.meta);
                leaf(Tag::Correlator, c.correlator);
                items(c);
                break;
            case CommandKind::Search:
                flag(Tag::NoResp, c.no_resp);
                flag(Tag::NoResults, c.no_results);
                cred(Tag::Cred, c.cred);
                location(Tag::Target, c.target);
                location(Tag::Source, c.source);
                for (const Location& src : c.more_sources) location(Tag::Source, src);
                leaf(Tag::Lang, c.lang);
                meta(c.meta);
                s_.text(Tag::Data, c.data);
                break;
        }
        s_.close();
    }

    void header(const Header& h) {
        s_.open(Tag::SyncHdr);
        s_.text(Tag::VerDTD, h.ver_dtd);
        s_.text(Tag::VerProto, h.ver_proto);
        s_.text(Tag::SessionID, h.session_id);
        s_.text(Tag::MsgID, h.msg_id);
        location(Tag::Target, h.target);
        location(Tag::Source, h.source);
        leaf(Tag::RespURI, h.resp_uri);
        flag(Tag::NoResp, h.no_resp);
        cred(Tag::Cred, h.cred);
        meta(h.meta);
        s_.close();
    }

    // ---- DevInf ----

    void content_type(Tag tag, const ContentType& ct) {
        s_.open(tag);
        s_.text(Tag::CTType, ct.type);
        s_.text(Tag::VerCT, ct.version);
        s_.close();
    }

    // 1.2 layout: a CTCap per type with nested Property and PropParam.
    void ctcap_nested(const CTCap& cap) {
        s_.open(Tag::CTCap);
        s_.text(Tag::CTType, cap.type);
        leaf(Tag::VerCT, cap.version);
        flag(Tag::DevFieldLevel, cap.field_level);
        for (const Property& p : cap.properties) {
            s_.open(Tag::Property);
            s_.text(Tag::PropName, p.name);
            leaf(Tag::DataType, p.data_type);
            leaf(Tag::MaxOccur, p.max_occur);
            leaf(size_tag(), p.max_size);
            flag(Tag::NoTruncate, p.no_truncate);
            for (const std::string& v : p.val_enum) s_.text(Tag::ValEnum, v);
            leaf(Tag::DisplayName, p.display_name);
            for (const PropParam& pp : p.params) {
                s_.open(Tag::PropParam);
                s_.text(Tag::ParamName, pp.name);
                leaf(Tag::DataType, pp.data_type);
                for (const std::string& v : pp.val_enum) s_.text(Tag::ValEnum, v);
                leaf(Tag::DisplayName, pp.display_name);
                s_.close();
            }
            s_.close();
        }
        s_.close();
    }

    // 1.1 layout: one flat CTCap for all types. MaxOccur, NoTruncate and
    // FieldLevel have no place in it and are not written.
    void ctcaps_flat(const std::vector<CTCap>& caps) {
        s_.open(Tag::CTCap);
        for (const CTCap& cap : caps) {
            s_.text(Tag::CTType, cap.type);
            leaf(Tag::VerCT, cap.version);
            for (const Property& p : cap.properties) {
                s_.text(Tag::PropName, p.name);
                for (const std::string& v : p.val_enum) s_.text(Tag::ValEnum, v);
                leaf(Tag::DataType, p.data_type);
                leaf(size_tag(), p.max_size);
                leaf(Tag::DisplayName, p.display_name);
                for (const PropParam& pp : p.params) {
                    s_.text(Tag::ParamName, pp.name);
                    for (const std::string& v : pp.val_enum) s_.text(Tag::ValEnum, v);
                    leaf(Tag::DataType, pp.data_type);
                    leaf(Tag::DisplayName, pp.display_name);
                }
            }
        }
        s_.close();
    }

    void datastore(const DataStore& ds) {
        s_.open(Tag::DataStore);
        s_.text(Tag::DevSourceRef, ds.source_ref);
        leaf(Tag::DisplayName, ds.display_name);
        leaf(Tag::MaxGUIDSize, ds.max_guid_size);
        if (ds.rx_pref) content_type(Tag::RxPref, *ds.rx_pref);
        for (const ContentType& ct : ds.rx) content_type(Tag::Rx, ct);
        if (ds.tx_pref) content_type(Tag::TxPref, *ds.tx_pref);
        for (const ContentType& ct : ds.tx) content_type(Tag::Tx, ct);
        for (const CTCap& cap : ds.ctcaps) ctcap_nested(cap);
        if (ds.ds_mem) {
            const DSMem& m = *ds.ds_mem;
            if (!m.shared_mem && m.max_mem.empty() && m.max_id.empty()) {
                s_.flag(Tag::DSMem);
            } else {
                s_.open(Tag::DSMem);
                flag(Tag::DevSharedMem, m.shared_mem);
                leaf(Tag::MaxMem, m.max_mem);
                leaf(Tag::MaxID, m.max_id);
                s_.close();
            }
        }
        flag(Tag::SupportHierarchicalSync, ds.hierarchical_sync);
        if (!ds.sync_types.empty()) {
            s_.open(Tag::SyncCap);
            for (const std::string& t : ds.sync_types) s_.text(Tag::SyncType, t);
            s_.close();
        }
        for (const ContentType& ct : ds.filter_rx) content_type(Tag::FilterRx, ct);
        for (const FilterCap& fc : ds.filter_caps) {
            s_.open(Tag::FilterCap);
            s_.text(Tag::CTType, fc.content_type.type);
            s_.text(Tag::VerCT, fc.content_type.version);
            for (const std::string& k : fc.keywords) s_.text(Tag::FilterKeyword, k);
            for (const std::string& p : fc.prop_names) s_.text(Tag::PropName, p);
            s_.close();
        }
        s_.close();
    }

    // One WBXML token, named by the DevInf's version in XML.
    Tag size_tag() const { return devinf_v12_ ? Tag::DevMaxSize : Tag::DevSize; }

    void devinf(const DevInf& d) {
        devinf_v12_ = d.ver_dtd == "1.2";
        s_.open(Tag::DevInf);
        s_.text(Tag::DevVerDTD, d.ver_dtd);
        leaf(Tag::Man, d.man);
        leaf(Tag::Mod, d.mod);
        leaf(Tag::OEM, d.oem);
        leaf(Tag::FwV, d.fwv);
        leaf(Tag::SwV, d.swv);
        leaf(Tag::HwV, d.hwv);
        s_.text(Tag::DevID, d.dev_id);
        s_.text(Tag::DevTyp, d.dev_typ);
        flag(Tag::UTC, d.utc);
        flag(Tag::SupportLargeObjs, d.support_large_objs);
        flag(Tag::SupportNumberOfChanges, d.support_number_of_changes);
        for (const DataStore& ds : d.datastores) datastore(ds);
        if (!d.ctcaps.empty()) ctcaps_flat(d.ctcaps);
        for (const Ext& e : d.exts) {
            s_.open(Tag::Ext);
            s_.text(Tag::XNam, e.name);
            for (const std::string& v : e.values) s_.text(Tag::XVal, v);
            s_.close();
        }
        s_.close();
    }

    ElementSink& s_;
    bool devinf_v12_ = true;
};

}  // namespace

void write_message(const Message& msg, ElementSink& sink) { MessageWriter(sink).message(msg); }
void write_command(const Command& cmd, ElementSink& sink) { MessageWriter(sink).one_command(cmd); }

}  // namespace smk::wire
