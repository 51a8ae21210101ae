// syncmlkit-dump FILE...: prints SyncML messages, XML or WBXML, as indented
// XML with a nested DevInf decoded, and says what is wrong with a bad one.
#include <cstdio>
#include <cstring>
#include <string>

#include "../common/read_input.hpp"
#include "syncmlkit/wire.hpp"

namespace {

const char* kUsage =
    "usage: syncmlkit-dump [--xml|--wbxml] [--encode=xml|--encode=wbxml] FILE...\n"
    "Prints each SyncML message (XML or WBXML, told apart by its first bytes\n"
    "unless --xml or --wbxml says) as indented XML. '-' reads standard input.\n"
    "--encode=xml|wbxml writes the message re-encoded by SyncMLKit instead, as\n"
    "bytes: for handing a captured message to another tool.\n"
    "Exit status: 0 when every file decoded, 1 otherwise, 2 on bad usage.\n";


}  // namespace

int main(int argc, char** argv) {
    using namespace smk::wire;
    std::optional<Encoding> forced, reencode;
    int first = 1;
    for (; first < argc && argv[first][0] == '-' && argv[first][1] == '-'; ++first) {
        if (!std::strcmp(argv[first], "--xml")) forced = Encoding::xml;
        else if (!std::strcmp(argv[first], "--wbxml")) forced = Encoding::wbxml;
        else if (!std::strcmp(argv[first], "--encode=xml")) reencode = Encoding::xml;
        else if (!std::strcmp(argv[first], "--encode=wbxml")) reencode = Encoding::wbxml;
        else if (!std::strcmp(argv[first], "--help")) {
            std::fputs(kUsage, stdout);
            return 0;
        } else {
            std::fprintf(stderr, "syncmlkit-dump: unknown option %s\n%s", argv[first], kUsage);
            return 2;
        }
    }
    if (first >= argc) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    bool many = argc - first > 1;
    int status = 0;
    for (int i = first; i < argc; ++i) {
        std::string path = argv[i], bytes;
        if (!smk::tools::read_input(path, bytes)) {
            std::fprintf(stderr, "%s: cannot read: %s\n", path.c_str(), std::strerror(errno));
            status = 1;
            continue;
        }
        std::optional<Encoding> enc = forced ? forced : sniff_encoding(bytes);
        if (!enc) {
            std::fprintf(stderr, "%s: neither XML nor WBXML (first byte 0x%02X)\n", path.c_str(),
                         bytes.empty() ? 0u : static_cast<unsigned char>(bytes[0]));
            status = 1;
            continue;
        }
        try {
            if (reencode) {
                std::string out = encode(decode(bytes, *enc), *reencode);
                std::fwrite(out.data(), 1, out.size(), stdout);
                continue;
            }
            std::string xml = render_xml(bytes, *enc);
            decode(bytes, *enc);  // also a well-formed SyncML message?
            if (many) std::printf("==> %s (%s, %zu bytes) <==\n", path.c_str(),
                                  *enc == Encoding::wbxml ? "WBXML" : "XML", bytes.size());
            std::fwrite(xml.data(), 1, xml.size(), stdout);
        } catch (const DecodeError& e) {
            std::fprintf(stderr, "%s: %s\n", path.c_str(), e.what());
            status = 1;
        }
    }
    return status;
}
