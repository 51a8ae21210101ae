#include "engine/item_format.hpp"

#include "wire/text.hpp"

namespace smk::engine {
namespace {

bool producible(Category category, const wire::ContentType& ct) {
    std::optional<pim::Format> f = pim::format_for_mime(ct.type, ct.version);
    if (!f) return false;
    switch (category) {
    case Category::contacts:
        return pim::kind_of(*f) == pim::Kind::contact;
    case Category::calendar:
        return pim::kind_of(*f) == pim::Kind::calendar && *f != pim::Format::sift;
    case Category::tasks:
        return pim::kind_of(*f) == pim::Kind::calendar && *f != pim::Format::sife;
    case Category::notes:
        return pim::kind_of(*f) == pim::Kind::note;
    }
    return false;
}

std::string strip_dot_slash(const std::string& s) { return s.rfind("./", 0) == 0 ? s.substr(2) : s; }

// The format of what a client sent: its Meta type, or the data's own look
// when the type is missing or one we do not speak.
pim::Format sent_format(const Format& sent, std::string_view data) {
    if (auto f = pim::format_for_mime(sent.type, sent.version)) {
        // Clients label 3.0 cards text/x-vcard and the reverse: the VERSION inside decides.
        pim::Format seen = pim::detect_format(data);
        if (pim::kind_of(seen) == pim::kind_of(*f) && seen != pim::Format::text) return seen;
        return *f;
    }
    return pim::detect_format(data);
}

Converted unchanged(const Format& sent, std::string data, const Format& native, std::string why) {
    Converted out;
    out.format = sent.type.empty() ? native : sent;
    out.data = std::move(data);
    out.warnings.push_back({0, std::move(why)});
    return out;
}

}  // namespace

Converted to_store(const Format& sent, std::string data, const Format& native, const ClientView& client) {
    std::optional<pim::Format> to = pim::format_for_mime(native.type, native.version);
    pim::Format from = sent_format(sent, data);
    if (!to || from == *to) {
        Converted out;
        out.format = to ? native : (sent.type.empty() ? native : sent);
        out.data = std::move(data);
        return out;
    }
    pim::ReadResult r = pim::read(data, from, client.profile);
    if (!r.item) return unchanged(sent, std::move(data), native, "item could not be read as " + pim::format_name(from) + ": stored as it came");
    Converted out;
    out.warnings = std::move(r.warnings);
    out.data = pim::write(*r.item, *to, {}, &out.warnings);
    out.format = native;
    if (out.data.empty()) return unchanged(sent, std::move(data), native, "item of another kind: stored as it came");
    return out;
}

Converted replace_in_store(const StoredItem& current, const Format& sent, std::string data, const Format& native,
                           const ClientView& client) {
    std::optional<pim::Format> to = pim::format_for_mime(native.type, native.version);
    pim::Format from = sent_format(sent, data);
    // A client that speaks the store's format and declared no CTCap holds
    // whatever the format carries: its item is taken as it is.
    if (!to || (from == *to && client.knows.empty())) return to_store(sent, std::move(data), native, client);
    std::optional<pim::Format> current_format = pim::format_for_mime(current.format.type, current.format.version);
    pim::ReadResult incoming = pim::read(data, from, client.profile);
    if (!incoming.item) return to_store(sent, std::move(data), native, client);
    pim::ReadResult stored = pim::read(current.data, current_format.value_or(*to));
    Converted out;
    out.warnings = std::move(incoming.warnings);
    pim::Item merged = stored.item ? pim::merge(*stored.item, *incoming.item, {from, client.knows}) : *incoming.item;
    out.data = pim::write(merged, *to, {}, &out.warnings);
    out.format = native;
    if (out.data.empty()) return to_store(sent, std::move(data), native, client);
    return out;
}

Outgoing to_client(const StoredItem& item, const ClientView& client, std::optional<std::int64_t> drop_alarms_before) {
    Outgoing out;
    out.type = item.format.type;
    out.data = item.data;
    std::optional<pim::Format> have = pim::format_for_mime(item.format.type, item.format.version);
    // A client that named no format gets the store's.
    std::optional<pim::Format> want = client.rx ? pim::format_for_mime(client.rx->type, client.rx->version) : have;
    if (!want || !have) return out;
    bool prune = drop_alarms_before && pim::kind_of(*have) == pim::Kind::calendar;
    if (*want != *have || prune) {
        pim::ReadResult r = pim::read(item.data, *have);
        if (!r.item) {
            out.warnings.push_back({0, "stored item could not be read: sent as it is"});
            return out;
        }
        pim::AlarmCount alarms;
        if (pim::Calendar* calendar = prune ? std::get_if<pim::Calendar>(&*r.item) : nullptr)
            alarms = pim::drop_past_alarms(*calendar, *drop_alarms_before, client.profile.time_zone);
        if (*want != *have || alarms.dropped > 0) {
            std::string written = pim::write(*r.item, *want, client.profile, &out.warnings);
            if (written.empty()) return out;
            out.data = std::move(written);
            if (*want != *have) out.type = pim::mime_type(*want);
            if (alarms.dropped > 0)
                out.warnings.push_back({0, std::to_string(alarms.dropped) + " past alarm(s) left out, " +
                                               std::to_string(alarms.kept) + " kept (the store keeps them all)"});
        }
    }
    if (client.rx && (*want == pim::Format::sifc || *want == pim::Format::sife || *want == pim::Format::sift ||
                      *want == pim::Format::sifn)) {
        out.data = wire::base64_encode(out.data);
        out.encoding = "b64";
    }
    return out;
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
            for (const wire::Property& p : cap.properties) names.push_back(wire::to_upper(p.name));
        }
    };
    for (const wire::DataStore& ds : devinf.datastores)
        if (strip_dot_slash(ds.source_ref) == strip_dot_slash(client_db)) collect(ds.ctcaps);
    if (names.empty()) collect(devinf.ctcaps);
    return names;
}

}  // namespace smk::engine
