// smk::known_devices: the device registry of a state directory as a host's
// status page or an admin tool shows it, DevInf reduced to make and model.
#include "engine/known_devices.hpp"
#include "state/state_backend.hpp"
#include "syncmlkit/server.hpp"
#include "syncmlkit/wire.hpp"

namespace smk {
namespace {

// Make and model from a DevInf kept as SyncMLKit's XML (empty when unreadable).
std::pair<std::string, std::string> make_and_model(const std::string& devinf_xml) {
    try {
        wire::Message holder = wire::decode(devinf_xml, wire::Encoding::xml);
        for (const wire::Command& c : holder.body)
            for (const wire::Item& item : c.items)
                if (item.devinf) return {item.devinf->man, item.devinf->mod};
    } catch (const wire::DecodeError&) {
    }
    return {};
}

}  // namespace

std::vector<KnownDevice> engine::known_devices_of(std::vector<state::RegisteredDevice> rows) {
    std::vector<KnownDevice> out;
    for (state::RegisteredDevice& row : rows) {
        KnownDevice d;
        d.device = std::move(row.device);
        if (row.devinf) std::tie(d.make, d.model) = make_and_model(*row.devinf);
        d.last_seen = row.last_seen;
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<KnownDevice> known_devices(const std::string& state_dir, const std::string& user) {
    return engine::known_devices_of(state::read_sqlite_devices(state_dir, user));
}

}  // namespace smk
