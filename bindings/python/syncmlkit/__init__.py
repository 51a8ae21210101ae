"""Python binding of SyncMLKit over its C ABI (ctypes, no compiled parts).

The library is found through the SYNCMLKIT_LIB environment variable (a path
to libsyncmlkit.so), else by the system's loader as "libsyncmlkit.so.0".
"""

import ctypes
import os

__all__ = ["SyncMLError", "DecodeError", "version", "render_xml"]

_OK, _ERR_ARGUMENT, _ERR_DECODE, _ERR_NOMEM = 0, -1, -2, -3


class SyncMLError(Exception):
    """A call into SyncMLKit failed; `status` is the C ABI's status code."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


class DecodeError(SyncMLError):
    """The message could not be decoded; the text says what and where."""


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
    lib.smk_free.restype = None
    lib.smk_free.argtypes = [ctypes.c_void_p]
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
