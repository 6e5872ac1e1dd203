"""Strict gunzip: exactly one gzip member, nothing after it.

A gzip member appended to a CloudTrail log is a tampering sign: awscli's validator hashes
only the first member while most readers (Python's gzip, DuckDB) parse them all.  We parse
exactly the bytes a digest would hash, and refuse files with anything after member one.

isal (Intel ISA-L) inflates 2-3x faster than zlib; the stdlib is the fallback.
"""

from __future__ import annotations

from typing import cast

from trailforensics.errors import TrailforensicsError

try:  # pragma: no cover - exercised implicitly depending on the environment
    from isal import isal_zlib as _zlib

    BACKEND = "isal"
except ImportError:  # pragma: no cover
    import zlib as _zlib  # type: ignore[no-redef]

    BACKEND = "zlib"

# isal's stubs type its error class as an instance; name it once so the except clause type-checks.
_ZLIB_ERROR = cast("type[Exception]", _zlib.error)
GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 31  # MAX_WBITS | 16: gzip header and trailer


class DecompressError(TrailforensicsError, ValueError):
    """The file is not a single, complete gzip member."""


def is_gzip(data: bytes | memoryview) -> bool:
    return bytes(data[:2]) == GZIP_MAGIC


MAX_DECOMPRESSED = 2 << 30  # a decompression bomb stops here, whatever its ratio


def gunzip_strict(data: bytes, limit: int = MAX_DECOMPRESSED) -> bytes:
    """Decompress one gzip member; raise DecompressError on truncation, trailing data or a bomb."""
    d = _zlib.decompressobj(_GZIP_WBITS)
    try:
        out = d.decompress(data, limit + 1)
    except _ZLIB_ERROR as exc:
        raise DecompressError(f"corrupt gzip data ({exc})") from exc
    if len(out) > limit:
        raise DecompressError(f"decompresses to more than {limit:,} bytes (a decompression bomb?)")
    if not d.eof:
        raise DecompressError("truncated gzip file (the member has no end)")
    if d.unused_data:
        extra = len(d.unused_data)
        if is_gzip(d.unused_data):
            raise DecompressError(
                f"a second gzip member follows the first ({extra} bytes): possible tampering, "
                "validators hash only the first member"
            )
        raise DecompressError(f"{extra} bytes of trailing data after the gzip member")
    return out


def maybe_gunzip(data: bytes, limit: int = MAX_DECOMPRESSED) -> tuple[bytes, bool]:
    """Return (decompressed bytes, was_gzip) by sniffing the magic bytes, not the name."""
    if is_gzip(data):
        return gunzip_strict(data, limit), True
    return data, False
