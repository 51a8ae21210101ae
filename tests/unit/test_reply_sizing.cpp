// Reply::size_of: the size a command takes in the reply, which decides what
// fits the client's MaxMsgSize. Statuses are sized from the first of their
// shape; each must come out as its own encoding would.
#include <catch2/catch.hpp>

#include <random>

#include "engine/reply.hpp"
#include "wire/writers.hpp"

using namespace smk;
using namespace smk::wire;
using smk::engine::Reply;

namespace {

std::string text(std::mt19937& rng, bool odd) {
    static const std::string plain = "abcXYZ0123456789-./:_?=";
    static const std::string special = "&<>\"'\xC3\xA9\x01 ]";
    std::size_t n = rng() % 4 == 0 ? 0 : rng() % 200 + 1;
    std::string s;
    for (std::size_t i = 0; i < n; ++i)
        s += odd && rng() % 10 == 0 ? special[rng() % special.size()] : plain[rng() % plain.size()];
    return s;
}

}  // namespace

TEST_CASE("a status's size is that of its own encoding, whatever its fields, in both encodings") {
    std::mt19937 rng(12);
    for (Encoding enc : {Encoding::wbxml, Encoding::xml})
        for (Version version : {Version::v1_1, Version::v1_2}) {
            Header h;
            h.ver_dtd = version_string(version);
            h.ver_proto = std::string("SyncML/") + version_string(version);
            h.session_id = "1";
            h.msg_id = "1";
            Reply reply(h, version, enc, 1000000);
            for (int i = 0; i < 3000; ++i) {
                bool odd = i % 7 == 0;
                Command s;
                s.kind = CommandKind::Status;
                s.cmd_id = rng() % 5 ? std::string() : std::to_string(rng() % 1000);
                s.msg_ref = text(rng, odd);
                s.cmd_ref = text(rng, odd);
                s.cmd = rng() % 2 ? "Add" : text(rng, odd);
                s.data = std::to_string(rng() % 600);
                if (rng() % 2) s.target_refs = {text(rng, odd)};
                if (rng() % 2) s.source_refs = {text(rng, odd)};
                if (rng() % 50 == 0) s.source_refs.push_back("second");
                std::size_t expected = encoded_command_size(s, version, enc) + (s.cmd_id.empty() ? 4 : 0);
                INFO("status " << i << " cmd_ref " << s.cmd_ref << " source refs " << s.source_refs.size());
                REQUIRE(reply.size_of(s) == expected);
            }
        }
}
