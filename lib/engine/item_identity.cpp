#include "engine/item_identity.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <vector>

#include "wire/text.hpp"

namespace smk::engine {
namespace {

// Unfolds continuation lines (a line starting with space or tab continues
// the previous one) and splits on CRLF or LF.
std::vector<std::string> unfolded_lines(std::string_view data) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < data.size()) {
        std::size_t end = data.find('\n', pos);
        if (end == std::string_view::npos) end = data.size();
        std::string_view line = data.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty() && (line.front() == ' ' || line.front() == '\t') && !lines.empty())
            lines.back().append(line.substr(1));
        else
            lines.emplace_back(line);
        pos = end + 1;
    }
    return lines;
}

std::string normalised_value(const std::string& name, std::string_view value) {
    std::string out;
    if (name == "TEL") {  // "+49 30 123" and "+4930123" are one number
        for (char c : value)
            if (std::isdigit(static_cast<unsigned char>(c)) || c == '+') out += c;
        return out;
    }
    for (char c : value) {
        if (c == '\\') continue;  // escaping differs between versions
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    // Trailing empty components (ORG;;; N:a;b;;;) differ between encoders.
    while (!out.empty() && (out.back() == ';' || out.back() == ' ')) out.pop_back();
    return out;
}

// The identifying lines as written, for items the model cannot read.
std::string line_key(Category category, std::string_view data) {
    static const std::vector<std::string> kContact = {"N", "FN", "EMAIL", "TEL"};
    static const std::vector<std::string> kEvent = {"SUMMARY", "DTSTART"};
    static const std::vector<std::string> kTask = {"SUMMARY", "DUE"};
    static const std::vector<std::string> kNote = {"SUMMARY", "BODY"};
    const auto& wanted = category == Category::contacts   ? kContact
                         : category == Category::calendar ? kEvent
                         : category == Category::tasks    ? kTask
                                                          : kNote;

    std::map<std::string, std::vector<std::string>> values;
    for (const std::string& line : unfolded_lines(data)) {
        std::size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string_view head(line.data(), colon);
        std::string name = wire::to_upper(head.substr(0, head.find(';')));
        if (std::size_t dot = name.find('.'); dot != std::string::npos) name = name.substr(dot + 1);  // group.TEL
        if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) continue;
        std::string value = normalised_value(name, std::string_view(line).substr(colon + 1));
        if (!value.empty()) values[name].push_back(std::move(value));  // "TEL:" says nothing
    }
    std::string key;
    for (const std::string& name : wanted) {
        auto it = values.find(name);
        if (it == values.end()) continue;
        std::sort(it->second.begin(), it->second.end());
        key += name;
        for (const std::string& v : it->second) key += "=" + v;
        key += '\n';
    }
    return key;
}

}  // namespace

std::optional<pim::Item> read_model(const Format& format, std::string_view data) {
    std::optional<pim::Format> f = pim::format_for_mime(format.type, format.version);
    if (!f) return std::nullopt;
    return pim::read(data, *f).item;
}

pim::Identity identity(Category category, const Format& format, std::string_view data) {
    if (std::optional<pim::Item> item = read_model(format, data)) {
        pim::Identity id = pim::identity_of(*item);
        if (!id.key.empty()) return id;
    }
    pim::Identity id;
    std::string key = line_key(category, data);
    if (!key.empty()) id.key = "l:" + key;
    return id;
}

}  // namespace smk::engine
