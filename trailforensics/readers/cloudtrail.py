"""CloudTrail log files: ``{"Records": [...]}`` -> decoded records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from msgspec import Raw

from trailforensics.errors import TrailforensicsError
from trailforensics.normalize.columns import Decoded
from trailforensics.normalize.fast import (
    FAST_FILE_DECODER,
    RAW_FILE_DECODER,
    RECORD_DECODER,
    DecodeError,
    FastRecord,
    ValidationError,
)
from trailforensics.normalize.tolerant import RejectedRecord, decode_tolerant
from trailforensics.readers.surrogates import replace_lone_surrogates

UTF8_BOM = b"\xef\xbb\xbf"


class FileFormatError(TrailforensicsError, ValueError):
    """The file as a whole cannot be read as a CloudTrail log file."""


def _describe(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 300 else text[:300] + "..."


def check_text(data: bytes) -> bytes:
    """Strip a UTF-8 BOM; refuse empty files and invalid UTF-8 (msgspec skips raw values unchecked)."""
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    if not data.strip():
        raise FileFormatError("empty file")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"invalid UTF-8 at byte {exc.start}") from exc
    return data


def decode_records_document(data: bytes) -> tuple[Decoded, int]:
    """Decode a ``{"Records": [...]}`` document.

    Returns the decoded records and the number of rejected elements (``Records`` items that
    are not JSON objects).  Raises FileFormatError for invalid JSON, invalid UTF-8 or a
    document without a ``Records`` list.
    """
    data = check_text(data)
    try:
        return _decode(data)
    except DecodeError as exc:
        # msgspec's message for a lone surrogate varies ("invalid utf-16 surrogate pair",
        # "Input data was truncated" when the string ends right after it): look for one.
        fixed, count = replace_lone_surrogates(data)
        if not count:
            raise FileFormatError(f"invalid JSON: {_describe(exc)}") from exc
        try:
            decoded, rejected = _decode(fixed)
        except DecodeError:
            raise FileFormatError(f"invalid JSON: {_describe(exc)}") from exc
        decoded.warnings.append(surrogate_warning(count))
        return decoded, rejected
    except RecursionError as exc:
        raise FileFormatError(TOO_DEEP) from exc


TOO_DEEP = "JSON nested too deeply (more than about 1,000 levels): cannot be decoded"


def surrogate_warning(count: int) -> str:
    return (
        f"{count} lone UTF-16 surrogate escape(s) (not representable as text) replaced by U+FFFD; "
        "the rest of each value is exact"
    )


def is_pretty(data: bytes, sample: int = 8192) -> bool:
    """Whitespace between JSON tokens (a pretty-printed or `json.dumps`-style document).

    Looks at the start only: pretty printing shows within the first few KB, and scanning
    whole multi-MB files for markers they do not contain costs more than the decode.
    """
    end = min(len(data) - 2, sample)  # a final newline does not count
    return any(data.find(marker, 0, end) >= 0 for marker in _PRETTY_MARKERS)


_PRETTY_MARKERS = (b'": ', b"\n", b"\r", b"\t", b', "', b"{ ", b"[ ")


def _decode(data: bytes) -> tuple[Decoded, int]:
    try:
        records = FAST_FILE_DECODER.decode(data).Records
    except ValidationError:
        decoded, rejected = _decode_tolerant_file(data)
    else:
        decoded, rejected = Decoded(records, list(range(len(records))), raw_of=_lazy_raw(data)), 0
    decoded.pretty = is_pretty(data)
    return decoded, rejected


def _lazy_raw(data: bytes) -> Callable[[int], bytes]:
    cache: list[list[Raw]] = []

    def raw_of(i: int) -> bytes:
        if not cache:
            cache.append(RAW_FILE_DECODER.decode(data).Records)
        return bytes(cache[0][i])

    return raw_of


def decode_raw_records(raws: list[Raw], problems: Counter[str] | None = None) -> tuple[Decoded, int]:
    """Decode records one by one (fast where possible); non-objects are rejected."""
    records: list[FastRecord] = []
    indexes: list[int] = []
    decoded = Decoded(records, indexes, raw_of=lambda k: bytes(raws[indexes[k]]))
    decoded.pretty = any(is_pretty(bytes(r)) for r in raws)
    rejected = 0
    for i, raw in enumerate(raws):
        try:
            rec = RECORD_DECODER.decode(raw)
        except (DecodeError, RecursionError):  # ValidationError included: try the tolerant path
            try:
                tol = decode_tolerant(raw)
            except RejectedRecord:
                rejected += 1
                if problems is not None:
                    problems["not a JSON object"] += 1
                continue
            except (DecodeError, RecursionError) as exc:
                rejected += 1  # an item that is not valid JSON (a lookup Event's broken CloudTrailEvent)
                if problems is not None:
                    problems[TOO_DEEP if isinstance(exc, RecursionError) else "invalid JSON"] += 1
                continue
            rec = decoded.add_tolerant(len(records), tol)
        records.append(rec)
        indexes.append(i)
    return decoded, rejected


def _decode_tolerant_file(data: bytes) -> tuple[Decoded, int]:
    try:
        raws = RAW_FILE_DECODER.decode(data).Records
    except ValidationError as exc:
        raise FileFormatError(f"not a CloudTrail log file: {_describe(exc)}") from exc
    return decode_raw_records(raws)
