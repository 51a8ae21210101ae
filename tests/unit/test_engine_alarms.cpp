// A Recover must not make old reminders fire again: a refresh from the
// server and a slow sync send events and tasks without the alarms whose time
// has passed, in the store's own format and converted; the store keeps every
// alarm, and a two-way sync sends items exactly as stored. Times are set
// around the real clock, since the engine reads it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <ctime>
#include <map>

#include "engine_client.hpp"

using namespace smk;
using namespace smk::wire;
using smk::test::find_status;
using smk::test::TestClient;
using smk::test::TestServer;
using namespace smk::test::steps;

namespace {

const Format kICal{"text/calendar", "2.0"};

// "20250601T120000Z" for now + `days`.
std::string utc_in_days(int days) {
    std::time_t t = std::time(nullptr) + static_cast<std::time_t>(days) * 86400;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &tm);
    return text;
}

std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
    return n;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string valarm(const std::string& name, const std::string& trigger) {
    return "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:" + name + "\r\nTRIGGER" + trigger + "\r\nEND:VALARM\r\n";
}

std::string vevent(const std::string& summary, const std::string& props, const std::string& alarms) {
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//alarms//EN\r\nBEGIN:VEVENT\r\nUID:" + summary +
           "@test\r\nSUMMARY:" + summary + "\r\n" + props + alarms + "END:VEVENT\r\nEND:VCALENDAR\r\n";
}

std::string vtodo(const std::string& summary, const std::string& props, const std::string& alarms) {
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//alarms//EN\r\nBEGIN:VTODO\r\nUID:" + summary +
           "@test\r\nSUMMARY:" + summary + "\r\n" + props + alarms + "END:VTODO\r\nEND:VCALENDAR\r\n";
}

// The events of the tests, by SUMMARY, as stored.
std::map<std::string, std::string> calendar_items() {
    return {
        {"Past", vevent("Past", "DTSTART:" + utc_in_days(-30) + "\r\nDTEND:" + utc_in_days(-30) + "\r\n",
                        valarm("past-15m", ":-PT15M"))},
        {"Future", vevent("Future", "DTSTART:" + utc_in_days(30) + "\r\n",
                          valarm("future-15m", ":-PT15M") + valarm("future-1d", ":-P1D"))},
        {"Mixed", vevent("Mixed", "DTSTART:" + utc_in_days(30) + "\r\n",
                         valarm("mixed-15m", ":-PT15M") + valarm("mixed-at-old", ";VALUE=DATE-TIME:" + utc_in_days(-40)))},
        {"Weekly", vevent("Weekly", "DTSTART:" + utc_in_days(-365) + "\r\nRRULE:FREQ=WEEKLY\r\n",
                          valarm("weekly-15m", ":-PT15M"))},
        {"Ended series", vevent("Ended series", "DTSTART:" + utc_in_days(-60) + "\r\nRRULE:FREQ=DAILY;COUNT=3\r\n",
                                valarm("ended-15m", ":-PT15M"))},
        {"No alarm", vevent("No alarm", "DTSTART:" + utc_in_days(-30) + "\r\n", "")},
    };
}

// SUMMARY line -> item data, of what a Sync carried.
std::map<std::string, std::string> by_summary(const std::vector<Command>& ops, const std::string& summary_prefix) {
    std::map<std::string, std::string> out;
    for (const Command& op : ops) {
        REQUIRE(op.items.size() == 1);
        const std::string& data = op.items[0].data;
        std::size_t at = data.find(summary_prefix);
        REQUIRE(at != std::string::npos);
        std::size_t from = at + summary_prefix.size();
        out[data.substr(from, data.find('\r', from) - from)] = data;
    }
    return out;
}

// Every stored item still holds all its alarms, byte for byte as it was.
void check_store_unchanged(TestServer& ts, Category category, const std::map<std::string, std::string>& items) {
    std::vector<std::string> stored = ts.items("alice", category);
    CHECK(stored.size() == items.size());
    for (const auto& [summary, data] : items) {
        INFO(summary);
        CHECK(std::count(stored.begin(), stored.end(), data) == 1);
    }
}

std::size_t log_lines_with(TestServer& ts, const std::string& part) {
    std::lock_guard<std::mutex> lock(ts.logger->mutex);
    return static_cast<std::size_t>(std::count_if(ts.logger->lines.begin(), ts.logger->lines.end(),
                                                  [&](const std::string& l) { return has(l, part); }));
}

}  // namespace

TEST_CASE("a refresh from the server sends events without past alarms; the store keeps them") {
    TestServer ts;
    std::map<std::string, std::string> items = calendar_items();
    auto store = ts.stores->open("alice", Category::calendar);
    for (const auto& [summary, data] : items) store->add(kICal, data);

    TestClient desktop(*ts.server, "evo-cal");
    Message pkg2 = init_with_devinf(desktop, {"evo-cal", "text/calendar", "2.0", "calendar"}, "205", "D1");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    Message pkg4 = client_changes(desktop, pkg2, "calendar", {});
    std::vector<Command> ops = server_ops(pkg4);
    REQUIRE(ops.size() == items.size());
    std::map<std::string, std::string> got = by_summary(ops, "SUMMARY:");
    REQUIRE(got.size() == items.size());
    for (const Command& op : ops) CHECK(op.kind == CommandKind::Add);

    CHECK(count_of(got["Past"], "BEGIN:VALARM") == 0);
    CHECK_FALSE(has(got["Past"], "past-15m"));
    CHECK(has(got["Past"], "SUMMARY:Past\r\n"));  // the event itself goes
    CHECK(count_of(got["Mixed"], "BEGIN:VALARM") == 1);
    CHECK(has(got["Mixed"], "DESCRIPTION:mixed-15m"));
    CHECK_FALSE(has(got["Mixed"], "mixed-at-old"));
    CHECK(count_of(got["Weekly"], "BEGIN:VALARM") == 1);  // next week's occurrence is to come
    CHECK(count_of(got["Ended series"], "BEGIN:VALARM") == 0);
    // Items that lose nothing go out exactly as stored.
    CHECK(got["Future"] == items["Future"]);
    CHECK(got["Weekly"] == items["Weekly"]);
    CHECK(got["No alarm"] == items["No alarm"]);

    // One log line per item that lost alarms: Past, Mixed, Ended series.
    CHECK(log_lines_with(ts, "past alarm(s) left out") == 3);
    CHECK(ts.logger->contains("1 past alarm(s) left out, 1 kept"));

    map_phase(desktop, pkg4, "calendar");
    CHECK(desktop.last_response.session_ended);
    check_store_unchanged(ts, Category::calendar, items);

    // A two-way sync afterwards sends server changes exactly as stored, past alarms and all.
    auto listing = store->list();
    ItemVersion v;
    std::string past_guid;
    while (listing->next(v))
        if (has(store->read(v.guid)->data, "SUMMARY:Past\r\n")) past_guid = v.guid;
    listing.reset();
    REQUIRE_FALSE(past_guid.empty());
    std::string past_changed = items["Past"];
    past_changed.replace(past_changed.find("SUMMARY:Past"), 12, "SUMMARY:Past moved");
    REQUIRE(store->replace(past_guid, kICal, past_changed));
    std::string added = vevent("Added", "DTSTART:" + utc_in_days(-2) + "\r\n", valarm("added-old", ":-PT15M"));
    store->add(kICal, added);

    desktop.new_session();
    pkg2 = init(desktop, "200", "calendar", "D1", "D2");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    pkg4 = client_changes(desktop, pkg2, "calendar", {});
    ops = server_ops(pkg4);
    REQUIRE(ops.size() == 2);
    got = by_summary(ops, "SUMMARY:");
    CHECK(got["Past moved"] == past_changed);
    CHECK(got["Added"] == added);
    CHECK(count_of(got["Past moved"], "BEGIN:VALARM") == 1);
    CHECK(count_of(got["Added"], "BEGIN:VALARM") == 1);
    CHECK(log_lines_with(ts, "past alarm(s) left out") == 3);  // none more
    map_phase(desktop, pkg4, "calendar");
}

TEST_CASE("a vCalendar 1.0 phone's refresh and a slow sync leave past alarms out too") {
    TestServer ts;
    std::map<std::string, std::string> items = calendar_items();
    auto store = ts.stores->open("alice", Category::calendar);
    for (const auto& [summary, data] : items) store->add(kICal, data);

    TestClient phone(*ts.server, "IMEI:42");
    Message pkg2 = init_with_devinf(phone, {"IMEI:42", "text/x-vcalendar", "1.0", "calendar", "Nokia", "6230i"}, "205", "P1");
    Message pkg4 = client_changes(phone, pkg2, "calendar", {});
    std::vector<Command> ops = server_ops(pkg4);
    REQUIRE(ops.size() == items.size());
    std::map<std::string, std::string> got = by_summary(ops, "SUMMARY:");
    for (const auto& [summary, data] : got) {
        INFO(summary);
        CHECK(has(data, "VERSION:1.0\r\n"));
    }
    CHECK(count_of(got["Past"], "DALARM") == 0);
    CHECK(count_of(got["Mixed"], "DALARM") == 1);
    CHECK(has(got["Mixed"], "mixed-15m"));
    CHECK(count_of(got["Future"], "DALARM") == 2);
    CHECK(count_of(got["Weekly"], "DALARM") == 1);
    CHECK(count_of(got["Ended series"], "DALARM") == 0);
    map_phase(phone, pkg4, "calendar");
    check_store_unchanged(ts, Category::calendar, items);

    // A new iCalendar client's first (slow) sync: the same.
    TestClient laptop(*ts.server, "evo-laptop");
    pkg2 = init_with_devinf(laptop, {"evo-laptop", "text/calendar", "2.0", "calendar"}, "201", "L1");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    pkg4 = client_changes(laptop, pkg2, "calendar", {});
    ops = server_ops(pkg4);
    REQUIRE(ops.size() == items.size());
    got = by_summary(ops, "SUMMARY:");
    CHECK(count_of(got["Past"], "BEGIN:VALARM") == 0);
    CHECK(count_of(got["Mixed"], "BEGIN:VALARM") == 1);
    CHECK(count_of(got["Ended series"], "BEGIN:VALARM") == 0);
    CHECK(got["Future"] == items["Future"]);
    CHECK(got["Weekly"] == items["Weekly"]);
    map_phase(laptop, pkg4, "calendar");
    check_store_unchanged(ts, Category::calendar, items);
}

TEST_CASE("tasks: a refresh leaves out alarms of a DUE gone by, keeps those to come") {
    TestServer ts;
    std::map<std::string, std::string> items = {
        {"Overdue", vtodo("Overdue", "DUE:" + utc_in_days(-10) + "\r\n", valarm("overdue-1h", ";RELATED=END:-PT1H"))},
        {"Due soon", vtodo("Due soon", "DUE:" + utc_in_days(10) + "\r\n", valarm("soon-1h", ";RELATED=END:-PT1H"))},
        {"Started", vtodo("Started", "DTSTART:" + utc_in_days(-10) + "\r\nDUE:" + utc_in_days(10) + "\r\n",
                          valarm("at-start", ":PT0S") + valarm("at-due", ";RELATED=END:PT0S"))},
    };
    auto store = ts.stores->open("alice", Category::tasks);
    for (const auto& [summary, data] : items) store->add(kICal, data);

    TestClient desktop(*ts.server, "evo-tasks");
    Message pkg2 = init_with_devinf(desktop, {"evo-tasks", "text/calendar", "2.0", "tasks"}, "205", "T1");
    Message pkg4 = client_changes(desktop, pkg2, "tasks", {});
    std::vector<Command> ops = server_ops(pkg4);
    REQUIRE(ops.size() == 3);
    std::map<std::string, std::string> got = by_summary(ops, "SUMMARY:");
    CHECK(count_of(got["Overdue"], "BEGIN:VALARM") == 0);
    CHECK(got["Due soon"] == items["Due soon"]);
    CHECK(count_of(got["Started"], "BEGIN:VALARM") == 1);
    CHECK(has(got["Started"], "DESCRIPTION:at-due"));
    CHECK_FALSE(has(got["Started"], "at-start"));
    map_phase(desktop, pkg4, "tasks");
    check_store_unchanged(ts, Category::tasks, items);

    // Two-way: nothing to send, and the store is as it was.
    desktop.new_session();
    pkg2 = init(desktop, "200", "tasks", "T1", "T2");
    CHECK(find_status(pkg2, "Alert")->data == "200");
    CHECK(server_ops(client_changes(desktop, pkg2, "tasks", {})).empty());
    check_store_unchanged(ts, Category::tasks, items);
}
