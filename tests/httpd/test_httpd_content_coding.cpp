// Content codings of request and reply bodies: deflate (zlib and raw) and
// gzip, checked against zlib used directly, and the bound on inflating.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <chrono>
#include <string>

#include "content_coding.hpp"

using namespace smk::httpd;

namespace {

// Compresses with zlib directly (not with the code under test).
// window_bits: 15 zlib, -15 raw deflate, 31 gzip.
std::string zlib_compress(const std::string& data, int window_bits, int level = Z_DEFAULT_COMPRESSION) {
    z_stream zs{};
    REQUIRE(deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&zs, data.size()), '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

// Inflates with zlib directly; window_bits as above (47 detects zlib or gzip).
std::string zlib_inflate(const std::string& data, int window_bits) {
    z_stream zs{};
    REQUIRE(inflateInit2(&zs, window_bits) == Z_OK);
    std::string out;
    char buf[4096];
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    int rc = Z_OK;
    while (rc == Z_OK) {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_NO_FLUSH);
        out.append(buf, sizeof buf - zs.avail_out);
    }
    inflateEnd(&zs);
    REQUIRE(rc == Z_STREAM_END);
    return out;
}

// `zeros` zero bytes, compressed as hard as zlib can, streamed so the test
// never holds the inflated size.
std::string zeros_compressed(std::size_t zeros, int window_bits) {
    z_stream zs{};
    REQUIRE(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    const std::string chunk(1 << 20, '\0');
    std::string out;
    char buf[1 << 16];
    for (std::size_t left = zeros; left > 0 || zs.avail_in > 0;) {
        if (zs.avail_in == 0) {
            std::size_t n = std::min(left, chunk.size());
            zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
            zs.avail_in = static_cast<uInt>(n);
            left -= n;
        }
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        deflate(&zs, Z_NO_FLUSH);
        out.append(buf, sizeof buf - zs.avail_out);
    }
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = deflate(&zs, Z_FINISH);
        out.append(buf, sizeof buf - zs.avail_out);
    }
    deflateEnd(&zs);
    return out;
}

std::string sample() {
    std::string s = "<?xml version=\"1.0\"?><SyncML><SyncHdr>";
    for (int i = 0; i < 500; ++i) s += "<Item><Data>BEGIN:VCARD\r\nFN:Person " + std::to_string(i) + "\r\nEND:VCARD\r\n</Data></Item>";
    return s + "</SyncHdr></SyncML>";
}

int status_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const CodingError& e) {
        return e.http_status();
    }
    return 0;
}

constexpr std::size_t mib = 1024 * 1024;

}  // namespace

TEST_CASE("Content-Encoding lists codings in the order applied") {
    using V = std::vector<Coding>;
    CHECK(parse_content_encoding("") == V{});
    CHECK(parse_content_encoding("identity") == V{});
    CHECK(parse_content_encoding("deflate") == V{Coding::deflate});
    CHECK(parse_content_encoding("Deflate") == V{Coding::deflate});
    CHECK(parse_content_encoding(" gzip ") == V{Coding::gzip});
    CHECK(parse_content_encoding("x-gzip") == V{Coding::gzip});
    CHECK(parse_content_encoding("gzip, deflate") == V{Coding::gzip, Coding::deflate});
    CHECK(parse_content_encoding("identity, gzip") == V{Coding::gzip});
}

TEST_CASE("an unknown Content-Encoding is a 415") {
    CHECK(status_of([] { parse_content_encoding("br"); }) == 415);
    CHECK(status_of([] { parse_content_encoding("gzip, compress"); }) == 415);
    try {
        parse_content_encoding("zstd");
        FAIL("no error");
    } catch (const CodingError& e) {
        CHECK(std::string(e.what()) == "unsupported Content-Encoding \"zstd\" (this server reads gzip and deflate)");
    }
}

TEST_CASE("deflate bodies: zlib streams and raw deflate inflate") {
    const std::string text = sample();
    CHECK(inflate_body(zlib_compress(text, 15), Coding::deflate, 64 * mib) == text);
    CHECK(inflate_body(zlib_compress(text, -15), Coding::deflate, 64 * mib) == text);
    CHECK(inflate_body(zlib_compress(text, 15, 1), Coding::deflate, 64 * mib) == text);
    CHECK(inflate_body(zlib_compress(text, -15, 9), Coding::deflate, 64 * mib) == text);
    CHECK(inflate_body(zlib_compress("", 15), Coding::deflate, 64 * mib).empty());
    CHECK(inflate_body(zlib_compress("x", -15), Coding::deflate, 64 * mib) == "x");
}

TEST_CASE("gzip bodies inflate, several members too") {
    const std::string text = sample();
    CHECK(inflate_body(zlib_compress(text, 31), Coding::gzip, 64 * mib) == text);
    CHECK(inflate_body(zlib_compress("one ", 31) + zlib_compress("two", 31), Coding::gzip, 64 * mib) == "one two");
}

TEST_CASE("replies compress to what zlib reads back") {
    const std::string text = sample();
    std::string deflated = compress_body(text, Coding::deflate);
    std::string gzipped = compress_body(text, Coding::gzip);
    CHECK(deflated.size() < text.size() / 4);
    CHECK(zlib_inflate(deflated, 15) == text);  // a zlib stream, as HTTP's deflate means
    CHECK(zlib_inflate(gzipped, 31) == text);
    CHECK(static_cast<unsigned char>(gzipped[0]) == 0x1f);
    CHECK(static_cast<unsigned char>(gzipped[1]) == 0x8b);
    CHECK(inflate_body(compress_body("", Coding::gzip), Coding::gzip, 10).empty());
}

TEST_CASE("corrupt, truncated and padded bodies are a 400") {
    const std::string text = sample();
    std::string z = zlib_compress(text, 15);
    std::string g = zlib_compress(text, 31);
    CHECK(status_of([&] { inflate_body("this is not deflate at all", Coding::deflate, mib); }) == 400);
    CHECK(status_of([&] { inflate_body("", Coding::deflate, mib); }) == 400);
    CHECK(status_of([&] { inflate_body("", Coding::gzip, mib); }) == 400);
    CHECK(status_of([&] { inflate_body(z.substr(0, z.size() / 2), Coding::deflate, mib); }) == 400);
    CHECK(status_of([&] { inflate_body(g.substr(0, g.size() - 4), Coding::gzip, mib); }) == 400);
    CHECK(status_of([&] { inflate_body(z + "junk", Coding::deflate, mib); }) == 400);
    CHECK(status_of([&] { inflate_body(g + "junk", Coding::gzip, mib); }) == 400);
    CHECK(status_of([&] { inflate_body(text, Coding::gzip, mib); }) == 400);
    std::string flipped = z;
    flipped[flipped.size() - 2] ^= 0x55;  // Adler-32 check fails
    CHECK(status_of([&] { inflate_body(flipped, Coding::deflate, mib); }) == 400);
}

TEST_CASE("a zip bomb stops at the bound") {
    // 64 MiB of zeros in about 65 kB, four times the host's bound of 16 MiB.
    for (int window_bits : {15, -15, 31}) {
        INFO("window bits " << window_bits);
        std::string bomb = zeros_compressed(64 * mib, window_bits);
        CHECK(bomb.size() < mib);
        Coding c = window_bits == 31 ? Coding::gzip : Coding::deflate;
        auto start = std::chrono::steady_clock::now();
        try {
            inflate_body(bomb, c, 16 * mib);
            FAIL("no error");
        } catch (const CodingError& e) {
            CHECK(e.http_status() == 413);
            CHECK(std::string(e.what()).find("inflates to more than 16777216 bytes") != std::string::npos);
        }
        // Inflating stops at the bound instead of after 64 MiB.
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
    }
    // Exactly at the bound is fine.
    CHECK(inflate_body(zlib_compress(std::string(1000, 'a'), 15), Coding::deflate, 1000).size() == 1000);
    CHECK(status_of([] { inflate_body(zlib_compress(std::string(1001, 'a'), 15), Coding::deflate, 1000); }) == 413);
}

TEST_CASE("decode_body undoes every layer, last applied first") {
    const std::string text = sample();
    std::string twice = zlib_compress(zlib_compress(text, 31), 15);  // gzip, then deflate
    CHECK(decode_body(twice, {Coding::gzip, Coding::deflate}, mib) == text);
    CHECK(decode_body(text, {}, mib) == text);
    CHECK(status_of([&] { decode_body(twice, {Coding::deflate, Coding::gzip}, mib); }) == 400);
}

TEST_CASE("Accept-Encoding: listed codings, q-values and *") {
    CHECK(accepts("deflate", Coding::deflate));
    CHECK_FALSE(accepts("deflate", Coding::gzip));
    CHECK(accepts("gzip, deflate", Coding::gzip));
    CHECK(accepts("gzip,deflate", Coding::deflate));
    CHECK(accepts("GZIP", Coding::gzip));
    CHECK(accepts("x-gzip", Coding::gzip));
    CHECK_FALSE(accepts("", Coding::deflate));
    CHECK_FALSE(accepts("identity", Coding::gzip));
    CHECK_FALSE(accepts("br", Coding::gzip));
    CHECK(accepts("deflate;q=0.5", Coding::deflate));
    CHECK(accepts("deflate ; q=1", Coding::deflate));
    CHECK_FALSE(accepts("deflate;q=0", Coding::deflate));
    CHECK_FALSE(accepts("deflate; q=0.000", Coding::deflate));
    CHECK(accepts("deflate;q=0.001", Coding::deflate));
    CHECK(accepts("*", Coding::deflate));
    CHECK(accepts("*", Coding::gzip));
    CHECK_FALSE(accepts("*;q=0", Coding::gzip));
    CHECK_FALSE(accepts("deflate;q=0, *", Coding::deflate));
    CHECK(accepts("deflate;q=0, *", Coding::gzip));
    CHECK(accepts("*;q=0, gzip", Coding::gzip));
}

TEST_CASE("the reply's coding: the request's own, else deflate, else gzip") {
    using C = std::vector<Coding>;
    CHECK(choose_reply_coding("", C{}) == std::nullopt);
    CHECK(choose_reply_coding("", C{Coding::deflate}) == std::nullopt);  // compressed only when allowed
    CHECK(choose_reply_coding("identity", C{}) == std::nullopt);
    CHECK(choose_reply_coding("gzip, deflate", C{}) == Coding::deflate);
    CHECK(choose_reply_coding("gzip, deflate", C{Coding::gzip}) == Coding::gzip);
    CHECK(choose_reply_coding("gzip, deflate", C{Coding::deflate}) == Coding::deflate);
    CHECK(choose_reply_coding("gzip", C{}) == Coding::gzip);
    CHECK(choose_reply_coding("gzip", C{Coding::deflate}) == Coding::gzip);
    CHECK(choose_reply_coding("deflate", C{Coding::gzip}) == Coding::deflate);
    CHECK(std::string(coding_name(Coding::deflate)) == "deflate");
    CHECK(std::string(coding_name(Coding::gzip)) == "gzip");
}
