"""Decoded records -> one Arrow record batch in the dataset schema.

Column-at-a-time: fields are pulled out of the list of ``FastRecord`` with C-level
``map(attrgetter)``; all string columns go through a single ``pa.array`` call and are
sliced apart (per-call overhead dominates at a few hundred records per file); the JSON
columns keep their original bytes (:mod:`.rawcols`).  Per-row Python work happens only
for odd records (explicit nulls, escapes in odd places, missing eventIDs).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from msgspec import Raw
from msgspec.structs import astuple

from trailforensics.normalize.fast import (
    ABSENT,
    ANY_DECODER,
    EXTRA_KEYS,
    IDENTITY_LIST_DECODER,
    NO_RAW,
    NOT_SET,
    DecodeError,
    FastRecord,
    Identity,
    Issuer,
    SessionContext,
    Tls,
    ValidationError,
)
from trailforensics.normalize.identity import identity_of_raw
from trailforensics.normalize.native import native
from trailforensics.normalize.rawcols import QUOTE, RawColumns
from trailforensics.normalize.rebuild import SIEM_TIME_KEY, TIME_FROM_NOTE
from trailforensics.normalize.timeparse import parse_time, parse_time_array
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
KEY_SIZE = 16  # bytes of a dedup key digest

STRING_KEYS: tuple[str, ...] = (*TOP_LEVEL_STRING_KEYS, *STRING_BOOL_KEYS, "eventTime")
BOOL_KEYS: tuple[str, ...] = tuple(TOP_LEVEL_BOOL_KEYS)
JSON_KEYS: tuple[str, ...] = tuple(TOP_LEVEL_JSON_KEYS)
_USER_IDENTITY = JSON_KEYS.index("userIdentity")

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


_FIELDS: tuple[str, ...] = FastRecord.__struct_fields__
_POS = {name: i for i, name in enumerate(_FIELDS)}


def _transpose(recs: list[Any], n_fields: int) -> list[tuple[Any, ...]]:
    """Records -> one tuple of values per field (astuple + zip run in C)."""
    if not recs:
        return [()] * n_fields
    return list(zip(*map(astuple, recs)))


def build(decoded: Decoded, ctx: FileContext, use_native: bool | None = None) -> Built:
    """The file's rows.  ``use_native`` (default: when the C module is built) takes the C path
    for the column building; the Python path is its reference and takes over whenever the C
    path meets a value it does not expect, so both give the same rows."""
    C = native() if use_native is None or use_native else None
    if C is not None and not decoded.pretty:
        try:
            return _build(decoded, ctx, _NativeFields.of(decoded, C))
        except (TypeError, ValueError, AttributeError, OverflowError, BufferError, UnicodeError):
            pass
    return _build(decoded, ctx, _PyFields.of(decoded))


def _build(decoded: Decoded, ctx: FileContext, fields: _Fields) -> Built:
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

    hashes, keys = _dedup_keys(decoded, cols, fields)
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


class _Fields:
    """The records' fields column by column: by Python transposition (the reference) or by the C
    module.  ``jc`` holds the raw JSON columns of the keys present in this file."""

    jc: RawColumns
    json_present: tuple[str, ...]

    def __init__(self, decoded: Decoded) -> None:
        self.recs = decoded.records
        self.n = len(decoded.records)

    def values(self, key: str) -> Sequence[Any]:
        raise NotImplementedError

    def strings(self, keys: Sequence[str]) -> list[pa.Array]:
        raise NotImplementedError

    def paths(self, paths: Sequence[tuple[str, ...]], objs: list[Any]) -> list[pa.Array]:
        """String columns at attribute paths of ``objs`` (None anywhere on the way: NULL)."""
        raise NotImplementedError

    def gather(self, objs: list[Any], path: tuple[str, ...]) -> list[Any]:
        raise NotImplementedError

    def times(self, text: pa.Array) -> tuple[pa.Array, list[int]]:
        return parse_time_array(text)

    def extra_present(self) -> list[str]:
        raise NotImplementedError

    def extra_column(self, key: str) -> pa.Array | None:
        """The `extra` column when ``key`` is its only content, built in one piece (None: row by row)."""
        return None

    def identity_document(self) -> bytes:
        """All userIdentity values as one JSON array (a value that is not an object counts as {})."""
        raise NotImplementedError

    def identity(self) -> tuple[list[pa.Array], Sequence[Any] | pa.Array]:
        """The flat identity columns (``_IDENTITY_COLUMNS``) and the mfaAuthenticated values."""
        ids = _decode_identities(self)
        return self.paths(_IDENTITY_PATHS, ids), self.gather(ids, _MFA_PATH)

    def digests(self, parts: list[pa.Array]) -> bytes:
        """The dedup key digest of each row: its parts joined by the separator (NULL as "")."""
        # The key material of every row in one vectorised join; only the hashing is per row.
        material = pc.binary_join_element_wise(*parts, _SEPARATOR, options=_JOIN_NULL_AS_EMPTY)
        return b"".join(map(_digest, material.cast(pa.binary()).to_pylist()))

    @classmethod
    def of(cls, decoded: Decoded, *args: Any) -> _Fields:
        """The fields of ``decoded``.  A JSON *string* in a JSON column may be a serialised
        object: those records take the tolerant path (which unwraps it) and are read again."""
        while True:
            fields = cls(decoded, *args)
            quoted = np.flatnonzero(fields.jc.first == QUOTE) % max(fields.n, 1)
            todo = set(quoted.tolist()) - decoded.tolerant
            if not todo:
                return fields
            for i in todo:
                decoded.make_tolerant(i)


class _PyFields(_Fields):
    def __init__(self, decoded: Decoded) -> None:
        super().__init__(decoded)
        n = self.n
        self.t = _transpose(decoded.records, len(_FIELDS))
        values = {k: self.t[_POS[k]] for k in JSON_KEYS}
        if decoded.pretty:
            values = {k: tuple(compact(v) for v in vals) for k, vals in values.items()}
        self.json_present = tuple(k for k in JSON_KEYS if k == "userIdentity" or values[k].count(NO_RAW) != n)
        self.jc = RawColumns([values[k] for k in self.json_present], n)

    def values(self, key: str) -> Sequence[Any]:
        return self.t[_POS[key]]

    def strings(self, keys: Sequence[str]) -> list[pa.Array]:
        return _string_block([self.t[_POS[k]] for k in keys], self.n)

    def gather(self, objs: list[Any], path: tuple[str, ...]) -> list[Any]:
        for name in path:
            objs = [None if o is None else getattr(o, name) for o in objs]
        return objs

    def paths(self, paths: Sequence[tuple[str, ...]], objs: list[Any]) -> list[pa.Array]:
        return _string_block([tuple(self.gather(objs, p)) for p in paths], len(objs))

    def extra_present(self) -> list[str]:
        return [k for k in EXTRA_KEYS if self.t[_POS[k]].count(NO_RAW) != self.n]

    def identity_document(self) -> bytes:
        raws = [r if r[:1] == b"{" else b"{}" for r in self.jc.values(_USER_IDENTITY)]
        return b"[" + b",".join(raws) + b"]"


class _NativeFields(_Fields):
    def __init__(self, decoded: Decoded, c: Any) -> None:
        super().__init__(decoded)
        self.c = c
        self._values: dict[str, list[Any]] = {}
        offsets, data = c.raws(self.recs, _RAW_KEYS)
        block = RawColumns.from_block(offsets, data, self.n)
        lengths = block.lengths.reshape(len(_RAW_KEYS), self.n)
        has = [bool(lengths[c].any()) for c in range(len(_RAW_KEYS))]
        self._extra = [k for k, h in zip(_RAW_KEYS[len(JSON_KEYS) :], has[len(JSON_KEYS) :]) if h]
        self._block = block
        self.json_present = tuple(k for k, h in zip(JSON_KEYS, has) if k == "userIdentity" or h)
        if len(self.json_present) == len(JSON_KEYS):
            self.jc = block  # the extra keys' columns trail after the JSON ones, unused
        else:
            self.jc = block.select([JSON_KEYS.index(k) for k in self.json_present])

    def values(self, key: str) -> Sequence[Any]:
        if key not in self._values:
            self._values[key] = self.c.gather(self.recs, (key,))
        return self._values[key]

    def strings(self, keys: Sequence[str]) -> list[pa.Array]:
        return self.paths([(k,) for k in keys], self.recs)

    def gather(self, objs: list[Any], path: tuple[str, ...]) -> list[Any]:
        return self.c.gather(objs, path)

    def paths(self, paths: Sequence[tuple[str, ...]], objs: list[Any]) -> list[pa.Array]:
        n = len(objs)
        return [
            pa.Array.from_buffers(
                pa.string(), n, [None if v is None else pa.py_buffer(v), pa.py_buffer(o), pa.py_buffer(d)], nulls
            )
            for v, o, d, nulls in self.c.strings(objs, tuple(paths))
        ]

    def times(self, text: pa.Array) -> tuple[pa.Array, list[int]]:
        return parse_time_array(text, self.c.iso_micros)

    def extra_present(self) -> list[str]:
        return self._extra

    def extra_column(self, key: str) -> pa.Array | None:
        """``{"key":value}`` where the key is present (a JSON null included), as `_json_object` writes it."""
        block, n = self._block, self.n
        if len(block.data) >= 2**31 - 1:
            return None
        c = _RAW_KEYS.index(key)
        lengths = block.lengths[c * n : (c + 1) * n]
        offsets = block.offsets[c * n : (c + 1) * n + 1].astype(np.int32)
        present = lengths > 0
        bitmap = None if present.all() else pa.py_buffer(np.packbits(present, bitorder="little"))
        values = pa.Array.from_buffers(
            pa.string(), n, [bitmap, pa.py_buffer(offsets), pa.py_buffer(block.data)], int(n - present.sum())
        )
        if pc.any(pc.match_substring_regex(values, _JSON_SPACE)).as_py():
            return None  # whitespace to compact (or inside a string): row by row
        head = pa.scalar('{"' + key + '":', pa.string())
        return pc.binary_join_element_wise(head, values, _CLOSE_BRACE, _EMPTY_TEXT)

    def identity_document(self) -> bytes:
        jc = self.jc
        return bytes(self.c.json_list(jc.offsets, jc.data, _USER_IDENTITY * self.n, (_USER_IDENTITY + 1) * self.n))

    def identity(self) -> tuple[list[pa.Array], Sequence[Any] | pa.Array]:
        """Read off the raw userIdentity JSON in C; the struct decoder where the C reader declines
        (an escape, a key given twice, an odd type: the same columns, the Python way)."""
        jc = self.jc
        try:
            found = self.c.identities(jc.offsets, jc.data, _USER_IDENTITY * self.n, (_USER_IDENTITY + 1) * self.n)
        except ValueError:
            return super().identity()
        arrays = [
            pa.Array.from_buffers(
                pa.string(), self.n, [None if v is None else pa.py_buffer(v), pa.py_buffer(o), pa.py_buffer(d)], nulls
            )
            for v, o, d, nulls in found
        ]
        return arrays[:-1], arrays[-1]

    def digests(self, parts: list[pa.Array]) -> bytes:
        """As the Python path, hashing each row's parts in turn (the joined text is never built)."""
        spans = []
        for part in parts:
            if part.type != pa.string():
                raise TypeError(f"a key part is {part.type}, not string")
            validity, offsets, data = part.buffers()
            spans.append((validity if part.null_count else None, offsets, data, part.offset))
        return bytes(self.c.blake2b16_join(spans, self.n, _SEPARATOR_BYTES))


_RAW_KEYS = (*JSON_KEYS, *EXTRA_KEYS)
_JSON_SPACE = "[ \t\n\r]"
_CLOSE_BRACE = pa.scalar("}", pa.string())
_EMPTY_TEXT = pa.scalar("", pa.string())  # the separator of the join


def _string_block(columns: list[tuple[Any, ...]], n: int) -> list[pa.Array]:
    """Several string columns in one ``pa.array`` call, sliced apart (ABSENT is None: NULL)."""
    arr = pa.array(list(chain.from_iterable(columns)), pa.string())
    return [arr.slice(c * n, n) for c in range(len(columns))]


def _strings(values: list[Any]) -> pa.Array:
    return pa.array(values, pa.string())


def _tls_columns(fields: _Fields, originals: dict[int, dict[str, Raw]]) -> dict[str, pa.Array]:
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


def _identity_columns(fields: _Fields) -> dict[str, pa.Array]:
    n = fields.n
    columns, mfa = fields.identity()
    out = dict(zip(_IDENTITY_COLUMNS, columns))
    # The identity provider of web-identity sessions lives in webIdFederationData.
    provider = out.pop("_web_provider")
    if provider.null_count < n:
        out["user_identity_identity_provider"] = pc.coalesce(out["user_identity_identity_provider"], provider)
    out["session_creation_date"] = fields.times(out.pop("_creation_date"))[0]
    out["session_mfa_authenticated"] = _mfa_column(mfa)
    return out


_IDENTITY_NAMES = (
    "user_identity_type",
    "user_identity_principal_id",
    "user_identity_arn",
    "user_identity_account_id",
    "user_identity_access_key_id",
    "user_identity_user_name",
    "user_identity_invoked_by",
    "user_identity_identity_provider",
    "user_identity_credential_id",
)
_ISSUER_NAMES = (
    "session_issuer_type",
    "session_issuer_principal_id",
    "session_issuer_arn",
    "session_issuer_account_id",
    "session_issuer_user_name",
)
assert Identity.__struct_fields__[:-1] == (
    "type",
    "principalId",
    "arn",
    "accountId",
    "accessKeyId",
    "userName",
    "invokedBy",
    "identityProvider",
    "credentialId",
)
assert SessionContext.__struct_fields__ == (
    "sessionIssuer",
    "attributes",
    "sourceIdentity",
    "webIdFederationData",
)

# The flat identity columns and where each comes from in the decoded userIdentity.
_IDENTITY_PATHS: tuple[tuple[str, ...], ...] = (
    *((name,) for name in Identity.__struct_fields__[:-1]),
    *(("sessionContext", "sessionIssuer", name) for name in Issuer.__struct_fields__),
    ("sessionContext", "sourceIdentity"),
    ("sessionContext", "attributes", "creationDate"),
    ("sessionContext", "webIdFederationData", "federatedProvider"),
)
_MFA_PATH = ("sessionContext", "attributes", "mfaAuthenticated")
_IDENTITY_COLUMNS = (*_IDENTITY_NAMES, *_ISSUER_NAMES, "session_source_identity", "_creation_date", "_web_provider")


def _decode_identities(fields: _Fields) -> list[Identity]:
    """All userIdentity values decoded in one call (joined into a JSON array)."""
    try:
        return IDENTITY_LIST_DECODER.decode(fields.identity_document())
    except (ValidationError, DecodeError):
        return [identity_of_raw(r if r[:1] == b"{" else b"{}") for r in fields.jc.values(_USER_IDENTITY)]


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


def _dedup_keys(decoded: Decoded, cols: dict[str, pa.Array], fields: _Fields) -> tuple[dict[int, str], bytes]:
    event_ids = cols["event_id"]
    hashes: dict[int, str] = {}
    if event_ids.null_count:
        for i in np.flatnonzero(~np.asarray(event_ids.is_valid())).tolist():
            hashes[i] = record_hash(decoded.raw_of(i))
    parts = [cols[c] for c in _KEY_COLUMNS]
    parts.insert(2, pc.cast(pc.cast(cols["event_time"], pa.int64()), pa.string()))
    keys = fields.digests(parts)
    if hashes:  # rows without an eventID: keyed by their canonical record hash
        out = bytearray(keys)
        for i, h in hashes.items():
            out[i * KEY_SIZE : (i + 1) * KEY_SIZE] = _digest(b"h\x1f" + h.encode())
        keys = bytes(out)
    return hashes, keys


# What a genuine copy of an event shares with every other copy, whichever trail or export
# delivered it: the key (eventID, recipientAccountId) and the record's content.  JSON parts
# are compared as text (compacted when the input was pretty-printed).
_KEY_COLUMNS = (
    "event_id",
    "recipient_account_id",
    "event_source",
    "event_name",
    "aws_region",
    "source_ip_address",
    "user_agent",
    "error_code",
    "error_message",
    "request_id",
    "event_type",
    "event_category",
    "user_identity",
    "request_parameters",
    "response_elements",
    "additional_event_data",
    "resources",
    "service_event_details",
)
_SEPARATOR = pa.scalar("\x1f", pa.string())
_SEPARATOR_BYTES = b"\x1f"
_JOIN_NULL_AS_EMPTY = pc.JoinOptions(null_handling="replace", null_replacement="")
_BLAKE = hashlib.blake2b(digest_size=KEY_SIZE)


def _digest(material: bytes) -> bytes:
    """The dedup key: (eventID, recipientAccountId), checked against the record's content.

    Every genuine copy of an event (the organisation trail's and the account trail's, an
    export's) has the same content, so the content never stops a real duplicate from being
    dropped; it stops two *different* records that claim the same eventID (a forged copy
    that would hide the genuine one, or test data) from being merged into one.  Without an
    eventID: the canonical record hash.
    """
    h = _BLAKE.copy()
    h.update(material)
    return h.digest()


def record_hash(raw: bytes) -> str:
    """SHA-256 of the canonical form (sorted keys, compact) of a record."""
    try:
        canonical = _encode(ANY_DECODER.decode(raw), order="sorted")
    except ValidationError:  # a number beyond float range (1e400): Python's json keeps it as inf
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()


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


def compact(raw: Raw | bytes) -> bytes:
    """The same JSON value without insignificant whitespace (numbers and key order untouched)."""
    return msgspec.json.format(raw, indent=-1) if len(raw) else b""


def _json_object(items: dict[str, Raw]) -> str:
    parts = [_encode(k) + b":" + compact(v) for k, v in items.items()]
    return (b"{" + b",".join(parts) + b"}").decode("utf-8")


def _sparse_json(n: int, values: dict[int, dict[str, Raw]]) -> pa.Array:
    return _sparse(n, {i: _json_object(v) for i, v in values.items() if v})
