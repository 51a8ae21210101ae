// Fuzz body of whole sessions through smk::Server::process.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "entries.hpp"
#include "memory_store.hpp"
#include "syncmlkit/server.hpp"
#include "syncmlkit/wire.hpp"

namespace smk::fuzz {
namespace {

class Users : public AuthProvider {
public:
    std::optional<std::string> password(const std::string& user) override {
        if (user == "test") return std::string("test");
        if (user == "alice") return std::string("secret");
        if (user == "bob") return std::string("hunter2");
        return std::nullopt;
    }
};

// Formats every line, as a host's logger would, and keeps none.
class CountingLogger : public Logger {
public:
    std::size_t bytes = 0;
    void log(LogLevel, std::string_view message) override { bytes += message.size(); }
};

// A fresh state dir for this process, emptied before every input.
const std::filesystem::path& state_dir() {
    static const std::filesystem::path dir = [] {
        std::filesystem::path base = std::filesystem::exists("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                                         : std::filesystem::temp_directory_path();
        return base / ("smk-fuzz-session-" + std::to_string(::getpid()));
    }();
    return dir;
}

const char* const kCard =
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Example\r\nN:Example;Ann;;;\r\nTEL;TYPE=CELL:+1 555 0100\r\nEND:VCARD\r\n";
const char* const kEvent =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fuzz//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTART:20260105T090000Z\r\n"
    "DTEND:20260105T100000Z\r\nSUMMARY:Weekly\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

}  // namespace

int session(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    std::vector<std::string_view> messages;
    while (messages.size() + 1 < kMaxSessionMessages) {
        std::size_t sep = input.find(kSessionSeparator);
        if (sep == std::string_view::npos) break;
        messages.push_back(input.substr(0, sep));
        input.remove_prefix(sep + kSessionSeparator.size());
    }
    messages.push_back(input);

    std::error_code ec;
    std::filesystem::remove_all(state_dir(), ec);
    auto provider = std::make_shared<test::MemoryProvider>();
    provider->store("test", Category::contacts)->add({"text/vcard", "3.0"}, kCard);
    provider->store("test", Category::calendar)->add({"text/calendar", "2.0"}, kEvent);
    provider->store("alice", Category::contacts)->add({"text/vcard", "3.0"}, kCard);
    provider->grants[{"alice", Category::contacts, "bob"}] = Access::read_only;
    provider->global_address_book = std::make_shared<test::MemoryStore>();
    provider->global_address_book->add({"text/vcard", "3.0"}, kCard);
    {
        ServerConfig config;
        config.auth = std::make_shared<Users>();
        config.datastores = provider;
        config.logger = std::make_shared<CountingLogger>();
        config.state_dir = state_dir().string();
        config.max_msg_size = 6000;  // small, so that replies span several messages
        config.max_request_size = 1u << 20;  // but the clients' messages all taken (a DevInf Put is larger)
        config.max_obj_size = 200000;
        Server server(config);

        // SMK_FUZZ_SESSION_TRACE=1: what the server answered to each message.
        const bool trace = std::getenv("SMK_FUZZ_SESSION_TRACE") != nullptr;
        std::size_t n = 0;
        std::string url = "http://sync.example.com/sync";
        for (std::string_view body : messages) {
            Request req;
            req.body = body;
            wire::Encoding enc = wire::sniff_encoding(body).value_or(wire::Encoding::xml);
            req.content_type = wire::content_type(enc);
            req.url = url;
            req.peer = "192.0.2.1";
            Response r = server.process(req);
            ++n;
            if (r.http_status != 200) {
                if (trace) std::fprintf(stderr, "message %zu: HTTP %d\n", n, r.http_status);
                continue;
            }
            // A SyncML reply is always one the codec reads.
            wire::Message reply;
            try {
                reply = wire::decode(r.body, wire::encoding_from_content_type(r.content_type).value_or(enc));
            } catch (const wire::DecodeError& e) {
                std::fprintf(stderr, "fuzz invariant broken: the server's reply does not decode: %s\n", e.what());
                std::abort();
            }
            if (!reply.header.resp_uri.empty()) url = reply.header.resp_uri;
            if (trace) {
                std::fprintf(stderr, "message %zu: HTTP %d, reply", n, r.http_status);
                for (const wire::Command& c : reply.body)
                    if (c.kind == wire::CommandKind::Status) std::fprintf(stderr, " %s:%s", c.cmd.c_str(), c.data.c_str());
                    else std::fprintf(stderr, " %s", wire::command_name(c.kind));
                std::fprintf(stderr, "%s\n", r.session_ended ? " (session ended)" : "");
            }
        }
    }
    for (const auto& [key, store] : provider->all())
        if (store->overlaps != 0) {
            std::fprintf(stderr, "fuzz invariant broken: overlapping calls on one store\n");
            std::abort();
        }
    std::filesystem::remove_all(state_dir(), ec);
    return 0;
}

}  // namespace smk::fuzz
