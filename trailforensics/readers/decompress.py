"""Strict, bounded gunzip: exactly one gzip member, nothing after it, never a bomb.

A gzip member appended to a CloudTrail log is a tampering sign: awscli's validator hashes
only the first member while most readers (Python's gzip, DuckDB) parse them all.  We parse
exactly the bytes a digest would hash, and refuse files with anything after member one.

Memory is bounded whatever the input claims.  A member is first inflated as a stream and
counted (output thrown away chunk by chunk): it stops as a *decompression bomb* once the
output passes ``RATIO_FLOOR`` at a ratio above ``MAX_RATIO``, and as *too large* past the cap
(a share of the memory setting, :func:`decompressed_cap`).  Only then is it inflated for real,
into one buffer of the exact size: the file's text is never held twice.  Small members (the
gzip trailer's size field says at most ``RATIO_FLOOR``; every CloudTrail log file) take one
bounded pass: a lying size field only sends them down the careful path.

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

# CloudTrail JSON compresses about 10:1; a pretty-printed or very repetitive export maybe 50:1.
# Zeros compress about 1000:1.  Below RATIO_FLOOR of output the ratio is not judged (a 17 MB
# value of one repeated letter is odd, not a bomb); above it, more than MAX_RATIO:1 is a bomb.
MAX_RATIO = 100
RATIO_FLOOR = 64 << 20
CAP_SHARE = 8  # one file's text may take 1/8 of the memory setting (workers and parsing need the rest)
MAX_DECOMPRESSED = 2 << 30  # verify's own bound (it hashes as a stream, never holding the text)
_IN_CHUNK = 1 << 20
_OUT_CHUNK = 4 << 20


class DecompressError(TrailforensicsError, ValueError):
    """The file is not a single, complete, reasonably sized gzip member."""


def is_gzip(data: bytes | memoryview) -> bool:
    return bytes(data[:2]) == GZIP_MAGIC


def decompressed_cap(memory: int | None = None) -> int:
    """Largest decompressed size of one file: a share of the memory setting (at least RATIO_FLOOR)."""
    from trailforensics.engine.resources import memory_limit

    return max(RATIO_FLOOR, (memory if memory is not None else memory_limit()) // CAP_SHARE)


def gunzip_strict(data: bytes, cap: int | None = None) -> bytes:
    """Decompress one gzip member; raise DecompressError on truncation, trailing data, a bomb or excess size."""
    cap = cap if cap is not None else decompressed_cap()
    hint = _size_field(data)
    if hint <= min(RATIO_FLOOR, cap):
        d = _zlib.decompressobj(_GZIP_WBITS)
        try:
            out = d.decompress(data, hint + 1)
        except _ZLIB_ERROR as exc:
            raise DecompressError(f"corrupt gzip data ({exc})") from exc
        if d.eof:  # zlib checked the trailer's CRC and length: the size field was true
            _check_tail(d.unused_data, len(d.unused_data))
            return out
        del out  # truncated, or a size field that lies: measure it properly
    size = measure(data, cap)
    return _inflate_exact(data, size)


def measure(data: bytes, cap: int) -> int:
    """Decompressed size of the one gzip member in ``data``, inflating in bounded chunks."""
    d = _zlib.decompressobj(_GZIP_WBITS)
    view = memoryview(data)
    consumed = total = 0
    pending: bytes | memoryview = b""
    try:
        while not d.eof:
            if not pending:
                if consumed >= len(data):
                    raise DecompressError("truncated gzip file (the member has no end)")
                pending = view[consumed : consumed + _IN_CHUNK]
                consumed += len(pending)
            total += len(d.decompress(pending, _OUT_CHUNK))
            pending = d.unconsumed_tail
            used = consumed - len(pending)
            if total > RATIO_FLOOR and total > MAX_RATIO * used:
                raise DecompressError(bomb_reason(total, used))
            if total > cap:
                raise DecompressError(too_large_reason(cap))
    except _ZLIB_ERROR as exc:
        raise DecompressError(f"corrupt gzip data ({exc})") from exc
    finally:
        view.release()
    _check_tail(d.unused_data[:2] or data[consumed : consumed + 2], len(d.unused_data) + len(data) - consumed)
    return total


def bomb_reason(output: int, compressed: int) -> str:
    return f"decompression bomb (ratio {output // max(compressed, 1):,}:1, stopped at {output / 1e6:,.0f} MB)"


def too_large_reason(cap: int) -> str:
    return (
        f"decompresses to more than {cap / 1e6:,.0f} MB, the limit for one file (1/{CAP_SHARE} of the memory "
        "setting: raise it with $TRAILFORENSICS_MEMORY_LIMIT)"
    )


def _inflate_exact(data: bytes, size: int) -> bytes:
    """Inflate into one buffer of the known size (each backend has one call that does not copy at the end)."""
    if BACKEND == "isal":
        out = _zlib.decompressobj(_GZIP_WBITS).decompress(data, size)
    else:  # pragma: no cover - the stdlib fallback
        out = _zlib.decompress(data, _GZIP_WBITS, max(size, 1))
    return out[:size] if len(out) > size else out


def _size_field(data: bytes) -> int:
    """The gzip trailer's ISIZE (decompressed size modulo 4 GiB): a hint, never trusted."""
    return int.from_bytes(data[-4:], "little") if len(data) >= 18 else 0


def _check_tail(head: bytes, length: int) -> None:
    """Refuse anything after the member (``head``: its first bytes, ``length``: all of it)."""
    if not length:
        return
    if is_gzip(head):
        raise DecompressError(
            f"a second gzip member follows the first ({length} bytes): possible tampering, "
            "validators hash only the first member"
        )
    raise DecompressError(f"{length} bytes of trailing data after the gzip member")


def maybe_gunzip(data: bytes, cap: int | None = None) -> tuple[bytes, bool]:
    """Return (decompressed bytes, was_gzip) by sniffing the magic bytes, not the name."""
    if is_gzip(data):
        return gunzip_strict(data, cap), True
    return data, False
