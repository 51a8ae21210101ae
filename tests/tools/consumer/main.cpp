// Decodes one SyncML message with the installed library and prints the
// library's version and what the message says: both the C ABI and the C++
// API, from their installed headers. Then what a host does across the
// shared library's boundary, which needs the typeinfo and vtables of the
// smk classes exported: it derives from smk::AuthProvider (the library's
// check_password calls the host's password() back), and catches the
// library's smk::wire::DecodeError and smk::DatastoreError by type.
#include <syncmlkit.h>
#include <syncmlkit/server.hpp>
#include <syncmlkit/sqlite_store.hpp>
#include <syncmlkit/wire.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>

namespace {

class HostUsers : public smk::AuthProvider {
public:
    std::optional<std::string> password(const std::string& user) override {
        if (user == "alice") return std::string("secret");
        return std::nullopt;
    }
};

}  // namespace

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

    HostUsers users;
    smk::AuthProvider& auth = users;
    std::cout << "check_password alice/secret " << auth.check_password("alice", "secret") << " alice/wrong "
              << auth.check_password("alice", "wrong") << " bob/secret " << auth.check_password("bob", "secret")
              << "\n";
    try {
        smk::wire::decode("<SyncML><SyncHdr>", smk::wire::Encoding::xml);
        std::cout << "decode: no error\n";
    } catch (const smk::wire::DecodeError&) {
        std::cout << "decode: caught smk::wire::DecodeError\n";
    }
    try {
        smk::SqliteStoreProvider store("/dev/null/no-such-dir");
        store.open("alice", smk::Category::contacts);
        std::cout << "open: no error\n";
    } catch (const smk::DatastoreError&) {
        std::cout << "open: caught smk::DatastoreError\n";
    } catch (const std::exception& e) {
        std::cout << "open: caught another exception: " << e.what() << "\n";
    }
    return 0;
}
