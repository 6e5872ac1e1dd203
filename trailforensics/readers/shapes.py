"""Every dump shape responders get, detected from content (not the file name).

* ``cloudtrail``: an S3 log file or a console Event history JSON, ``{"Records": [...]}``;
* ``lookup-events``: ``aws cloudtrail lookup-events`` output, ``{"Events": [...]}`` pages (one
  or several per file, pretty or compact) or one Event per line;
* ``jsonl``: one record per line (CloudTrail Lake / SIEM exports), CRLF or LF;
* ``cloudwatch-logs``: CloudWatch Logs exports, each line a timestamp then the JSON;
* ``json-array``: a top-level JSON array of records;
* ``eventbridge``: EventBridge events carrying CloudTrail records in ``detail``;
* ``event-history-csv``: the console's Event history CSV download.

Look-alikes (S3 Event Notifications, SNS/SQS delivery notifications, Config snapshots,
digests, CSVs of other data) raise :class:`LookAlike` and are skipped with the reason.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec
from msgspec import Raw

from trailforensics.normalize.columns import Decoded
from trailforensics.readers.cloudtrail import (
    INVALID_UTF8_TEXT,
    TOO_DEEP,
    FileFormatError,
    check_text,
    decode_raw_records,
    decode_records_document,
    surrogate_warning,
)
from trailforensics.readers.csvexport import NotEventHistory, looks_like_event_history, read_event_history_csv
from trailforensics.readers.items import (
    EVENTBRIDGE,
    LOOKUP,
    PARTIAL_LOOKUP,
    RECORD,
    WRAPPER,
    NotARecord,
    records_of_item,
)
from trailforensics.readers.sniff import LookAlike, describe_document
from trailforensics.readers.surrogates import replace_lone_surrogates

# Source formats (the `source_format` column, `--input-format`): what the content looks like.
# SHAPE_CLOUDTRAIL, a {"Records": [...]} document, is spelt like the file kind of a log file
# (discovery.KIND_LOG_FILE, where the file sits); the two are different things.
SHAPE_CLOUDTRAIL = "cloudtrail"
LOOKUP_EVENTS = "lookup-events"
JSONL = "jsonl"
CLOUDWATCH = "cloudwatch-logs"
JSON_ARRAY = "json-array"
EVENT_BRIDGE = "eventbridge"
EVENT_HISTORY_CSV = "event-history-csv"
SHAPES = (SHAPE_CLOUDTRAIL, LOOKUP_EVENTS, JSONL, CLOUDWATCH, JSON_ARRAY, EVENT_BRIDGE, EVENT_HISTORY_CSV)

_TIMESTAMP_PREFIX = re.compile(rb"^\s*\d{4}-\d{2}-\d{2}[T ][0-9:.]+Z?\s+(?=[\[{])")
_ITEM_FORMAT = {LOOKUP: LOOKUP_EVENTS, PARTIAL_LOOKUP: LOOKUP_EVENTS, EVENTBRIDGE: EVENT_BRIDGE}
_LIST = msgspec.json.Decoder(list[Raw])


@dataclass
class Read:
    decoded: Decoded
    rejected: int
    source_format: str
    problems: Counter[str] = field(default_factory=Counter)


class _Top(msgspec.Struct, gc=False):
    Records: Raw = Raw(b"")
    Events: Raw = Raw(b"")


_TOP = msgspec.json.Decoder(_Top)


def _from_items(items: Sequence[bytes | _Invalid], container: str, problems: Counter[str]) -> Read:
    raws: list[bytes] = []
    positions: list[int] = []  # each record's position in the file, rejected items counted
    partial: set[int] = set()
    kinds: Counter[str] = Counter()
    rejected = 0
    position = 0
    for item in items:
        try:
            if isinstance(item, _Invalid):
                raise NotARecord(item.reason)
            kind, recs = records_of_item(item)
        except NotARecord as exc:
            rejected += 1
            position += 1
            problems[str(exc)] += 1
            continue
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            rejected += 1
            position += 1
            problems["invalid JSON"] += 1
            continue
        kinds[kind] += 1
        if kind == PARTIAL_LOOKUP:
            partial.add(len(raws))
        raws.extend(recs)
        positions.extend(range(position, position + len(recs)))
        position += len(recs)
    if not raws and rejected:
        reason = problems.most_common(1)[0][0]
        if kinds or reason.startswith("invalid JSON"):
            raise FileFormatError(f"no readable records ({rejected} item(s): {reason})")
        raise LookAlike(f"no CloudTrail records ({rejected} items: {reason})")
    item_kinds = {k for k in kinds if k not in (RECORD, WRAPPER)}
    fmt = _ITEM_FORMAT[item_kinds.pop()] if len(item_kinds) == 1 and len(kinds) == 1 else container
    decoded, bad = decode_raw_records([Raw(r) for r in raws], problems)
    _mark_partial(decoded, partial)
    decoded.indexes = [positions[i] for i in decoded.indexes]  # raw_of keeps its own list
    return Read(decoded, rejected + bad, fmt, problems)


class _Invalid:
    """An item that is not valid JSON (a corrupt line), kept in place so positions stay right."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _mark_partial(decoded: Decoded, partial: set[int]) -> None:
    """Input positions -> positions among the decoded records (rejected items are skipped)."""
    if partial:
        decoded.partial = {pos for pos, index in enumerate(decoded.indexes) if index in partial}


def _split_lines(text: bytes) -> tuple[list[bytes], bool]:
    """Non-empty lines with any CloudWatch Logs timestamp prefix removed; (lines, had prefixes)."""
    lines: list[bytes] = []
    prefixed = False
    for line in text.split(b"\n"):
        line = line.rstrip(b"\r").strip()
        if not line:
            continue
        m = _TIMESTAMP_PREFIX.match(line)
        if m:
            prefixed = True
            line = line[m.end() :]
        lines.append(line)
    return lines, prefixed


def _concatenated(text: bytes) -> tuple[list[bytes], str | None]:
    """Split concatenated JSON documents (e.g. several lookup-events pages appended to one file).

    Returns the documents read and, when the text stops being valid JSON part-way, why.
    """
    decoder = json.JSONDecoder()
    s = text.decode("utf-8")
    docs: list[bytes] = []
    pos = 0
    while True:
        while pos < len(s) and s[pos].isspace():
            pos += 1
        if pos >= len(s):
            return docs, None
        try:
            _, end = decoder.raw_decode(s, pos)
        except (ValueError, RecursionError) as exc:
            return docs, f"invalid JSON from character {pos:,} on: {exc}"
        docs.append(s[pos:end].encode("utf-8"))
        pos = end


def _documents(text: bytes, problems: Counter[str]) -> Read:
    """Several JSON documents: one per line (JSON Lines, CloudWatch export) or concatenated pages.

    One per line when most lines are whole JSON objects: a corrupt line is then rejected alone
    (a truncated last line, a line cut by a SIEM) and the others are kept.
    """
    lines, prefixed = _split_lines(text)
    container = CLOUDWATCH if prefixed else JSONL
    items: list[bytes | _Invalid] = []
    good = 0
    for line in lines:
        try:
            top = _TOP.decode(line)
        except msgspec.ValidationError:
            items.append(line)  # valid JSON, not an object: rejected with its reason later
        except (msgspec.DecodeError, RecursionError):
            items.append(_Invalid("invalid JSON line"))
        else:
            items.extend(_expand_pages(line, top))
            good += 1
    if good and good * 2 > len(lines):
        return _from_items(items, container, problems)
    docs, error = _concatenated(text)
    if not docs:
        raise FileFormatError(error or "invalid JSON")
    items = []
    for doc in docs:
        try:
            items.extend(_expand_pages(doc, _TOP.decode(doc)))
        except msgspec.ValidationError:
            items.append(doc)
    if error:
        items.append(_Invalid(error))
    return _from_items(items, LOOKUP_EVENTS if items else JSONL, problems)


def _expand_pages(doc: bytes, top: _Top) -> list[bytes]:
    if len(top.Events):
        return [bytes(e) for e in _LIST.decode(top.Events)]
    return [doc]


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a multi-byte character cut at the end of the sample
    return b"\x00" not in head


_UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}


def read_any(text: bytes, forced: str | None = None) -> Read:
    """Decode a (decompressed) document of any supported shape.

    Raises LookAlike (skip) or FileFormatError (fail) with the reason.
    """
    encoding = _UTF16_BOMS.get(text[:2])
    if encoding:  # Windows PowerShell 5 writes `aws ... > out.json` as UTF-16 with a BOM
        try:
            text = text[2:].decode(encoding).encode("utf-8")
        except UnicodeError as exc:
            raise FileFormatError(f"invalid {encoding.upper()} text: {exc}") from exc
    if forced is None and text.lstrip()[:1] not in (b"{", b"[") and not _is_text(text[:4096]):
        raise LookAlike(_binary_reason(text))
    try:
        text = check_text(text)
    except FileFormatError as exc:
        if not str(exc).startswith(INVALID_UTF8_TEXT) or forced not in (None, SHAPE_CLOUDTRAIL):
            raise
        if not _has_records(text):
            raise
        problems: Counter[str] = Counter()  # a Records document: the damage costs only its records' values
        decoded, rejected = decode_records_document(text, problems)
        return Read(decoded, rejected, SHAPE_CLOUDTRAIL, problems)
    text, replaced = replace_lone_surrogates(text)
    try:
        read = _read_shape(text, forced)
    except RecursionError as exc:
        raise FileFormatError(TOO_DEEP) from exc
    except LookAlike as exc:
        if forced is not None:  # the responder said what it is: not being that is a failure
            raise FileFormatError(f"not {forced} input: {exc}") from exc
        raise
    if replaced:
        read.decoded.warnings.append(surrogate_warning(replaced))
    return read


def _has_records(text: bytes) -> bool:
    try:
        return bool(len(_TOP.decode(text).Records))
    except (msgspec.DecodeError, RecursionError):
        return False


def _binary_reason(data: bytes) -> str:
    if data.startswith(b"BZh"):
        return "bzip2-compressed: not read (decompress it first: bunzip2)"
    if data.startswith(b"\xfd7zXZ\x00"):
        return "xz-compressed: not read (decompress it first: unxz)"
    if data.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7-Zip archive: not read (extract it first)"
    if data.startswith(b"Rar!"):
        return "RAR archive: not read (extract it first)"
    return "binary data, not a JSON or CSV export"


def _read_shape(text: bytes, forced: str | None) -> Read:
    problems: Counter[str] = Counter()
    head = text.lstrip()[:1]
    if forced == EVENT_HISTORY_CSV or (
        forced is None and head not in (b"{", b"[") and looks_like_event_history(text[:4096].decode("utf-8", "replace"))
    ):
        return _csv(text, problems)
    if forced in (JSONL, CLOUDWATCH) or (forced is None and head not in (b"{", b"[")):
        if forced is None and not _TIMESTAMP_PREFIX.match(text.lstrip()):
            if b'":' in text[:4096]:
                raise FileFormatError(
                    "invalid JSON: it looks like JSON but does not start with { or [ "
                    "(a fragment without its enclosing braces, or annotated text?)"
                )
            if b"," in text[:4096].split(b"\n", 1)[0]:
                raise LookAlike("CSV of other data (no Event name/Event time/Event source columns)")
            raise LookAlike("not a JSON document")
        return _documents(text, problems)
    if head == b"[" and forced in (None, JSON_ARRAY):
        try:
            items = [bytes(r) for r in _LIST.decode(text)]
        except msgspec.ValidationError as exc:
            raise FileFormatError(f"invalid JSON array: {exc}") from exc
        except msgspec.DecodeError:
            return _documents(text, problems)
        return _from_items(items, JSON_ARRAY, problems)
    try:
        top = _TOP.decode(text)
    except msgspec.ValidationError as exc:
        raise FileFormatError(f"not a JSON object: {exc}") from exc
    except msgspec.DecodeError:
        return _documents(text, problems)  # several documents
    if len(top.Records) and forced in (None, SHAPE_CLOUDTRAIL):
        look_alike = describe_document(text)
        if look_alike:
            raise LookAlike(look_alike)
        decoded, rejected = decode_records_document(text, problems)
        return Read(decoded, rejected, SHAPE_CLOUDTRAIL, problems)
    if len(top.Events):
        return _from_items(_expand_pages(text, top), LOOKUP_EVENTS, problems)
    look_alike = describe_document(text)
    if look_alike:
        raise LookAlike(look_alike)
    return _from_items([text], SHAPE_CLOUDTRAIL if forced is None else forced, problems)


def _csv(text: bytes, problems: Counter[str]) -> Read:
    try:
        raws, partial, bad = read_event_history_csv(text.decode("utf-8"))
    except NotEventHistory as exc:
        raise LookAlike(str(exc)) from exc
    for b in bad:
        problems[b] += 1
    decoded, rejected = decode_raw_records([Raw(r) for r in raws], problems)
    _mark_partial(decoded, partial)
    return Read(decoded, rejected, EVENT_HISTORY_CSV, problems)  # `bad` rows became partial records
