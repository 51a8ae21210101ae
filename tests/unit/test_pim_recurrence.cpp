// Recurrence rules: RFC 5545 RRULE text, the vCalendar 1.0 basic grammar in
// both directions (with both readings of "#N" and Funambol Outlook's "5+"),
// and the expander. Expected occurrences are the ones RFC 5545 §3.8.5.3 and
// the vCalendar 1.0 spec list, written out by hand.
#include <catch2/catch.hpp>

#include <random>

#include "pim/recurrence.hpp"

using namespace smk::pim;
using namespace smk::pim::recurrence;

namespace {

DateTime floating(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
    DateTime dt;
    dt.year = y;
    dt.month = mo;
    dt.day = d;
    dt.hour = h;
    dt.minute = mi;
    dt.second = s;
    dt.kind = DateTime::Kind::floating;
    return dt;
}

DateTime utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
    DateTime dt = floating(y, mo, d, h, mi, s);
    dt.kind = DateTime::Kind::utc;
    return dt;
}

DateTime date(int y, int mo, int d) {
    DateTime dt = floating(y, mo, d);
    dt.kind = DateTime::Kind::date;
    return dt;
}

std::string two(int n) { return std::string(1, char('0' + n / 10)) + char('0' + n % 10); }

// "19970902T090000", "...Z" for UTC, "19970902" for a date.
std::string text(const DateTime& dt) {
    std::string out = std::to_string(dt.year) + two(dt.month) + two(dt.day);
    if (dt.kind == DateTime::Kind::date) return out;
    out += "T" + two(dt.hour) + two(dt.minute) + two(dt.second);
    if (dt.kind == DateTime::Kind::utc) out += "Z";
    return out;
}

std::vector<std::string> texts(const std::vector<DateTime>& dts) {
    std::vector<std::string> out;
    for (const DateTime& dt : dts) out.push_back(text(dt));
    return out;
}

Recurrence rrule(std::string_view value) {
    std::vector<Warning> warnings;
    std::optional<Recurrence> rule = parse_rrule(value, 1, &warnings);
    INFO(std::string(value));
    REQUIRE(rule);
    CHECK(warnings.empty());
    return *rule;
}

std::vector<std::string> occurrences(std::string_view rule, const DateTime& start, std::size_t limit = 200,
                                     int last_year = 2100) {
    return texts(expand(rrule(rule), start, limit, last_year));
}

Recurrence vcal(std::string_view value, const DateTime& start, const Profile& profile = {},
                std::vector<Warning>* warnings = nullptr) {
    std::vector<Warning> own;
    std::optional<Recurrence> rule = parse_vcal_rule(value, start, profile, 7, warnings ? warnings : &own);
    INFO(std::string(value));
    REQUIRE(rule);
    if (!warnings) CHECK(own.empty());
    return *rule;
}

std::string vcal_rrule(std::string_view value, const DateTime& start, const Profile& profile = {}) {
    return format_rrule(vcal(value, start, profile));
}

std::optional<std::string> to_vcal(std::string_view rule, const DateTime& start, const Profile& profile = {},
                                   std::vector<Warning>* losses = nullptr) {
    return format_vcal_rule(rrule(rule), start, profile, losses);
}

bool mentions(const std::vector<Warning>& warnings, const std::string& what) {
    for (const Warning& w : warnings)
        if (w.message.find(what) != std::string::npos) return true;
    return false;
}

Profile intervals_profile() {
    Profile p;
    p.vcal_count_is_intervals = true;
    return p;
}

Profile outlook_profile() {
    Profile p;
    p.name = "funambol-outlook";
    p.last_week_is_5_plus = true;
    return p;
}

using Strings = std::vector<std::string>;

}  // namespace

// ------------------------------------------------------------ RRULE text --

TEST_CASE("parse_rrule reads every part and format_rrule writes them in the usual order") {
    Recurrence r = rrule("FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU,+2MO;BYMONTHDAY=1,-3;BYYEARDAY=100,-1;"
                         "BYWEEKNO=20,-1;BYMONTH=1,12;BYSETPOS=-1;BYHOUR=8,9;BYMINUTE=30;BYSECOND=0,60;WKST=SU");
    CHECK(r.frequency == Recurrence::Frequency::monthly);
    CHECK(r.interval == 2);
    CHECK(r.count == 10);
    REQUIRE(r.by_day.size() == 3);
    CHECK(r.by_day[0] == Recurrence::WeekdayNum{1, 0});
    CHECK(r.by_day[1] == Recurrence::WeekdayNum{-1, 0});
    CHECK(r.by_day[2] == Recurrence::WeekdayNum{2, 1});
    CHECK(r.by_month_day == std::vector<int>{1, -3});
    CHECK(r.by_year_day == std::vector<int>{100, -1});
    CHECK(r.by_week_no == std::vector<int>{20, -1});
    CHECK(r.by_month == std::vector<int>{1, 12});
    CHECK(r.by_set_pos == std::vector<int>{-1});
    CHECK(r.by_hour == std::vector<int>{8, 9});
    CHECK(r.by_minute == std::vector<int>{30});
    CHECK(r.by_second == std::vector<int>{0, 60});
    CHECK(r.week_start == 0);
    CHECK(format_rrule(r) ==
          "FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYSECOND=0,60;BYMINUTE=30;BYHOUR=8,9;BYDAY=1SU,-1SU,2MO;"
          "BYMONTHDAY=1,-3;BYYEARDAY=100,-1;BYWEEKNO=20,-1;BYMONTH=1,12;BYSETPOS=-1;WKST=SU");
}

TEST_CASE("parse_rrule: UNTIL as a date, a floating and a UTC date-time") {
    Recurrence d = rrule("FREQ=DAILY;UNTIL=19971224");
    REQUIRE(d.until);
    CHECK(*d.until == date(1997, 12, 24));
    Recurrence f = rrule("FREQ=DAILY;UNTIL=19971224T083000");
    CHECK(*f.until == floating(1997, 12, 24, 8, 30));
    Recurrence u = rrule("FREQ=DAILY;UNTIL=19971224T000000Z");
    CHECK(*u.until == utc(1997, 12, 24));
    CHECK(format_rrule(d) == "FREQ=DAILY;UNTIL=19971224");
    CHECK(format_rrule(f) == "FREQ=DAILY;UNTIL=19971224T083000");
    CHECK(format_rrule(u) == "FREQ=DAILY;UNTIL=19971224T000000Z");
}

TEST_CASE("parse_rrule is lenient about case and a trailing ';', and leaves out INTERVAL=1 and WKST=MO") {
    Recurrence r = rrule("freq=weekly;interval=1;byday=tu,th;wkst=mo;");
    CHECK(format_rrule(r) == "FREQ=WEEKLY;BYDAY=TU,TH");
}

TEST_CASE("parse_rrule warns about unknown and broken parts and keeps the rest") {
    std::vector<Warning> w;
    std::optional<Recurrence> r =
        parse_rrule("FREQ=WEEKLY;X-NAME=1;BYDAY=TU,XX,9TH;INTERVAL=zero;COUNT=-3;BYMONTH=13,2;WKST=XY;JUNK", 12, &w);
    REQUIRE(r);
    CHECK(format_rrule(*r) == "FREQ=WEEKLY;BYDAY=TU,9TH;BYMONTH=2");
    CHECK(mentions(w, "X-NAME=1"));
    CHECK(mentions(w, "\"XX\""));
    CHECK(mentions(w, "INTERVAL"));
    CHECK(mentions(w, "COUNT"));
    CHECK(mentions(w, "\"13\""));
    CHECK(mentions(w, "WKST"));
    CHECK(mentions(w, "JUNK"));
    CHECK_FALSE(mentions(w, "9TH"));  // a 9th Thursday is a valid (if useless) weekly BYDAY
    for (const Warning& warning : w) CHECK(warning.line == 12);
}

TEST_CASE("parse_rrule without a usable FREQ gives no rule; COUNT with UNTIL keeps UNTIL") {
    std::vector<Warning> w;
    CHECK_FALSE(parse_rrule("INTERVAL=2;COUNT=3", 3, &w));
    CHECK_FALSE(parse_rrule("FREQ=FORTNIGHTLY", 3, &w));
    CHECK_FALSE(parse_rrule("", 3, &w));
    CHECK(w.size() >= 3);
    w.clear();
    std::optional<Recurrence> r = parse_rrule("FREQ=DAILY;COUNT=3;UNTIL=20240101", 4, &w);
    REQUIRE(r);
    CHECK(format_rrule(*r) == "FREQ=DAILY;UNTIL=20240101");
    CHECK(mentions(w, "UNTIL is kept"));
}

// ----------------------------------------------- RFC 5545 §3.8.5.3 examples --

TEST_CASE("expand: daily for 10, until, every 10 days") {
    CHECK(occurrences("FREQ=DAILY;COUNT=10", floating(1997, 9, 2, 9)) ==
          Strings{"19970902T090000", "19970903T090000", "19970904T090000", "19970905T090000", "19970906T090000",
                  "19970907T090000", "19970908T090000", "19970909T090000", "19970910T090000", "19970911T090000"});
    // Until 24 Dec 00:00 (compared on the start's clock): 2 Sep .. 23 Dec.
    Strings until = occurrences("FREQ=DAILY;UNTIL=19971224T000000Z", floating(1997, 9, 2, 9), 1000);
    CHECK(until.size() == 113);
    CHECK(until.back() == "19971223T090000");
    CHECK(occurrences("FREQ=DAILY;INTERVAL=10;COUNT=5", floating(1997, 9, 2, 9)) ==
          Strings{"19970902T090000", "19970912T090000", "19970922T090000", "19971002T090000", "19971012T090000"});
}

TEST_CASE("expand: every day in January for 3 years, yearly and daily forms") {
    Strings yearly = occurrences("FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA",
                                 floating(1998, 1, 1, 9), 1000);
    Strings daily = occurrences("FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1", floating(1998, 1, 1, 9), 1000);
    CHECK(yearly.size() == 93);
    CHECK(yearly == daily);
    CHECK(yearly[31] == "19990101T090000");
    CHECK(yearly.back() == "20000131T090000");
}

TEST_CASE("expand: every other week on Tuesday and Thursday for 8 occurrences") {
    CHECK(occurrences("FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=TU,TH;COUNT=8", floating(1997, 9, 2, 9)) ==
          Strings{"19970902T090000", "19970904T090000", "19970916T090000", "19970918T090000", "19970930T090000",
                  "19971002T090000", "19971014T090000", "19971016T090000"});
}

TEST_CASE("expand: WKST changes a bi-weekly rule") {
    CHECK(occurrences("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO", floating(1997, 8, 5, 9)) ==
          Strings{"19970805T090000", "19970810T090000", "19970819T090000", "19970824T090000"});
    CHECK(occurrences("FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU", floating(1997, 8, 5, 9)) ==
          Strings{"19970805T090000", "19970817T090000", "19970819T090000", "19970831T090000"});
}

TEST_CASE("expand: monthly on the first Friday for 10 occurrences") {
    CHECK(occurrences("FREQ=MONTHLY;COUNT=10;BYDAY=1FR", floating(1997, 9, 5, 9)) ==
          Strings{"19970905T090000", "19971003T090000", "19971107T090000", "19971205T090000", "19980102T090000",
                  "19980206T090000", "19980306T090000", "19980403T090000", "19980501T090000", "19980605T090000"});
}

TEST_CASE("expand: every other month on the first and last Sunday") {
    CHECK(occurrences("FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU", floating(1997, 9, 7, 9)) ==
          Strings{"19970907T090000", "19970928T090000", "19971102T090000", "19971130T090000", "19980104T090000",
                  "19980125T090000", "19980301T090000", "19980329T090000", "19980503T090000", "19980531T090000"});
}

TEST_CASE("expand: monthly on the second-to-last Monday for 6 months") {
    CHECK(occurrences("FREQ=MONTHLY;COUNT=6;BYDAY=-2MO", floating(1997, 9, 22, 9)) ==
          Strings{"19970922T090000", "19971020T090000", "19971117T090000", "19971222T090000", "19980119T090000",
                  "19980216T090000"});
}

TEST_CASE("expand: negative BYMONTHDAY, and invalid dates are skipped") {
    CHECK(occurrences("FREQ=MONTHLY;BYMONTHDAY=-3", floating(1997, 9, 28, 9), 6) ==
          Strings{"19970928T090000", "19971029T090000", "19971128T090000", "19971229T090000", "19980129T090000",
                  "19980226T090000"});
    // No 30 February: RFC 5545 says such a date is ignored, not moved.
    CHECK(occurrences("FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5", floating(2007, 1, 15, 9)) ==
          Strings{"20070115T090000", "20070130T090000", "20070215T090000", "20070315T090000", "20070330T090000"});
}

TEST_CASE("expand: the last Sunday in October, yearly") {
    CHECK(occurrences("FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", floating(1967, 10, 29, 2), 5) ==
          Strings{"19671029T020000", "19681027T020000", "19691026T020000", "19701025T020000", "19711031T020000"});
}

TEST_CASE("expand: every 3rd year on the 1st, 100th and 200th day for 10 occurrences") {
    CHECK(occurrences("FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200", floating(1997, 1, 1, 9)) ==
          Strings{"19970101T090000", "19970410T090000", "19970719T090000", "20000101T090000", "20000409T090000",
                  "20000718T090000", "20030101T090000", "20030410T090000", "20030719T090000", "20060101T090000"});
}

TEST_CASE("expand: 20th Monday of the year, Monday of week 20, Thursdays in March") {
    CHECK(occurrences("FREQ=YEARLY;BYDAY=20MO", floating(1997, 5, 19, 9), 3) ==
          Strings{"19970519T090000", "19980518T090000", "19990517T090000"});
    CHECK(occurrences("FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", floating(1997, 5, 12, 9), 3) ==
          Strings{"19970512T090000", "19980511T090000", "19990517T090000"});
    CHECK(occurrences("FREQ=YEARLY;BYMONTH=3;BYDAY=TH", floating(1997, 3, 13, 9), 11) ==
          Strings{"19970313T090000", "19970320T090000", "19970327T090000", "19980305T090000", "19980312T090000",
                  "19980319T090000", "19980326T090000", "19990304T090000", "19990311T090000", "19990318T090000",
                  "19990325T090000"});
}

TEST_CASE("expand: Friday the 13th (the start itself is always the first occurrence)") {
    CHECK(occurrences("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", floating(1997, 9, 2, 9), 6) ==
          Strings{"19970902T090000", "19980213T090000", "19980313T090000", "19981113T090000", "19990813T090000",
                  "20001013T090000"});
}

TEST_CASE("expand: US election day every 4 years") {
    CHECK(occurrences("FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8", floating(1996, 11, 5, 9),
                      3) == Strings{"19961105T090000", "20001107T090000", "20041102T090000"});
}

TEST_CASE("expand: BYSETPOS, the third of Tu/We/Th and the last workday of the month") {
    CHECK(occurrences("FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3", floating(1997, 9, 4, 9)) ==
          Strings{"19970904T090000", "19971007T090000", "19971106T090000"});
    CHECK(occurrences("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", floating(1997, 9, 30, 9), 7) ==
          Strings{"19970930T090000", "19971031T090000", "19971128T090000", "19971231T090000", "19980130T090000",
                  "19980227T090000", "19980331T090000"});
}

TEST_CASE("expand: hourly, minutely and BYHOUR/BYMINUTE") {
    CHECK(occurrences("FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000Z", floating(1997, 9, 2, 9)) ==
          Strings{"19970902T090000", "19970902T120000", "19970902T150000"});
    CHECK(occurrences("FREQ=MINUTELY;INTERVAL=15;COUNT=6", floating(1997, 9, 2, 9)) ==
          Strings{"19970902T090000", "19970902T091500", "19970902T093000", "19970902T094500", "19970902T100000",
                  "19970902T101500"});
    Strings daily = occurrences("FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40", floating(1997, 9, 2, 9), 26);
    Strings minutely =
        occurrences("FREQ=MINUTELY;INTERVAL=20;BYHOUR=9,10,11,12,13,14,15,16", floating(1997, 9, 2, 9), 26);
    CHECK(daily == minutely);
    CHECK(daily[1] == "19970902T092000");
    CHECK(daily[23] == "19970902T164000");
    CHECK(daily[24] == "19970903T090000");
}

TEST_CASE("expand: hourly rules across 1970 and over days their BYMONTH rules out") {
    CHECK(occurrences("FREQ=HOURLY;INTERVAL=3;COUNT=3", floating(1969, 12, 31, 22)) ==
          Strings{"19691231T220000", "19700101T010000", "19700101T040000"});
    // The start's day is not in March: the walk keeps the 5-hour phase
    // across the skipped days (Feb 28 12:00 + 40 h = Mar 1 04:00).
    CHECK(occurrences("FREQ=HOURLY;INTERVAL=5;BYMONTH=3", floating(2024, 2, 28, 12), 3) ==
          Strings{"20240228T120000", "20240301T040000", "20240301T090000"});
    CHECK(occurrences("FREQ=HOURLY;INTERVAL=6;BYMONTH=3", floating(2024, 2, 28, 12), 3) ==
          Strings{"20240228T120000", "20240301T000000", "20240301T060000"});
    // All-day series have no hours to repeat in.
    CHECK(occurrences("FREQ=HOURLY", date(2024, 2, 28), 3) == Strings{"20240228"});
}

TEST_CASE("expand: BYSETPOS in a yearly rule (last Sunday of March)") {
    CHECK(occurrences("FREQ=YEARLY;BYMONTH=3;BYDAY=SU;BYSETPOS=-1", floating(2024, 3, 31, 1), 3) ==
          Strings{"20240331T010000", "20250330T010000", "20260329T010000"});
    CHECK(to_vcal("FREQ=YEARLY;BYMONTH=3;BYDAY=SU;BYSETPOS=-1", floating(2024, 3, 31, 1)) == "MP12 1- SU #0");
}

TEST_CASE("expand: the start's kind and zone, all-day series, limit and last year") {
    DateTime zoned = floating(2024, 3, 1, 10);
    zoned.kind = DateTime::Kind::zoned;
    zoned.tzid = "Europe/Berlin";
    std::vector<DateTime> z = expand(rrule("FREQ=WEEKLY"), zoned, 2, 2100);
    REQUIRE(z.size() == 2);
    CHECK(z[1].kind == DateTime::Kind::zoned);
    CHECK(z[1].tzid == "Europe/Berlin");
    CHECK(text(z[1]) == "20240308T100000");

    CHECK(texts(expand(rrule("FREQ=YEARLY;UNTIL=20280228"), date(2024, 2, 29), 10, 2100)) == Strings{"20240229"});
    CHECK(texts(expand(rrule("FREQ=YEARLY"), date(2024, 2, 29), 3, 2100)) ==
          Strings{"20240229", "20280229", "20320229"});
    CHECK(texts(expand(rrule("FREQ=DAILY"), date(2024, 12, 30), 10, 2024)) == Strings{"20241230", "20241231"});
    CHECK(expand(rrule("FREQ=DAILY"), date(2024, 12, 30), 0, 2100).empty());
    CHECK(expand(rrule("FREQ=DAILY"), DateTime{}, 10, 2100).empty());
}

TEST_CASE("expand stops on rules that never produce anything") {
    // 30 February, 31 April, and the 5th Monday of a February that has none
    // in a yearly rule with a large interval: only the start comes out.
    CHECK(occurrences("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", floating(2024, 1, 1, 9), 10, 9999) ==
          Strings{"20240101T090000"});
    CHECK(occurrences("FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31", floating(2024, 1, 1, 9), 10, 9999) ==
          Strings{"20240101T090000"});
    CHECK(occurrences("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", floating(2024, 1, 1, 9), 10, 9999) ==
          Strings{"20240101T090000"});
    CHECK(occurrences("FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30", floating(2024, 1, 1, 9), 10, 9999) ==
          Strings{"20240101T090000"});
    CHECK(occurrences("FREQ=SECONDLY;BYSECOND=60", floating(2024, 1, 1, 9), 10, 9999) == Strings{"20240101T090000"});
    CHECK(occurrences("FREQ=HOURLY;BYSETPOS=3", floating(2024, 1, 1, 9), 10, 9999) == Strings{"20240101T090000"});
    CHECK(occurrences("FREQ=MONTHLY;BYMONTHDAY=1;BYSETPOS=-2", floating(2024, 1, 1, 9), 10, 9999) ==
          Strings{"20240101T090000"});
    // A leap day that is also a Monday is rare but real: 2044-02-29.
    CHECK(occurrences("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", floating(2024, 1, 1, 9), 2, 9999) ==
          Strings{"20240101T090000", "20440229T090000"});
}

// -------------------------------------------------- vCalendar 1.0 reading --

TEST_CASE("vCalendar: the spec's rules read into RFC 5545 rules") {
    const DateTime tuesday = floating(1997, 9, 2, 9);
    CHECK(vcal_rrule("D2 #0", tuesday) == "FREQ=DAILY;INTERVAL=2");
    CHECK(vcal_rrule("W2 TU TH #4", tuesday) == "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,TH");
    CHECK(vcal_rrule("MP1 1+ FR #0", floating(1997, 9, 5, 9)) == "FREQ=MONTHLY;BYDAY=1FR");
    CHECK(vcal_rrule("MD1 1 LD #3", floating(1997, 9, 1, 9)) == "FREQ=MONTHLY;COUNT=3;BYMONTHDAY=1,-1");
    CHECK(vcal_rrule("YM1 6 7 #10", floating(1997, 6, 10, 9)) == "FREQ=YEARLY;COUNT=10;BYMONTHDAY=10;BYMONTH=6,7");
    CHECK(vcal_rrule("YD3 1 100 200 #10", floating(1997, 1, 1, 9)) ==
          "FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200");
    CHECK(vcal_rrule("MP2 1+ SU 1- SU 19951231T000000Z", floating(1995, 1, 1, 9)) ==
          "FREQ=MONTHLY;INTERVAL=2;UNTIL=19951231T000000Z;BYDAY=1SU,-1SU");
    CHECK(vcal_rrule("MD1 3- 7+ #0", floating(1997, 9, 7, 9)) == "FREQ=MONTHLY;BYMONTHDAY=-3,7");
    // What other readers fail on: no duration at all, several weekdays for
    // one position, lower case.
    CHECK(vcal_rrule("D2", tuesday) == "FREQ=DAILY;INTERVAL=2;COUNT=2");
    CHECK(vcal_rrule("MP1 1+ MO TU 2- WE #0", tuesday) == "FREQ=MONTHLY;BYDAY=1MO,1TU,-2WE");
    CHECK(vcal_rrule("w1 tu th #3", tuesday) == "FREQ=WEEKLY;COUNT=3;BYDAY=TU,TH");
}

TEST_CASE("vCalendar: the spec's rules expand to the spec's occurrences") {
    CHECK(texts(expand(vcal("MP2 1+ SU 1- SU 19951231T000000Z", floating(1995, 1, 1, 9)), floating(1995, 1, 1, 9),
                       100, 2100)) ==
          Strings{"19950101T090000", "19950129T090000", "19950305T090000", "19950326T090000", "19950507T090000",
                  "19950528T090000", "19950702T090000", "19950730T090000", "19950903T090000", "19950924T090000",
                  "19951105T090000", "19951126T090000"});
    CHECK(texts(expand(vcal("D2 #0", floating(1997, 9, 2, 9)), floating(1997, 9, 2, 9), 4, 2100)) ==
          Strings{"19970902T090000", "19970904T090000", "19970906T090000", "19970908T090000"});
    CHECK(texts(expand(vcal("MD1 1 LD #3", floating(1997, 9, 1, 9)), floating(1997, 9, 1, 9), 100, 2100)) ==
          Strings{"19970901T090000", "19970930T090000", "19971001T090000"});
}

TEST_CASE("vCalendar: the end as #0, #N, a UTC, floating or date end, and the default #2") {
    const DateTime start = floating(2024, 1, 1, 9);
    CHECK_FALSE(vcal("D1 #0", start).until);
    CHECK(vcal("D1 #0", start).count == 0);
    CHECK(vcal("D1 #5", start).count == 5);
    CHECK(*vcal("D1 20240110T120000Z", start).until == utc(2024, 1, 10, 12));
    CHECK(*vcal("D1 20240110T120000", start).until == floating(2024, 1, 10, 12));
    CHECK(*vcal("D1 20240110", start).until == date(2024, 1, 10));
    CHECK(vcal("D1", start).count == 2);
    CHECK(vcal("W1 MO", start, intervals_profile()).count == 2);
}

TEST_CASE("vCalendar: #N as occurrences or, for libsynthesis-like clients, as intervals") {
    const DateTime tuesday = floating(1997, 9, 2, 9);
    // The spec's own example: "W2 TU TH #4" meant as 8 occurrences.
    Recurrence as_intervals = vcal("W2 TU TH #4", tuesday, intervals_profile());
    CHECK(as_intervals.count == 8);
    CHECK(texts(expand(as_intervals, tuesday, 100, 2100)) ==
          Strings{"19970902T090000", "19970904T090000", "19970916T090000", "19970918T090000", "19970930T090000",
                  "19971002T090000", "19971014T090000", "19971016T090000"});
    Recurrence as_occurrences = vcal("W2 TU TH #4", tuesday);
    CHECK(texts(expand(as_occurrences, tuesday, 100, 2100)) ==
          Strings{"19970902T090000", "19970904T090000", "19970916T090000", "19970918T090000"});
    // "W1 TU TH #5 ... for 5 weeks": 10 occurrences, or 5.
    CHECK(vcal("W1 TU TH #5", tuesday, intervals_profile()).count == 10);
    CHECK(vcal("W1 TU TH #5", tuesday).count == 5);
    // Three months of the 1st and the last day.
    CHECK(vcal("MD1 1 LD #3", floating(1997, 9, 1, 9), intervals_profile()).count == 6);
    // Ten years of 10 June and 10 July.
    CHECK(vcal("YM1 6 7 #10", floating(1997, 6, 10, 9), intervals_profile()).count == 20);
    // A start outside the rule's days still counts as the first occurrence.
    CHECK(vcal("W1 TU TH #1", floating(1997, 9, 1, 9), intervals_profile()).count == 3);
}

TEST_CASE("vCalendar: Funambol Outlook's 5+ and n-, both ways") {
    const DateTime friday = floating(2024, 1, 26, 10);
    CHECK(vcal_rrule("MP1 5+ FR #0", friday, outlook_profile()) == "FREQ=MONTHLY;BYDAY=-1FR");
    CHECK(vcal_rrule("MP1 5+ FR #0", friday) == "FREQ=MONTHLY;BYDAY=5FR");
    CHECK(vcal_rrule("MP1 1- FR #0", friday, outlook_profile()) == "FREQ=MONTHLY;BYDAY=4FR");
    CHECK(vcal_rrule("MP1 2- FR #0", friday, outlook_profile()) == "FREQ=MONTHLY;BYDAY=3FR");
    CHECK(vcal_rrule("MP1 1- FR #0", friday) == "FREQ=MONTHLY;BYDAY=-1FR");

    CHECK(to_vcal("FREQ=MONTHLY;BYDAY=-1FR", friday, outlook_profile()) == "MP1 5+ FR #0");
    CHECK(to_vcal("FREQ=MONTHLY;BYDAY=-1FR", friday) == "MP1 1- FR #0");
    CHECK(to_vcal("FREQ=MONTHLY;BYDAY=4FR", friday, outlook_profile()) == "MP1 4+ FR #0");
    std::vector<Warning> losses;
    CHECK_FALSE(to_vcal("FREQ=MONTHLY;BYDAY=5FR", friday, outlook_profile(), &losses));
    CHECK_FALSE(to_vcal("FREQ=MONTHLY;BYDAY=-2FR", friday, outlook_profile(), &losses));
    CHECK(losses.size() == 2);
    CHECK(mentions(losses, "position 5"));
    CHECK(mentions(losses, "position -2"));
}

TEST_CASE("vCalendar: a rule without its list takes it from the start") {
    const DateTime wednesday = floating(2024, 1, 17, 8);  // the 3rd Wednesday, day 17 of the year
    // The start's own weekday is what RFC 5545 says without BYDAY.
    CHECK(vcal_rrule("W1 #0", wednesday) == "FREQ=WEEKLY");
    CHECK(vcal_rrule("W1 WE #0", wednesday) == "FREQ=WEEKLY");
    CHECK(vcal_rrule("W1 TU #0", wednesday) == "FREQ=WEEKLY;BYDAY=TU");
    CHECK(vcal_rrule("MD1 #0", wednesday) == "FREQ=MONTHLY;BYMONTHDAY=17");
    CHECK(vcal_rrule("MP1 #0", wednesday) == "FREQ=MONTHLY;BYDAY=3WE");
    CHECK(vcal_rrule("MP1 2+ #0", wednesday) == "FREQ=MONTHLY;BYDAY=2WE");
    CHECK(vcal_rrule("MP1 2+ 1- FR #0", wednesday) == "FREQ=MONTHLY;BYDAY=2WE,-1FR");
    CHECK(vcal_rrule("YM1 #0", wednesday) == "FREQ=YEARLY;BYMONTHDAY=17;BYMONTH=1");
    CHECK(vcal_rrule("YD1 #0", floating(2024, 2, 1, 8)) == "FREQ=YEARLY;BYYEARDAY=32");
    // No start (a task without DTSTART): the list stays empty, which RFC
    // 5545 reads the same way.
    CHECK(vcal_rrule("W1 #0", DateTime{}) == "FREQ=WEEKLY");
}

TEST_CASE("vCalendar: '$' markers are read and ignored with a warning") {
    std::vector<Warning> w;
    Recurrence r = vcal("MP1 1+$ FR #0", floating(2024, 1, 5, 9), {}, &w);
    CHECK(format_rrule(r) == "FREQ=MONTHLY;BYDAY=1FR");
    REQUIRE(w.size() == 1);
    CHECK(w[0].line == 7);
    CHECK(w[0].message.find('$') != std::string::npos);
}

TEST_CASE("vCalendar: several rules in one value, stray tokens and unusable values give warnings") {
    const DateTime start = floating(2024, 1, 1, 9);
    std::vector<Warning> w;
    CHECK(format_rrule(vcal("D1 #5 W1 MO #3", start, {}, &w)) == "FREQ=DAILY;COUNT=5");
    CHECK(mentions(w, "several rules"));
    CHECK(mentions(w, "W1 MO #3"));
    w.clear();
    CHECK(format_rrule(vcal("W1 MO XX 9 FR #3", start, {}, &w)) == "FREQ=WEEKLY;COUNT=3;BYDAY=MO,FR");
    CHECK(mentions(w, "\"XX\""));
    CHECK(mentions(w, "\"9\""));
    w.clear();
    CHECK(format_rrule(vcal("D0 #3", start, {}, &w)) == "FREQ=DAILY;COUNT=3");
    CHECK(mentions(w, "interval"));
    w.clear();
    CHECK(format_rrule(vcal("D1 2024011 #4", start, {}, &w)) == "FREQ=DAILY;COUNT=4");
    w.clear();
    CHECK(format_rrule(vcal("D1 20241301T000000Z", start, {}, &w)) == "FREQ=DAILY;COUNT=2");
    CHECK(mentions(w, "20241301T000000Z"));
    w.clear();
    CHECK(format_rrule(vcal("D1 #3 20240110", start, {}, &w)) == "FREQ=DAILY;UNTIL=20240110");
    CHECK(mentions(w, "end date is kept"));
    w.clear();
    CHECK_FALSE(parse_vcal_rule("X1 #3", start, {}, 9, &w));
    CHECK_FALSE(parse_vcal_rule("   ", start, {}, 9, &w));
    CHECK_FALSE(parse_vcal_rule("FREQ=DAILY", start, {}, 9, &w));
    CHECK(w.size() == 3);
    for (const Warning& warning : w) CHECK(warning.line == 9);
}

TEST_CASE("garbage rules never crash and what is kept is always a sane rule") {
    std::mt19937 random(20261125);
    const std::string pieces[] = {"D", "W", "MP", "MD", "YM", "YD", "M", "1", "2", "0", "5+", "1-", "LD", "$", "#",
                                  "#0", "#3", "MO", "FR", "XX", " ", " ", "19951231T000000Z", "2024", "T", "Z",
                                  "FREQ=", "DAILY", "WEEKLY", ";", "=", ",", "BYDAY", "BYSETPOS", "-1", "999999999999",
                                  "COUNT", "UNTIL", "INTERVAL", "\xC3\xA4", "\t", "+", "-"};
    const DateTime start = floating(2024, 2, 29, 9);
    Profile outlook = outlook_profile();
    Profile intervals = intervals_profile();
    for (int i = 0; i < 400; ++i) {
        std::string garbage;
        const int length = static_cast<int>(random() % 12);
        for (int j = 0; j < length; ++j) garbage += pieces[random() % (sizeof pieces / sizeof pieces[0])];
        INFO(garbage);
        std::vector<Warning> w;
        const Profile& profile = i % 3 == 0 ? outlook : i % 3 == 1 ? intervals : Profile{};
        for (std::optional<Recurrence> r : {parse_rrule(garbage, 1, &w), parse_vcal_rule(garbage, start, profile, 1, &w)}) {
            if (!r) continue;
            CHECK(r->interval >= 1);
            CHECK(r->count >= 0);
            CHECK_FALSE((r->count > 0 && r->until));
            for (const Recurrence::WeekdayNum& wd : r->by_day) {
                CHECK(wd.weekday >= 0);
                CHECK(wd.weekday <= 6);
            }
            for (int m : r->by_month) CHECK((m >= 1 && m <= 12));
            std::vector<DateTime> occ = expand(*r, start, 50, 2200);
            REQUIRE_FALSE(occ.empty());
            CHECK(occ.front() == start);
            for (std::size_t k = 1; k < occ.size(); ++k) CHECK(text(occ[k - 1]) < text(occ[k]));
            std::vector<Warning> losses;
            std::optional<std::string> written = format_vcal_rule(*r, start, profile, &losses);
            CHECK((written.has_value() || !losses.empty()));
        }
        // Random strings that are no rule at all are reported.
        if (garbage.find_first_not_of(" \t") == std::string::npos) CHECK_FALSE(w.empty());
    }
}

// -------------------------------------------------- vCalendar 1.0 writing --

TEST_CASE("format_vcal_rule writes COUNT as the last occurrence, in the start's form") {
    const char* rule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=8";
    CHECK(to_vcal(rule, floating(1997, 9, 2, 9)) == "W2 TU TH 19971016T090000");
    CHECK(to_vcal(rule, utc(1997, 9, 2, 9)) == "W2 TU TH 19971016T090000Z");
    CHECK(to_vcal(rule, date(1997, 9, 2)) == "W2 TU TH 19971016");
    CHECK(to_vcal("FREQ=MONTHLY;COUNT=10;BYDAY=1FR", floating(1997, 9, 5, 9)) == "MP1 1+ FR 19980605T090000");
    CHECK(to_vcal("FREQ=DAILY;COUNT=1", floating(1997, 9, 5, 9)) == "D1 19970905T090000");
}

TEST_CASE("format_vcal_rule: endless, UNTIL, and each frequency") {
    CHECK(to_vcal("FREQ=DAILY;INTERVAL=2", floating(1997, 9, 2, 9)) == "D2 #0");
    CHECK(to_vcal("FREQ=DAILY;UNTIL=19971224T000000Z", floating(1997, 9, 2, 9)) == "D1 19971224T000000Z");
    CHECK(to_vcal("FREQ=DAILY;UNTIL=19971224", floating(1997, 9, 2, 9)) == "D1 19971224T235959");
    CHECK(to_vcal("FREQ=DAILY;UNTIL=19971224", date(1997, 9, 2)) == "D1 19971224");
    CHECK(to_vcal("FREQ=WEEKLY", floating(1997, 9, 2, 9)) == "W1 TU #0");
    CHECK(to_vcal("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", floating(1997, 9, 2, 9)) == "W1 MO TU WE TH FR #0");
    CHECK(to_vcal("FREQ=MONTHLY", floating(1997, 9, 2, 9)) == "MD1 2 #0");
    CHECK(to_vcal("FREQ=MONTHLY;BYMONTHDAY=1,-1,-3", floating(1997, 9, 1, 9)) == "MD1 1 LD 3- #0");
    CHECK(to_vcal("FREQ=MONTHLY;INTERVAL=2;BYDAY=1SU,-1SU;UNTIL=19951231T000000Z", floating(1995, 1, 1, 9)) ==
          "MP2 1+ SU 1- SU 19951231T000000Z");
    CHECK(to_vcal("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=2", floating(2024, 1, 8, 9)) == "MP1 2+ MO #0");
    CHECK(to_vcal("FREQ=YEARLY;BYMONTH=6,7;BYMONTHDAY=10;COUNT=4", floating(1997, 6, 10, 9)) ==
          "YM1 6 7 19980710T090000");
    CHECK(to_vcal("FREQ=YEARLY", floating(1997, 6, 10, 9)) == "YM1 6 #0");
    CHECK(to_vcal("FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200", floating(1997, 1, 1, 9)) ==
          "YD3 1 100 200 20060101T090000");
}

TEST_CASE("format_vcal_rule: yearly on a weekday position is MP12 when the series starts in that month") {
    CHECK(to_vcal("FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", floating(1967, 10, 29, 2)) == "MP12 1- SU #0");
    CHECK(to_vcal("FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", floating(1967, 10, 29, 2), outlook_profile()) ==
          "MP12 5+ SU #0");
    CHECK(to_vcal("FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYDAY=2MO", floating(2024, 3, 11, 9)) == "MP24 2+ MO #0");
    std::vector<Warning> losses;
    CHECK_FALSE(to_vcal("FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", floating(1967, 1, 29, 2), {}, &losses));
    CHECK_FALSE(to_vcal("FREQ=YEARLY;BYMONTH=10;BYDAY=1SU,-1SU", floating(1967, 10, 1, 2), {}, &losses));
    CHECK(mentions(losses, "starting outside its month"));
    CHECK(mentions(losses, "several BYDAY positions"));
}

TEST_CASE("format_vcal_rule names what the basic grammar cannot say") {
    const DateTime start = floating(1997, 9, 30, 9);
    struct Case {
        const char* rule;
        const char* named;
    };
    const Case cases[] = {
        {"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "BYSETPOS over several weekdays"},
        {"FREQ=MONTHLY;BYDAY=TU;BYSETPOS=1,-1", "BYSETPOS with several values"},
        {"FREQ=YEARLY;BYDAY=MO;BYWEEKNO=20", "BYWEEKNO"},
        {"FREQ=HOURLY;INTERVAL=3", "HOURLY"},
        {"FREQ=MINUTELY", "MINUTELY"},
        {"FREQ=DAILY;BYHOUR=9,17", "BYHOUR"},
        {"FREQ=MONTHLY;BYDAY=TU", "BYDAY without a position"},
        {"FREQ=WEEKLY;BYMONTH=1", "weekly rule with BYMONTH"},
        {"FREQ=YEARLY;BYYEARDAY=-1", "counted from the end"},
        {"FREQ=YEARLY;BYDAY=1MO;BYMONTH=1,2", "exactly one BYMONTH"},
        {"FREQ=YEARLY;BYMONTHDAY=1", "other than the start's day"},
        {"FREQ=DAILY;INTERVAL=2;BYDAY=MO", "daily rule with BYDAY"},
    };
    for (const Case& c : cases) {
        INFO(c.rule);
        std::vector<Warning> losses;
        CHECK_FALSE(to_vcal(c.rule, start, {}, &losses));
        REQUIRE(losses.size() == 1);
        CHECK(losses[0].line == 0);
        CHECK(losses[0].message.find(c.named) != std::string::npos);
        CHECK(losses[0].message.find(c.rule) != std::string::npos);
    }
}

TEST_CASE("format_vcal_rule refuses a bi-weekly rule whose WKST a vCalendar reader would lose") {
    std::vector<Warning> losses;
    CHECK_FALSE(to_vcal("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU", floating(1997, 8, 5, 9), {}, &losses));
    CHECK(losses.size() == 1);
    // With WKST=SU but days that never straddle a week start, nothing is lost.
    CHECK(to_vcal("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;WKST=SU", floating(1997, 9, 2, 9)) == "W2 TU TH #0");
}

TEST_CASE("vCalendar round trip: vCal -> model -> vCal -> model keeps the series") {
    const DateTime start = floating(1997, 9, 2, 9);  // a Tuesday
    const char* rules[] = {"D2 #0",       "D1 #10",          "W2 TU TH #4",       "W1 MO WE FR 19971231T000000Z",
                           "MP1 1+ TU #6", "MP2 1+ TU 1- TU #0", "MD1 2 LD #5",       "MD3 2 15 19980101",
                           "YM1 9 #3",     "YM2 9 10 #0",      "YD1 245 #3",        "MP1 1- TU 5+ TU #4"};
    for (const Profile& profile : {Profile{}, intervals_profile(), outlook_profile()}) {
        for (const char* rule : rules) {
            INFO(rule << " profile " << profile.name << (profile.vcal_count_is_intervals ? " (intervals)" : ""));
            std::vector<Warning> w;
            std::optional<Recurrence> first = parse_vcal_rule(rule, start, profile, 1, &w);
            REQUIRE(first);
            std::vector<Warning> losses;
            std::optional<std::string> written = format_vcal_rule(*first, start, profile, &losses);
            if (!written) {
                // Only Outlook's profile cannot write a 5th or an "n-".
                CHECK(profile.last_week_is_5_plus);
                continue;
            }
            // Never an ambiguous "#N": an end date, or "#0" for no end.
            const std::size_t hash = written->find('#');
            if (hash != std::string::npos) CHECK(written->substr(hash) == "#0");
            std::optional<Recurrence> second = parse_vcal_rule(*written, start, profile, 1, &w);
            REQUIRE(second);
            CHECK(texts(expand(*first, start, 500, 2100)) == texts(expand(*second, start, 500, 2100)));
            CHECK(format_vcal_rule(*second, start, profile, &losses) == written);
        }
    }
}

TEST_CASE("vCalendar round trip of the spec's example, written for a client that counts intervals") {
    const DateTime tuesday = floating(1997, 9, 2, 9);
    Recurrence r = vcal("W2 TU TH #4", tuesday, intervals_profile());
    // Written with an end date, the same 8 occurrences for any reader.
    CHECK(format_vcal_rule(r, tuesday, intervals_profile(), nullptr) == "W2 TU TH 19971016T090000");
    CHECK(format_vcal_rule(r, tuesday, Profile{}, nullptr) == "W2 TU TH 19971016T090000");
}
