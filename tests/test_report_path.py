"""The report's attacker's path is built from a graph scoped to the flagged credentials
(posture.graph_scope): it must trace exactly what the whole-dataset graph traces, and stay bounded."""

from __future__ import annotations

import pyarrow as pa
import pytest
from posture_fixtures import build_dataset

from trailforensics.engine.dataset import Dataset
from trailforensics.posture.graph import SessionGraph
from trailforensics.posture.graph_scope import credential_scope
from trailforensics.posture.trace import TraceError, trace
from trailforensics.report.path import attack_path


@pytest.fixture(scope="module")
def ds(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return Dataset(build_dataset(tmp_path_factory.mktemp("report-path")))


@pytest.fixture(scope="module")
def full(ds: Dataset) -> SessionGraph:
    return SessionGraph.build(ds)


def _targets(graph: SessionGraph) -> list[str]:
    """Every access key and every principal with events: each is a possible flagged credential."""
    keys = {n.access_key for n in graph.nodes.values() if n.access_key}
    users = {n.principal for n in graph.nodes.values() if n.kind == "principal" and n.activity.get("events")}
    return sorted(keys | users)


def test_scoped_graph_traces_what_the_whole_graph_traces(ds: Dataset, full: SessionGraph) -> None:
    targets = _targets(full)
    assert len(targets) > 20  # roles chained, cross-account, SAML, console, switch-role, recycled keys
    compared = 0
    for target in targets:
        scope = credential_scope(ds, [target], cap=10_000)
        assert scope.omitted == 0
        part = SessionGraph.build(ds, scope.keys)
        assert len(part.nodes) < len(full.nodes) or len(targets) < 2
        try:
            want = trace(ds, target, graph=full)
        except TraceError:
            continue
        got = trace(ds, target, graph=part)
        assert got.chain.to_pylist() == want.chain.to_pylist(), target
        assert got.tree.to_pylist() == want.tree.to_pylist(), target  # console switches followed forward too
        by_cli = trace(ds, target)  # `trace` builds the scoped graph itself
        assert (by_cli.chain.to_pylist(), by_cli.tree.to_pylist(), by_cli.omitted) == (
            want.chain.to_pylist(),
            want.tree.to_pylist(),
            0,
        ), target
        compared += 1
    assert compared > 20


def test_scope_is_bounded_and_counts_what_it_left_out(ds: Dataset, full: SessionGraph) -> None:
    # the origin with the most derived credentials
    sizes = {t: len(credential_scope(ds, [t], cap=10_000).keys) for t in _targets(full)}
    target, size = max(sizes.items(), key=lambda kv: kv[1])
    assert size >= 3
    scope = credential_scope(ds, [target], cap=1)
    chain = credential_scope(ds, [target], cap=0)  # the chain back is always whole
    assert chain.keys <= scope.keys and len(scope.keys) <= max(len(chain.keys), 1) + 1
    assert scope.omitted >= 1
    assert scope.queries < 20


def test_attack_path_notes_the_credentials_beyond_the_cap(ds: Dataset, full: SessionGraph) -> None:
    sizes = {t: len(credential_scope(ds, [t], cap=10_000).keys) for t in _targets(full)}
    target = max(sizes, key=lambda t: sizes[t])
    high = pa.table(
        {
            "event_time": pa.array([None], pa.timestamp("us", tz="UTC")),
            "access_key": pa.array([target if target.startswith(("AKIA", "ASIA")) else None]),
            "actor": pa.array([None if target.startswith(("AKIA", "ASIA")) else target]),
        }
    )
    whole = attack_path(ds, high, scope_cap=10_000)
    capped = attack_path(ds, high, scope_cap=0)
    assert whole.not_loaded == 0 and capped.not_loaded > 0
    assert {n.id for n in capped.nodes} < {n.id for n in whole.nodes}


def test_scope_from_a_scan_matches_the_scope_from_the_rollups(
    ds: Dataset, full: SessionGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    targets = _targets(full)
    assert ds.has_rollups
    with_rollups = [credential_scope(ds, [t], cap=10_000) for t in targets]
    monkeypatch.setattr(Dataset, "has_rollups", property(lambda self: False))
    scanned = [credential_scope(ds, [t], cap=10_000) for t in targets]
    assert [(s.keys, s.principals) for s in scanned] == [(s.keys, s.principals) for s in with_rollups]
