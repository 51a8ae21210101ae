// The C ABI over the C++ API: thin and mechanical, catching every exception.
#include "syncmlkit.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "syncmlkit/version.hpp"
#include "syncmlkit/wire.hpp"

namespace {

char* copy_out(const std::string& s) {
    auto* p = static_cast<char*>(std::malloc(s.size() + 1));
    if (p) std::memcpy(p, s.c_str(), s.size() + 1);
    return p;
}

void set_error(char** error, const std::string& what) {
    if (error) *error = copy_out(what);
}

}  // namespace

extern "C" {

const char* smk_version(void) { return smk::version(); }

int smk_render_xml(const char* bytes, size_t len, const char* content_type, char** out, size_t* out_len,
                   char** error) {
    if (error) *error = nullptr;
    if (!out || (!bytes && len)) {
        set_error(error, "smk_render_xml: out and bytes must not be NULL");
        return SMK_ERR_ARGUMENT;
    }
    *out = nullptr;
    try {
        std::string_view input(bytes ? bytes : "", len);
        std::optional<smk::wire::Encoding> enc = content_type
                                                     ? smk::wire::encoding_from_content_type(content_type)
                                                     : smk::wire::sniff_encoding(input);
        if (!enc) {
            set_error(error, content_type ? std::string("not a SyncML content type: ") + content_type
                                          : std::string("neither XML nor WBXML"));
            return SMK_ERR_ARGUMENT;
        }
        std::string xml = smk::wire::render_xml(input, *enc);
        *out = copy_out(xml);
        if (!*out) return SMK_ERR_NOMEM;
        if (out_len) *out_len = xml.size();
        return SMK_OK;
    } catch (const smk::wire::DecodeError& e) {
        set_error(error, e.what());
        return SMK_ERR_DECODE;
    } catch (const std::bad_alloc&) {
        return SMK_ERR_NOMEM;
    } catch (const std::exception& e) {
        set_error(error, e.what());
        return SMK_ERR_INTERNAL;
    }
}

void smk_free(void* p) { std::free(p); }

}  // extern "C"
