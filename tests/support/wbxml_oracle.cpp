#include "wbxml_oracle.hpp"

#include <cstdlib>
#include <wbxml/wbxml_conv.h>

namespace smk::test {

std::optional<std::string> libwbxml_to_xml(std::string_view wbxml, std::string* error) {
    WBXMLConvWBXML2XML* conv = nullptr;
    if (wbxml_conv_wbxml2xml_create(&conv) != WBXML_OK) return std::nullopt;
    wbxml_conv_wbxml2xml_set_gen_type(conv, WBXML_GEN_XML_COMPACT);
    wbxml_conv_wbxml2xml_enable_preserve_whitespaces(conv);
    WB_UTINY* xml = nullptr;
    WB_ULONG xml_len = 0;
    WBXMLError rc = wbxml_conv_wbxml2xml_run(conv, reinterpret_cast<WB_UTINY*>(const_cast<char*>(wbxml.data())),
                                             static_cast<WB_ULONG>(wbxml.size()), &xml, &xml_len);
    wbxml_conv_wbxml2xml_destroy(conv);
    if (rc != WBXML_OK) {
        if (error) *error = reinterpret_cast<const char*>(wbxml_errors_string(rc));
        return std::nullopt;
    }
    std::string out(reinterpret_cast<char*>(xml), xml_len);
    std::free(xml);
    return out;
}

std::optional<std::string> libwbxml_from_xml(std::string_view xml, std::string* error) {
    WBXMLConvXML2WBXML* conv = nullptr;
    if (wbxml_conv_xml2wbxml_create(&conv) != WBXML_OK) return std::nullopt;
    wbxml_conv_xml2wbxml_set_version(conv, WBXML_VERSION_12);
    wbxml_conv_xml2wbxml_disable_string_table(conv);
    WB_UTINY* wbxml = nullptr;
    WB_ULONG wbxml_len = 0;
    WBXMLError rc = wbxml_conv_xml2wbxml_run(conv, reinterpret_cast<WB_UTINY*>(const_cast<char*>(xml.data())),
                                             static_cast<WB_ULONG>(xml.size()), &wbxml, &wbxml_len);
    wbxml_conv_xml2wbxml_destroy(conv);
    if (rc != WBXML_OK) {
        if (error) *error = reinterpret_cast<const char*>(wbxml_errors_string(rc));
        return std::nullopt;
    }
    std::string out(reinterpret_cast<char*>(wbxml), wbxml_len);
    std::free(wbxml);
    return out;
}

}  // namespace smk::test
