"""Differential tests of the calendar converters against independent readers.

Every calendar under oracle_inputs/ (our own iCalendar 2.0 and vCalendar 1.0
files) goes through syncmlkit-convert twice: to iCalendar 2.0 (ical20) and to
the normalized model as JSON (json). Then:

1. python3-icalendar (non-strict) parses our iCalendar and must record no
   error on any component;
2. libical 3.0, through GObject introspection, parses it without adding an
   X-LIC-ERROR, and what it reads (SUMMARY, DTSTART/DTEND/DUE/RECURRENCE-ID
   with their TZID, DURATION, the RRULE's parts, EXDATE, the VALARMs and
   their triggers) is what our JSON says the input meant;
3. our model holds what the input means, as written out by hand in EXPECTED,
   including the first occurrences of each rule, which libical's recurrence
   iterator computes from the RRULE we wrote;
4. for vCalendar 1.0 inputs, libical's own vCalendar import (libicalvcal,
   through ctypes, as GObject introspection does not cover it) agrees with
   our iCalendar, except where libical is known to be wrong
   (LIBICAL_VCAL_WRONG says where and why).

The Debian modules load only into Debian's Python:

    SMK_CONVERT=build/tools/syncmlkit-convert /usr/bin/python3 -m unittest -v calendar_oracles
"""

import ctypes
import datetime
import json
import os
import re
import subprocess
import unittest
from pathlib import Path

import gi

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib  # noqa: E402

import icalendar  # noqa: E402

CONVERT = os.environ.get("SMK_CONVERT", "syncmlkit-convert")
INPUTS = Path(__file__).resolve().parent / "oracle_inputs"
SOURCE_FORMAT = {".ics": "ical20", ".vcs": "vcal10"}

# What each input means, written from the input by hand (not from our
# output). "items": the model's items in order, each a subset of its JSON
# fields; "alarms" there is a list of normalized alarms (see alarm_summary):
# (action, when it fires, repeat, seconds between repeats, its text).
# "occurrences": the first starts of the master item's rule as libical
# prints them; the list is complete unless "endless" is set.
EXPECTED = {
    "timed_tzid.ics": {
        "items": [{
            "type": "event", "uid": "oracle-timed-tzid@syncmlkit.test",
            "summary": "Planning, Q3; budget review",
            "description": "Agenda:\n1. numbers\n2. hiring, travel",
            "location": "Room 4.12",
            "start": "2024-06-12T09:30:00[Europe/Berlin]", "end": "2024-06-12T11:00:00[Europe/Berlin]",
            "categories": ["Business", "Meeting"], "class": "PRIVATE", "transparency": "OPAQUE",
            "priority": 5, "status": "CONFIRMED", "sequence": 2,
        }],
    },
    "allday_yearly.ics": {
        "items": [{
            "type": "event", "summary": "Pi day", "start": "2024-03-14", "end": "2024-03-15",
            "rrule": {"freq": "YEARLY", "by_month_day": [14], "by_month": [3]},
            "transparency": "TRANSPARENT",
            "alarms": [("DISPLAY", "2024-03-13T12:00:00", 0, 0, "Pi day tomorrow")],
        }],
        "occurrences": ["20240314", "20250314", "20260314"], "endless": True,
    },
    "weekly_exdate_changed.ics": {
        "items": [{
            "type": "event", "summary": "Stand-up",
            "start": "2024-01-08T09:00:00[America/New_York]", "end": "2024-01-08T09:30:00[America/New_York]",
            "rrule": {"freq": "WEEKLY", "interval": 2, "until": "2024-03-31T03:59:59Z", "by_day": ["MO", "WE"]},
            "exdate": ["2024-01-17T09:00:00[America/New_York]", "2024-01-31T09:00:00[America/New_York]"],
            "alarms": [("DISPLAY", "2024-01-08T08:50:00[America/New_York]", 0, 0, "Stand-up")],
        }, {
            "type": "event", "uid": "oracle-weekly@syncmlkit.test", "summary": "Stand-up (moved)",
            "recurrence_id": "2024-01-22T09:00:00[America/New_York]",
            "start": "2024-01-22T10:00:00[America/New_York]", "sequence": 1,
        }],
        "occurrences": ["20240108T090000", "20240110T090000", "20240122T090000", "20240124T090000",
                        "20240205T090000", "20240207T090000", "20240219T090000", "20240221T090000",
                        "20240304T090000", "20240306T090000", "20240318T090000", "20240320T090000"],
    },
    "monthly_bysetpos_alarms.ics": {
        "items": [{
            "type": "event", "summary": "Month-end close", "start": "2024-01-31T15:00:00Z",
            "duration_seconds": 3600,
            "rrule": {"freq": "MONTHLY", "count": 6, "by_day": ["MO", "TU", "WE", "TH", "FR"], "by_set_pos": [-1]},
            "alarms": [("DISPLAY", "2024-01-31T14:45:00Z", 2, 300, "Close the books"),
                       ("AUDIO", "2024-01-31T08:00:00Z", 0, 0, "")],
        }],
        # The last weekday of each month.
        "occurrences": ["20240131T150000Z", "20240229T150000Z", "20240329T150000Z", "20240430T150000Z",
                        "20240531T150000Z", "20240628T150000Z"],
    },
    "yearly_byday_floating.ics": {
        "items": [{
            "type": "event", "summary": "Thanksgiving dinner",
            "start": "2024-11-28T18:00:00", "end": "2024-11-28T22:00:00",
            "rrule": {"freq": "YEARLY", "count": 5, "by_day": ["4TH"], "by_month": [11]},
            "alarms": [("DISPLAY", "2024-11-28T22:00:00", 0, 0, "Dinner is over")],
        }],
        "occurrences": ["20241128T180000", "20251127T180000", "20261126T180000", "20271125T180000",
                        "20281123T180000"],
    },
    "todo_due_tzid.ics": {
        "items": [{
            "type": "task", "summary": "File the expense report",
            "start": "2024-03-01T09:00:00[Europe/Berlin]", "due": "2024-03-15T17:00:00[Europe/Berlin]",
            "rrule": {"freq": "MONTHLY", "count": 4, "by_month_day": [1, 15]},
            "priority": 1, "status": "IN-PROCESS", "percent_complete": 40,
            "alarms": [("DISPLAY", "2024-03-14T17:00:00[Europe/Berlin]", 0, 0, "Expenses due")],
        }],
        "occurrences": ["20240301T090000", "20240315T090000", "20240401T090000", "20240415T090000"],
    },
    "todo_date_only.ics": {
        "items": [{
            "type": "task", "summary": "Renew passport", "due": "2024-04-20", "status": "COMPLETED",
            "completed": "2024-04-18T10:15:00Z", "percent_complete": 100,
        }],
    },
    "vcal_daily_exdate.vcs": {
        "items": [{
            "type": "event", "summary": "Daily stretch",
            "start": "2024-01-02T09:00:00Z", "end": "2024-01-02T10:00:00Z",
            "exdate": ["2024-01-04T09:00:00Z"],
            "alarms": [("DISPLAY", "2024-01-02T08:45:00Z", 2, 300, "Stretch")],
        }],
        "occurrences": ["20240102T090000Z", "20240103T090000Z", "20240104T090000Z", "20240105T090000Z",
                        "20240106T090000Z"],
    },
    "vcal_weekly_interval.vcs": {
        "items": [{
            "type": "event", "summary": "Fortnightly review", "start": "2024-01-02T14:00:00Z",
            "exdate": ["2024-01-04T14:00:00Z", "2024-01-16T14:00:00Z"],
        }],
        # "#4" counts occurrences under the generic profile (the spec's
        # policy): four events, not four two-week intervals.
        "occurrences": ["20240102T140000Z", "20240104T140000Z", "20240116T140000Z", "20240118T140000Z"],
    },
    "vcal_monthly_first_friday.vcs": {
        "items": [{
            "type": "event", "summary": "First Friday drinks", "start": "2024-01-05T16:00:00Z",
            "alarms": [("DISPLAY", "2024-01-05T15:30:00Z", 0, 0, "Drinks")],
        }],
        "occurrences": ["20240105T160000Z", "20240202T160000Z", "20240301T160000Z", "20240405T160000Z"],
    },
    "vcal_monthly_last_friday.vcs": {
        "items": [{"type": "event", "summary": "Last Friday demo", "start": "2024-01-26T16:00:00Z"}],
        "occurrences": ["20240126T160000Z", "20240223T160000Z", "20240329T160000Z"],
    },
    "vcal_monthday_last_day.vcs": {
        "items": [{"type": "event", "summary": "Payroll", "start": "2024-01-01T07:00:00Z"}],
        # "1 LD": the first and the last day of each month.
        "occurrences": ["20240101T070000Z", "20240131T070000Z", "20240201T070000Z", "20240229T070000Z"],
    },
    "vcal_yearly_months.vcs": {
        "items": [{"type": "event", "summary": "Summer picnic", "start": "2024-06-10T12:00:00Z"}],
        "occurrences": ["20240610T120000Z", "20240710T120000Z", "20250610T120000Z", "20250710T120000Z"],
    },
    "vcal_yearly_yearday.vcs": {
        "items": [{"type": "event", "summary": "Day one hundred", "start": "2024-04-09T12:00:00Z"}],
        # Day 100 is 9 April in a leap year, 10 April otherwise.
        "occurrences": ["20240409T120000Z", "20250410T120000Z"],
    },
    "vcal_weekly_until.vcs": {
        "items": [{"type": "event", "summary": "Gym", "start": "2024-01-08T08:00:00Z"}],
        "occurrences": ["20240108T080000Z", "20240110T080000Z", "20240112T080000Z", "20240115T080000Z",
                        "20240117T080000Z", "20240119T080000Z"],
    },
    "vcal_default_duration.vcs": {
        "items": [{"type": "event", "summary": "Twice", "start": "2024-01-02T09:00:00Z"}],
        # A rule without a duration means "#2".
        "occurrences": ["20240102T090000Z", "20240104T090000Z"],
    },
    "vcal_mp_two_positions.vcs": {
        "items": [{"type": "event", "summary": "First and last Sunday", "start": "2024-01-07T10:00:00Z"}],
        "occurrences": ["20240107T100000Z", "20240128T100000Z", "20240303T100000Z", "20240331T100000Z"],
    },
    "vcal_floating.vcs": {
        "items": [{
            "type": "event", "summary": "Tuesday class",
            "start": "2024-07-02T09:00:00", "end": "2024-07-02T10:00:00",
            "alarms": [("DISPLAY", "2024-07-02T08:45:00", 0, 0, "Class")],
        }],
        "occurrences": ["20240702T090000", "20240709T090000", "20240716T090000"],
    },
    "vcal_allday.vcs": {
        # 00:00 to 23:59 of one day is the vCalendar way of saying "all day".
        "items": [{"type": "event", "summary": "Conference day", "start": "2024-03-15", "end": "2024-03-16"}],
    },
    "vcal_tz_daylight.vcs": {
        "items": [{"type": "event", "summary": "Local time meeting"}],
        # 09:30 local in summer, where DAYLIGHT says the offset is +02.
        "start_utc": "20240612T073000Z",
    },
    "vcal_todo.vcs": {
        "items": [{
            "type": "task", "summary": "Send the invoice", "due": "2024-03-20T17:00:00Z",
            "status": "NEEDS-ACTION",
            "alarms": [("AUDIO", "2024-03-20T16:00:00Z", 3, 600, "ding.wav")],
        }],
    },
}

# Where libical's vCalendar import (libicalvcal 3.0.16) is wrong, so that our
# iCalendar is not compared with it: input -> {aspect: why}. Aspects:
# "times" (DTSTART/DTEND/DUE), "occurrences", "exdate", "alarms".
LIBICAL_VCAL_WRONG = {
    "vcal_allday.vcs": {
        "times": "libical has no all-day convention for vCalendar (guide §2b): it keeps 00:00-23:59 as "
                 "date-times, where the event is the whole day 2024-03-15"},
    "vcal_tz_daylight.vcs": {
        "times": "libical ignores TZ and DAYLIGHT on import (guide §2b, observed): it leaves 09:30 "
                 "floating, where the input says 09:30 at +02"},
    "vcal_default_duration.vcs": {
        "occurrences": "libical rejects a rule without a duration ('Invalid Interval', guide §2b), "
                       "where the spec says a missing duration means #2"},
    "vcal_mp_two_positions.vcs": {
        "occurrences": "libical rejects 'MP2 1+ SU 1- SU #4' ('Invalid End Date', guide §2b)"},
    "vcal_weekly_interval.vcs": {
        "exdate": "libical does not split vCalendar's ';'-separated EXDATE list and writes "
                  "'EXDATE:ERROR: No Value' (observed here with libical 3.0.16)"},
    "vcal_floating.vcs": {
        "alarms": "libical relabels a floating DALARM run time as UTC (guide §2b): 08:45 floating "
                  "becomes 08:45Z"},
    "vcal_todo.vcs": {
        "alarms": "libical drops an AALARM that names a sound file ('Unsupported vCal property: "
                  "AUDIOCONTENT', observed here; guide §2b: AALARM handling)"},
}

ICAL_ITEM_KINDS = {
    ICalGLib.ComponentKind.VEVENT_COMPONENT: "event",
    ICalGLib.ComponentKind.VTODO_COMPONENT: "task",
}


# ------------------------------------------------------------ conversions --

_converted = {}


def convert(name, to):
    """syncmlkit-convert's output for an input file, run once per (input, format)."""
    key = (name, to)
    if key not in _converted:
        path = INPUTS / name
        done = subprocess.run([CONVERT, "--from", SOURCE_FORMAT[path.suffix], "--to", to, str(path)],
                              capture_output=True, timeout=60)
        if done.returncode != 0:
            raise AssertionError(f"syncmlkit-convert --to {to} {name} exited with {done.returncode}: "
                                 f"{done.stderr.decode('utf-8', 'replace')}")
        _converted[key] = done.stdout.decode("utf-8")
    return _converted[key]


def model_items(name):
    # The tool may print a JSON document per item; a calendar file is one item.
    document, _ = json.JSONDecoder().raw_decode(convert(name, "json").lstrip())
    return document["calendar"].get("items", [])


def libical_vcal_import(path):
    """libical's own reading of a vCalendar file, as iCalendar text."""
    vcal = ctypes.CDLL("libicalvcal.so.3")
    ical = ctypes.CDLL("libical.so.3")
    vcal.Parse_MIME.restype = ctypes.c_void_p
    vcal.Parse_MIME.argtypes = [ctypes.c_char_p, ctypes.c_ulong]
    vcal.icalvcal_convert.restype = ctypes.c_void_p
    vcal.icalvcal_convert.argtypes = [ctypes.c_void_p]
    vcal.cleanVObject.argtypes = [ctypes.c_void_p]
    ical.icalcomponent_as_ical_string.restype = ctypes.c_char_p
    ical.icalcomponent_as_ical_string.argtypes = [ctypes.c_void_p]
    ical.icalcomponent_free.argtypes = [ctypes.c_void_p]
    source = path.read_bytes()
    vobject = vcal.Parse_MIME(source, len(source))
    if not vobject:
        raise AssertionError(f"libical cannot parse {path.name} at all")
    component = vcal.icalvcal_convert(vobject)
    text = ical.icalcomponent_as_ical_string(component).decode("utf-8")
    ical.icalcomponent_free(component)
    vcal.cleanVObject(vobject)
    return text


# ------------------------------------------------ the model's vocabulary --

def time_text(t, tzid=None):
    """An ICalGLib.Time as the model's JSON writes a DateTime."""
    text = f"{t.get_year():04d}-{t.get_month():02d}-{t.get_day():02d}"
    if t.is_date():
        return text
    text += f"T{t.get_hour():02d}:{t.get_minute():02d}:{t.get_second():02d}"
    if t.is_utc():
        return text + "Z"
    return text + (f"[{tzid}]" if tzid else "")


def basic_to_model_text(value):
    """An iCalendar DATE or DATE-TIME ("20240331T035959Z") in the model's JSON form."""
    m = re.fullmatch(r"(\d{4})(\d\d)(\d\d)(?:T(\d\d)(\d\d)(\d\d)(Z?))?", value)
    if not m:
        return value
    text = f"{m[1]}-{m[2]}-{m[3]}"
    return text if m[4] is None else f"{text}T{m[4]}:{m[5]}:{m[6]}{m[7]}"


def shift(model_text, seconds):
    """A model date or date-time moved by `seconds`, in the same frame (UTC, zone or floating)."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\d)(?:T(\d\d:\d\d:\d\d))?(Z|\[.*\])?", model_text)
    if not m:
        return None
    moment = datetime.datetime.fromisoformat(f"{m[1]}T{m[2] or '00:00:00'}")
    moment += datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (m[3] or "")


def alarm_summary(alarm, item):
    """An alarm as (action, when it fires, repeat, snooze seconds, text), the trigger made
    absolute in the frame of the time it is relative to, so that a relative and an absolute
    trigger for the same moment compare equal."""
    when = alarm.get("at")
    if when is None and "offset_seconds" in alarm:
        anchor = item.get("start")
        if alarm.get("relative_to_end"):
            anchor = item.get("end") or item.get("due")
            if anchor is None and "start" in item and "duration_seconds" in item:
                anchor = shift(item["start"], item["duration_seconds"])
        when = shift(anchor, alarm["offset_seconds"]) if anchor else f"offset {alarm['offset_seconds']}"
    text = alarm.get("attachment", "") if alarm.get("action") == "AUDIO" else alarm.get("description", "")
    return (alarm.get("action"), when, alarm.get("repeat", 0), alarm.get("snooze_seconds", 0), text)


COMPARED_FIELDS = ("type", "uid", "summary", "start", "end", "due", "duration_seconds", "recurrence_id",
                   "rrule", "exdate", "alarms")


def model_view(item):
    """The fields of one JSON item that libical is asked about."""
    view = {k: item[k] for k in COMPARED_FIELDS if k in item}
    if "alarms" in item:
        view["alarms"] = [alarm_summary(a, item) for a in item["alarms"]]
    return view


# ------------------------------------------------------ what libical says --

def parse_with_libical(text):
    calendar = ICalGLib.Parser.parse_string(text)
    if calendar is None:
        raise AssertionError("libical returned no component")
    return calendar


def libical_errors(calendar):
    unfolded = calendar.as_ical_string().replace("\r\n ", "").replace("\n ", "")
    return [line for line in unfolded.splitlines() if "X-LIC-ERROR" in line]


def libical_items(calendar):
    items = []
    child = calendar.get_first_component(ICalGLib.ComponentKind.ANY_COMPONENT)
    while child is not None:
        if child.isa() in ICAL_ITEM_KINDS:
            items.append(child)
        child = calendar.get_next_component(ICalGLib.ComponentKind.ANY_COMPONENT)
    return items


def property_time(component, kind, getter):
    prop = component.get_first_property(kind)
    if prop is None:
        return None
    return time_text(getattr(prop, getter)(), prop.get_parameter_as_string("TZID"))


def rrule_view(rule):
    """libical's reading of an RRULE in the model's JSON vocabulary (defaults left out)."""
    view = {}
    list_keys = {"BYDAY": "by_day", "BYMONTHDAY": "by_month_day", "BYYEARDAY": "by_year_day",
                 "BYWEEKNO": "by_week_no", "BYMONTH": "by_month", "BYSETPOS": "by_set_pos",
                 "BYHOUR": "by_hour", "BYMINUTE": "by_minute", "BYSECOND": "by_second"}
    for part in rule.to_string().split(";"):
        name, _, value = part.partition("=")
        if name == "FREQ":
            view["freq"] = value
        elif name == "INTERVAL" and value != "1":
            view["interval"] = int(value)
        elif name == "COUNT":
            view["count"] = int(value)
        elif name == "UNTIL":
            view["until"] = basic_to_model_text(value)
        elif name == "WKST" and value != "MO":
            view["wkst"] = value
        elif name in list_keys:
            values = value.split(",")
            view[list_keys[name]] = values if name == "BYDAY" else [int(v) for v in values]
    return view


def alarm_view(valarm):
    alarm = {}
    action = valarm.get_first_property(ICalGLib.PropertyKind.ACTION_PROPERTY)
    if action is not None:
        alarm["action"] = action.get_value_as_string()
    trigger_property = valarm.get_first_property(ICalGLib.PropertyKind.TRIGGER_PROPERTY)
    if trigger_property is not None:
        trigger = trigger_property.get_trigger()
        if trigger.get_time().is_null_time():
            alarm["offset_seconds"] = trigger.get_duration().as_int()
            if (trigger_property.get_parameter_as_string("RELATED") or "").upper() == "END":
                alarm["relative_to_end"] = True
        else:
            alarm["at"] = time_text(trigger.get_time())
    repeat = valarm.get_first_property(ICalGLib.PropertyKind.REPEAT_PROPERTY)
    if repeat is not None and repeat.get_repeat():
        alarm["repeat"] = repeat.get_repeat()
    snooze = valarm.get_first_property(ICalGLib.PropertyKind.DURATION_PROPERTY)
    if snooze is not None and snooze.get_duration().as_int():
        alarm["snooze_seconds"] = snooze.get_duration().as_int()
    description = valarm.get_first_property(ICalGLib.PropertyKind.DESCRIPTION_PROPERTY)
    if description is not None:
        alarm["description"] = description.get_description()
    attachment = valarm.get_first_property(ICalGLib.PropertyKind.ATTACH_PROPERTY)
    if attachment is not None:
        alarm["attachment"] = attachment.get_value_as_string()
    return alarm


def libical_view(component):
    """What libical reads in one VEVENT or VTODO, in the model's JSON vocabulary."""
    kinds = ICalGLib.PropertyKind
    view = {"type": ICAL_ITEM_KINDS[component.isa()]}
    # The typed getters give the text unescaped, as the model holds it.
    if component.get_first_property(kinds.UID_PROPERTY) is not None:
        view["uid"] = component.get_uid()
    if component.get_first_property(kinds.SUMMARY_PROPERTY) is not None:
        view["summary"] = component.get_summary()
    for kind, getter, key in ((kinds.DTSTART_PROPERTY, "get_dtstart", "start"),
                              (kinds.DTEND_PROPERTY, "get_dtend", "end"),
                              (kinds.DUE_PROPERTY, "get_due", "due"),
                              (kinds.RECURRENCEID_PROPERTY, "get_recurrenceid", "recurrence_id")):
        value = property_time(component, kind, getter)
        if value is not None:
            view[key] = value
    duration = component.get_first_property(kinds.DURATION_PROPERTY)
    if duration is not None:
        view["duration_seconds"] = duration.get_duration().as_int()
    rrule = component.get_first_property(kinds.RRULE_PROPERTY)
    if rrule is not None:
        view["rrule"] = rrule_view(rrule.get_rrule())
    exdates = []
    prop = component.get_first_property(kinds.EXDATE_PROPERTY)
    while prop is not None:
        exdates.append(time_text(prop.get_exdate(), prop.get_parameter_as_string("TZID")))
        prop = component.get_next_property(kinds.EXDATE_PROPERTY)
    if exdates:
        view["exdate"] = exdates
    alarms = []
    valarm = component.get_first_component(ICalGLib.ComponentKind.VALARM_COMPONENT)
    while valarm is not None:
        alarms.append(alarm_view(valarm))
        valarm = component.get_next_component(ICalGLib.ComponentKind.VALARM_COMPONENT)
    if alarms:
        view["alarms"] = [alarm_summary(a, view) for a in alarms]
    return view


def occurrences(component, limit):
    """The first `limit` starts of the component's RRULE, by libical's iterator."""
    rrule = component.get_first_property(ICalGLib.PropertyKind.RRULE_PROPERTY)
    dtstart = component.get_first_property(ICalGLib.PropertyKind.DTSTART_PROPERTY)
    if rrule is None or dtstart is None:
        return []
    iterator = ICalGLib.RecurIterator.new(rrule.get_rrule(), dtstart.get_dtstart())
    starts = []
    while len(starts) < limit:
        t = iterator.next()
        if t is None or t.is_null_time():
            break
        starts.append(t.as_ical_string())
    return starts


def start_in_utc(calendar, component):
    """DTSTART as a UTC instant, resolving its TZID with the VTIMEZONE we wrote."""
    prop = component.get_first_property(ICalGLib.PropertyKind.DTSTART_PROPERTY)
    start = prop.get_dtstart()
    if start.is_utc():
        return start.as_ical_string()
    tzid = prop.get_parameter_as_string("TZID")
    if not tzid:
        return f"floating {start.as_ical_string()}"
    zone = calendar.get_timezone(tzid) or ICalGLib.Timezone.get_builtin_timezone(tzid)
    if zone is None:
        return f"unknown zone {tzid}"
    start.set_timezone(zone)
    return start.convert_to_zone(ICalGLib.Timezone.get_utc_timezone()).as_ical_string()


def tzids_without_vtimezone(calendar):
    defined = set()
    zone = calendar.get_first_component(ICalGLib.ComponentKind.VTIMEZONE_COMPONENT)
    while zone is not None:
        defined.add(zone.get_first_property(ICalGLib.PropertyKind.TZID_PROPERTY).get_tzid())
        zone = calendar.get_next_component(ICalGLib.ComponentKind.VTIMEZONE_COMPONENT)
    used = set()
    for item in libical_items(calendar):
        prop = item.get_first_property(ICalGLib.PropertyKind.ANY_PROPERTY)
        while prop is not None:
            tzid = prop.get_parameter_as_string("TZID")
            if tzid:
                used.add(tzid)
            prop = item.get_next_property(ICalGLib.PropertyKind.ANY_PROPERTY)
    return sorted(used - defined)


def input_names():
    return sorted(EXPECTED)


# ------------------------------------------------------------------ tests --

class CalendarOracles(unittest.TestCase):
    maxDiff = None

    def test_every_input_has_an_expectation(self):
        on_disk = sorted(p.name for p in INPUTS.iterdir() if p.suffix in SOURCE_FORMAT)
        self.assertEqual(on_disk, input_names())

    def test_python_icalendar_reads_our_icalendar_without_errors(self):
        for name in input_names():
            with self.subTest(input=name):
                calendar = icalendar.Calendar.from_ical(convert(name, "ical20"))
                errors = [(c.name, prop, message) for c in calendar.walk() for prop, message in c.errors]
                self.assertEqual(errors, [])
                kinds = [c.name for c in calendar.walk() if c.name in ("VEVENT", "VTODO")]
                self.assertEqual(len(kinds), len(EXPECTED[name]["items"]))

    def test_libical_reads_our_icalendar_without_errors(self):
        for name in input_names():
            with self.subTest(input=name):
                calendar = parse_with_libical(convert(name, "ical20"))
                self.assertEqual(calendar.isa(), ICalGLib.ComponentKind.VCALENDAR_COMPONENT)
                self.assertEqual(libical_errors(calendar), [])

    def test_our_icalendar_has_what_rfc5545_requires(self):
        # Neither reader checks these without a METHOD, so they are counted
        # here: VERSION and PRODID once (§3.6), UID and DTSTAMP once in each
        # VEVENT/VTODO (§3.6.1, §3.6.2), a VTIMEZONE for every TZID (§3.2.19).
        # The writer never invents a UID or a DTSTAMP (icalendar.cpp says why:
        # the output would change on every conversion), so the vCalendar
        # inputs, which have no DTSTAMP, may come out without one.
        kinds = ICalGLib.PropertyKind
        for name in input_names():
            calendar = parse_with_libical(convert(name, "ical20"))
            with self.subTest(input=name, what="VCALENDAR"):
                self.assertEqual([calendar.count_properties(kinds.VERSION_PROPERTY),
                                  calendar.count_properties(kinds.PRODID_PROPERTY)], [1, 1])
                self.assertEqual(calendar.get_first_property(kinds.VERSION_PROPERTY).get_version(), "2.0")
            for index, (item, model) in enumerate(zip(libical_items(calendar), model_items(name))):
                with self.subTest(input=name, item=index, what="UID and DTSTAMP"):
                    self.assertEqual([item.count_properties(kinds.UID_PROPERTY),
                                      item.count_properties(kinds.DTSTAMP_PROPERTY)],
                                     [int("uid" in model), int("stamp" in model)])
            with self.subTest(input=name, what="VTIMEZONE for each TZID"):
                self.assertEqual(tzids_without_vtimezone(calendar), [])

    def test_libical_reads_what_our_model_says(self):
        for name in input_names():
            ours = [model_view(item) for item in model_items(name)]
            theirs = [libical_view(c) for c in libical_items(parse_with_libical(convert(name, "ical20")))]
            with self.subTest(input=name, what="number of items"):
                self.assertEqual(len(theirs), len(ours))
            for index, (model, libical) in enumerate(zip(ours, theirs)):
                for field in COMPARED_FIELDS:
                    with self.subTest(input=name, item=index, field=field):
                        self.assertEqual(libical.get(field), model.get(field))

    def test_our_model_holds_what_the_input_means(self):
        for name in input_names():
            items = model_items(name)
            expected_items = EXPECTED[name]["items"]
            with self.subTest(input=name, what="number of items"):
                self.assertEqual(len(items), len(expected_items))
            for index, (item, expected) in enumerate(zip(items, expected_items)):
                for field, value in expected.items():
                    with self.subTest(input=name, item=index, field=field):
                        if field == "alarms":
                            self.assertEqual([alarm_summary(a, item) for a in item.get("alarms", [])], value)
                        else:
                            self.assertEqual(item.get(field), value)

    def test_our_rules_give_the_occurrences_the_input_means(self):
        for name in input_names():
            expected = EXPECTED[name].get("occurrences")
            if expected is None:
                continue
            with self.subTest(input=name):
                master = libical_items(parse_with_libical(convert(name, "ical20")))[0]
                limit = len(expected) if EXPECTED[name].get("endless") else len(expected) + 1
                self.assertEqual(occurrences(master, limit), expected)

    def test_times_from_vcalendar_zones_are_the_right_instants(self):
        for name in input_names():
            expected = EXPECTED[name].get("start_utc")
            if expected is None:
                continue
            with self.subTest(input=name):
                calendar = parse_with_libical(convert(name, "ical20"))
                self.assertEqual(start_in_utc(calendar, libical_items(calendar)[0]), expected)


class LibicalVCalendarImport(unittest.TestCase):
    """Our iCalendar from a vCalendar input against libical's own import of that input."""
    maxDiff = None

    def compare(self, name, aspect, ours, theirs):
        with self.subTest(input=name, aspect=aspect):
            reason = LIBICAL_VCAL_WRONG.get(name, {}).get(aspect)
            if reason:
                self.skipTest(f"libical is wrong here: {reason}")
            self.assertEqual(ours, theirs)

    def test_libical_imports_vcalendar_as_we_do(self):
        vcal_inputs = [n for n in input_names() if n.endswith(".vcs")]
        self.assertGreaterEqual(len(vcal_inputs), 10)
        for name in vcal_inputs:
            libical_calendar = parse_with_libical(libical_vcal_import(INPUTS / name))
            our_calendar = parse_with_libical(convert(name, "ical20"))
            theirs_component = libical_items(libical_calendar)[0]
            ours_component = libical_items(our_calendar)[0]
            theirs, ours = libical_view(theirs_component), libical_view(ours_component)
            self.compare(name, "summary", ours.get("summary"), theirs.get("summary"))
            self.compare(name, "times", [ours.get(k) for k in ("start", "end", "due")],
                         [theirs.get(k) for k in ("start", "end", "due")])
            self.compare(name, "occurrences", occurrences(ours_component, 20), occurrences(theirs_component, 20))
            self.compare(name, "exdate", ours.get("exdate"), theirs.get("exdate"))
            self.compare(name, "alarms", ours.get("alarms"), theirs.get("alarms"))


if __name__ == "__main__":
    unittest.main()
