"""Python binding of SyncMLKit over its C ABI (ctypes, no compiled parts).

The library is found through the SYNCMLKIT_LIB environment variable (a path
to libsyncmlkit.so), else by the system's loader as "libsyncmlkit.so.0".
"""

import ctypes
import os

__all__ = ["SyncMLError", "DecodeError", "version", "render_xml", "Server", "Response"]

_OK, _ERR_ARGUMENT, _ERR_DECODE, _ERR_NOMEM = 0, -1, -2, -3


class SyncMLError(Exception):
    """A call into SyncMLKit failed; `status` is the C ABI's status code."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


class DecodeError(SyncMLError):
    """The message could not be decoded; the text says what and where."""


_PASSWORD_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t)
_LOG_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)


class _ServerConfig(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("data_dir", ctypes.c_char_p), ("state_dir", ctypes.c_char_p),
                ("max_msg_size", ctypes.c_size_t), ("session_timeout_s", ctypes.c_uint),
                ("password", _PASSWORD_CB), ("log", _LOG_CB), ("user_data", ctypes.c_void_p)]


class _Response(ctypes.Structure):
    _fields_ = [("body", ctypes.c_void_p), ("body_len", ctypes.c_size_t), ("content_type", ctypes.c_char_p),
                ("http_status", ctypes.c_int), ("session_ended", ctypes.c_int)]


def _load():
    lib = ctypes.CDLL(os.environ.get("SYNCMLKIT_LIB") or "libsyncmlkit.so.0")
    lib.smk_version.restype = ctypes.c_char_p
    lib.smk_version.argtypes = []
    lib.smk_render_xml.restype = ctypes.c_int
    lib.smk_render_xml.argtypes = [
        ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t),
        ctypes.POINTER(ctypes.c_void_p),
    ]
    lib.smk_pim_convert.restype = ctypes.c_int
    lib.smk_pim_convert.argtypes = [
        ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_void_p)]
    lib.smk_free.restype = None
    lib.smk_free.argtypes = [ctypes.c_void_p]
    lib.smk_server_new.restype = ctypes.c_int
    lib.smk_server_new.argtypes = [ctypes.POINTER(_ServerConfig), ctypes.POINTER(ctypes.c_void_p),
                                   ctypes.POINTER(ctypes.c_void_p)]
    lib.smk_server_free.restype = None
    lib.smk_server_free.argtypes = [ctypes.c_void_p]
    lib.smk_server_grant.restype = ctypes.c_int
    lib.smk_server_grant.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    lib.smk_server_import_gab.restype = ctypes.c_int
    lib.smk_server_import_gab.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t),
                                          ctypes.POINTER(ctypes.c_void_p)]
    lib.smk_server_process.restype = ctypes.c_int
    lib.smk_server_process.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                       ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(_Response)]
    lib.smk_response_free.restype = None
    lib.smk_response_free.argtypes = [ctypes.POINTER(_Response)]
    return lib


_lib = _load()


def _take_string(lib, ptr, length=None):
    """Copies a string the library allocated, then frees it."""
    if not ptr:
        return None
    try:
        if length is None:
            return ctypes.string_at(ptr).decode("utf-8", "replace")
        return ctypes.string_at(ptr, length).decode("utf-8", "replace")
    finally:
        lib.smk_free(ptr)


def version():
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return _lib.smk_version().decode("ascii")


def render_xml(message, content_type=None):
    """Renders a SyncML message (bytes, XML or WBXML) as indented XML text.

    content_type is the HTTP Content-Type it came with; without one the
    encoding is told from the first bytes. Raises DecodeError for a message
    that cannot be decoded and SyncMLError for other failures.
    """
    if not isinstance(message, (bytes, bytearray)):
        raise TypeError("message must be bytes")
    out = ctypes.c_void_p()
    out_len = ctypes.c_size_t()
    error = ctypes.c_void_p()
    ct = content_type.encode("ascii") if content_type is not None else None
    status = _lib.smk_render_xml(bytes(message), len(message), ct, ctypes.byref(out),
                                 ctypes.byref(out_len), ctypes.byref(error))
    if status == _OK:
        return _take_string(_lib, out.value, out_len.value)
    text = _take_string(_lib, error.value) or "out of memory"
    if status == _ERR_DECODE:
        raise DecodeError(text, status)
    raise SyncMLError(text, status)


def convert(item, to, source=None, profile=None):
    """Converts one contact, calendar item or note (bytes) between formats.

    to and source are format names ("vcard21", "vcard30", "vcard40",
    "vcal10", "ical20", "sifc", "sife", "sift", "sifn", "vnote11", "text";
    to may also be "json", the normalized model); without source the format
    is told from the content. profile names a client profile
    ("funambol-outlook", ...). Returns (bytes, [warning, ...]). Raises
    DecodeError when nothing could be read, SyncMLError for an unknown name.
    """
    if not isinstance(item, (bytes, bytearray)):
        raise TypeError("item must be bytes")
    lib = _lib
    out = ctypes.c_void_p()
    out_len = ctypes.c_size_t()
    warnings = ctypes.c_void_p()
    enc = lambda s: s.encode("ascii") if s is not None else None  # noqa: E731
    status = lib.smk_pim_convert(bytes(item), len(item), enc(source), enc(to), enc(profile), ctypes.byref(out),
                                 ctypes.byref(out_len), ctypes.byref(warnings))
    notes = (_take_string(lib, warnings.value) or "").splitlines()
    if status == _OK:
        return _take_string(lib, out.value, out_len.value).encode("utf-8"), notes
    if status == _ERR_DECODE:
        raise DecodeError("nothing could be read: " + "; ".join(notes), status)
    raise SyncMLError("cannot convert from %s to %s (profile %s)" % (source, to, profile), status)


class Response:
    """The reply to one message: body (bytes), content_type, http_status,
    session_ended."""

    def __init__(self, body, content_type, http_status, session_ended):
        self.body, self.content_type = body, content_type
        self.http_status, self.session_ended = http_status, session_ended


class Server:
    """A SyncML server on SyncMLKit's SQLite store in `data_dir`.

    `passwords` maps user names to passwords (or is a callable returning the
    password of a user name, or None). `log`, if given, is called with
    (level, message). process() may be called from several threads.
    """

    def __init__(self, data_dir, passwords, state_dir=None, max_msg_size=0, session_timeout=0, log=None):
        lookup = passwords if callable(passwords) else passwords.get

        def password(_user_data, username, buf, size):
            pw = lookup(username.decode("utf-8", "replace"))
            if pw is None:
                return -1
            raw = pw.encode("utf-8")
            if len(raw) < size:
                ctypes.memmove(buf, raw + b"\0", len(raw) + 1)
            return len(raw)

        def log_line(_user_data, level, message):
            log(level, message.decode("utf-8", "replace"))

        # The callbacks must live as long as the server.
        self._password = _PASSWORD_CB(password)
        self._log = _LOG_CB(log_line) if log else _LOG_CB()
        config = _ServerConfig(ctypes.sizeof(_ServerConfig), os.fsencode(data_dir),
                               os.fsencode(state_dir) if state_dir else None, max_msg_size, session_timeout,
                               self._password, self._log, None)
        handle = ctypes.c_void_p()
        error = ctypes.c_void_p()
        status = _lib.smk_server_new(ctypes.byref(config), ctypes.byref(handle), ctypes.byref(error))
        if status != _OK:
            raise SyncMLError(_take_string(_lib, error.value) or "cannot create the server", status)
        self._handle = handle

    def close(self):
        if self._handle:
            _lib.smk_server_free(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def grant(self, owner, category, user, read_only=False):
        """Lets `user` sync `owner`'s "contacts", "calendar", "tasks" or "notes"."""
        status = _lib.smk_server_grant(self._handle, owner.encode(), category.encode(), user.encode(),
                                       1 if read_only else 0)
        if status != _OK:
            raise SyncMLError("cannot grant %s/%s to %s" % (owner, category, user), status)

    def import_global_address_book(self, vcf_path):
        """Replaces the Global Address Book with the vCards of a file; returns their number."""
        count = ctypes.c_size_t()
        error = ctypes.c_void_p()
        status = _lib.smk_server_import_gab(self._handle, os.fsencode(vcf_path), ctypes.byref(count),
                                            ctypes.byref(error))
        if status != _OK:
            raise SyncMLError(_take_string(_lib, error.value) or "import failed", status)
        return count.value

    def process(self, body, content_type=None, url="/", peer=""):
        """Handles one client message (bytes); returns its Response."""
        out = _Response()
        status = _lib.smk_server_process(self._handle, bytes(body), len(body),
                                         content_type.encode() if content_type else None, url.encode(),
                                         peer.encode(), ctypes.byref(out))
        if status != _OK:
            raise SyncMLError("processing failed", status)
        try:
            return Response(ctypes.string_at(out.body, out.body_len), out.content_type.decode(),
                            out.http_status, bool(out.session_ended))
        finally:
            _lib.smk_response_free(ctypes.byref(out))
