"""The decoded records' fields, column by column: what the column building reads.

Two implementations give the same columns: :class:`PyFields` transposes the ``FastRecord``
structs in Python (``astuple`` + ``zip`` run in C) and is the reference; :class:`NativeFields`
reads them with the C module (``_native.c``: struct slots straight into Arrow buffers, the
identity columns off the raw ``userIdentity`` JSON, the dedup keys hashed in AVX2 lanes).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from msgspec import Raw
from msgspec.json import format as _format_json
from msgspec.structs import astuple

from trailforensics.normalize.dedupkey import JOIN_NULL_AS_EMPTY, SEPARATOR, SEPARATOR_BYTES, digest
from trailforensics.normalize.fast import (
    EXTRA_KEYS,
    IDENTITY_LIST_DECODER,
    NO_RAW,
    DecodeError,
    FastRecord,
    Identity,
    Issuer,
    SessionContext,
    ValidationError,
)
from trailforensics.normalize.identity import identity_of_raw
from trailforensics.normalize.rawcols import QUOTE, RawColumns
from trailforensics.normalize.timeparse import parse_time_array
from trailforensics.schema import TOP_LEVEL_JSON_KEYS

if TYPE_CHECKING:
    from trailforensics.normalize.columns import Decoded

JSON_KEYS: tuple[str, ...] = tuple(TOP_LEVEL_JSON_KEYS)
_USER_IDENTITY = JSON_KEYS.index("userIdentity")

_FIELDS: tuple[str, ...] = FastRecord.__struct_fields__
_POS = {name: i for i, name in enumerate(_FIELDS)}


def transpose(recs: list[Any], n_fields: int) -> list[tuple[Any, ...]]:
    """Records -> one tuple of values per field (astuple + zip run in C)."""
    if not recs:
        return [()] * n_fields
    return list(zip(*map(astuple, recs)))


class Fields:
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
        """The flat identity columns (``IDENTITY_COLUMNS``) and the mfaAuthenticated values."""
        ids = decode_identities(self)
        return self.paths(IDENTITY_PATHS, ids), self.gather(ids, MFA_PATH)

    def digests(self, parts: list[pa.Array]) -> bytes:
        """The dedup key digest of each row: its parts joined by the separator (NULL as "")."""
        # The key material of every row in one vectorised join; only the hashing is per row.
        material = pc.binary_join_element_wise(*parts, SEPARATOR, options=JOIN_NULL_AS_EMPTY)
        return b"".join(map(digest, material.cast(pa.binary()).to_pylist()))

    @classmethod
    def of(cls, decoded: Decoded, *args: Any) -> Fields:
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


class PyFields(Fields):
    def __init__(self, decoded: Decoded) -> None:
        super().__init__(decoded)
        n = self.n
        self.t = transpose(decoded.records, len(_FIELDS))
        values = {k: self.t[_POS[k]] for k in JSON_KEYS}
        if decoded.pretty:
            values = {k: tuple(compact(v) for v in vals) for k, vals in values.items()}
        self.json_present = tuple(k for k in JSON_KEYS if k == "userIdentity" or values[k].count(NO_RAW) != n)
        self.jc = RawColumns([values[k] for k in self.json_present], n)

    def values(self, key: str) -> Sequence[Any]:
        return self.t[_POS[key]]

    def strings(self, keys: Sequence[str]) -> list[pa.Array]:
        return string_block([self.t[_POS[k]] for k in keys], self.n)

    def gather(self, objs: list[Any], path: tuple[str, ...]) -> list[Any]:
        for name in path:
            objs = [None if o is None else getattr(o, name) for o in objs]
        return objs

    def paths(self, paths: Sequence[tuple[str, ...]], objs: list[Any]) -> list[pa.Array]:
        return string_block([tuple(self.gather(objs, p)) for p in paths], len(objs))

    def extra_present(self) -> list[str]:
        return [k for k in EXTRA_KEYS if self.t[_POS[k]].count(NO_RAW) != self.n]

    def identity_document(self) -> bytes:
        return b"[" + b",".join(_identity_objects(self.jc)) + b"]"


class NativeFields(Fields):
    def __init__(self, decoded: Decoded, c: Any) -> None:
        super().__init__(decoded)
        self.c = c
        self._values: dict[str, list[Any]] = {}
        offsets, data = c.raws(self.recs, RAW_KEYS)
        block = RawColumns.from_block(offsets, data, self.n)
        lengths = block.lengths.reshape(len(RAW_KEYS), self.n)
        has = [bool(lengths[c].any()) for c in range(len(RAW_KEYS))]
        self._extra = [k for k, h in zip(RAW_KEYS[len(JSON_KEYS) :], has[len(JSON_KEYS) :]) if h]
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
        c = RAW_KEYS.index(key)
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
        return bytes(self.c.blake2b16_join(spans, self.n, SEPARATOR_BYTES))


RAW_KEYS = (*JSON_KEYS, *EXTRA_KEYS)
_JSON_SPACE = "[ \t\n\r]"
_CLOSE_BRACE = pa.scalar("}", pa.string())
_EMPTY_TEXT = pa.scalar("", pa.string())  # the separator of the join


def string_block(columns: list[tuple[Any, ...]], n: int) -> list[pa.Array]:
    """Several string columns in one ``pa.array`` call, sliced apart (ABSENT is None: NULL)."""
    arr = pa.array(list(chain.from_iterable(columns)), pa.string())
    return [arr.slice(c * n, n) for c in range(len(columns))]


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
IDENTITY_PATHS: tuple[tuple[str, ...], ...] = (
    *((name,) for name in Identity.__struct_fields__[:-1]),
    *(("sessionContext", "sessionIssuer", name) for name in Issuer.__struct_fields__),
    ("sessionContext", "sourceIdentity"),
    ("sessionContext", "attributes", "creationDate"),
    ("sessionContext", "webIdFederationData", "federatedProvider"),
)
MFA_PATH = ("sessionContext", "attributes", "mfaAuthenticated")
IDENTITY_COLUMNS = (*_IDENTITY_NAMES, *_ISSUER_NAMES, "session_source_identity", "_creation_date", "_web_provider")


def decode_identities(fields: Fields) -> list[Identity]:
    """All userIdentity values decoded in one call (joined into a JSON array)."""
    try:
        return IDENTITY_LIST_DECODER.decode(fields.identity_document())
    except (ValidationError, DecodeError):
        return [identity_of_raw(r) for r in _identity_objects(fields.jc)]


def _identity_objects(jc: RawColumns) -> list[bytes]:
    """Each row's raw userIdentity; a value that is not an object (absent, null, a list) as {}."""
    return [r if r[:1] == b"{" else b"{}" for r in jc.values(_USER_IDENTITY)]


def compact(raw: Raw | bytes) -> bytes:
    """The same JSON value without insignificant whitespace (numbers and key order untouched)."""
    return _format_json(raw, indent=-1) if len(raw) else b""
