#include "engine/server_devinf.hpp"

#include "syncmlkit/version.hpp"

namespace smk::engine {
using namespace smk::wire;

std::string devinf_uri(Version version) { return version == Version::v1_1 ? "./devinf11" : "./devinf12"; }

wire::DevInf server_devinf(Version version, const std::string& server_id) {
    DevInf d;
    d.ver_dtd = version_string(version);
    d.man = "SyncMLKit";
    d.mod = "SyncMLKit server";
    d.oem = "SyncMLKit";
    d.fwv = smk::version();
    d.swv = smk::version();  // Funambol re-asks every session when SwV is missing
    d.hwv = "-";
    d.dev_id = server_id;
    d.dev_typ = "server";
    d.utc = true;
    d.support_large_objs = true;
    d.support_number_of_changes = true;
    struct Store {
        const char* name;
        ContentType preferred, alternative;
    };
    const Store stores[] = {
        {"contacts", {"text/vcard", "3.0"}, {"text/x-vcard", "2.1"}},
        {"calendar", {"text/calendar", "2.0"}, {"text/x-vcalendar", "1.0"}},
        {"tasks", {"text/calendar", "2.0"}, {"text/x-vcalendar", "1.0"}},
        {"notes", {"text/x-vnote", "1.1"}, {"text/plain", "1.0"}},
    };
    for (const Store& s : stores) {
        DataStore ds;
        ds.source_ref = s.name;
        ds.rx_pref = s.preferred;
        ds.rx = {s.alternative};
        ds.tx_pref = s.preferred;
        ds.tx = {s.alternative};
        ds.sync_types = {"1", "2", "3", "4", "5", "6"};
        d.datastores.push_back(std::move(ds));
    }
    return d;
}

}  // namespace smk::engine
