// The PIM layer on its own: one normalized model for contacts, events, tasks
// and notes, read from and written to every format SyncML clients speak
// (vCard 2.1/3.0/4.0, vCalendar 1.0, iCalendar 2.0, Funambol SIF-C/E/T/N,
// vNote 1.1, plain text). The server keeps one copy of an item and converts
// it for each client through this model; vendors can use it without the
// server.
//
// Conventions of the model:
// - Text is UTF-8 and decoded: no escapes, no quoted-printable, line breaks
//   are "\n". Binary data (a photo) is bytes.
// - Enumerations use iCalendar 2.0 / vCard 3.0 vocabulary in upper case
//   ("NEEDS-ACTION", "WORK"), whatever the source format wrote.
// - What the model has no field for is kept in `extra`, as an ExtraProperty,
//   and written again in every format that has a property syntax (SIF keeps
//   its unknown elements the same way, named "X-SIF-<element>").
// - Readers never throw on bad input: they keep what they can and say what
//   they did in a Warning. `read` fails (no item) only when nothing sensible
//   could be kept.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "syncmlkit/export.hpp"

namespace smk::pim {

/// Something in the input that was not as its format says, or something the
/// output format could not carry, with what was done about it. `line` counts
/// physical lines from 1 (0 when it does not apply, as for losses on writing).
struct Warning {
    int line = 0;
    std::string message;
};

enum class Format {
    vcard21,  ///< text/x-vcard
    vcard30,  ///< text/vcard 3.0
    vcard40,  ///< text/vcard 4.0
    vcal10,   ///< text/x-vcalendar
    ical20,   ///< text/calendar
    sifc,     ///< text/x-s4j-sifc (contacts)
    sife,     ///< text/x-s4j-sife (events)
    sift,     ///< text/x-s4j-sift (tasks)
    sifn,     ///< text/x-s4j-sifn (notes)
    vnote11,  ///< text/x-vnote
    text,     ///< text/plain (notes)
};

// ---------------------------------------------------------------- common --

/// A property parameter. Names are upper case; a vCard 2.1 nameless
/// parameter is stored as TYPE (or ENCODING/CHARSET/VALUE where 2.1 says so).
struct Param {
    std::string name;
    std::vector<std::string> values;
};

/// A property the model has no field for (X- and unknown ones), kept so that
/// it survives every conversion. `value` is in the escaped text form of
/// vCard 3.0 / iCalendar ("\n" for a line break, "\," "\;" "\\" as escapes),
/// because the structure of an unknown value is not known; writers of other
/// formats translate the escapes. `binary` means `value` holds raw bytes
/// (it was BASE64 / ENCODING=b).
struct ExtraProperty {
    std::string group;  ///< "item1" of "item1.X-ABLABEL", lower case
    std::string name;   ///< upper case
    std::vector<Param> params;
    std::string value;
    bool binary = false;
};

/// A date or date-time. `kind` says how to read it: a whole day, a local time
/// with no zone ("floating"), UTC, or a local time in the zone `tzid`.
struct DateTime {
    enum class Kind { date, floating, utc, zoned };
    int year = 0, month = 0, day = 0;
    int hour = 0, minute = 0, second = 0;
    Kind kind = Kind::floating;
    std::string tzid;  ///< for Kind::zoned: an IANA name where we know one, else as the source wrote it

    bool valid() const { return year > 0; }
    bool operator==(const DateTime& o) const {
        return year == o.year && month == o.month && day == o.day && hour == o.hour && minute == o.minute &&
               second == o.second && kind == o.kind && tzid == o.tzid;
    }
    bool operator!=(const DateTime& o) const { return !(*this == o); }
};

// --------------------------------------------------------------- contacts --

/// What TEL, EMAIL, ADR and URL share: TYPE values (upper case, without PREF),
/// a preference (1 = most preferred, 0 = none), the vCard group and its
/// Apple-style label (X-ABLABEL of the same group).
struct Typed {
    std::vector<std::string> types;
    int pref = 0;
    std::string group;
    std::string label;
};

struct Phone : Typed {
    std::string number;
};
struct Email : Typed {
    std::string address;
};
struct Address : Typed {
    std::string po_box, extended, street, locality, region, postal_code, country;
    std::string delivery_label;  ///< LABEL (3.0, 2.1) / ADR;LABEL= (4.0)
};
struct Url : Typed {
    std::string uri;
};

/// A date that may lack its year (vCard 4.0 "--0415").
struct PartialDate {
    int year = 0;  ///< 0: unknown
    int month = 0, day = 0;
    bool operator==(const PartialDate& o) const { return year == o.year && month == o.month && day == o.day; }
};

/// Inline bytes or a URI, with a media type ("image/jpeg").
struct Binary {
    std::string data;
    std::string uri;
    std::string media_type;
};

struct Name {
    // Each may hold several values separated by ',' (vCard 3.0 lists).
    std::string family, given, additional, prefixes, suffixes;
};

struct Contact {
    std::string uid;
    std::string formatted_name;  ///< FN
    Name name;                   ///< N
    std::vector<std::string> nicknames;
    std::string organization;                ///< ORG, first component
    std::vector<std::string> org_units;      ///< ORG, the rest
    std::string title, role;
    std::vector<Phone> phones;
    std::vector<Email> emails;
    std::vector<Address> addresses;
    std::vector<Url> urls;
    std::optional<PartialDate> birthday;
    std::optional<PartialDate> anniversary;
    std::string note;
    std::vector<std::string> categories;
    std::optional<Binary> photo;
    std::string revision;  ///< REV as written
    std::vector<ExtraProperty> extra;
    /// Properties the source sent with an empty value ("NOTE", "TEL"...,
    /// vCard names whatever the format): merge() clears those fields.
    std::vector<std::string> sent_empty;
};

// --------------------------------------------------------------- calendar --

/// RFC 5545 recurrence. vCalendar 1.0 rules are read into this and written
/// from it.
struct Recurrence {
    enum class Frequency { secondly, minutely, hourly, daily, weekly, monthly, yearly };
    struct WeekdayNum {
        int ordinal = 0;  ///< 0: every; 1..53 from the start; -1..-53 from the end
        int weekday = 0;  ///< 0 = SU .. 6 = SA
        bool operator==(const WeekdayNum& o) const { return ordinal == o.ordinal && weekday == o.weekday; }
    };
    Frequency frequency = Frequency::daily;
    int interval = 1;
    int count = 0;                 ///< 0: none
    std::optional<DateTime> until; ///< exclusive with count
    std::vector<WeekdayNum> by_day;
    std::vector<int> by_month_day, by_year_day, by_week_no, by_month, by_set_pos;
    std::vector<int> by_hour, by_minute, by_second;
    int week_start = 1;  ///< MO
};

struct Duration {
    std::int64_t seconds = 0;  ///< negative: before
};

struct Alarm {
    std::string action = "DISPLAY";  ///< DISPLAY, AUDIO, EMAIL, PROCEDURE
    /// The trigger: relative to the start (or the end/due when
    /// `relative_to_end`), or absolute.
    std::optional<Duration> offset;
    bool relative_to_end = false;
    std::optional<DateTime> at;
    int repeat = 0;
    Duration snooze;  ///< DURATION between repeats
    std::string description;
    std::string attachment;  ///< sound file, procedure, or URI
    std::vector<ExtraProperty> extra;
};

struct Attendee {
    std::string address;  ///< "mailto:..." as in iCalendar
    std::string common_name;
    std::string role;      ///< REQ-PARTICIPANT, OPT-PARTICIPANT, CHAIR, NON-PARTICIPANT
    std::string partstat;  ///< NEEDS-ACTION, ACCEPTED, DECLINED, TENTATIVE, DELEGATED, ...
    std::string cutype;
    bool rsvp = false;
    std::vector<Param> other_params;
};

/// A VTIMEZONE kept as it came (iCalendar text, BEGIN:VTIMEZONE to
/// END:VTIMEZONE) under its TZID; writers regenerate one from ICU when the
/// zone is an IANA zone and no definition came with the item.
struct TimeZoneDefinition {
    std::string tzid;
    std::string vtimezone;
};

/// An event (VEVENT) or a task (VTODO). A changed instance of a series is a
/// separate CalendarItem with the same uid and a recurrence_id.
struct CalendarItem {
    enum class Type { event, task };
    Type type = Type::event;
    std::string uid;
    std::string summary, description, location;
    DateTime start;    ///< DTSTART (optional for tasks: !valid())
    DateTime end;      ///< DTEND of an event (exclusive; a date for all-day events)
    DateTime due;      ///< DUE of a task
    std::optional<Duration> duration;  ///< when given instead of end/due
    std::optional<Recurrence> recurrence;
    std::vector<DateTime> exception_dates;   ///< EXDATE
    std::vector<DateTime> recurrence_dates;  ///< RDATE
    std::optional<DateTime> recurrence_id;
    std::vector<Alarm> alarms;
    std::optional<Attendee> organizer;
    std::vector<Attendee> attendees;
    std::string status;          ///< TENTATIVE, CONFIRMED, CANCELLED, NEEDS-ACTION, COMPLETED, IN-PROCESS
    int priority = 0;            ///< 0 undefined, 1 highest .. 9 lowest
    std::string transparency;    ///< OPAQUE or TRANSPARENT; empty: not said
    std::string classification;  ///< PUBLIC, PRIVATE, CONFIDENTIAL
    std::vector<std::string> categories;
    DateTime completed;  ///< tasks
    int percent_complete = -1;  ///< tasks; -1: not said
    DateTime created, last_modified, stamp;
    int sequence = -1;  ///< -1: not said
    std::string url;
    std::vector<ExtraProperty> extra;
    std::vector<std::string> sent_empty;  ///< iCalendar names, as for Contact

    bool all_day() const { return start.valid() && start.kind == DateTime::Kind::date; }
};

/// The contents of one calendar object: the master item and its changed
/// instances, and the time zones they use.
struct Calendar {
    std::vector<CalendarItem> items;
    std::vector<TimeZoneDefinition> time_zones;
    std::vector<ExtraProperty> extra;  ///< VCALENDAR-level X- properties
};

// ---------------------------------------------------------- past alarms --

/// What drop_past_alarms() did, counted over all the items of a calendar.
struct AlarmCount {
    int kept = 0;
    int dropped = 0;
};

/// Removes the alarms that can no longer go off at `now` (seconds since
/// 1970-01-01 UTC), so that a client given the item anew (a Recover) does
/// not fire every old reminder again. An alarm goes when its trigger, its
/// last repetition included, is before `now`: an absolute trigger as it is;
/// a relative one from the start, or from the end (an event's end or start
/// + duration, a task's due), of the item, and for a series (RRULE, RDATE;
/// EXDATEs left out) of every occurrence, so that a series with an
/// occurrence still to come keeps it. Zoned times go through their zone;
/// floating times and dates (all-day items) through `time_zone` (an IANA
/// name, the user's zone as in Profile::time_zone), and when that is empty
/// or unknown, or a zone is unknown, a time counts as past only if it is
/// past in every zone (UTC-12 to UTC+14). An alarm whose time cannot be
/// told (relative to an end the item does not have, a sub-daily series
/// walked for too long) stays.
SMK_API AlarmCount drop_past_alarms(Calendar& calendar, std::int64_t now, std::string_view time_zone = {});

// ------------------------------------------------------------------ notes --

struct Note {
    std::string uid;
    std::string subject;  ///< SUMMARY / Subject; the first line of a plain text note
    std::string body;
    std::vector<std::string> categories;
    std::string classification;
    DateTime created, last_modified;
    std::string color;  ///< SIF-N Color
    std::vector<ExtraProperty> extra;
    std::vector<std::string> sent_empty;  ///< vNote names, as for Contact
};

/// One item of any kind.
using Item = std::variant<Contact, Calendar, Note>;

// --------------------------------------------------------------- profiles --

/// How a particular client writes and wants to read; chosen from its DevInf
/// by profile_for(), overridable by the host.
struct Profile {
    std::string name = "generic";
    /// vCalendar 1.0 "#N": true reads it as a number of intervals (as
    /// libsynthesis does), false as a number of occurrences (the spec's
    /// policy, Outlook, libical). Written rules always end in a date.
    bool vcal_count_is_intervals = false;
    /// Funambol Outlook: in vCalendar "5+" means the last week of the month,
    /// and it reads "n-" as instance 5-n; written rules use "5+" for "last".
    bool last_week_is_5_plus = false;
    /// vCalendar alarms and times written in UTC (Sony Ericsson).
    bool times_in_utc = false;
    /// The charset 2.1/vCalendar text is written in: UTF-8 (default) or ISO-8859-1.
    std::string charset = "UTF-8";
    /// Outlook wants a blank line after a base64 value.
    bool blank_line_after_base64 = false;
    /// Write X-FUNAMBOL-ALLDAY and read an empty property as "cleared".
    bool funambol_extensions = false;
    /// vCard 2.1 producers that fold like 3.0 (remove the fold's whitespace).
    bool vcard21_folds_like_30 = false;
    /// The user's zone (IANA name) for floating vCalendar times, set by the
    /// host; empty: floating times stay floating.
    std::string time_zone;
};

/// The profiles we know: "generic", "funambol-outlook", "syncevolution",
/// "nokia", "sonyericsson". Unknown names give the generic profile.
SMK_API Profile profile_named(std::string_view name);

/// The profile for a client, from its DevInf's Man, Mod and DevID.
SMK_API Profile profile_for(std::string_view manufacturer, std::string_view model, std::string_view device_id);

/// The IANA name of a time zone given by an IANA name, an alias or a Windows
/// zone name ("W. Europe Standard Time"); empty when ICU does not know it.
SMK_API std::string canonical_time_zone(std::string_view name);

// ------------------------------------------------------------ conversions --

/// The format of a MIME type and version as DevInf names them
/// ("text/vcard" + "3.0"); nullopt for a type we do not speak.
SMK_API std::optional<Format> format_for_mime(std::string_view type, std::string_view version = {});
/// The MIME type and version of a format.
SMK_API std::string mime_type(Format format);
SMK_API std::string mime_version(Format format);
/// "vcard21", "ical20", ... (the names syncmlkit-convert takes), and back.
SMK_API std::string format_name(Format format);
SMK_API std::optional<Format> format_named(std::string_view name);

/// Guesses the format of `data` from its content (BEGIN:VCARD + VERSION,
/// BEGIN:VCALENDAR + VERSION, BEGIN:VNOTE, SIF roots, base64 SIF); text
/// notes are the fallback when nothing else matches.
SMK_API Format detect_format(std::string_view data);

/// Whether a format carries contacts, calendar items or notes.
enum class Kind { contact, calendar, note };
SMK_API Kind kind_of(Format format);

struct ReadResult {
    std::optional<Item> item;
    std::vector<Warning> warnings;
};

/// Reads one item. SIF may come base64-encoded (Funambol's b64 encoding).
SMK_API ReadResult read(std::string_view data, Format format, const Profile& profile = {});

/// Writes one item in `format`. What the format cannot carry is left out and
/// named in `losses`. Writing an item in a format of another kind (a note as
/// vCard) gives an empty string and a loss.
SMK_API std::string write(const Item& item, Format format, const Profile& profile = {},
                          std::vector<Warning>* losses = nullptr);

/// read() then write().
SMK_API std::string convert(std::string_view data, Format from, Format to, const Profile& profile = {},
                            std::vector<Warning>* warnings = nullptr);

/// The normalized model as JSON (stable key order, empty fields left out):
/// what the fixture corpus compares with, and the oracle tests diff.
SMK_API std::string to_json(const Item& item);

/// A Replace from a client merged into the stored item so that it never
/// wipes what the client could not hold: fields of `stored` that the
/// client's format cannot carry (or that are not among `client_knows`, the
/// property names of its CTCap, when it sent one) keep the stored values;
/// fields the client sent replace them, and a property the client sent
/// empty (in the incoming item's `sent_empty`) clears its field. X- and
/// unknown properties the client did not send stay, unless its CTCap names
/// them.
struct MergeInput {
    Format client_format;
    std::vector<std::string> client_knows;  ///< CTCap property names, upper case; empty: none sent
};
SMK_API Item merge(const Item& stored, const Item& incoming, const MergeInput& how);

/// What makes two copies of an item "the same item" when nothing else pairs
/// them (a slow sync, a client's new local ids): `key` from the identifying
/// fields (contacts: the name, else the organization, an e-mail or a phone;
/// events: summary and start; tasks: summary and due; notes: subject and
/// body), normalized so that encodings, escaping, letter case, spacing,
/// property order and empty properties do not matter; `details` the
/// normalized e-mails ("e:...") and phone numbers ("t:" and the last 9
/// digits) of a contact, sorted, which tell two people of one name apart.
struct Identity {
    std::string key;
    std::vector<std::string> details;
};
SMK_API Identity identity_of(const Item& item);
/// How well two items of one key pair by their details: 3 equal, 2 one side
/// has none or a subset of the other's, 1 they share one, 0 none in common
/// (two people of one name: not a pair).
SMK_API int pairing_score(const std::vector<std::string>& a, const std::vector<std::string>& b);

/// Whether two items say the same thing, leaving aside what every writer
/// changes (UID, REV, PRODID, time stamps, properties sent empty).
SMK_API bool same_content(const Item& a, const Item& b);

/// An item changed on both sides since `base` (the version both last
/// shared; null when unknown), merged field by field: a field changed on
/// one side only takes that side's value; a field changed on both sides to
/// different values is a clash and keeps the server's value (named in
/// `clashes`). Without a base, a field empty on one side takes the other's
/// value and differing values clash.
struct MergeOutcome {
    Item item;
    std::vector<std::string> clashes;  ///< property names, e.g. "TEL"
};
SMK_API MergeOutcome merge_three_way(const Item* base, const Item& server, const Item& client);

}  // namespace smk::pim
