"""The schema package agrees with what the engine serves and with the msgspec fast path."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from conftest import SAMPLE_LOGS

from trailforensics.docs import render_schema
from trailforensics.engine.dataset import Dataset
from trailforensics.engine.views import duckdb_type
from trailforensics.normalize.fast import EXTRA_KEYS, FastRecord, Tls
from trailforensics.schema import (
    COLUMN_NAMES,
    KNOWN_TOP_LEVEL_KEYS,
    STRING_BOOL_KEYS,
    TLS_KEYS,
    TOP_LEVEL_BOOL_KEYS,
    TOP_LEVEL_JSON_KEYS,
    TOP_LEVEL_STRING_KEYS,
    VIEWS,
)

KEYS = SAMPLE_LOGS / "_verification" / "public-keys.json"


@pytest.fixture(scope="module")
def sample_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample ingested and verified into a dataset, so every view exists."""
    from trailforensics.ingest import ingest
    from trailforensics.verify import verify_tree
    from trailforensics.verify.store import store_results

    if not KEYS.is_file():
        pytest.skip("sample_logs/_verification is not present")
    path = tmp_path_factory.mktemp("schema") / "case"
    assert ingest([SAMPLE_LOGS], path).committed
    store_results(verify_tree(SAMPLE_LOGS, public_keys=[KEYS]), path)
    return path


def _served_views(ds: Dataset) -> dict[str, list[tuple[str, str]]]:
    names = [r[0] for r in ds.con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
    # Underscore-prefixed relations are the engine's own working tables, not part of the contract.
    return {
        name: [(r[0], r[1]) for r in ds.con.execute(f'DESCRIBE "{name}"').fetchall()]
        for name in names
        if not name.startswith("_")
    }


def test_every_served_view_is_in_the_schema_with_its_columns(sample_dataset: Path) -> None:
    with Dataset(sample_dataset) as ds:
        served = _served_views(ds)
    declared = {v.name: [(c.name, duckdb_type(c.type)) for c in v.columns] for v in VIEWS}
    assert sorted(served) == sorted(declared)
    for name, columns in served.items():
        assert columns == [(n, t.replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE")) for n, t in declared[name]], name


def test_schema_md_documents_every_view_and_column() -> None:
    text = render_schema()
    assert text == (Path(__file__).resolve().parents[1] / "docs" / "SCHEMA.md").read_text(encoding="utf-8")
    for view in VIEWS:
        assert f"`{view.name}`" in text
        for c in view.columns:
            assert f"| `{c.name}` |" in text, (view.name, c.name)


def test_empty_dataset_serves_the_same_columns(tmp_path: Path) -> None:
    from trailforensics.store import Transaction

    with Transaction(tmp_path / "empty", "ingest", create=True):
        pass  # creates the dataset, commits nothing
    with Dataset(tmp_path / "empty") as ds:
        served = _served_views(ds)
    base = {v.name: [c.name for c in v.columns] for v in VIEWS if not v.name.startswith("verification")}
    assert {n: [c for c, _ in cols] for n, cols in served.items()} == base


def test_fast_record_declares_exactly_the_schema_keys() -> None:
    """FastRecord is a static msgspec Struct (for speed): it must list the keys the schema maps."""
    fields = {f.encode_name: f.type for f in msgspec.structs.fields(FastRecord)}
    assert set(fields) == KNOWN_TOP_LEVEL_KEYS | set(EXTRA_KEYS)
    assert not set(EXTRA_KEYS) & KNOWN_TOP_LEVEL_KEYS
    assert not set(EXTRA_KEYS) & set(COLUMN_NAMES)
    for key in [*TOP_LEVEL_STRING_KEYS, *STRING_BOOL_KEYS, "eventTime"]:
        assert fields[key] is str, key
    for key in TOP_LEVEL_BOOL_KEYS:
        assert fields[key] is bool, key
    for key in [*TOP_LEVEL_JSON_KEYS, *EXTRA_KEYS]:
        assert fields[key] is msgspec.Raw, key
    assert fields["tlsDetails"] is Tls
    assert {f.encode_name for f in msgspec.structs.fields(Tls)} == set(TLS_KEYS)
    assert all(f.type is str for f in msgspec.structs.fields(Tls))
