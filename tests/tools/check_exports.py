#!/usr/bin/python3
"""What libsyncmlkit.so exports, and its SONAME (tests library_exports and
library_exports_rejects_foreign).

A vendor links the shared library; whatever it exports is ABI, and whatever
of its dependencies it exports can collide with the vendor's own copy of
pugixml, SQLiteCpp, ICU or fmt. So the library exports:
  - the C ABI: every smk_ function declared SMK_C_API in capi/syncmlkit.h,
    and no other smk_ symbol;
  - the C++ API: names in namespace smk (mangled _ZN3smk / _ZNK3smk), and the
    typeinfo, typeinfo name and vtable of smk classes (_ZTIN3smk, _ZTSN3smk,
    _ZTVN3smk), without which a host cannot derive from smk::Datastore,
    smk::AuthProvider or smk::Logger, nor catch smk::DatastoreError or
    smk::wire::DecodeError; those are checked to be there;
  - nothing else: no symbol of a dependency, no instantiation of a standard
    library template (std::vector<smk::wire::Tag>::_M_realloc_insert is
    std's, though it names an smk type), no ...::Impl of an API class.
Names are classified mangled, not demangled: "smk::wire::CTCap*
std::__do_uninit_copy<...>" begins with "smk::" yet is a std function.
No allow-list is needed beyond the three rules above today; a std::
instantiation that an inline function of a public header forced out would
go in ALLOWED below, with its reason.

The SONAME must be libsyncmlkit.so.<major> and the file
libsyncmlkit.so.<version>.

--self-test runs the same checks on the real list with foreign symbols added
(a pugixml, SQLiteCpp, fmt, ICU and SQLite symbol, std instantiations, an Impl
member, an undeclared smk_ function) and a required typeinfo removed, and
passes only if each of those, and nothing else, is reported.
"""
import argparse
import os
import re
import subprocess
import sys

# Mangled-name prefixes of the C++ API.
API_PREFIXES = ("_ZN3smk", "_ZNK3smk", "_ZTIN3smk", "_ZTSN3smk", "_ZTVN3smk")
# Exported on purpose although outside the rules above: (mangled name, reason).
ALLOWED = []
# A host derives from these or catches them: their typeinfo must be exported.
REQUIRED_TYPEINFO = {
    "_ZTIN3smk9DatastoreE": "smk::Datastore",
    "_ZTIN3smk17DatastoreProviderE": "smk::DatastoreProvider",
    "_ZTIN3smk12AuthProviderE": "smk::AuthProvider",
    "_ZTIN3smk6LoggerE": "smk::Logger",
    "_ZTIN3smk14DatastoreErrorE": "smk::DatastoreError",
    "_ZTIN3smk4wire11DecodeErrorE": "smk::wire::DecodeError",
}
INTERNAL = re.compile(r"::Impl::|::detail::|\(anonymous namespace\)")

FOREIGN = [  # what --self-test adds; each must be reported
    "_ZN4pugi12xml_document11load_bufferEPKvmjNS_12xml_encodingE",            # pugixml
    "_ZN6SQLite8DatabaseC1ERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEiiS8_",  # SQLiteCpp
    "_ZN3fmt2v96detail12format_errorEPKc",                                     # fmt
    "ucnv_open_72",                                                            # ICU
    "sqlite3_open_v2",                                                         # SQLite
    "_ZNSt6vectorIiSaIiEE17_M_realloc_insertIJRKiEEEvN9__gnu_cxx17__normal_iteratorIPiS1_EEDpOT_",
    "_ZSt16__do_uninit_copyIN9__gnu_cxx17__normal_iteratorIPKN3smk4wire5CTCapESt6vectorIS4_SaIS4_EEEEPS4_ET0_T_SD_SC_",
    "_ZTISt18bad_variant_access",
    "_ZNK3smk19SqliteStoreProvider4Impl13snapshot_fileERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEENS_8CategoryES9_",
    "smk_not_declared_in_the_header",
]
DROPPED = "_ZTIN3smk9DatastoreE"  # what --self-test removes; must be reported missing


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def declared_c_functions(header):
    text = open(header, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^[ \t]*#[^\n]*(\\\n[^\n]*)*", " ", text, flags=re.M)
    return set(re.findall(r"\bSMK_C_API\b[^;{}]*?\b(smk_\w+)\s*\(", text))


def check(symbols, declared, demangle):
    """symbols: {mangled name: nm type}. Returns (unexpected, missing)."""
    unexpected, missing = [], []
    allowed = {name for name, _ in ALLOWED}
    for name in sorted(symbols):
        if name in allowed:
            continue
        if name.startswith("smk_"):
            if name not in declared:
                unexpected.append((name, "smk_ symbol not declared SMK_C_API in capi/syncmlkit.h"))
        elif not name.startswith(API_PREFIXES):
            unexpected.append((name, "not in namespace smk"))
        elif INTERNAL.search(demangle[name]):
            unexpected.append((name, "internal to the library"))
    for name in sorted(declared - set(symbols)):
        missing.append((name, "declared in capi/syncmlkit.h but not exported"))
    for name, what in REQUIRED_TYPEINFO.items():
        if name not in symbols:
            missing.append((name, "typeinfo for " + what + " not exported"))
    return unexpected, missing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True, help="the built libsyncmlkit.so.<version>")
    ap.add_argument("--header", required=True, help="capi/syncmlkit.h")
    ap.add_argument("--version", required=True)
    ap.add_argument("--soversion", required=True)
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--readelf", default="readelf")
    ap.add_argument("--cxxfilt", default="c++filt")
    ap.add_argument("--nm-output", help="read this nm -D --defined-only output instead of running nm")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()

    failures = []
    # SONAME and file name.
    base = os.path.basename(args.lib)
    if base != "libsyncmlkit.so." + args.version:
        failures.append("the library file is %s, not libsyncmlkit.so.%s" % (base, args.version))
    dynamic = run([args.readelf, "-d", "-W", args.lib])
    sonames = re.findall(r"\(SONAME\)\s+Library soname: \[([^\]]*)\]", dynamic)
    want = "libsyncmlkit.so." + args.soversion
    if sonames != [want]:
        failures.append("SONAME is %s, want [%s]" % (sonames, want))

    nm_text = open(args.nm_output).read() if args.nm_output else run([args.nm, "-D", "--defined-only", args.lib])
    symbols = {}
    for line in nm_text.splitlines():
        fields = line.split()
        if len(fields) >= 2:
            symbols[fields[-1].split("@")[0]] = fields[-2]
    if args.self_test:
        for name in FOREIGN:
            symbols[name] = "T"
        symbols.pop(DROPPED, None)
    names = sorted(symbols)
    demangled = run_demangle(args.cxxfilt, names)
    demangle = dict(zip(names, demangled))
    declared = declared_c_functions(args.header)
    unexpected, missing = check(symbols, declared, demangle)

    c_count = sum(1 for n in names if n.startswith("smk_"))
    cxx = sum(1 for n in names if n.startswith(API_PREFIXES[:2]))
    rtti = sum(1 for n in names if n.startswith(API_PREFIXES[2:]))
    print("%s: SONAME %s; %d exported symbols: %d smk_ C functions (%d declared), %d smk:: C++, "
          "%d smk typeinfo/vtable, %d allowed by name, %d unexpected; %d missing"
          % (base, sonames, len(names), c_count, len(declared), cxx, rtti,
             len(ALLOWED), len(unexpected), len(missing)))
    for name, why in unexpected:
        print("  unexpected: %s  (%s)" % (demangle[name], why))
    for name, why in missing:
        print("  missing: %s  (%s)" % (demangle.get(name, name), why))

    if args.self_test:
        got_unexpected = {n for n, _ in unexpected}
        got_missing = {n for n, _ in missing}
        if got_unexpected != set(FOREIGN) or got_missing != {DROPPED}:
            failures.append("self-test: the checks did not report exactly the injected symbols "
                            "(not reported: %s; reported but not injected: %s; missing: %s)"
                            % (sorted(set(FOREIGN) - got_unexpected), sorted(got_unexpected - set(FOREIGN)),
                               sorted(got_missing)))
        else:
            print("self-test: each of the %d injected foreign symbols and the removed typeinfo was reported"
                  % len(FOREIGN))
    elif unexpected or missing:
        failures.append("%d unexpected and %d missing exported symbols" % (len(unexpected), len(missing)))

    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


def run_demangle(cxxfilt, names):
    out = subprocess.run([cxxfilt], input="\n".join(names) + "\n", check=True,
                         capture_output=True, text=True).stdout.splitlines()
    if len(out) != len(names):
        sys.exit("c++filt returned %d lines for %d names" % (len(out), len(names)))
    return out


if __name__ == "__main__":
    sys.exit(main())
