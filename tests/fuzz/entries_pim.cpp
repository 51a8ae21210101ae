// Fuzz bodies of the PIM readers (and, on what they read, the writers).
#include <initializer_list>
#include <string>
#include <vector>

#include "entries.hpp"
#include "syncmlkit/pim.hpp"

namespace smk::fuzz {
namespace {

using pim::Format;

int pim_body(const std::uint8_t* data, std::size_t size, std::initializer_list<Format> family) {
    if (size == 0) return 0;
    // First byte: bits 0-1 the format, bits 2-4 the profile, bit 5 a user zone.
    const std::uint8_t choice = data[0];
    const std::vector<Format> formats(family);
    const Format format = formats[(choice & 3u) % formats.size()];
    static const char* const profiles[] = {"generic", "funambol-outlook", "syncevolution", "nokia", "sonyericsson"};
    pim::Profile profile = pim::profile_named(profiles[((choice >> 2) & 7u) % 5]);
    if (choice & 0x20u) profile.time_zone = "Europe/Berlin";
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

    pim::ReadResult r = pim::read(text, format, profile);
    (void)pim::detect_format(text);
    if (!r.item) return 0;
    (void)pim::to_json(*r.item);
    // Written in every format of its kind, and read back.
    const pim::Kind kind = pim::kind_of(format);
    for (Format out : {Format::vcard21, Format::vcard30, Format::vcard40, Format::vcal10, Format::ical20, Format::sifc,
                       Format::sife, Format::sift, Format::sifn, Format::vnote11, Format::text}) {
        if (pim::kind_of(out) != kind) continue;
        std::vector<pim::Warning> losses;
        std::string written = pim::write(*r.item, out, profile, &losses);
        pim::ReadResult back = pim::read(written, out, profile);
        if (!back.item) continue;
        pim::MergeInput how;
        how.client_format = out;
        (void)pim::merge(*r.item, *back.item, how);
    }
    return 0;
}

}  // namespace

int pim_vcard(const std::uint8_t* data, std::size_t size) {
    return pim_body(data, size, {Format::vcard21, Format::vcard30, Format::vcard40});
}
int pim_vcalendar(const std::uint8_t* data, std::size_t size) { return pim_body(data, size, {Format::vcal10}); }
int pim_icalendar(const std::uint8_t* data, std::size_t size) { return pim_body(data, size, {Format::ical20}); }
int pim_sif(const std::uint8_t* data, std::size_t size) {
    return pim_body(data, size, {Format::sifc, Format::sife, Format::sift, Format::sifn});
}
int pim_note(const std::uint8_t* data, std::size_t size) { return pim_body(data, size, {Format::vnote11, Format::text}); }

}  // namespace smk::fuzz
