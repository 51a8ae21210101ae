"""Python binding of SyncMLKit over its C ABI (ctypes, no compiled parts).

The library is found through the SYNCMLKIT_LIB environment variable (a path
to libsyncmlkit.so), else by the system's loader as "libsyncmlkit.so.0".

Two kinds of server: Server(data_dir, passwords) keeps the users' data in
SyncMLKit's own SQLite store; Server(state_dir=..., datastores=..., auth=...)
serves the host's own store (Datastore, DatastoreProvider below) and checks
passwords against the host's own users. README.md here is the reference.
"""

import base64
import collections
import ctypes
import hashlib
import hmac
import itertools
import os
import threading

__all__ = ["SyncMLError", "DecodeError", "NotFoundError", "version", "render_xml", "convert", "Server", "Response",
           "Format", "Datastore", "DatastoreProvider", "md5_digest", "Device", "DeviceDatabase", "Snapshot",
           "ItemCounts",
           "LOG_DEBUG", "LOG_INFO", "LOG_WARNING", "LOG_ERROR"]

_OK, _ERR_ARGUMENT, _ERR_DECODE, _ERR_NOMEM, _ERR_NOT_FOUND = 0, -1, -2, -3, -5
LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERROR = 0, 1, 2, 3

# capi/syncmlkit.h: what a store, provider or auth callback returns.
_STORE_OK, _STORE_NOT_FOUND, _STORE_END, _STORE_FAILED = 0, 1, 2, -1
_GRANTS = {None: 0, "none": 0, "read-only": 1, "read-write": 2}
_AUTH_OK, _AUTH_DENIED, _AUTH_UNAVAILABLE = 0, 1, -1
_CONFLICT_POLICIES = {"merge": 0, "server-wins": 1, "client-wins": 2, "newer-wins": 3, "keep-both": 4}


class SyncMLError(Exception):
    """A call into SyncMLKit failed; `status` is the C ABI's status code."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


class DecodeError(SyncMLError):
    """The message could not be decoded; the text says what and where."""


class NotFoundError(SyncMLError):
    """No such user, database, device or snapshot (administration calls)."""


# ---- C types ----------------------------------------------------------------

_PASSWORD_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t)
_LOG_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p)
_CONFLICT_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p)
# client_profile returns a const char * the library reads at once: declared
# as a void * here, since ctypes cannot hand a string back from a callback
# (its bytes would be freed on return); the server keeps each name's buffer.
_PROFILE_CB = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p)
_ALLOW_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p)
_LOG_SESSION_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p)
_TRACE_CB = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_size_t)


class _ServerConfig(ctypes.Structure):
    # smk_server_config as capi/syncmlkit.h declares it; `size` tells the
    # library how much of it this binding knows, so later fields default.
    _fields_ = [("size", ctypes.c_size_t), ("data_dir", ctypes.c_char_p), ("state_dir", ctypes.c_char_p),
                ("max_msg_size", ctypes.c_size_t), ("session_timeout_s", ctypes.c_uint),
                ("password", _PASSWORD_CB), ("log", _LOG_CB), ("user_data", ctypes.c_void_p),
                ("max_request_size", ctypes.c_size_t), ("max_obj_size", ctypes.c_size_t),
                ("max_commands_per_message", ctypes.c_size_t), ("max_sessions", ctypes.c_size_t),
                ("max_sessions_per_user", ctypes.c_size_t), ("max_session_lifetime_s", ctypes.c_uint),
                ("max_devices_per_user", ctypes.c_size_t), ("login_free_failures", ctypes.c_int),
                ("login_first_delay_s", ctypes.c_uint), ("login_max_delay_s", ctypes.c_uint),
                ("conflict_policy", ctypes.c_int), ("conflict_policy_for", _CONFLICT_CB),
                ("mass_delete_min_items", ctypes.c_int), ("mass_delete_max_percent", ctypes.c_uint),
                ("mass_delete_guard_off", ctypes.c_int), ("max_xml_depth", ctypes.c_uint),
                ("aliases", ctypes.POINTER(ctypes.c_char_p)), ("server_id", ctypes.c_char_p),
                ("client_profile", _PROFILE_CB), ("user_time_zone", _PASSWORD_CB),
                ("login_max_tracked", ctypes.c_size_t), ("mass_delete_allow", _ALLOW_CB),
                ("log_session", _LOG_SESSION_CB), ("trace", _TRACE_CB)]


# Server keyword -> (config field, conversion). Seconds are whole seconds.
_LIMITS = {
    "max_msg_size": ("max_msg_size", int),
    "session_timeout": ("session_timeout_s", int),
    "max_request_size": ("max_request_size", int),
    "max_obj_size": ("max_obj_size", int),
    "max_commands_per_message": ("max_commands_per_message", int),
    "max_sessions": ("max_sessions", int),
    "max_sessions_per_user": ("max_sessions_per_user", int),
    "max_session_lifetime": ("max_session_lifetime_s", int),
    "max_devices_per_user": ("max_devices_per_user", int),
    "login_free_failures": ("login_free_failures", int),
    "login_first_delay": ("login_first_delay_s", int),
    "login_max_delay": ("login_max_delay_s", int),
    "conflict_policy": ("conflict_policy", lambda name: _CONFLICT_POLICIES[name]),
    "mass_delete_min_items": ("mass_delete_min_items", int),
    "mass_delete_max_percent": ("mass_delete_max_percent", int),
    "mass_delete_guard_off": ("mass_delete_guard_off", lambda on: 1 if on else 0),
    "max_xml_depth": ("max_xml_depth", int),
    "login_max_tracked": ("login_max_tracked", int),
    "server_id": ("server_id", lambda name: name.encode("utf-8") if name else None),
}
# Server keywords that take a Python callable (handled in Server.__init__).
_HOOKS = ("client_profile", "user_time_zone", "mass_delete_allow", "trace", "aliases")


class _Response(ctypes.Structure):
    _fields_ = [("body", ctypes.c_void_p), ("body_len", ctypes.c_size_t), ("content_type", ctypes.c_char_p),
                ("http_status", ctypes.c_int), ("session_ended", ctypes.c_int)]


class _DeviceDatabase(ctypes.Structure):
    _fields_ = [("category", ctypes.c_char_p), ("completed", ctypes.c_int), ("last_sync", ctypes.c_longlong),
                ("items", ctypes.c_size_t)]


class _Device(ctypes.Structure):
    _fields_ = [("device", ctypes.c_char_p), ("make", ctypes.c_char_p), ("model", ctypes.c_char_p),
                ("last_seen", ctypes.c_longlong), ("databases", ctypes.POINTER(_DeviceDatabase)),
                ("database_count", ctypes.c_size_t)]


class _Snapshot(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("path", ctypes.c_char_p), ("taken", ctypes.c_longlong),
                ("reason", ctypes.c_char_p)]


class _ItemCounts(ctypes.Structure):
    _fields_ = [("added", ctypes.c_size_t), ("changed", ctypes.c_size_t), ("unchanged", ctypes.c_size_t),
                ("removed", ctypes.c_size_t)]


#: A device that logged in as a user (Server.devices): its ID, its DevInf's
#: make and model ("" when unknown), its last login (Unix seconds, or None)
#: and its sync state per database.
Device = collections.namedtuple("Device", "device make model last_seen databases")
#: One database of a Device: category, whether a session completed there
#: (the device syncs incrementally), when (Unix seconds or None), and the
#: items the server knows the device holds.
DeviceDatabase = collections.namedtuple("DeviceDatabase", "category completed last_sync items")
#: A snapshot of a database (Server.snapshots); taken is Unix seconds or None.
Snapshot = collections.namedtuple("Snapshot", "name path taken reason")
#: What Server.restore did: items brought back, changed back, unchanged, deleted.
ItemCounts = collections.namedtuple("ItemCounts", "added changed unchanged removed")


# The host-store callbacks. Every smk_result * and void * is a c_void_p (an
# int in Python); data comes as pointer plus length, read with string_at.
_P = ctypes.c_void_p
_S = ctypes.c_char_p
_I = ctypes.c_int
_NATIVE_FORMAT_CB = ctypes.CFUNCTYPE(_I, _P, _P)
_LIST_OPEN_CB = ctypes.CFUNCTYPE(_I, _P, ctypes.POINTER(_P), _P)
_LIST_NEXT_CB = ctypes.CFUNCTYPE(_I, _P, _P, _P)
_LIST_CLOSE_CB = ctypes.CFUNCTYPE(None, _P, _P)
_GUID_CB = ctypes.CFUNCTYPE(_I, _P, _S, _P)             # read, revision, remove
_ADD_CB = ctypes.CFUNCTYPE(_I, _P, _S, _S, _P, ctypes.c_size_t, _P)
_REPLACE_CB = ctypes.CFUNCTYPE(_I, _P, _S, _S, _S, _P, ctypes.c_size_t, _P)
_TXN_CB = ctypes.CFUNCTYPE(_I, _P, _P)                  # begin, commit, rollback
_SNAPSHOT_CB = ctypes.CFUNCTYPE(_I, _P, _S, _P)
_CLOSE_CB = ctypes.CFUNCTYPE(None, _P)
_OPEN_CB = ctypes.CFUNCTYPE(_I, _P, _S, _S, ctypes.POINTER(_P), _P)
_GRANT_CB = ctypes.CFUNCTYPE(_I, _P, _S, _S, _S)
_OPEN_GAB_CB = ctypes.CFUNCTYPE(_I, _P, ctypes.POINTER(_P), _P)
_CHECK_PASSWORD_CB = ctypes.CFUNCTYPE(_I, _P, _S, _S)
_MD5_DIGEST_CB = ctypes.CFUNCTYPE(_I, _P, _S, _P)


class _DatastoreCallbacks(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("native_format", _NATIVE_FORMAT_CB), ("list_open", _LIST_OPEN_CB),
                ("list_next", _LIST_NEXT_CB), ("list_close", _LIST_CLOSE_CB), ("read", _GUID_CB),
                ("revision", _GUID_CB), ("add", _ADD_CB), ("replace", _REPLACE_CB), ("remove", _GUID_CB),
                ("begin", _TXN_CB), ("commit", _TXN_CB), ("rollback", _TXN_CB), ("snapshot", _SNAPSHOT_CB),
                ("close", _CLOSE_CB)]


class _ProviderCallbacks(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("user", _P), ("datastore", ctypes.POINTER(_DatastoreCallbacks)),
                ("open", _OPEN_CB), ("grant", _GRANT_CB), ("open_global_address_book", _OPEN_GAB_CB)]


class _AuthCallbacks(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("user", _P), ("check_password", _CHECK_PASSWORD_CB),
                ("md5_digest", _MD5_DIGEST_CB)]


class _ReplyInfo(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("retry_after", ctypes.c_uint)]


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
    # A CDLL function releases the GIL for the call, so several Python
    # threads can be inside smk_server_process at once; the callbacks take
    # the GIL back while they run.
    lib.smk_server_process.restype = ctypes.c_int
    lib.smk_server_process.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                       ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(_Response)]
    lib.smk_response_free.restype = None
    lib.smk_response_free.argtypes = [ctypes.POINTER(_Response)]
    lib.smk_server_process_info.restype = ctypes.c_int
    lib.smk_server_process_info.argtypes = lib.smk_server_process.argtypes + [ctypes.POINTER(_ReplyInfo)]
    # The built-in store's administration and the host's pages' calls.
    if hasattr(lib, "smk_server_devices"):
        pp, err = ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_void_p)
        lib.smk_server_devices.argtypes = [_P, ctypes.c_char_p, ctypes.POINTER(ctypes.POINTER(_Device)), pp, err]
        lib.smk_devices_free.argtypes = [ctypes.POINTER(_Device), ctypes.c_size_t]
        lib.smk_devices_free.restype = None
        lib.smk_server_reset_device.argtypes = [_P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, pp, err]
        lib.smk_server_snapshots.argtypes = [_P, ctypes.c_char_p, ctypes.c_char_p,
                                             ctypes.POINTER(ctypes.POINTER(_Snapshot)), pp, err]
        lib.smk_snapshots_free.argtypes = [ctypes.POINTER(_Snapshot), ctypes.c_size_t]
        lib.smk_snapshots_free.restype = None
        lib.smk_server_snapshot.argtypes = [_P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                            ctypes.POINTER(ctypes.c_void_p), err]
        lib.smk_server_restore.argtypes = [_P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                           ctypes.POINTER(_ItemCounts), err]
        for name in ("smk_server_devices", "smk_server_reset_device", "smk_server_snapshots", "smk_server_snapshot",
                     "smk_server_restore"):
            getattr(lib, name).restype = ctypes.c_int
    if hasattr(lib, "smk_server_check_login"):
        lib.smk_server_check_login.restype = ctypes.c_int
        lib.smk_server_check_login.argtypes = [_P, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                               ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_uint),
                                               ctypes.POINTER(ctypes.c_void_p)]
        lib.smk_server_session_count.restype = ctypes.c_size_t
        lib.smk_server_session_count.argtypes = [_P]
        lib.smk_server_expire_idle_sessions.restype = None
        lib.smk_server_expire_idle_sessions.argtypes = [_P]
    if hasattr(lib, "smk_server_max_request_size"):
        lib.smk_server_max_request_size.restype = ctypes.c_size_t
        lib.smk_server_max_request_size.argtypes = [_P]
    if hasattr(lib, "smk_errstr"):
        lib.smk_errstr.restype = ctypes.c_char_p
        lib.smk_errstr.argtypes = [ctypes.c_int]
    # The host-store calls; a library older than them still serves the rest.
    if hasattr(lib, "smk_server_new_hosted"):
        lib.smk_server_new_hosted.restype = ctypes.c_int
        lib.smk_server_new_hosted.argtypes = [ctypes.POINTER(_ServerConfig), ctypes.POINTER(_ProviderCallbacks),
                                              ctypes.POINTER(_AuthCallbacks), ctypes.POINTER(ctypes.c_void_p),
                                              ctypes.POINTER(ctypes.c_void_p)]
        for name in ("smk_result_guid", "smk_result_revision", "smk_result_data", "smk_result_name"):
            getattr(lib, name).restype = None
            getattr(lib, name).argtypes = [_P, ctypes.c_char_p, ctypes.c_size_t]
        lib.smk_result_format.restype = None
        lib.smk_result_format.argtypes = [_P, ctypes.c_char_p, ctypes.c_char_p]
        lib.smk_result_error.restype = None
        lib.smk_result_error.argtypes = [_P, ctypes.c_char_p]
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


def _status_text(status):
    """The library's words for a status, e.g. "no such user, database, ..."."""
    if hasattr(_lib, "smk_errstr"):
        return _lib.smk_errstr(status).decode("utf-8", "replace")
    return "status %d" % status


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


def md5_digest(user, password):
    """base64(md5("user:password")), what an auth object's md5_digest(user)
    returns for SyncML's MD5 authentication (str)."""
    raw = ("%s:%s" % (user, password)).encode("utf-8")
    return base64.b64encode(hashlib.md5(raw).digest()).decode("ascii")


# ---- The host's own store ---------------------------------------------------

#: A content format: MIME type and version, e.g. Format("text/vcard", "3.0").
Format = collections.namedtuple("Format", "type version")


class Datastore:
    """Items of one kind (contacts, events, tasks or notes) of one user, as
    the host keeps them; smk::Datastore of the C++ API. Subclass it and
    override the methods below (or give any object with the same methods).

    Strings may be str (sent as UTF-8) or bytes. The engine derives each
    client's changes from revisions: a revision is an opaque token that
    changes whenever the item changes. Calls for one store come from one
    session at a time; stores of different users from different threads at
    once. An exception raised by any method becomes a store failure whose
    message, which the engine logs, is the exception's type and text;
    nothing of it reaches the C side. A failed add, replace or remove is
    answered 510 for that item; any other failure ends the session with
    500 and every store of the session gets rollback()."""

    def native_format(self):
        """(type, version) the items are kept in, e.g. ("text/vcard", "3.0")."""
        raise NotImplementedError

    def list(self):
        """An iterable of (guid, revision), every item once. It is consumed
        lazily, one item per engine call, so a generator works."""
        raise NotImplementedError

    def read(self, guid):
        """(data bytes, revision, (type, version)), or None when there is no
        item by that GUID."""
        raise NotImplementedError

    def revision(self, guid):
        """The item's revision, or None when there is none by that GUID."""
        raise NotImplementedError

    def add(self, type, version, data):
        """Stores a new item (data: bytes); returns (guid, revision)."""
        raise NotImplementedError

    def replace(self, guid, type, version, data):
        """Replaces an item's data; returns its new revision, or None when
        there is no item by that GUID."""
        raise NotImplementedError

    def remove(self, guid):
        """Deletes an item; returns False when there was none by that GUID."""
        raise NotImplementedError

    def begin(self):
        """The writes of one SyncML message follow, up to commit() or, when
        the message failed, rollback(). A store without transactions ignores
        the three."""

    def commit(self):
        pass

    def rollback(self):
        pass

    def snapshot(self, reason):
        """Copies the whole store before a client replaces everything in it;
        returns a name the host can restore from, or None (no snapshots)."""
        return None


class DatastoreProvider:
    """Resolves databases to the host's stores; smk::DatastoreProvider.

    Categories are "contacts", "calendar", "tasks" and "notes"; database
    names (aliases, "bob/contacts", the Global Address Book) are parsed by
    the engine. An exception raised in open() or open_global_address_book()
    ends the session with 500, one in grant() counts as no grant; each is
    logged."""

    def open(self, owner, category):
        """The Datastore of owner's database of `category`, or None when it
        does not exist. Called only for a user who may use it."""
        raise NotImplementedError

    def grant(self, owner, category, user):
        """How `user` may use owner's database: None, "read-only" or
        "read-write". Never asked about a user's own databases."""
        return None

    def open_global_address_book(self):
        """The organisation's directory (a Datastore served read-only to
        every user), or None when there is none."""
        return None


_REQUIRED = ("native_format", "list", "read", "revision", "add", "replace", "remove")


def _bytes(value, what):
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError("%s must be str or bytes, not %s" % (what, type(value).__name__))


def _text(raw):
    return raw.decode("utf-8", "surrogateescape") if raw is not None else None


def _set(setter, r, value, what):
    raw = _bytes(value, what)
    setter(r, raw, len(raw))


def _set_format(r, fmt, what):
    if isinstance(fmt, (str, bytes)) or len(fmt) != 2:
        raise TypeError("%s must be (type, version), not %r" % (what, fmt))
    _lib.smk_result_format(r, _bytes(fmt[0], what + " type"), _bytes(fmt[1], what + " version"))


def _describe(where, exc):
    text = str(exc)
    return "%s raised %s%s" % (where, type(exc).__name__, ": " + text if text else "")


class _Auth:
    """The auth argument as two functions: check(user, password) -> bool
    and md5(user) -> digest or None (None as a whole: MD5 turned away)."""

    def __init__(self, auth):
        if isinstance(auth, dict):
            users = auth
            self.check = lambda u, p: users.get(u) is not None and hmac.compare_digest(
                _bytes(users[u], "password"), _bytes(p, "password"))
            self.md5 = lambda u: md5_digest(u, users[u]) if users.get(u) is not None else None
        elif hasattr(auth, "check_password"):
            self.check = auth.check_password
            self.md5 = getattr(auth, "md5_digest", None)
        elif callable(auth):
            self.check, self.md5 = auth, None
        else:
            raise TypeError("auth must be an object with check_password(user, password), "
                            "a callable (user, password) -> bool, or a dict of passwords")


class _Hosted:
    """The ctypes side of a server on the host's store: the callback tables
    and the Python objects behind the pointers the engine holds.

    A store the provider opened is known to the engine as a small integer
    (its void *), a key into `stores`; a list() cursor likewise, a key into
    `cursors`. Every CFUNCTYPE object lives here, as long as the server."""

    def __init__(self, provider, auth, logger):
        missing = [m for m in ("open", "grant", "open_global_address_book") if not callable(
            getattr(provider, m, None))]
        if missing:
            raise TypeError("datastores must be a DatastoreProvider; it lacks %s" % ", ".join(missing))
        self.provider = provider
        self.auth = _Auth(auth)
        self.logger = logger
        self.stores = {}
        self.cursors = {}
        self.ids = itertools.count(1)
        lib = _lib
        ok, not_found, end, failed = _STORE_OK, _STORE_NOT_FOUND, _STORE_END, _STORE_FAILED

        def guarded(name, body):
            # The one place where a store call's exception turns into a status.
            def call(store, *args):
                r = args[-1]
                try:
                    return body(self.stores[store], *args)
                except BaseException as e:  # noqa: B902 - nothing may cross into C
                    try:
                        lib.smk_result_error(r, _describe("Datastore." + name, e).encode("utf-8", "replace"))
                    except BaseException:
                        pass
                    return failed
            return call

        def native_format(ds, r):
            _set_format(r, ds.native_format(), "native_format()")
            return ok

        def list_open(ds, cursor, r):
            key = next(self.ids)
            self.cursors[key] = iter(ds.list())
            cursor[0] = key
            return ok

        def list_next(ds, cursor, r):
            try:
                guid, rev = next(self.cursors[cursor])
            except StopIteration:
                return end
            _set(lib.smk_result_guid, r, guid, "list() guid")
            _set(lib.smk_result_revision, r, rev, "list() revision")
            return ok

        def list_close(store, cursor):
            self.cursors.pop(cursor, None)

        def read(ds, guid, r):
            item = ds.read(_text(guid))
            if item is None:
                return not_found
            data, rev, fmt = item
            _set(lib.smk_result_data, r, data, "read() data")
            _set(lib.smk_result_revision, r, rev, "read() revision")
            _set_format(r, fmt, "read() format")
            return ok

        def revision(ds, guid, r):
            rev = ds.revision(_text(guid))
            if rev is None:
                return not_found
            _set(lib.smk_result_revision, r, rev, "revision()")
            return ok

        def add(ds, type_, version, data, size, r):
            guid, rev = ds.add(_text(type_), _text(version), ctypes.string_at(data, size) if size else b"")
            _set(lib.smk_result_guid, r, guid, "add() guid")
            _set(lib.smk_result_revision, r, rev, "add() revision")
            return ok

        def replace(ds, guid, type_, version, data, size, r):
            rev = ds.replace(_text(guid), _text(type_), _text(version),
                             ctypes.string_at(data, size) if size else b"")
            if rev is None:
                return not_found
            _set(lib.smk_result_revision, r, rev, "replace()")
            return ok

        def remove(ds, guid, r):
            return ok if ds.remove(_text(guid)) else not_found

        def transaction(name):
            def call(ds, r):
                method = getattr(ds, name, None)
                if method is not None:
                    method()
                return ok
            return call

        def snapshot(ds, reason, r):
            method = getattr(ds, "snapshot", None)
            name = method(_text(reason)) if method is not None else None
            if name is None:
                return not_found
            _set(lib.smk_result_name, r, name, "snapshot()")
            return ok

        def close(store):
            self.stores.pop(store, None)

        def unguarded(fn):
            def call(*args):
                try:
                    fn(*args)
                except BaseException:  # noqa: B902
                    pass
            return call

        self.datastore_table = _DatastoreCallbacks(
            ctypes.sizeof(_DatastoreCallbacks),
            _NATIVE_FORMAT_CB(guarded("native_format", native_format)),
            _LIST_OPEN_CB(guarded("list", list_open)),
            _LIST_NEXT_CB(guarded("list", list_next)),
            _LIST_CLOSE_CB(unguarded(list_close)),
            _GUID_CB(guarded("read", read)),
            _GUID_CB(guarded("revision", revision)),
            _ADD_CB(guarded("add", add)),
            _REPLACE_CB(guarded("replace", replace)),
            _GUID_CB(guarded("remove", remove)),
            _TXN_CB(guarded("begin", transaction("begin"))),
            _TXN_CB(guarded("commit", transaction("commit"))),
            _TXN_CB(guarded("rollback", transaction("rollback"))),
            _SNAPSHOT_CB(guarded("snapshot", snapshot)),
            _CLOSE_CB(unguarded(close)))

        def hand_out(ds, out, what):
            missing = [m for m in _REQUIRED if not callable(getattr(ds, m, None))]
            if missing:
                raise TypeError("%s returned %r, which lacks %s" % (what, ds, ", ".join(missing)))
            key = next(self.ids)
            self.stores[key] = ds
            out[0] = key

        def open_store(_user, owner, category, out, r):
            where = "DatastoreProvider.open(%r, %r)" % (_text(owner), _text(category))
            try:
                ds = provider.open(_text(owner), _text(category))
                if ds is None:
                    return not_found
                hand_out(ds, out, where)
                return ok
            except BaseException as e:  # noqa: B902
                lib.smk_result_error(r, _describe(where, e).encode("utf-8", "replace"))
                return failed

        def grant(_user, owner, category, username):
            where = "DatastoreProvider.grant(%r, %r, %r)" % (_text(owner), _text(category), _text(username))
            try:
                answer = provider.grant(_text(owner), _text(category), _text(username))
                if answer not in _GRANTS:
                    raise ValueError("returned %r, not None, \"read-only\" or \"read-write\"" % (answer,))
                return _GRANTS[answer]
            except BaseException as e:  # noqa: B902
                self.log(LOG_ERROR, _describe(where, e))
                return -1

        def open_gab(_user, out, r):
            where = "DatastoreProvider.open_global_address_book()"
            try:
                ds = provider.open_global_address_book()
                if ds is None:
                    return not_found
                hand_out(ds, out, where)
                return ok
            except BaseException as e:  # noqa: B902
                lib.smk_result_error(r, _describe(where, e).encode("utf-8", "replace"))
                return failed

        self.provider_table = _ProviderCallbacks(
            ctypes.sizeof(_ProviderCallbacks), None, ctypes.pointer(self.datastore_table),
            _OPEN_CB(open_store), _GRANT_CB(grant), _OPEN_GAB_CB(open_gab))

        def check_password(_user, username, password):
            try:
                return _AUTH_OK if self.auth.check(_text(username), _text(password)) else _AUTH_DENIED
            except BaseException as e:  # noqa: B902
                # SMK_AUTH_OK is 0, and ctypes answers 0 for a callback that
                # raises: nothing may escape here, not even from the log.
                try:
                    self.log(LOG_ERROR, _describe("auth check_password(%r)" % _text(username), e))
                except BaseException:  # noqa: B902
                    pass
                return _AUTH_UNAVAILABLE

        def md5(_user, username, r):
            try:
                digest = self.auth.md5(_text(username))
                if digest is None:
                    return _AUTH_DENIED
                _set(lib.smk_result_data, r, digest, "md5_digest()")
                return _AUTH_OK
            except BaseException as e:  # noqa: B902
                try:
                    lib.smk_result_error(r, _describe("auth md5_digest(%r)" % _text(username), e).encode(
                        "utf-8", "replace"))
                except BaseException:  # noqa: B902
                    pass
                return _AUTH_UNAVAILABLE

        self.auth_table = _AuthCallbacks(
            ctypes.sizeof(_AuthCallbacks), None, _CHECK_PASSWORD_CB(check_password),
            _MD5_DIGEST_CB(md5) if self.auth.md5 is not None else _MD5_DIGEST_CB())

    def log(self, level, text):
        if self.logger is not None:
            try:
                self.logger(level, text)
            except BaseException:  # noqa: B902
                pass


class Response:
    """The reply to one message: body (bytes), content_type, http_status,
    session_ended, and retry_after (seconds the client should wait, to send
    as HTTP Retry-After; 0: none)."""

    def __init__(self, body, content_type, http_status, session_ended, retry_after=0):
        self.body, self.content_type = body, content_type
        self.http_status, self.session_ended = http_status, session_ended
        self.retry_after = retry_after


class Server:
    """A SyncML server, fed one HTTP request body at a time.

    On SyncMLKit's SQLite store: Server(data_dir, passwords), the users'
    data in `data_dir`; `passwords` maps user names to passwords (or is a
    callable returning the password of a user name, or None).

    On the host's own store: Server(state_dir=..., datastores=provider,
    auth=...), where provider is a DatastoreProvider and auth an object with
    check_password(user, password) (and optionally md5_digest(user)), a
    callable (user, password) -> bool, or a dict of passwords. state_dir
    holds the server's own state (nonces, devices, sync state).

    `logger` (or `log`), if given, is called with (level, message) from
    the engine's threads. Limits are keywords named as in the C++
    ServerConfig: max_msg_size, max_obj_size, session_timeout (seconds),
    ... (README.md lists them); conflict_policy is a name or a callable
    (owner, category) -> name; aliases, server_id, client_profile,
    user_time_zone, mass_delete_allow, session_logger and trace as in
    README.md. process() may be called from several threads at once.
    """

    def __init__(self, data_dir=None, passwords=None, state_dir=None, max_msg_size=0, session_timeout=0,
                 log=None, *, datastores=None, auth=None, logger=None, session_logger=None, **limits):
        logger = logger or log
        self._handle = None
        self._hosted = None
        # process() calls in progress, so that close() waits for them
        # instead of freeing the server under them.
        self._calls = 0
        self._calls_done = threading.Condition()
        self._inside = threading.local()
        config = _ServerConfig()
        config.size = ctypes.sizeof(_ServerConfig)
        limits.update(max_msg_size=max_msg_size, session_timeout=session_timeout)
        choose = limits.pop("conflict_policy") if callable(limits.get("conflict_policy")) else None
        hooks = {name: limits.pop(name) for name in _HOOKS if name in limits}
        if session_logger is not None:
            # Every line then comes with its session; lines of the binding's
            # own (a failing auth or grant) with session "".
            logger = lambda level, text: session_logger(level, "", text)  # noqa: E731
        for name, value in limits.items():
            if name not in _LIMITS:
                raise TypeError("Server() got an unexpected keyword argument %r" % name)
            field, conv = _LIMITS[name]
            try:
                setattr(config, field, conv(value))
            except KeyError:
                raise ValueError("%s must be one of %s, not %r" % (name, ", ".join(_CONFLICT_POLICIES), value))

        def log_line(_user_data, level, message):
            try:
                logger(level, message.decode("utf-8", "replace"))
            except BaseException:  # noqa: B902 - a failing logger loses its line, nothing more
                pass

        def policy_for(_user_data, owner, category):
            try:
                return _CONFLICT_POLICIES[choose(_text(owner), _text(category))]
            except BaseException as e:  # noqa: B902 - the default policy then
                if logger:
                    log_line(None, LOG_ERROR, _describe("conflict_policy(%r, %r)" % (
                        _text(owner), _text(category)), e).encode("utf-8", "replace"))
                return _CONFLICT_POLICIES["merge"]

        # The callbacks must live as long as the server.
        self._log = _LOG_CB(log_line) if logger else _LOG_CB()
        config.log = self._log
        self._policy_for = _CONFLICT_CB(policy_for) if choose else _CONFLICT_CB()
        config.conflict_policy_for = self._policy_for
        self._hooks = self._set_hooks(config, hooks, session_logger, log_line if logger else None)
        handle = ctypes.c_void_p()
        error = ctypes.c_void_p()
        if datastores is not None:
            if data_dir is not None or passwords is not None:
                raise TypeError("a server on the host's store takes no data_dir or passwords (use auth)")
            if not state_dir:
                raise TypeError("a server on the host's store needs state_dir")
            if auth is None:
                raise TypeError("a server on the host's store needs auth")
            if not hasattr(_lib, "smk_server_new_hosted"):
                raise SyncMLError("this libsyncmlkit has no smk_server_new_hosted", _ERR_ARGUMENT)
            self._hosted = _Hosted(datastores, auth, logger)
            config.state_dir = os.fsencode(state_dir)
            self._password = _PASSWORD_CB()
            status = _lib.smk_server_new_hosted(ctypes.byref(config), ctypes.byref(self._hosted.provider_table),
                                                ctypes.byref(self._hosted.auth_table), ctypes.byref(handle),
                                                ctypes.byref(error))
        else:
            if data_dir is None or passwords is None:
                raise TypeError("Server() needs data_dir and passwords, or datastores, auth and state_dir")
            if auth is not None:
                raise TypeError("auth is for a server on the host's store (datastores=...)")
            lookup = passwords if callable(passwords) else passwords.get

            def password(_user_data, username, buf, size):
                # ctypes answers an undefined number for a callback that
                # raises: nothing may escape (an unknown user of a dict, say).
                try:
                    pw = lookup(username.decode("utf-8", "replace"))
                    if pw is None:
                        return -1
                    raw = pw.encode("utf-8")
                    if len(raw) < size:
                        ctypes.memmove(buf, raw + b"\0", len(raw) + 1)
                    return len(raw)
                except BaseException:  # noqa: B902
                    return -1

            self._password = _PASSWORD_CB(password)
            config.data_dir = os.fsencode(data_dir)
            config.state_dir = os.fsencode(state_dir) if state_dir else None
            config.password = self._password
            status = _lib.smk_server_new(ctypes.byref(config), ctypes.byref(handle), ctypes.byref(error))
        if status != _OK:
            raise SyncMLError(_take_string(_lib, error.value) or "cannot create the server", status)
        self._handle = handle

    @staticmethod
    def _set_hooks(config, hooks, session_logger, log_line):
        """Sets the config's optional callbacks and aliases from Python
        values; returns what must live as long as the server."""
        keep = {}

        def report(where, e):
            if log_line is not None:
                log_line(None, LOG_ERROR, _describe(where, e).encode("utf-8", "replace"))

        aliases = hooks.get("aliases")
        if aliases:
            entries = [("%s=%s" % (alias, category)).encode("utf-8") for alias, category in aliases.items()]
            keep["aliases"] = (ctypes.c_char_p * (len(entries) + 1))(*entries, None)
            config.aliases = keep["aliases"]

        profile = hooks.get("client_profile")
        if profile is not None:
            names = keep["profile names"] = {}

            def client_profile(_user_data, man, mod, dev_id):
                try:
                    name = profile(_text(man), _text(mod), _text(dev_id))
                    if name is None:
                        return None
                    if name not in names:
                        names[name] = ctypes.create_string_buffer(_bytes(name, "client_profile()"))
                    return ctypes.addressof(names[name])
                except BaseException as e:  # noqa: B902 - the library's own choice then
                    report("client_profile(%r, %r, %r)" % (_text(man), _text(mod), _text(dev_id)), e)
                    return None
            config.client_profile = keep["client_profile"] = _PROFILE_CB(client_profile)

        zone = hooks.get("user_time_zone")
        if zone is not None:
            def user_time_zone(_user_data, user, buf, size):
                try:
                    name = zone(_text(user))
                    if not name:
                        return -1
                    raw = _bytes(name, "user_time_zone()")
                    if len(raw) < size:
                        ctypes.memmove(buf, raw + b"\0", len(raw) + 1)
                    return len(raw)
                except BaseException as e:  # noqa: B902 - floating times stay floating
                    report("user_time_zone(%r)" % _text(user), e)
                    return -1
            config.user_time_zone = keep["user_time_zone"] = _PASSWORD_CB(user_time_zone)

        allow = hooks.get("mass_delete_allow")
        if allow is not None:
            def mass_delete_allow(_user_data, owner, category, device):
                try:
                    return 1 if allow(_text(owner), _text(category), _text(device)) else 0
                except BaseException as e:  # noqa: B902 - the guard holds
                    report("mass_delete_allow(%r, %r, %r)" % (_text(owner), _text(category), _text(device)), e)
                    return 0
            config.mass_delete_allow = keep["mass_delete_allow"] = _ALLOW_CB(mass_delete_allow)

        if session_logger is not None:
            def log_session(_user_data, level, session, message):
                try:
                    session_logger(level, _text(session) or "", message.decode("utf-8", "replace"))
                except BaseException:  # noqa: B902
                    pass
            config.log_session = keep["log_session"] = _LOG_SESSION_CB(log_session)

        trace = hooks.get("trace")
        if trace is not None:
            def trace_message(_user_data, direction, session, xml, size):
                try:
                    trace("in" if direction == 0 else "out", _text(session) or "",
                          ctypes.string_at(xml, size).decode("utf-8", "replace") if size else "")
                except BaseException:  # noqa: B902
                    pass
            config.trace = keep["trace"] = _TRACE_CB(trace_message)
        return keep

    def close(self):
        """Frees the server once the process() calls in progress have
        returned (new ones are refused at once); the callbacks stay alive
        until it is gone. Not from inside a callback of this server."""
        done = getattr(self, "_calls_done", None)
        if done is None:  # __init__ failed early
            return
        if getattr(self._inside, "active", False):
            raise SyncMLError("close() from inside a callback of the same server", _ERR_ARGUMENT)
        with done:
            handle, self._handle = self._handle, None
            while self._calls:
                done.wait()
        if handle:
            _lib.smk_server_free(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def _check_sqlite(self, what):
        if self._hosted is not None:
            raise SyncMLError("%s is for the SQLite store; the host's provider answers for its own" % what,
                              _ERR_ARGUMENT)

    def grant(self, owner, category, user, read_only=False):
        """Lets `user` sync `owner`'s "contacts", "calendar", "tasks" or "notes" (SQLite store)."""
        self._check_sqlite("grant")
        status = _lib.smk_server_grant(self._handle, owner.encode(), category.encode(), user.encode(),
                                       1 if read_only else 0)
        if status != _OK:
            raise SyncMLError("cannot grant %s/%s to %s: %s" % (owner, category, user, _status_text(status)), status)

    def import_global_address_book(self, vcf_path):
        """Replaces the Global Address Book with the vCards of a file; returns their number (SQLite store)."""
        self._check_sqlite("import_global_address_book")
        count = ctypes.c_size_t()
        error = ctypes.c_void_p()
        status = _lib.smk_server_import_gab(self._handle, os.fsencode(vcf_path), ctypes.byref(count),
                                            ctypes.byref(error))
        if status != _OK:
            raise SyncMLError(_take_string(_lib, error.value) or "import failed", status)
        return count.value

    # -- the built-in store's administration (Server(data_dir, passwords)) --

    def _admin(self, what, call, *args):
        """Runs an administration call; raises for a failed status."""
        self._check_sqlite(what)
        if not hasattr(_lib, "smk_server_devices"):
            raise SyncMLError("this libsyncmlkit has no administration calls", _ERR_ARGUMENT)
        error = ctypes.c_void_p()
        status = call(self._handle, *args, ctypes.byref(error))
        if status != _OK:
            text = _take_string(_lib, error.value) or "%s failed: %s" % (what, _status_text(status))
            raise (NotFoundError if status == _ERR_NOT_FOUND else SyncMLError)(text, status)

    def devices(self, user):
        """The devices that logged in as `user`, as Device tuples, in
        device-ID order; [] for none."""
        out, count = ctypes.POINTER(_Device)(), ctypes.c_size_t()
        self._admin("devices", _lib.smk_server_devices, _bytes(user, "user"), ctypes.byref(out), ctypes.byref(count))
        try:
            found = []
            for d in out[:count.value]:
                dbs = [DeviceDatabase(_text(db.category), bool(db.completed),
                                      db.last_sync if db.last_sync >= 0 else None, db.items)
                       for db in d.databases[:d.database_count]]
                found.append(Device(_text(d.device), _text(d.make), _text(d.model),
                                    d.last_seen if d.last_seen >= 0 else None, dbs))
            return found
        finally:
            _lib.smk_devices_free(out, count.value)

    def reset_device(self, user, device, category=None):
        """Forgets a device's sync state in `user`'s `category` (None: every
        database): its next sync there is a slow sync, nothing is deleted.
        Returns the number of databases reset; NotFoundError when none."""
        reset = ctypes.c_size_t()
        self._admin("reset_device", _lib.smk_server_reset_device, _bytes(user, "user"), _bytes(device, "device"),
                    _bytes(category, "category") if category else None, ctypes.byref(reset))
        return reset.value

    def snapshots(self, owner, category):
        """The snapshots of owner's database, oldest first, as Snapshot tuples."""
        out, count = ctypes.POINTER(_Snapshot)(), ctypes.c_size_t()
        self._admin("snapshots", _lib.smk_server_snapshots, _bytes(owner, "owner"), _bytes(category, "category"),
                    ctypes.byref(out), ctypes.byref(count))
        try:
            return [Snapshot(_text(x.name), _text(x.path), x.taken if x.taken >= 0 else None, _text(x.reason))
                    for x in out[:count.value]]
        finally:
            _lib.smk_snapshots_free(out, count.value)

    def snapshot(self, owner, category, reason=None):
        """Takes a snapshot of owner's database now; returns its name."""
        name = ctypes.c_void_p()
        self._admin("snapshot", _lib.smk_server_snapshot, _bytes(owner, "owner"), _bytes(category, "category"),
                    _bytes(reason, "reason") if reason else None, ctypes.byref(name))
        return _take_string(_lib, name.value)

    def restore(self, owner, category, snapshot="latest"):
        """Puts a snapshot (a name from snapshots(), its file, or "latest")
        back into owner's database; clients get it by two-way sync. Returns
        ItemCounts."""
        counts = _ItemCounts()
        self._admin("restore", _lib.smk_server_restore, _bytes(owner, "owner"), _bytes(category, "category"),
                    _bytes(snapshot, "snapshot"), ctypes.byref(counts))
        return ItemCounts(counts.added, counts.changed, counts.unchanged, counts.removed)

    # -- for the host's own pages (either kind of server) --

    def check_login(self, user, password, peer=None):
        """Checks a password for the host's own pages through the SyncML
        logins' throttle (failures here and in SyncML count together).
        Returns (ok, retry_after): retry_after > 0 means the check was not
        made and the caller should wait that many seconds."""
        ok, retry = ctypes.c_int(), ctypes.c_uint()
        error = ctypes.c_void_p()
        status = _lib.smk_server_check_login(self._handle, _bytes(user, "user"), _bytes(password, "password"),
                                             _bytes(peer, "peer") if peer else None, ctypes.byref(ok),
                                             ctypes.byref(retry), ctypes.byref(error))
        if status != _OK:
            raise SyncMLError(_take_string(_lib, error.value) or "the password check failed", status)
        return bool(ok.value), retry.value

    def max_request_size(self):
        """The largest request body the server accepts: what a host reads
        of a body (on the wire and once inflated) before refusing it with 413."""
        return _lib.smk_server_max_request_size(self._handle)

    def session_count(self):
        """Sessions open now."""
        return _lib.smk_server_session_count(self._handle)

    def expire_idle_sessions(self):
        """Drops the sessions idle longer than session_timeout at once."""
        _lib.smk_server_expire_idle_sessions(self._handle)

    def process(self, body, content_type=None, url="/", peer=""):
        """Handles one client message (bytes); returns its Response."""
        with self._calls_done:
            handle = self._handle
            if not handle:
                raise SyncMLError("the server is closed", _ERR_ARGUMENT)
            self._calls += 1
        out = _Response()
        info = _ReplyInfo(ctypes.sizeof(_ReplyInfo), 0)
        was_inside = getattr(self._inside, "active", False)
        self._inside.active = True
        try:
            status = _lib.smk_server_process_info(handle, bytes(body), len(body),
                                                  content_type.encode() if content_type else None, url.encode(),
                                                  peer.encode() if peer else None, ctypes.byref(out),
                                                  ctypes.byref(info))
        finally:
            self._inside.active = was_inside
            with self._calls_done:
                self._calls -= 1
                self._calls_done.notify_all()
        if status != _OK:
            raise SyncMLError("processing failed: %s" % _status_text(status), status)
        try:
            return Response(ctypes.string_at(out.body, out.body_len), out.content_type.decode(),
                            out.http_status, bool(out.session_ended), info.retry_after)
        finally:
            _lib.smk_response_free(ctypes.byref(out))

