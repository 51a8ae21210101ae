#include "engine/item_format.hpp"

#include "syncmlkit/vcard.hpp"
#include "wire/text.hpp"

namespace smk::engine {
namespace {

constexpr const char* kVCard21 = "text/x-vcard";
constexpr const char* kVCard30 = "text/vcard";

bool is_vcard21(const Format& f, const std::string& data) {
    if (f.type == kVCard21) return true;
    if (f.type == kVCard30) return false;
    return data.find("VERSION:2.1") != std::string::npos;
}

bool producible(Category category, const wire::ContentType& ct) {
    if (category == Category::contacts) return ct.type == kVCard21 || ct.type == kVCard30;
    return ct.type == "text/calendar" || ct.type == "text/x-vcalendar";
}

std::string strip_dot_slash(const std::string& s) { return s.rfind("./", 0) == 0 ? s.substr(2) : s; }

}  // namespace

std::string to_store(Category category, const Format& format, std::string data, const Format& native, Format& stored) {
    if (category == Category::contacts && native.type == kVCard30 && is_vcard21(format, data)) {
        stored = native;
        return pim::convert_vcard(data, pim::VCardVersion::v3_0);
    }
    stored = format.type.empty() ? native : format;
    if (stored.type == native.type && stored.version.empty()) stored.version = native.version;
    return data;
}

std::string to_client(Category category, const StoredItem& item, const std::optional<wire::ContentType>& wanted,
                      std::string& type) {
    type = item.format.type;
    if (category != Category::contacts || !wanted) return item.data;
    bool stored_21 = is_vcard21(item.format, item.data);
    if (wanted->type == kVCard21 && !stored_21) {
        type = kVCard21;
        return pim::convert_vcard(item.data, pim::VCardVersion::v2_1);
    }
    if (wanted->type == kVCard30 && stored_21) {
        type = kVCard30;
        return pim::convert_vcard(item.data, pim::VCardVersion::v3_0);
    }
    return item.data;
}

std::optional<wire::ContentType> preferred_rx(const wire::DevInf& devinf, const std::string& client_db,
                                              Category category) {
    for (const wire::DataStore& ds : devinf.datastores) {
        if (strip_dot_slash(ds.source_ref) != strip_dot_slash(client_db)) continue;
        if (ds.rx_pref && producible(category, *ds.rx_pref)) return ds.rx_pref;
        for (const wire::ContentType& ct : ds.rx)
            if (producible(category, ct)) return ct;
    }
    return std::nullopt;
}

std::vector<std::string> ctcap_properties(const wire::DevInf& devinf, const std::string& client_db,
                                          Category category) {
    std::vector<std::string> names;
    auto collect = [&](const std::vector<wire::CTCap>& caps) {
        for (const wire::CTCap& cap : caps) {
            if (!producible(category, {cap.type, cap.version})) continue;
            for (const wire::Property& p : cap.properties) {
                names.push_back(wire::to_upper(p.name));
            }
        }
    };
    for (const wire::DataStore& ds : devinf.datastores)
        if (strip_dot_slash(ds.source_ref) == strip_dot_slash(client_db)) collect(ds.ctcaps);
    if (names.empty()) collect(devinf.ctcaps);
    return names;
}

std::string merge_replace(Category category, const StoredItem& stored, const std::string& incoming,
                          const Format& incoming_format, const std::vector<std::string>& client_knows) {
    if (category == Category::contacts && incoming_format.type == kVCard30 && !is_vcard21(stored.format, stored.data))
        return pim::merge_vcard(stored.data, incoming, client_knows);
    return incoming;
}

}  // namespace smk::engine
