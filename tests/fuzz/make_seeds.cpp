// fuzz_seeds FIXTURES_DIR OUT_DIR: writes each fuzz target's starting corpus
// into OUT_DIR/<target>/ from tests/fixtures: the captured messages (and
// each in the other encoding), the PIM fixtures and the items inside the
// captures (with the leading format byte the PIM targets take), and whole
// sessions for the session target: the captured sessions' client messages
// joined with the separator, their credentials replaced by Basic ones of
// the fuzz users (valid, and a wrong password).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "entries.hpp"
#include "syncmlkit/pim.hpp"
#include "syncmlkit/wire.hpp"

namespace fs = std::filesystem;
using namespace smk;
using wire::Encoding;

namespace {

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

std::map<std::string, std::size_t> written_per_target;
std::set<std::pair<std::string, std::string>> seen;

void put(const fs::path& out, const std::string& target, const std::string& name, const std::string& bytes) {
    if (bytes.empty() || !seen.insert({target, bytes}).second) return;
    fs::create_directories(out / target);
    std::string file = name;
    std::replace(file.begin(), file.end(), '/', '_');
    std::ofstream(out / target / file, std::ios::binary) << bytes;
    ++written_per_target[target];
}

std::vector<fs::path> files_under(const fs::path& dir) {
    std::vector<fs::path> out;
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

// The PIM target of a format, and the leading byte that selects it.
std::pair<std::string, std::uint8_t> pim_target(pim::Format f) {
    using pim::Format;
    switch (f) {
        case Format::vcard21: return {"pim_vcard", 0};
        case Format::vcard30: return {"pim_vcard", 1};
        case Format::vcard40: return {"pim_vcard", 2};
        case Format::vcal10: return {"pim_vcalendar", 0};
        case Format::ical20: return {"pim_icalendar", 0};
        case Format::sifc: return {"pim_sif", 0};
        case Format::sife: return {"pim_sif", 1};
        case Format::sift: return {"pim_sif", 2};
        case Format::sifn: return {"pim_sif", 3};
        case Format::vnote11: return {"pim_note", 0};
        case Format::text: return {"pim_note", 1};
    }
    return {"pim_note", 1};
}

void put_pim(const fs::path& out, const std::string& name, pim::Format f, const std::string& item) {
    auto [target, byte] = pim_target(f);
    put(out, target, name, std::string(1, static_cast<char>(byte)) + item);
    // The same with the Funambol Outlook profile and a user zone (bits 2-4, 5).
    put(out, target, name + ".p1", std::string(1, static_cast<char>(byte | 0x04 | 0x20)) + item);
}

void items_of(const std::vector<wire::Command>& cmds, const std::string& type,
              const std::function<void(const std::string&, const std::string&)>& f) {
    for (const auto& c : cmds) {
        std::string t = c.meta.type.empty() ? type : c.meta.type;
        for (const auto& it : c.items)
            if (it.has_data && !it.data.empty()) f(it.meta.type.empty() ? t : it.meta.type, it.data);
        items_of(c.children, t, f);
    }
}

// Basic credentials for `user_password`, or none when the message had none.
void rewrite_cred(wire::Message& m, const std::string& b64) {
    if (!m.header.cred) return;
    m.header.cred->meta = wire::Meta();
    m.header.cred->meta.format = "b64";
    m.header.cred->meta.type = "syncml:auth-basic";
    m.header.cred->data = b64;
}

std::string join_session(const std::vector<std::string>& messages) {
    std::string s;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        if (i) s += smk::fuzz::kSessionSeparator;
        s += messages[i];
    }
    return s;
}

// Encodings of the messages with credentials for `b64`; empty if any fails.
std::vector<std::string> session_with(const std::vector<std::pair<wire::Message, Encoding>>& msgs,
                                      const std::string& b64) {
    std::vector<std::string> out;
    for (auto [m, enc] : msgs) {
        rewrite_cred(m, b64);
        try {
            out.push_back(wire::encode(m, enc));
        } catch (const wire::EncodeError&) {
            return {};
        }
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: fuzz_seeds FIXTURES_DIR OUT_DIR\n");
        return 2;
    }
    const fs::path fixtures = argv[1], out = argv[2];
    const fs::path captures = fixtures / "captures";

    // Messages: every capture as it is and in the other encoding; their items.
    std::vector<fs::path> message_files = files_under(captures);
    for (const auto& p : files_under(fixtures / "bad")) message_files.push_back(p);
    for (const auto& p : files_under(fixtures / "engine")) message_files.push_back(p);
    std::map<fs::path, std::pair<wire::Message, Encoding>> decoded;
    for (const auto& p : message_files) {
        std::string ext = p.extension().string();
        if (ext != ".xml" && ext != ".wbxml") continue;
        if (p.filename().string().find(".decoded.") != std::string::npos) continue;  // renderings, not messages
        const Encoding enc = ext == ".xml" ? Encoding::xml : Encoding::wbxml;
        const std::string name = fs::relative(p, fixtures).string();
        const std::string bytes = slurp(p);
        put(out, enc == Encoding::xml ? "xml_decode" : "wbxml_decode", name, bytes);
        try {
            wire::Message m = wire::decode(bytes, enc);
            decoded[p] = {m, enc};
            const Encoding other = enc == Encoding::xml ? Encoding::wbxml : Encoding::xml;
            put(out, other == Encoding::xml ? "xml_decode" : "wbxml_decode", name + ".other", wire::encode(m, other));
            int n = 0;
            items_of(m.body, "", [&](const std::string& type, const std::string& data) {
                if (auto f = pim::format_for_mime(type)) put_pim(out, name + ".item" + std::to_string(n++), *f, data);
            });
        } catch (const std::exception&) {
        }
    }

    // PIM fixtures (the .json files are their models, not items).
    for (const auto& p : files_under(fixtures / "pim")) {
        std::string ext = p.extension().string();
        if (ext == ".json" || ext == ".md" || ext == ".py") continue;
        const std::string data = slurp(p);
        put_pim(out, fs::relative(p, fixtures).string(), pim::detect_format(data), data);
    }

    // Sessions. SyncEvolution's: the last outgoing message of each number
    // (msg001 is sent twice when MD5 is challenged first).
    const std::string valid = "dGVzdDp0ZXN0";      // test:test
    const std::string wrong = "dGVzdDp3cm9uZw==";  // test:wrong
    std::map<std::string, std::vector<std::pair<wire::Message, Encoding>>> sessions;
    if (fs::exists(captures / "syncevolution" / "sessions"))
        for (const auto& d : fs::directory_iterator(captures / "syncevolution" / "sessions")) {
            std::map<std::string, fs::path> last_by_number;
            for (const auto& p : files_under(d.path())) {
                std::string n = p.filename().string();
                if (n.rfind("msg", 0) != 0 || n.find("_outgoing.") == std::string::npos || !decoded.count(p)) continue;
                last_by_number[n.substr(0, 6)] = p;  // sorted: the later capture wins
            }
            for (const auto& [num, p] : last_by_number) sessions["syncevolution-" + d.path().filename().string()].push_back(decoded[p]);
        }
    // Horde's: syncml_client_<session><message>.xml.
    if (fs::exists(captures / "horde"))
        for (const auto& d : fs::directory_iterator(captures / "horde")) {
            if (!d.is_directory()) continue;
            for (const auto& p : files_under(d.path())) {
                std::string n = p.filename().string();
                if (n.rfind("syncml_client_", 0) != 0 || !decoded.count(p) || n.size() < 16) continue;
                sessions["horde-" + d.path().filename().string() + "-" + n.substr(14, 1)].push_back(decoded[p]);
            }
        }
    // Single first messages (Funambol, SyncEvolution's first-message, the engine fixture).
    for (const auto& [p, m] : decoded) {
        std::string rel = fs::relative(p, captures).string();
        if (rel.find("first-message") != std::string::npos || p.parent_path().filename() == "engine")
            sessions["first-" + fs::relative(p, fixtures).string()].push_back(m);
    }
    for (const auto& [name, msgs] : sessions) {
        auto good = session_with(msgs, valid);
        if (good.empty()) continue;
        put(out, "session", name, join_session(good));
        put(out, "session", name + ".wrong-password", join_session(session_with(msgs, wrong)));
        // The whole session in the other encoding.
        std::vector<std::pair<wire::Message, Encoding>> other;
        for (const auto& [m, enc] : msgs) other.push_back({m, enc == Encoding::xml ? Encoding::wbxml : Encoding::xml});
        auto swapped = session_with(other, valid);
        if (!swapped.empty()) put(out, "session", name + ".other", join_session(swapped));
    }

    for (const auto& [target, n] : written_per_target) std::printf("%s: %zu seeds\n", target.c_str(), n);
    return 0;
}
