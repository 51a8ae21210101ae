// Element events to XML text. Namespaces are declared where they change: the
// SyncML namespace on <SyncML>, syncml:metinf on each element that opens a
// MetInf run (clients that ignore namespaces see plain names), syncml:devinf
// on <DevInf>. No DOCTYPE: no client needs one. Text that is not valid
// UTF-8 or holds characters XML forbids goes out repaired (repair_utf8).
#include <cstring>
#include <vector>

#include "element_sink.hpp"
#include "text.hpp"
#include "writers.hpp"

namespace smk::wire {
namespace {

class XmlSink : public ElementSink {
public:
    XmlSink(std::string& out, Version version) : out_(out), version_(version) {
        out_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    }
    /// For a fragment: elements inside a SyncBody, without the document around.
    struct Fragment {};
    XmlSink(std::string& out, Version version, Fragment) : out_(out), version_(version) {
        stack_.push_back(Tag::SyncBody);
    }

    void open(Tag tag) override {
        start(tag);
        out_ += '>';
        stack_.push_back(tag);
    }
    void close() override {
        out_ += "</";
        out_ += tag_info(stack_.back()).name;
        out_ += '>';
        stack_.pop_back();
    }
    void flag(Tag tag) override {
        start(tag);
        out_ += "/>";
    }
    void text(Tag tag, std::string_view value) override {
        if (value.empty()) return flag(tag);
        value = xml_safe(value);
        start(tag);
        out_ += '>';
        escape(value);
        end(tag);
    }
    void payload(Tag tag, std::string_view value) override {
        if (value.empty()) return flag(tag);
        value = xml_safe(value);
        start(tag);
        out_ += '>';
        // The Funambol client decodes no entity but &amp; &lt; &gt; and was
        // never seen with a CDATA section split in two: data that cannot be
        // one CDATA section is escaped instead.
        if (value.find("]]>") == std::string_view::npos) {
            out_ += "<![CDATA[";
            out_ += value;
            out_ += "]]>";
        } else {
            escape(value);
        }
        end(tag);
    }

private:
    // Whatever the model holds, the document stays well-formed: text that is
    // not valid UTF-8, or holds characters XML 1.0 forbids, is written as
    // repair_utf8 leaves it (the model is not changed).
    std::string_view xml_safe(std::string_view value) {
        if (is_xml_text(value)) return value;
        repaired_ = repaired_utf8(value);
        return repaired_;
    }

    void start(Tag tag) {
        const TagInfo& info = tag_info(tag);
        out_ += '<';
        out_ += info.name;
        if (stack_.empty()) {
            out_ += " xmlns=\"SYNCML:SYNCML";
            out_ += version_string(version_);
            out_ += '"';
        } else if (info.ns != tag_info(stack_.back()).ns) {
            out_ += info.ns == Ns::metinf ? " xmlns=\"syncml:metinf\"" : " xmlns=\"syncml:devinf\"";
        }
    }
    void end(Tag tag) {
        out_ += "</";
        out_ += tag_info(tag).name;
        out_ += '>';
    }
    void escape(std::string_view value) {
        std::size_t from = 0;
        for (std::size_t i = 0; i < value.size(); ++i) {
            const char* rep;
            switch (value[i]) {
                case '&': rep = "&amp;"; break;
                case '<': rep = "&lt;"; break;
                case '>': rep = "&gt;"; break;
                default: continue;
            }
            out_.append(value.data() + from, i - from);
            out_ += rep;
            from = i + 1;
        }
        out_.append(value.data() + from, value.size() - from);
    }

    std::string& out_;
    Version version_;
    std::vector<Tag> stack_;
    std::string repaired_;
};

}  // namespace

void write_xml(const Message& msg, Version version, std::string& out) {
    XmlSink sink(out, version);
    write_message(msg, sink);
}

void write_xml_command(const Command& cmd, Version version, std::string& out) {
    XmlSink sink(out, version, XmlSink::Fragment{});
    write_command(cmd, sink);
}

}  // namespace smk::wire
