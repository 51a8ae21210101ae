// Plain helpers of the message model: equality, names, numbers.
#include <array>
#include <charconv>
#include <tuple>

#include "syncmlkit/message.hpp"

namespace smk::wire {

std::optional<Version> parse_version(std::string_view v) {
    if (v == "1.0") return Version::v1_0;
    if (v == "1.1") return Version::v1_1;
    if (v == "1.2") return Version::v1_2;
    return std::nullopt;
}

const char* version_string(Version v) {
    switch (v) {
        case Version::v1_0: return "1.0";
        case Version::v1_1: return "1.1";
        case Version::v1_2: return "1.2";
    }
    return "1.2";
}

std::optional<std::uint64_t> to_number(std::string_view text) {
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

namespace {
// Indexed by CommandKind; kept in the enum's order.
constexpr std::array<const char*, 16> kCommandNames = {
    "Add", "Alert", "Atomic", "Copy", "Delete", "Exec", "Get", "Map", "Move", "Put",
    "Replace", "Results", "Search", "Sequence", "Status", "Sync",
};
}  // namespace

const char* command_name(CommandKind kind) { return kCommandNames[static_cast<std::size_t>(kind)]; }

std::optional<CommandKind> command_from_name(std::string_view name) {
    for (std::size_t i = 0; i < kCommandNames.size(); ++i)
        if (name == kCommandNames[i]) return static_cast<CommandKind>(i);
    return std::nullopt;
}

bool Meta::empty() const { return *this == Meta{}; }

bool Meta::operator==(const Meta& o) const {
    return std::tie(field_level, format, type, mark, size, anchor, version, next_nonce, max_msg_size,
                    max_obj_size, emi, mem) ==
           std::tie(o.field_level, o.format, o.type, o.mark, o.size, o.anchor, o.version, o.next_nonce,
                    o.max_msg_size, o.max_obj_size, o.emi, o.mem);
}

bool Filter::operator==(const Filter& o) const {
    return std::tie(meta, field, record, filter_type) == std::tie(o.meta, o.field, o.record, o.filter_type);
}

bool Item::operator==(const Item& o) const {
    return std::tie(target, source, source_parent, target_parent, target_filter, meta, data, has_data, devinf,
                    data_anchor, more_data) ==
           std::tie(o.target, o.source, o.source_parent, o.target_parent, o.target_filter, o.meta, o.data, o.has_data,
                    o.devinf, o.data_anchor, o.more_data);
}

bool Command::operator==(const Command& o) const {
    return std::tie(kind, cmd_id, no_resp, no_results, archive, sft_del, cred, chal, lang, meta, target, source,
                    more_sources, data, correlator, number_of_changes, msg_ref, cmd_ref, cmd, target_refs,
                    source_refs, items, map_items, children) ==
           std::tie(o.kind, o.cmd_id, o.no_resp, o.no_results, o.archive, o.sft_del, o.cred, o.chal, o.lang, o.meta,
                    o.target, o.source, o.more_sources, o.data, o.correlator, o.number_of_changes, o.msg_ref,
                    o.cmd_ref, o.cmd, o.target_refs, o.source_refs, o.items, o.map_items, o.children);
}

bool Header::operator==(const Header& o) const {
    return std::tie(ver_dtd, ver_proto, session_id, msg_id, target, source, resp_uri, no_resp, cred, meta) ==
           std::tie(o.ver_dtd, o.ver_proto, o.session_id, o.msg_id, o.target, o.source, o.resp_uri, o.no_resp,
                    o.cred, o.meta);
}

bool Message::operator==(const Message& o) const {
    return std::tie(header, body, final) == std::tie(o.header, o.body, o.final);
}

// DevInf

bool PropParam::operator==(const PropParam& o) const {
    return std::tie(name, data_type, val_enum, display_name) ==
           std::tie(o.name, o.data_type, o.val_enum, o.display_name);
}

bool Property::operator==(const Property& o) const {
    return std::tie(name, data_type, max_occur, max_size, no_truncate, val_enum, display_name, params) ==
           std::tie(o.name, o.data_type, o.max_occur, o.max_size, o.no_truncate, o.val_enum, o.display_name,
                    o.params);
}

bool CTCap::operator==(const CTCap& o) const {
    return std::tie(type, version, field_level, properties) ==
           std::tie(o.type, o.version, o.field_level, o.properties);
}

bool DSMem::operator==(const DSMem& o) const {
    return std::tie(shared_mem, max_mem, max_id) == std::tie(o.shared_mem, o.max_mem, o.max_id);
}

bool FilterCap::operator==(const FilterCap& o) const {
    return std::tie(content_type, keywords, prop_names) == std::tie(o.content_type, o.keywords, o.prop_names);
}

bool DataStore::operator==(const DataStore& o) const {
    return std::tie(source_ref, display_name, max_guid_size, rx_pref, rx, tx_pref, tx, ctcaps, ds_mem,
                    hierarchical_sync, sync_types, filter_rx, filter_caps) ==
           std::tie(o.source_ref, o.display_name, o.max_guid_size, o.rx_pref, o.rx, o.tx_pref, o.tx, o.ctcaps,
                    o.ds_mem, o.hierarchical_sync, o.sync_types, o.filter_rx, o.filter_caps);
}

bool DevInf::operator==(const DevInf& o) const {
    return std::tie(ver_dtd, man, mod, oem, fwv, swv, hwv, dev_id, dev_typ, utc, support_large_objs,
                    support_number_of_changes, datastores, ctcaps, exts) ==
           std::tie(o.ver_dtd, o.man, o.mod, o.oem, o.fwv, o.swv, o.hwv, o.dev_id, o.dev_typ, o.utc,
                    o.support_large_objs, o.support_number_of_changes, o.datastores, o.ctcaps, o.exts);
}

}  // namespace smk::wire
