// Recurrence rules: RFC 5545 RRULE text and the vCalendar 1.0 basic grammar
// (D, W, MD, MP, YM, YD with #N, #0, $, LD, n+/n-) to and from the model's
// Recurrence, and the expansion of a series into its occurrences (needed to
// write an explicit end date for a vCalendar rule, and to know which years a
// series touches for vCalendar DAYLIGHT lines).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "syncmlkit/pim.hpp"

namespace smk::pim::recurrence {

/// "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10". Unknown parts are warned about and
/// skipped; nullopt when there is no usable FREQ.
std::optional<Recurrence> parse_rrule(std::string_view value, int line, std::vector<Warning>* warnings);

/// The RRULE value for a rule (parts in RFC 5545's usual order).
std::string format_rrule(const Recurrence& rule);

/// A vCalendar 1.0 RRULE value ("MP1 1+ FR #0"). `start` is the series'
/// DTSTART (a rule without days repeats on the start's weekday / day);
/// `profile.vcal_count_is_intervals` decides how "#N" is read, and
/// `profile.last_week_is_5_plus` how "5+" and "n-" are. nullopt when the
/// rule cannot be read.
std::optional<Recurrence> parse_vcal_rule(std::string_view value, const DateTime& start, const Profile& profile,
                                          int line, std::vector<Warning>* warnings);

/// The vCalendar 1.0 RRULE value for a rule, or nullopt when the basic
/// grammar cannot say it (the caller then writes the occurrences as RDATEs
/// and reports the loss). A COUNT is written as the date of the last
/// occurrence, never as an ambiguous "#N"; an endless rule as "#0".
std::optional<std::string> format_vcal_rule(const Recurrence& rule, const DateTime& start, const Profile& profile,
                                            std::vector<Warning>* losses);

/// The occurrences of a series starting at `start` (which is the first
/// one), in order, in the same kind and zone as `start`; at most `limit`
/// of them and none after 31 December of `last_year`. COUNT and UNTIL are
/// honoured. Exception and extra dates are the caller's business.
std::vector<DateTime> expand(const Recurrence& rule, const DateTime& start, std::size_t limit, int last_year);

/// Calls `visit` with each occurrence of the series starting at `start`
/// that is at or after `from` on the start's wall clock, in order, until it
/// returns false or the series ends (COUNT and UNTIL honoured); the
/// occurrences before `from` are walked over, not kept. True when the walk
/// ended that way; false when `max_periods` periods of the rule (years,
/// months, ... seconds) went by first, or the start is unusable: the caller
/// then does not know what follows.
bool visit_from(const Recurrence& rule, const DateTime& start, const DateTime& from, std::int64_t max_periods,
                const std::function<bool(const DateTime&)>& visit);

}  // namespace smk::pim::recurrence
