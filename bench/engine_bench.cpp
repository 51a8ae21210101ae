// The engine alone, without HTTP or a real client: a scripted client uploads
// N contacts by slow sync through smk::Server::process, then a second device
// downloads them by refresh from server, in messages of the size SyncEvolution
// uses. Prints the process's CPU time per item for each phase (getrusage:
// user plus system, so SQLite's writes count too).
#include <malloc.h>
#include <sys/resource.h>

#include <cstdio>
#include <string>

#include "engine_client.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::TestClient;
using smk::test::TestServer;

namespace {

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string contact(std::size_t i) {
    std::string k = std::to_string(i);
    return "BEGIN:VCARD\nVERSION:3.0\nN:Lastname" + k + ";Firstname" + k + ";;;\nFN:Firstname" + k + " Lastname" + k +
           "\nEMAIL;TYPE=INTERNET:person" + k + "@example.com\nTEL;TYPE=CELL:+49 170 555" + k +
           "\nORG:Example GmbH;Sales;;\nNOTE:benchmark contact number " + k + "\nEND:VCARD\n";
}

// Sends the rest of a package until the server's Final, answering each
// message with statuses and a Map of the server's Adds, as clients do;
// returns the number of server items received and leaves the last reply in
// `reply`.
std::size_t drain(TestClient& c, Message& reply) {
    std::size_t received = 0;
    for (;;) {
        Command map;
        map.kind = CommandKind::Map;
        map.cmd_id = "999";
        map.target.uri = "contacts";
        map.source.uri = "./contacts";
        for (const Command& cmd : reply.body)
            if (cmd.kind == CommandKind::Sync) {
                received += cmd.children.size();
                for (const Command& op : cmd.children)
                    for (const Item& it : op.items)
                        if (op.kind == CommandKind::Add)
                            map.map_items.push_back(MapItem{{it.source.uri, ""}, {"luid-" + it.source.uri, ""}});
            }
        Message next = c.message(reply.final);
        next.body = c.statuses_for(reply);
        if (!map.map_items.empty()) next.body.push_back(std::move(map));
        bool was_final = reply.final;
        reply = c.send(next);
        if (was_final) return received;
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t count = argc > 1 ? std::stoul(argv[1]) : 1000;
    std::size_t per_message = 300;  // about what fits SyncEvolution's 150 kB messages
    mallopt(M_MMAP_THRESHOLD, 64 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 128 * 1024 * 1024);
    TestServer ts;
    for (Encoding enc : {Encoding::wbxml, Encoding::xml}) {
        const char* name = enc == Encoding::wbxml ? "WBXML" : "XML";
        std::string user = enc == Encoding::wbxml ? "alice" : "bob";
        TestClient up(*ts.server, std::string("bench-up-") + name, enc);
        up.user = user;
        up.password = user == "alice" ? "secret" : "hunter2";
        double t0 = cpu_seconds();
        Message m = up.message();
        m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "B1"));
        Message reply = up.send(m);
        std::size_t sent = 0;
        while (sent < count) {
            Message msg = up.message(false);
            msg.body = up.statuses_for(reply);
            std::vector<Command> adds;
            for (std::size_t i = 0; i < per_message && sent < count; ++i, ++sent)
                adds.push_back(TestClient::item_command(CommandKind::Add, std::to_string(sent), contact(sent)));
            msg.body.push_back(TestClient::sync("contacts", std::move(adds), 900));
            msg.final = sent == count;
            reply = up.send(msg);
        }
        drain(up, reply);
        double t1 = cpu_seconds();

        TestClient down(*ts.server, std::string("bench-down-") + name, enc);
        down.user = up.user;
        down.password = up.password;
        m = down.message();
        m.body.push_back(TestClient::alert("205", "contacts", "./contacts", "", "B2"));
        reply = down.send(m);
        Message pkg3 = down.message();
        pkg3.body = down.statuses_for(reply);
        pkg3.body.push_back(TestClient::sync("contacts", {}, 900));
        reply = down.send(pkg3);
        std::size_t received = drain(down, reply);
        double t2 = cpu_seconds();
        std::printf("%-6s upload   %zu items: %7.1f us CPU per item\n", name, count, (t1 - t0) / count * 1e6);
        std::printf("%-6s download %zu items: %7.1f us CPU per item\n", name, received, (t2 - t1) / count * 1e6);

        // A third device that holds the same contacts, written back in
        // another form (PRODID, REV, empty properties, another order), slow
        // syncs: every item must pair with the server's, none is added.
        TestClient again(*ts.server, std::string("bench-again-") + name, enc);
        again.user = up.user;
        again.password = up.password;
        m = again.message();
        m.body.push_back(TestClient::alert("201", "contacts", "./contacts", "", "B3"));
        reply = again.send(m);
        sent = 0;
        while (sent < count) {
            Message msg = again.message(false);
            msg.body = again.statuses_for(reply);
            std::vector<Command> ops;
            for (std::size_t i = 0; i < per_message && sent < count; ++i, ++sent) {
                std::string card = contact(sent);
                card.insert(card.find("\nN:") + 1, "PRODID:-//bench//EN\nREV:20260101T000000Z\nTITLE:\nURL:\n");
                ops.push_back(TestClient::item_command(CommandKind::Replace, "w" + std::to_string(sent), card));
            }
            msg.body.push_back(TestClient::sync("contacts", std::move(ops), 900));
            msg.final = sent == count;
            reply = again.send(msg);
        }
        std::size_t sent_back = drain(again, reply);
        double t3 = cpu_seconds();
        std::size_t stored = 0;  // counted through a cursor: the bench's own memory stays out of the peak
        auto cursor = ts.stores->open(user, Category::contacts)->list();
        for (ItemVersion v; cursor->next(v);) ++stored;
        std::printf("%-6s paired   %zu items: %7.1f us CPU per item, %zu sent back, store holds %zu\n", name, count,
                    (t3 - t2) / count * 1e6, sent_back, stored);
    }
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    std::printf("peak RSS: %ld MB\n", u.ru_maxrss / 1024);
    return 0;
}
