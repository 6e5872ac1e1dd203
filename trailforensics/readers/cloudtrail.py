"""CloudTrail log files: ``{"Records": [...]}`` -> decoded records."""

from __future__ import annotations

import base64
import codecs
import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import msgspec
from msgspec import Raw

from trailforensics.errors import TrailforensicsError
from trailforensics.normalize.columns import Decoded
from trailforensics.normalize.fast import (
    COUNTED,
    COUNTED_FILE_DECODER,
    RAW_FILE_DECODER,
    RECORD_DECODER,
    RECORD_ENCODER,
    DecodeError,
    FastRecord,
    ValidationError,
    encoded_length,
)
from trailforensics.normalize.rebuild import (  # original_values: the record's exact bytes
    DUPLICATE_BYTES_KEY,
    DUPLICATE_KEYS_KEY,
    INVALID_UTF8_KEY,
)
from trailforensics.normalize.tolerant import RejectedRecord, decode_tolerant
from trailforensics.readers.surrogates import replace_lone_surrogates

UTF8_BOM = b"\xef\xbb\xbf"
_encode = msgspec.json.encode


class FileFormatError(TrailforensicsError, ValueError):
    """The file as a whole cannot be read as a CloudTrail log file."""


def _describe(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) < 300 else text[:300] + "..."


def check_text(data: bytes) -> bytes:
    """Strip a UTF-8 BOM; refuse empty files and invalid UTF-8 (msgspec skips raw values unchecked)."""
    data = _text_body(data)
    spans = invalid_utf8_spans(data, limit=1)
    if spans:
        raise FileFormatError(f"{INVALID_UTF8_TEXT} at byte {spans[0][0]}")
    return data


def _text_body(data: bytes) -> bytes:
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM) :]
    if not data or data.isspace():  # never `strip()`: that copies a whole file to test it
        raise FileFormatError("empty file")
    return data


_UTF8_CHUNK = 1 << 20
INVALID_UTF8_TEXT = "invalid UTF-8"  # how check_text's refusal starts


def invalid_utf8_spans(data: bytes, limit: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each invalid UTF-8 sequence, checked in bounded chunks (never a copy of the file)."""
    if data.isascii():
        return []
    spans: list[tuple[int, int]] = []
    view = memoryview(data)
    pos, n = 0, len(data)
    try:
        while pos < n:
            chunk = view[pos : pos + _UTF8_CHUNK]
            final = pos + len(chunk) >= n
            try:
                _text, used = codecs.utf_8_decode(chunk, "strict", final)
            except UnicodeDecodeError as exc:
                spans.append((pos + exc.start, pos + exc.end))
                if limit is not None and len(spans) >= limit:
                    break
                pos += exc.end
                continue
            pos += used if used else len(chunk)
    finally:
        view.release()
    return spans


def escape_invalid_utf8(raw: bytes, spans: list[tuple[int, int]]) -> bytes:
    r"""Each invalid byte escaped as ``\\xNN`` in the JSON text: the string holds the four characters ``\xNN``."""
    out: list[bytes] = []
    last = 0
    for start, end in spans:
        out.append(raw[last:start])
        out.extend(b"\\\\x%02x" % b for b in raw[start:end])  # JSON text \\xNN: the string \xNN
        last = end
    out.append(raw[last:])
    return b"".join(out)


def decode_records_document(data: bytes, problems: Counter[str] | None = None) -> tuple[Decoded, int]:
    """Decode a ``{"Records": [...]}`` document.

    Returns the decoded records and the number of rejected elements (``Records`` items that
    are not JSON objects, not valid JSON or nested too deeply; counted in ``problems`` by
    reason).  Damage costs only what it touches: invalid UTF-8 is escaped in its value (the
    record's original bytes kept in ``original_values``), an over-deep record is rejected
    alone, and a second ``Records`` array is read too (and reported).  Raises
    FileFormatError for a document that is not JSON or has no ``Records`` list.
    """
    data = _text_body(data)
    if invalid_utf8_spans(data, limit=1):
        return _decode_split(data, problems, utf8_damage=True)
    try:
        return _decode(data, problems)
    except DecodeError as exc:
        # msgspec's message for a lone surrogate varies ("invalid utf-16 surrogate pair",
        # "Input data was truncated" when the string ends right after it): look for one.
        fixed, count = replace_lone_surrogates(data)
        if not count:
            raise FileFormatError(f"invalid JSON: {_describe(exc)}") from exc
        try:
            decoded, rejected = _decode(fixed, problems)
        except DecodeError:
            raise FileFormatError(f"invalid JSON: {_describe(exc)}") from exc
        except RecursionError:
            decoded, rejected = _decode_split(fixed, problems)
        decoded.warnings.append(surrogate_warning(count))
        return decoded, rejected
    except RecursionError:
        return _decode_split(data, problems)


TOO_DEEP = "JSON nested too deeply (more than about 1,000 levels): cannot be decoded"
INVALID_UTF8 = "record with invalid UTF-8 (kept, the bytes escaped as \\xNN)"


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


def _decode(data: bytes, problems: Counter[str] | None = None) -> tuple[Decoded, int]:
    try:
        before = COUNTED[0]
        records: list[FastRecord] = list(COUNTED_FILE_DECODER.decode(data).Records)
        decoded_records = COUNTED[0] - before
    except ValidationError:
        decoded, rejected = _decode_tolerant_file(data, problems)
    else:
        if decoded_records != len(records):  # a second "Records" key: msgspec kept only the last array
            return _decode_split(data, problems)
        decoded, rejected = Decoded(records, list(range(len(records))), raw_of=_lazy_raw(data)), 0
        if not _lengths_agree(data, records):
            _flag_duplicate_keys(decoded, RAW_FILE_DECODER.decode(data).Records)
    decoded.pretty = is_pretty(data)
    return decoded, rejected


_COMPACT_HEAD = b'{"Records":['


def _lengths_agree(data: bytes, records: list[FastRecord]) -> bool:
    """Whether re-encoding the decoded records gives the file's own length.

    msgspec keeps the last value of a key given twice, silently.  A compact CloudTrail file
    re-encodes to its exact length unless a record held a key twice (or the file escapes or
    spaces differently, or holds explicit nulls): one encode of the whole list, at C speed,
    sends only such files to the record-by-record check.
    """
    body = data.strip()
    if not (body.startswith(_COMPACT_HEAD) and body.endswith(b"]}")):
        return False
    return encoded_length(records) == len(body) - len(b'{"Records":}')  # the array itself


def duplicate_keys(raw: bytes) -> list[str]:
    """The keys that appear twice in one JSON object of ``raw``, at any depth (dotted paths)."""
    found: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen and key not in found:
                found.append(key)
            seen.add(key)
        return dict(items)

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return []
    return found


def _flag_duplicate_keys(decoded: Decoded, raws: list[Raw]) -> None:
    """Records whose length does not re-encode: those with a key twice keep their exact bytes."""
    flagged = 0
    for k, i in enumerate(decoded.indexes):
        raw = bytes(raws[i])
        if len(RECORD_ENCODER.encode(decoded.records[k])) == len(raw):
            continue
        keys = duplicate_keys(raw)
        if not keys:
            continue  # escaping, spacing or explicit nulls: nothing lost
        originals = decoded.originals.setdefault(k, {})
        originals[DUPLICATE_KEYS_KEY] = Raw(_encode(keys))
        originals[DUPLICATE_BYTES_KEY] = Raw(_encode(base64.b64encode(raw).decode()))
        flagged += 1
    if flagged:
        decoded.warnings.append(
            f"{flagged} record(s) with a key given twice (CloudTrail never writes this: tampering or a broken "
            f"export?): the row holds the last value, original_values.{DUPLICATE_KEYS_KEY} names the keys and "
            f"original_values.{DUPLICATE_BYTES_KEY} keeps the record's exact bytes"
        )


def _decode_split(data: bytes, problems: Counter[str] | None, utf8_damage: bool = False) -> tuple[Decoded, int]:
    """The slow, careful path: split the Records arrays without recursion, decode record by record."""
    arrays = split_records_arrays(data)
    if arrays is None:
        if utf8_damage:
            spans = invalid_utf8_spans(data, limit=1)
            raise FileFormatError(f"invalid UTF-8 at byte {spans[0][0]} (and no Records list around it)")
        raise FileFormatError("invalid JSON: no Records list could be found (or the document is cut short)")
    raws = [raw for array in arrays for raw in array]
    damaged: dict[int, bytes] = {}
    for i, raw in enumerate(raws):
        spans = invalid_utf8_spans(raw)
        if spans:
            damaged[i] = raw
            raws[i] = escape_invalid_utf8(raw, spans)
    decoded, rejected = decode_raw_records([Raw(r) for r in raws], problems)
    for k, i in enumerate(decoded.indexes):
        if i in damaged:
            decoded.originals.setdefault(k, {})[INVALID_UTF8_KEY] = Raw(_encode(base64.b64encode(damaged[i]).decode()))
    if damaged:
        kept = sum(1 for i in decoded.indexes if i in damaged)
        decoded.warnings.append(
            f"{len(damaged)} record(s) with invalid UTF-8: {kept} kept with the bad bytes escaped as \\xNN "
            f"(original bytes in original_values.{INVALID_UTF8_KEY})"
        )
        if problems is not None:
            problems[INVALID_UTF8] += len(damaged)
    if len(arrays) > 1:
        decoded.warnings.append(
            f"{len(arrays)} Records arrays in one document (CloudTrail writes one: tampering or a broken export?); "
            f"all {len(raws)} records read"
        )
    return decoded, rejected


# Tokens of a JSON text that matter for its structure: strings (skipped whole) and brackets.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:]', re.S)


def split_records_arrays(data: bytes) -> list[list[bytes]] | None:
    """The elements (as bytes) of every top-level ``Records`` array, found without recursion.

    Used where msgspec cannot go: a record nested thousands of levels deep, a repeated
    ``Records`` key, invalid UTF-8.  None when there is no well-formed top-level object with one.
    """
    arrays: list[list[bytes]] = []
    depth = 0
    key: bytes | None = None
    last_string: bytes | None = None
    current: list[bytes] | None = None
    start = 0
    for m in _TOKEN.finditer(data):
        tok = m.group()
        c = tok[:1]
        if c == b'"':
            last_string = tok
            continue
        if c == b":":
            key = last_string if depth == 1 else key
        elif c in b"[{":
            depth += 1
            if c == b"[" and depth == 2 and key == b'"Records"':
                current, start = [], m.end()
        elif c in b"]}":
            if current is not None and depth == 2:
                _element(data, start, m.start(), current)
                arrays.append(current)
                current = None
            depth -= 1
            if depth < 0:
                return None
        elif c == b"," and current is not None and depth == 2:
            _element(data, start, m.start(), current)
            start = m.end()
        if c != b":":
            last_string = None
    if depth != 0 or current is not None or not arrays:
        return None
    return arrays


def _element(data: bytes, start: int, end: int, out: list[bytes]) -> None:
    raw = data[start:end].strip()
    if raw:
        out.append(raw)


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


def _decode_tolerant_file(data: bytes, problems: Counter[str] | None) -> tuple[Decoded, int]:
    try:
        raws = RAW_FILE_DECODER.decode(data).Records
    except ValidationError as exc:
        raise FileFormatError(f"not a CloudTrail log file: {_describe(exc)}") from exc
    return decode_raw_records(raws, problems)
