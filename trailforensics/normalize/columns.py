"""Decoded records -> one Arrow record batch in the dataset schema.

Column-at-a-time: the fields come from :mod:`.fields` (the C module where it is built, else
its Python twin), the JSON columns keep their original bytes (:mod:`.rawcols`), the dedup keys
come from :mod:`.dedupkey`.  Per-row Python work happens only for odd records (explicit nulls,
escapes in odd places, missing eventIDs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from msgspec import Raw

from trailforensics.normalize.dedupkey import dedup_keys
from trailforensics.normalize.fast import (
    ABSENT,
    ANY_DECODER,
    NOT_SET,
    DecodeError,
    FastRecord,
    Tls,
    ValidationError,
)
from trailforensics.normalize.fields import (
    IDENTITY_COLUMNS,
    JSON_KEYS,
    Fields,
    NativeFields,
    PyFields,
    compact,
)
from trailforensics.normalize.native import native
from trailforensics.normalize.rebuild import SIEM_TIME_KEY, TIME_FROM_NOTE
from trailforensics.normalize.timeparse import parse_time
from trailforensics.normalize.tolerant import Tolerant, decode_tolerant
from trailforensics.schema import (
    EVENT_SCHEMA,
    STRING_BOOL_KEYS,
    TLS_KEYS,
    TOP_LEVEL_BOOL_KEYS,
    TOP_LEVEL_JSON_KEYS,
    TOP_LEVEL_STRING_KEYS,
)

_encode = msgspec.json.encode

STRING_KEYS: tuple[str, ...] = (*TOP_LEVEL_STRING_KEYS, *STRING_BOOL_KEYS, "eventTime")
BOOL_KEYS: tuple[str, ...] = tuple(TOP_LEVEL_BOOL_KEYS)

# pyarrow scalars made once: passing Python values to compute functions is slow.
_S_TRUE, _S_FALSE = pa.scalar("true"), pa.scalar("false")
_B_TRUE, _B_FALSE, _B_NULL = pa.scalar(True), pa.scalar(False), pa.scalar(None, pa.bool_())


@dataclass
class FileContext:
    """Per-file constants stamped on every row."""

    source_file: str
    source_format: str
    ingest_run: str
    org_id: str | None = None
    account_id: str | None = None
    region: str | None = None


@dataclass
class Decoded:
    """Records of one file, in file order, with the tolerant path's side information."""

    records: list[FastRecord]
    indexes: list[int]
    raw_of: Callable[[int], bytes]  # original bytes of records[i]
    extras: dict[int, dict[str, Raw]] = field(default_factory=dict)
    originals: dict[int, dict[str, Raw]] = field(default_factory=dict)
    tolerant: set[int] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    partial: set[int] = field(default_factory=set)  # records rebuilt from a partial export
    # The input had insignificant whitespace (pretty-printed): JSON columns are compacted so
    # that the same event reads the same whatever the shape it came in.
    pretty: bool = False

    nulls: dict[int, list[str]] = field(default_factory=dict)  # tolerant rows: typed keys that were null

    def make_tolerant(self, i: int) -> None:
        self.records[i] = self.add_tolerant(i, decode_tolerant(self.raw_of(i)))

    def add_tolerant(self, i: int, tol: Tolerant) -> FastRecord:
        """Record the tolerant path's side information for row i; returns its record."""
        self.tolerant.add(i)
        if tol.extra:
            self.extras[i] = tol.extra
        if tol.original:
            self.originals[i] = tol.original
        if tol.nulls:
            self.nulls[i] = tol.nulls
        return tol.record


@dataclass
class Built:
    batch: pa.RecordBatch
    keys: bytes  # KEY_SIZE bytes per row: the dedup key digests


class _Nulls:
    """Which known top-level keys were present with an explicit JSON null, per row."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.masks: dict[str, np.ndarray] = {}

    def add(self, key: str, rows: Any) -> None:
        rows = list(rows)
        if rows:
            mask = self.masks.setdefault(key, np.zeros(self.n, bool))
            mask[rows] = True

    def column(self) -> pa.Array:
        if not self.masks:
            return pa.nulls(self.n, pa.string())
        # Each row's set of null keys as a bit code; one string per distinct code (few).
        keys = list(self.masks)
        codes = np.zeros(self.n, np.int64)
        for bit, key in enumerate(keys):
            codes |= self.masks[key].astype(np.int64) << bit
        distinct, index = np.unique(codes, return_inverse=True)
        names = [",".join(k for b, k in enumerate(keys) if code >> b & 1) or None for code in distinct.tolist()]
        return pa.array(names, pa.string()).take(pa.array(index.reshape(-1)))


def build(decoded: Decoded, ctx: FileContext, use_native: bool | None = None) -> Built:
    """The file's rows.  ``use_native`` (default: when the C module is built) takes the C path
    for the column building; the Python path is its reference and takes over whenever the C
    path meets a value it does not expect, so both give the same rows."""
    C = native() if use_native is None or use_native else None
    if C is not None and not decoded.pretty:
        try:
            return _build(decoded, ctx, NativeFields.of(decoded, C))
        except (TypeError, ValueError, AttributeError, OverflowError, BufferError, UnicodeError):
            pass
    return _build(decoded, ctx, PyFields.of(decoded))


def _build(decoded: Decoded, ctx: FileContext, fields: Fields) -> Built:
    recs = decoded.records
    n = len(recs)
    jc, json_present = fields.jc, fields.json_present
    strings = fields.strings(STRING_KEYS)
    originals = {i: dict(v) for i, v in decoded.originals.items()}
    extras = {i: dict(v) for i, v in decoded.extras.items()}
    nulls = _Nulls(n)
    for i, null_keys in decoded.nulls.items():  # only the tolerant path sees explicit nulls in typed fields
        for key in null_keys:
            nulls.add(key, [i])
    cols: dict[str, pa.Array] = {}
    for c, key in enumerate(STRING_KEYS[:-1]):
        if key in STRING_BOOL_KEYS:
            cols[STRING_BOOL_KEYS[key]] = _string_bools(strings[c], key, recs, originals)
        else:
            cols[TOP_LEVEL_STRING_KEYS[key]] = strings[c]
    cols["event_time"], odd_times = fields.times(strings[-1])
    for i in odd_times:
        originals.setdefault(i, {}).setdefault("eventTime", Raw(_encode(recs[i].eventTime)))
    cols["event_time"] = _time_from_siem(cols["event_time"], recs, extras, originals)

    for key in BOOL_KEYS:
        cols[TOP_LEVEL_BOOL_KEYS[key]] = pa.array([None if v is NOT_SET else v for v in fields.values(key)], pa.bool_())
    for key in JSON_KEYS:
        if key in json_present:
            c = json_present.index(key)
            nulls.add(key, jc.null_rows(c))
            cols[TOP_LEVEL_JSON_KEYS[key]] = jc.json(c)
        else:
            cols[TOP_LEVEL_JSON_KEYS[key]] = pa.nulls(n, pa.string())
    present = fields.extra_present()
    # One extra key and nothing else for `extra` (the usual case, vpcEndpointAccountId): one column.
    extra = fields.extra_column(present[0]) if len(present) == 1 and not extras else None
    for key in present if extra is None else ():
        for i, raw in enumerate(fields.values(key)):
            if len(raw):
                extras.setdefault(i, {})[key] = raw

    cols.update(_tls_columns(fields, originals))
    cols.update(_identity_columns(fields))
    cols["extra"] = extra if extra is not None else _sparse_json(n, extras)
    cols["original_values"] = _sparse_json(n, originals)
    cols["null_fields"] = nulls.column()

    hashes, keys = dedup_keys(decoded, cols, fields)
    cols["source_file"] = _constant(ctx.source_file, n)
    cols["record_index"] = pa.array(decoded.indexes, pa.int32())
    cols["source_format"] = _constant(ctx.source_format, n)
    cols["source_org_id"] = _constant(ctx.org_id, n)
    cols["source_account_id"] = _constant(ctx.account_id, n)
    cols["source_region"] = _constant(ctx.region, n)
    cols["partial_record"] = (
        pa.array([i in decoded.partial for i in range(n)], pa.bool_()) if decoded.partial else pa.repeat(_B_FALSE, n)
    )
    cols["record_hash"] = _sparse(n, hashes)
    cols["ingest_run"] = _constant(ctx.ingest_run, n)
    batch = pa.RecordBatch.from_arrays([cols[f.name] for f in EVENT_SCHEMA], schema=EVENT_SCHEMA)
    return Built(batch, keys)


def _time_from_siem(
    times: pa.Array, recs: list[FastRecord], extras: dict[int, dict[str, Raw]], originals: dict[int, dict[str, Raw]]
) -> pa.Array:
    """SIEM exports (Logstash, Elastic) often move ``eventTime`` into ``@timestamp`` and drop it:
    a record with no ``eventTime`` takes its time from there.  The note in ``original_values``
    says so (rebuild then writes no ``eventTime``); ``@timestamp`` itself stays in ``extra``."""
    filled: dict[int, int] = {}
    for i, keys in extras.items():
        raw = keys.get(SIEM_TIME_KEY)
        if raw is None or recs[i].eventTime is not ABSENT:
            continue
        try:
            text = ANY_DECODER.decode(raw)
        except (DecodeError, ValidationError):
            continue
        dt = parse_time(text) if isinstance(text, str) else None
        if dt is not None:
            filled[i] = int(dt.timestamp()) * 1_000_000 + dt.microsecond
            originals.setdefault(i, {})[TIME_FROM_NOTE] = Raw(_encode(SIEM_TIME_KEY))
    if not filled:
        return times
    mask = np.zeros(len(times), bool)
    mask[list(filled)] = True
    return pc.replace_with_mask(times, pa.array(mask), pa.array(list(filled.values()), pa.int64()).cast(times.type))


def _string_bools(text: pa.Array, key: str, recs: list[FastRecord], originals: dict[int, dict[str, Raw]]) -> pa.Array:
    """ "true"/"false" strings (any case) -> booleans; any other string is kept in original_values."""
    lowered = pc.utf8_lower(text)
    is_true, is_false = pc.equal(lowered, _S_TRUE), pc.equal(lowered, _S_FALSE)
    result = pc.if_else(is_true, _B_TRUE, pc.if_else(is_false, _B_FALSE, _B_NULL))
    # Anything but exactly "true"/"false" ("yes", "True") keeps its original spelling.
    exact = pc.or_(pc.equal(text, _S_TRUE), pc.equal(text, _S_FALSE))
    odd = pc.and_(pc.is_valid(text), pc.invert(exact))
    if pc.any(odd).as_py():
        for i in pc.indices_nonzero(odd).to_pylist():
            originals.setdefault(i, {}).setdefault(key, Raw(_encode(getattr(recs[i], key))))
    return result


def _tls_columns(fields: Fields, originals: dict[int, dict[str, Raw]]) -> dict[str, pa.Array]:
    n = fields.n
    values = fields.values("tlsDetails")
    if values.count(ABSENT) == n:
        return {col: pa.nulls(n, pa.string()) for col in TLS_KEYS.values()}
    parsed = [t if t.__class__ is Tls else _NO_TLS for t in values]
    block = fields.paths([(k,) for k in TLS_KEYS], parsed)
    all_null = np.ones(n, bool)
    for arr in block:
        all_null &= ~np.asarray(arr.is_valid())
    for i in np.flatnonzero(all_null).tolist():
        if parsed[i] is not _NO_TLS:
            originals.setdefault(i, {}).setdefault("tlsDetails", Raw(b"{}"))  # {} cannot be rebuilt from NULLs
    return dict(zip(TLS_KEYS.values(), block))


_NO_TLS = Tls()
assert Tls.__struct_fields__ == tuple(TLS_KEYS)


def _identity_columns(fields: Fields) -> dict[str, pa.Array]:
    n = fields.n
    columns, mfa = fields.identity()
    out = dict(zip(IDENTITY_COLUMNS, columns))
    # The identity provider of web-identity sessions lives in webIdFederationData.
    provider = out.pop("_web_provider")
    if provider.null_count < n:
        out["user_identity_identity_provider"] = pc.coalesce(out["user_identity_identity_provider"], provider)
    out["session_creation_date"] = fields.times(out.pop("_creation_date"))[0]
    out["session_mfa_authenticated"] = _mfa_column(mfa)
    return out


def _mfa_column(values: Sequence[Any] | pa.Array) -> pa.Array:
    """ "true"/"false" (AWS writes strings; any case) or JSON booleans -> booleans."""
    try:
        text = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([_mfa(v) for v in values], pa.bool_())  # some JSON booleans
    lowered = pc.utf8_lower(text)
    return pc.if_else(pc.equal(lowered, _S_TRUE), _B_TRUE, pc.if_else(pc.equal(lowered, _S_FALSE), _B_FALSE, _B_NULL))


def _mfa(value: str | bool | None) -> bool | None:
    if not isinstance(value, str):
        return value
    low = value.lower()
    return True if low == "true" else False if low == "false" else None


def _constant(value: str | None, n: int) -> pa.Array:
    if value is None:
        return pa.nulls(n, pa.string())
    return pa.repeat(pa.scalar(value, pa.string()), n)


def _sparse(n: int, values: dict[int, str]) -> pa.Array:
    if not values:
        return pa.nulls(n, pa.string())
    out: list[str | None] = [None] * n
    for i, v in values.items():
        out[i] = v
    return _strings(out)


def _strings(values: list[Any]) -> pa.Array:
    return pa.array(values, pa.string())


def _json_object(items: dict[str, Raw]) -> str:
    parts = [_encode(k) + b":" + compact(v) for k, v in items.items()]
    return (b"{" + b",".join(parts) + b"}").decode("utf-8")


def _sparse_json(n: int, values: dict[int, dict[str, Raw]]) -> pa.Array:
    return _sparse(n, {i: _json_object(v) for i, v in values.items() if v})
