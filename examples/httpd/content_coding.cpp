#include "content_coding.hpp"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <new>

namespace smk::httpd {

namespace {

std::string lower_trimmed(std::string_view s) {
    auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    auto last = s.find_last_not_of(" \t");
    std::string out(s.substr(first, last - first + 1));
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// Calls f(piece) for each comma-separated piece of a header value.
template <typename F>
void for_each_element(std::string_view header, F f) {
    while (true) {
        auto comma = header.find(',');
        f(header.substr(0, comma));
        if (comma == std::string_view::npos) break;
        header.remove_prefix(comma + 1);
    }
}

// RFC 1950 header: compression method 8, window at most 32 kB, no preset
// dictionary, and the check bits.
bool looks_like_zlib(std::string_view data) {
    if (data.size() < 2) return false;
    auto cmf = static_cast<unsigned char>(data[0]);
    auto flg = static_cast<unsigned char>(data[1]);
    return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && (flg & 0x20) == 0 && (cmf * 256u + flg) % 31 == 0;
}

class Inflater {
public:
    explicit Inflater(int window_bits) {
        if (inflateInit2(&zs_, window_bits) != Z_OK) throw std::bad_alloc();
    }
    ~Inflater() { inflateEnd(&zs_); }
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;

    // Inflates everything; `several_members` lets gzip members follow one another.
    std::string run(std::string_view data, bool several_members, std::size_t max_size, const char* name) {
        std::string out;
        char buffer[64 * 1024];
        auto next = reinterpret_cast<const Bytef*>(data.data());
        std::size_t left = data.size();
        auto feed = [&] {
            if (zs_.avail_in == 0 && left > 0) {
                auto n = static_cast<uInt>(std::min<std::size_t>(left, UINT_MAX));
                zs_.next_in = const_cast<Bytef*>(next);  // zlib's API is not const-correct
                zs_.avail_in = n;
                next += n;
                left -= n;
            }
        };
        feed();
        while (true) {
            zs_.next_out = reinterpret_cast<Bytef*>(buffer);
            zs_.avail_out = sizeof buffer;
            int rc = inflate(&zs_, Z_NO_FLUSH);
            std::size_t produced = sizeof buffer - zs_.avail_out;
            if (produced > max_size - out.size()) {
                throw CodingError(413, std::string(name) + " body inflates to more than " + std::to_string(max_size) +
                                           " bytes");
            }
            out.append(buffer, produced);
            feed();
            if (rc == Z_STREAM_END) {
                if (zs_.avail_in == 0) return out;
                if (!several_members) {
                    throw CodingError(400, std::string(name) + " body: data after the end of the stream");
                }
                inflateReset(&zs_);
                continue;
            }
            if (rc == Z_BUF_ERROR && zs_.avail_in == 0) {
                throw CodingError(400, std::string(name) + " body is truncated");
            }
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                throw CodingError(400, std::string(name) + " body is corrupt" +
                                           (zs_.msg ? std::string(": ") + zs_.msg : std::string()));
            }
        }
    }

private:
    z_stream zs_{};
};

class Deflater {
public:
    explicit Deflater(int window_bits) {
        if (deflateInit2(&zs_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            throw std::bad_alloc();
        }
    }
    ~Deflater() { deflateEnd(&zs_); }
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;

    std::string run(std::string_view data) {
        std::string out(deflateBound(&zs_, static_cast<uLong>(data.size())), '\0');
        zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
        zs_.avail_in = static_cast<uInt>(data.size());
        zs_.next_out = reinterpret_cast<Bytef*>(out.data());
        zs_.avail_out = static_cast<uInt>(out.size());
        // deflateBound() room means one Z_FINISH call completes the stream.
        if (deflate(&zs_, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate failed");
        out.resize(zs_.total_out);
        return out;
    }

private:
    z_stream zs_{};
};

// Whether a q parameter's value is zero ("0", "0.0", "0.000").
bool q_is_zero(std::string_view v) {
    if (v.empty() || v[0] != '0') return false;
    if (v.size() == 1) return true;
    if (v[1] != '.') return false;
    return v.substr(2).find_first_not_of('0') == std::string_view::npos;
}

}  // namespace

const char* coding_name(Coding c) { return c == Coding::gzip ? "gzip" : "deflate"; }

std::vector<Coding> parse_content_encoding(std::string_view header) {
    std::vector<Coding> codings;
    for_each_element(header, [&](std::string_view piece) {
        std::string name = lower_trimmed(piece);
        if (name.empty() || name == "identity") return;
        if (name == "deflate") {
            codings.push_back(Coding::deflate);
        } else if (name == "gzip" || name == "x-gzip") {
            codings.push_back(Coding::gzip);
        } else {
            throw CodingError(415, "unsupported Content-Encoding \"" + std::string(piece) +
                                       "\" (this server reads gzip and deflate)");
        }
    });
    return codings;
}

std::string inflate_body(std::string_view data, Coding c, std::size_t max_size) {
    if (c == Coding::gzip) return Inflater(16 + MAX_WBITS).run(data, true, max_size, "gzip");
    if (looks_like_zlib(data)) {
        try {
            return Inflater(MAX_WBITS).run(data, false, max_size, "deflate");
        } catch (const CodingError& e) {
            // A raw stream can start with two bytes that pass for a zlib header.
            if (e.http_status() != 400) throw;
            try {
                return Inflater(-MAX_WBITS).run(data, false, max_size, "deflate");
            } catch (const CodingError& raw) {
                if (raw.http_status() != 400) throw;
                throw e;
            }
        }
    }
    return Inflater(-MAX_WBITS).run(data, false, max_size, "deflate");
}

std::string decode_body(std::string data, const std::vector<Coding>& codings, std::size_t max_size) {
    for (auto it = codings.rbegin(); it != codings.rend(); ++it) data = inflate_body(data, *it, max_size);
    return data;
}

std::string compress_body(std::string_view data, Coding c) {
    if (data.size() > UINT_MAX / 2) throw std::length_error("body too large to compress");
    return Deflater(c == Coding::gzip ? 16 + MAX_WBITS : MAX_WBITS).run(data);
}

bool accepts(std::string_view accept_encoding, Coding c) {
    std::optional<bool> listed;    // the coding itself
    std::optional<bool> wildcard;  // *
    for_each_element(accept_encoding, [&](std::string_view piece) {
        auto semicolon = piece.find(';');
        std::string name = lower_trimmed(piece.substr(0, semicolon));
        bool allowed = true;
        while (semicolon != std::string_view::npos) {
            piece.remove_prefix(semicolon + 1);
            semicolon = piece.find(';');
            std::string param = lower_trimmed(piece.substr(0, semicolon));
            if (param.rfind("q=", 0) == 0) allowed = !q_is_zero(lower_trimmed(std::string_view(param).substr(2)));
        }
        bool same = name == coding_name(c) || (c == Coding::gzip && name == "x-gzip");
        if (same) listed = listed.value_or(false) || allowed;
        if (name == "*") wildcard = allowed;
    });
    if (listed) return *listed;
    return wildcard.value_or(false);
}

std::optional<Coding> choose_reply_coding(std::string_view accept_encoding, const std::vector<Coding>& request_codings) {
    if (!request_codings.empty() && accepts(accept_encoding, request_codings.back())) return request_codings.back();
    if (accepts(accept_encoding, Coding::deflate)) return Coding::deflate;
    if (accepts(accept_encoding, Coding::gzip)) return Coding::gzip;
    return std::nullopt;
}

}  // namespace smk::httpd
