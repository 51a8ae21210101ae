// Decodes one SyncML message with the installed library and prints the
// library's version and what the message says: both the C ABI and the C++
// API, from their installed headers.
#include <syncmlkit.h>
#include <syncmlkit/wire.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: consumer MESSAGE\n";
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto enc = smk::wire::sniff_encoding(bytes);
    if (!in || !enc) {
        std::cerr << "consumer: cannot read " << argv[1] << " as a SyncML message\n";
        return 1;
    }
    try {
        smk::wire::Message msg = smk::wire::decode(bytes, *enc);
        std::cout << "syncmlkit " << smk_version() << "\n"
                  << "source " << msg.header.source.uri << "\n"
                  << "commands " << msg.body.size() << "\n";
    } catch (const smk::wire::DecodeError& e) {
        std::cerr << "consumer: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
