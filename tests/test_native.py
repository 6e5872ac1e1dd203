"""The normaliser's C module (normalize/_native.c) against its Python twin: the same bytes.

Every row the C path builds must equal the Python path's, keys included; the module itself is
checked function by function against the reference it replaces (hashlib's BLAKE2b, the numpy
time parser, attribute access).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sysconfig
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_lossless import json_values, records

from trailforensics.discovery import discover
from trailforensics.ingest import fileread
from trailforensics.ingest.pipeline import _tasks
from trailforensics.normalize import columns
from trailforensics.normalize import fields as fields_module
from trailforensics.normalize.columns import FileContext, build
from trailforensics.normalize.native import native
from trailforensics.normalize.timeparse import _canonical_micros, parse_time_array
from trailforensics.readers.cloudtrail import decode_records_document

ROOT = Path(__file__).resolve().parents[1]
C = native()
needs_native = pytest.mark.skipif(C is None, reason="the C module is not built here")


def test_the_module_is_built_where_a_compiler_is() -> None:
    """The extension is optional at install time; where a C compiler exists it must have been built
    (a silent build failure would only make ingest slower, never wrong: this makes it visible)."""
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        pytest.skip("no C compiler here")
    assert C is not None


# ----------------------------------------------------------------------------- functions


@needs_native
@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=700), max_size=40), st.integers(0, 5))
def test_blake2b16_is_hashlib_blake2b_128(values: list[bytes], skip: int) -> None:
    assert C is not None
    arr = pa.array(values, pa.binary()).slice(min(skip, len(values)))
    b = arr.buffers()
    digests = C.blake2b16(b[1], b[2], len(arr), arr.offset)
    assert digests == b"".join(hashlib.blake2b(v, digest_size=16).digest() for v in arr.to_pylist())


@needs_native
@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.one_of(st.none(), st.text(max_size=150)), min_size=6, max_size=6), min_size=1, max_size=4),
    st.integers(0, 3),
)
def test_blake2b16_join_hashes_the_joined_parts(columns: list[list[str | None]], skip: int) -> None:
    """Each row's parts fed to the hash in turn equal the hash of the joined text (NULL as "")."""
    assert C is not None
    arrays = [pa.array(col, pa.string()).slice(min(skip, 5)) for col in columns]
    n = len(arrays[0])
    spans = [(a.buffers()[0] if a.null_count else None, a.buffers()[1], a.buffers()[2], a.offset) for a in arrays]
    joined = [b"\x1f".join((v or "").encode() for v in row) for row in zip(*(a.to_pylist() for a in arrays))]
    expected = b"".join(hashlib.blake2b(m, digest_size=16).digest() for m in joined)
    assert C.blake2b16_join(spans, n, b"\x1f") == expected


@needs_native
def test_blake2b16_at_block_boundaries() -> None:
    assert C is not None
    values = [bytes(range(256)) * 40][0:1] + [b"x" * n for n in (0, 1, 127, 128, 129, 255, 256, 257, 10_000)]
    arr = pa.array(values, pa.binary())
    b = arr.buffers()
    assert C.blake2b16(b[1], b[2], len(arr), 0) == b"".join(hashlib.blake2b(v, digest_size=16).digest() for v in values)


@needs_native
def test_blake2b16_refuses_offsets_outside_the_data() -> None:
    assert C is not None
    offsets = np.array([0, 5, 99], np.int32).tobytes()
    with pytest.raises(ValueError):
        C.blake2b16(offsets, b"hello", 2, 0)
    with pytest.raises(ValueError):
        C.blake2b16(offsets, b"hello" * 30, 3, 0)  # more rows than offsets


TIMES = [
    "2024-02-29T12:00:00Z",
    "2023-02-29T12:00:00Z",
    "0001-01-01T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2024-13-01T00:00:00Z",
    "2024-00-01T00:00:00Z",
    "2024-01-00T00:00:00Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01T00:60:00Z",
    "2024-01-01T00:00:60Z",
    "2024-01-01 00:00:00Z",
    "2024-01-01T00:00:00z",
    "2024-01-01T00:00:00.1Z",
    "1969-12-31T23:59:59Z",
    "1900-02-29T00:00:00Z",
    "2000-02-29T00:00:00Z",
    "２０２４-01-01T00:00:00Z",
    "2024-1-01T00:00:00ZZZ",
    "",
    None,
]


def _both_parsers(texts: list[str | None]) -> None:
    assert C is not None
    arr = pa.array([None, *texts], pa.string()).slice(1)
    py_micros, py_ok = _canonical_micros(arr)
    b = arr.buffers()
    raw_micros, raw_ok = C.iso_micros(b[1], b[2], len(arr), arr.offset)
    c_ok = np.frombuffer(raw_ok, np.bool_)
    valid = np.asarray(arr.is_valid())
    assert (c_ok[valid] == py_ok[valid]).all()
    assert (np.frombuffer(raw_micros, np.int64)[py_ok] == py_micros[py_ok]).all()
    a, odd_a = parse_time_array(arr)
    z, odd_z = parse_time_array(arr, C.iso_micros)
    assert a.equals(z) and odd_a == odd_z


@needs_native
def test_iso_micros_edge_cases() -> None:
    _both_parsers(TIMES)


@needs_native
@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.datetimes().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d:%H:%M:%S}Z"),
            st.text(alphabet="0123456789-T:Z ", min_size=18, max_size=21),
            st.none(),
        ),
        max_size=30,
    )
)
def test_iso_micros_matches_the_numpy_parser(texts: list[str | None]) -> None:
    _both_parsers(texts)


class Inner(msgspec.Struct):
    name: str | None = None


class Outer(msgspec.Struct):
    inner: Inner | None = None
    text: Any = None
    raw: msgspec.Raw = msgspec.Raw(b"")


class Plain:
    def __init__(self, inner: Any) -> None:
        self.inner = inner


@needs_native
def test_gather_and_strings_walk_paths() -> None:
    assert C is not None
    objs: list[Any] = [Outer(Inner("a")), Outer(None), Outer(Inner(None)), Outer(Inner("ü\u202e")), Plain(Inner("p"))]
    assert C.gather(objs, ("inner", "name")) == ["a", None, None, "ü\u202e", "p"]
    [(validity, offsets, data, nulls)] = C.strings(objs, (("inner", "name"),))
    arr = pa.Array.from_buffers(
        pa.string(),
        len(objs),
        [None if validity is None else pa.py_buffer(validity), pa.py_buffer(offsets), pa.py_buffer(data)],
        nulls,
    )
    assert arr.to_pylist() == ["a", None, None, "ü\u202e", "p"]
    with pytest.raises(TypeError):
        C.strings([Outer(text=5)], (("text",),))
    with pytest.raises(UnicodeEncodeError):
        C.strings([Outer(text="\ud800")], (("text",),))
    with pytest.raises(AttributeError):
        C.gather([Outer(), object()], ("inner",))


@needs_native
def test_raws_and_json_list() -> None:
    assert C is not None
    objs = [Outer(raw=msgspec.Raw(b'{"a":1}')), Outer(), Outer(raw=msgspec.Raw(b'"s"'))]
    offsets, data = C.raws(objs, ("raw", "raw"))
    assert np.frombuffer(offsets, np.int64).tolist() == [0, 7, 7, 10, 17, 17, 20]
    assert data == b'{"a":1}"s"' * 2
    assert C.json_list(offsets, data, 0, 3) == b'[{"a":1},{},{}]'
    assert C.json_list(offsets, data, 1, 1) == b"[]"
    with pytest.raises(IndexError):
        C.json_list(offsets, data, 2, 9)
    with pytest.raises(TypeError):
        C.raws([Outer(raw="not a buffer")], ("raw",))  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- whole files


def _same_rows(data: bytes) -> int:
    """Both paths on the same document (each from its own decode): equal rows and keys."""
    ctx = FileContext("f.json", "cloudtrail", "run", "o-1", "111122223333", "us-east-1")
    decoded_py, _ = decode_records_document(data)
    decoded_c, _ = decode_records_document(data)
    py = build(decoded_py, ctx, use_native=False)
    c = build(decoded_c, ctx, use_native=True)
    for name in py.batch.schema.names:
        assert c.batch.column(name).equals(py.batch.column(name)), name
    assert c.keys == py.keys
    return py.batch.num_rows


@needs_native
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records, min_size=1, max_size=8), st.booleans())
def test_arbitrary_records_give_the_same_rows(recs: list[dict[str, Any]], pretty: bool) -> None:
    _same_rows(json.dumps({"Records": recs}, indent=2 if pretty else None).encode())


identity = st.fixed_dictionaries(
    {"type": st.sampled_from(["IAMUser", "AssumedRole", "Root"])},
    optional={
        "arn": st.text(max_size=30),
        "accessKeyId": st.text(max_size=20),
        "sessionContext": st.fixed_dictionaries(
            {},
            optional={
                "sessionIssuer": st.fixed_dictionaries({}, optional={"arn": st.text(), "type": st.text()}),
                "attributes": st.fixed_dictionaries(
                    {},
                    optional={
                        "creationDate": st.sampled_from(["2026-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "x"]),
                        "mfaAuthenticated": st.one_of(st.sampled_from(["true", "false", "TRUE", "no"]), st.booleans()),
                    },
                ),
                "sourceIdentity": st.text(max_size=10),
                "webIdFederationData": st.fixed_dictionaries({}, optional={"federatedProvider": st.text()}),
            },
        ),
        "extraKey": json_values,
    },
)
typed = st.fixed_dictionaries(
    {
        "eventVersion": st.just("1.08"),
        "eventID": st.uuids().map(str),
        "eventTime": st.datetimes(min_value=datetime(2000, 1, 1)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
        "eventName": st.text(min_size=1, max_size=20),
        "userIdentity": identity,
    },
    optional={
        "readOnly": st.booleans(),
        "sessionCredentialFromConsole": st.sampled_from(["true", "false", "True"]),
        "requestParameters": st.one_of(st.none(), st.dictionaries(st.text(max_size=5), json_values, max_size=3)),
        "tlsDetails": st.fixed_dictionaries({}, optional={"tlsVersion": st.text(), "cipherSuite": st.text()}),
        "addendum": json_values,
        "userAgent": st.text(),
    },
)


@needs_native
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(typed, min_size=1, max_size=12))
def test_well_typed_records_give_the_same_rows(recs: list[dict[str, Any]]) -> None:
    # Mostly the C path's own ground (no fallback): the identity, TLS, extra and time columns.
    _same_rows(json.dumps({"Records": recs}, ensure_ascii=False).encode())


def _same_files(root: Path) -> int:
    """Every file under root read both ways through the whole file reader: equal results and rows."""
    tasks, _ = _tasks(discover([root]), {}, [], False)
    rows = 0
    for task in tasks:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(columns, "native", lambda: None)
            result_py, built_py = fileread.process_file(task, "run")
        result_c, built_c = fileread.process_file(task, "run")
        assert (result_c.status, result_c.reason, result_c.records) == (
            result_py.status,
            result_py.reason,
            result_py.records,
        )
        assert len(built_c) == len(built_py)
        for c, py in zip(built_c, built_py):
            assert c.batch.equals(py.batch), task.path
            assert c.keys == py.keys, task.path
            rows += py.batch.num_rows
    return rows


@needs_native
def test_sample_logs_give_the_same_rows() -> None:
    assert _same_files(ROOT / "sample_logs") > 1000


@needs_native
def test_a_generated_tree_gives_the_same_rows(tmp_path: Path) -> None:
    from trailforensics.generate import generate_tree

    generate_tree(tmp_path, events=4000, seed=5, start=datetime(2026, 1, 5, tzinfo=timezone.utc), workers=1)
    assert _same_files(tmp_path) >= 4000


@needs_native
def test_real_data_gives_the_same_rows(realdata: Path) -> None:
    assert _same_files(realdata) > 0


def test_pure_python_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    """TRAILFORENSICS_PURE_PYTHON=1 turns the C module off (for comparisons and bug hunts)."""
    native.cache_clear()
    monkeypatch.setenv("TRAILFORENSICS_PURE_PYTHON", "1")
    try:
        assert native() is None
    finally:
        monkeypatch.delenv("TRAILFORENSICS_PURE_PYTHON")
        native.cache_clear()
    assert (native() is None) == (C is None)


# ----------------------------------------------------------------------------- encoded length


@needs_native
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(typed, max_size=10), st.text(max_size=40))
def test_encoded_length_is_msgspecs(recs: list[dict[str, Any]], text: str) -> None:
    """The duplicate-key check compares the file's length with the records' re-encoded length:
    the C count must be msgspec's exactly (every escape, every omitted default)."""
    from trailforensics.normalize.fast import RECORD_ENCODER, RECORD_LAYOUT, FastRecord

    assert C is not None
    decoded, _ = decode_records_document(json.dumps({"Records": recs}).encode())
    records = list(decoded.records)
    if not any(0xD800 <= ord(ch) < 0xE000 for ch in text):  # msgspec cannot encode lone surrogates
        records.append(FastRecord(eventID=text, userAgent=text + '\x00\x1f"\\\x7f'))
    assert C.encoded_length(records, RECORD_LAYOUT) == len(RECORD_ENCODER.encode(records))


@needs_native
def test_encoded_length_refuses_what_it_cannot_count() -> None:
    from trailforensics.normalize.fast import RECORD_LAYOUT, FastRecord, encoded_length

    assert C is not None
    odd = [FastRecord(eventID=5)]  # type: ignore[arg-type]  # not a str: msgspec's encoder decides
    with pytest.raises(TypeError):
        C.encoded_length(odd, RECORD_LAYOUT)
    assert encoded_length(odd) == len(b'[{"eventID":5}]')
    with pytest.raises(UnicodeEncodeError):
        C.encoded_length([FastRecord(eventID="\ud800")], RECORD_LAYOUT)


# ----------------------------------------------------------------------------- userIdentity reader

IDENTITIES = [
    '{"type":"IAMUser","arn":"arn:aws:iam::1:user/a","accessKeyId":"AKIA1","userName":"a"}',
    '{"type":"IAMUser","arn":"a\\u0062c"}',  # an escape in a wanted string: the struct decoder
    '{"ty\\u0070e":"x"}',  # an escape in a key
    '{"type":"a","type":"b"}',  # a key given twice
    '{"sessionContext":{"sessionIssuer":{"arn":"i"},"sessionIssuer":{"type":"t"}}}',
    '{"sessionContext":null}',
    '{"sessionContext":{"attributes":{"mfaAuthenticated":true,"creationDate":"2026-01-01T00:00:00Z"}}}',
    '{"sessionContext":{"attributes":{"mfaAuthenticated":"TRUE"}}}',
    '{"sessionContext":{"attributes":{"mfaAuthenticated":1}}}',
    '{"arn":5}',
    '{"arn":["x"]}',
    '{ "type" : "Root" , "x" : [1, {"a": "}\\"]"}, true, null, -1.5e3] , "arn":"r" }',
    '{"type":null,"arn":"x","principalId":""}',
    '{"sessionContext":{"sessionIssuer":{"arn":"i","userName":"u"},"sourceIdentity":"s",'
    '"webIdFederationData":{"federatedProvider":"p","attributes":{}}},"identityProvider":null}',
    '{"sessionContext":{"webIdFederationData":{}},"identityProvider":"idp"}',
    '{"onBehalfOf":{"userId":"u1"},"type":"IdentityCenterUser","credentialId":"c"}',
    '{"type":"Ünïcode \U0001f680","userName":"\u202eevil"}',
    "{}",
    "[]",
    "null",
    "7",
]


@needs_native
@pytest.mark.parametrize("raw", IDENTITIES)
def test_identity_reader_equals_the_struct_decoder(raw: str) -> None:
    doc = ('{"Records":[{"eventID":"1","userIdentity":' + raw + '},{"eventID":"2"}]}').encode()
    decoded, _ = decode_records_document(doc)
    fields = fields_module.NativeFields.of(decoded, C)
    c_columns, c_mfa = fields.identity()
    py_columns, py_mfa = fields_module.Fields.identity(fields)
    for name, c, py in zip(fields_module.IDENTITY_COLUMNS, c_columns, py_columns):
        assert c.equals(py), name
    assert columns._mfa_column(c_mfa).equals(columns._mfa_column(py_mfa))
    _same_rows(doc)


@needs_native
def test_identity_reader_declines_what_it_does_not_read() -> None:
    assert C is not None
    for raw, reads in [(b'{"arn":"a\\u0062"}', False), (b'{"a":1,"a":2}', True), (b'{"arn":"x","arn":"y"}', False)]:
        offsets = np.array([0, len(raw)], np.int64)
        if reads:
            assert C.identities(offsets, raw, 0, 1)[2][2] == b""  # arn: NULL
        else:
            with pytest.raises(ValueError):
                C.identities(offsets, raw, 0, 1)


@needs_native
@pytest.mark.parametrize(
    "values",
    [
        ['"111122223333"', None, '"444455556666"'],
        ["null", '"1"', None],
        ['{"a":[1,2]}', '"x y"', None],  # a space inside a string: the row-by-row path compacts nothing
        ['{"a": 1}', None, None],  # a space to compact
        ['"\\u00e9"', '"é"', '""'],
    ],
)
def test_one_extra_key_in_one_column(values: list[str | None]) -> None:
    records = []
    for i, v in enumerate(values):
        extra = "" if v is None else f',"vpcEndpointAccountId":{v}'
        records.append(f'{{"eventID":"{i}","eventName":"GetObject"{extra}}}')
    doc = ('{"Records":[' + ",".join(records) + "]}").encode()
    _same_rows(doc)
    decoded, _ = decode_records_document(doc)
    built = build(decoded, FileContext("f", "cloudtrail", "run"), use_native=True)
    got = built.batch.column("extra").to_pylist()
    assert [None if g is None else json.loads(g)["vpcEndpointAccountId"] for g in got] == [
        None if v is None else json.loads(v) for v in values
    ]


@needs_native
def test_two_extra_keys_and_a_tolerant_extra() -> None:
    _same_rows(b'{"Records":[{"eventID":"1","vpcEndpointAccountId":"1","addendum":{"reason":"x"}},{"eventID":"2"}]}')
    _same_rows(b'{"Records":[{"eventID":"1","vpcEndpointAccountId":"1"},{"eventID":"2","odd":1}]}')


@needs_native
@pytest.mark.parametrize("no_avx2", ["0", "1"])
def test_both_blake2b_paths_are_blake2b(no_avx2: str) -> None:
    """The four-lane AVX2 hashing (where the CPU has AVX2) and the portable code give hashlib's digests,
    for every length around the block size, in any order of lengths (lanes refill as they finish)."""
    import os
    import subprocess
    import sys

    script = (
        "import hashlib, random, pyarrow as pa\n"
        "from trailforensics.normalize import _native as N\n"
        "rng = random.Random(5)\n"
        "vals = [bytes(rng.getrandbits(8) for _ in range(k)) for k in list(range(0, 300)) + "
        "[rng.choice([0, 1, 128, 129, 5000]) for _ in range(200)]]\n"
        "rng.shuffle(vals)\n"
        "a = pa.array(vals, pa.binary()).slice(3)\n"
        "b = a.buffers()\n"
        "got = N.blake2b16(b[1], b[2], len(a), a.offset)\n"
        "assert got == b''.join(hashlib.blake2b(v, digest_size=16).digest() for v in vals[3:])\n"
        "print(N.blake2b_path())\n"
    )
    env = {**os.environ, "TRAILFORENSICS_NO_AVX2": no_avx2}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    if no_avx2 == "1":
        assert done.stdout.strip() == "portable"
