"""Views for the optional tables later capabilities store in the dataset (e.g. `verification`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trailforensics.engine.views import _quote_path

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

CORE_TABLES = frozenset({"events", "manifest", "duplicates", "keys", "runs"})


def register_extensions(ds: Dataset) -> None:
    for table, files in sorted(ds.snapshot.tables.items()):
        parquet = [f for f in files if f.endswith(".parquet")]
        if table in CORE_TABLES or not parquet:
            continue
        listed = ", ".join(_quote_path(ds.path / f) for f in parquet)
        ds.con.execute(
            f'CREATE OR REPLACE VIEW "{table}" AS SELECT * FROM read_parquet([{listed}], union_by_name=true)'
        )
