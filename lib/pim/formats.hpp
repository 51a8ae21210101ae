// The readers and writers of each format, behind pim.hpp's read() and
// write(). One module per format family; each fills or reads the model and
// reports what it could not read (warnings) or write (losses).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "syncmlkit/pim.hpp"

namespace smk::pim::detail {

// vcard.cpp: vCard 2.1, 3.0 and 4.0 (the version the card declares).
std::optional<Contact> read_vcard(std::string_view text, const Profile& profile, std::vector<Warning>* warnings);
/// `format` is vcard21, vcard30 or vcard40.
std::string write_vcard(const Contact& contact, Format format, const Profile& profile, std::vector<Warning>* losses);

// icalendar.cpp / vcalendar.cpp: one VCALENDAR object (the master item, its
// changed instances, their VTIMEZONEs).
std::optional<Calendar> read_icalendar(std::string_view text, const Profile& profile, std::vector<Warning>* warnings);
std::string write_icalendar(const Calendar& calendar, const Profile& profile, std::vector<Warning>* losses);
std::optional<Calendar> read_vcalendar(std::string_view text, const Profile& profile, std::vector<Warning>* warnings);
std::string write_vcalendar(const Calendar& calendar, const Profile& profile, std::vector<Warning>* losses);

// sif.cpp: Funambol's SIF-C, -E, -T and -N, plain or base64.
std::optional<Contact> read_sif_contact(std::string_view xml, const Profile& profile, std::vector<Warning>* warnings);
std::string write_sif_contact(const Contact& contact, const Profile& profile, std::vector<Warning>* losses);
std::optional<Calendar> read_sif_calendar(std::string_view xml, const Profile& profile, std::vector<Warning>* warnings);
/// SIF-E for an event, SIF-T for a task (the calendar's first item decides).
std::string write_sif_calendar(const Calendar& calendar, const Profile& profile, std::vector<Warning>* losses);
std::optional<Note> read_sif_note(std::string_view xml, const Profile& profile, std::vector<Warning>* warnings);
std::string write_sif_note(const Note& note, const Profile& profile, std::vector<Warning>* losses);

// note.cpp: vNote 1.1 and plain text.
std::optional<Note> read_vnote(std::string_view text, const Profile& profile, std::vector<Warning>* warnings);
std::string write_vnote(const Note& note, const Profile& profile, std::vector<Warning>* losses);
std::optional<Note> read_text_note(std::string_view text, std::vector<Warning>* warnings);
std::string write_text_note(const Note& note, std::vector<Warning>* losses);

}  // namespace smk::pim::detail
