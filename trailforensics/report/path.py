"""The attacker's path: the credential chains of the keys and principals named by high-severity hits.

The session graph is built for those credentials only (:mod:`trailforensics.posture.graph_scope`:
their chains back to the origin, then forward while there is room), not for every session of the
dataset, so memory and time follow the incident, not the dataset.  ``trace`` walks it exactly as
on the command line.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.posture.graph import SessionGraph
from trailforensics.posture.graph_scope import SCOPE_CAP, credential_scope
from trailforensics.posture.trace import TraceError, trace
from trailforensics.report.model import GRAPH_NODES, PATH_TARGETS, AttackPath, PathNode

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset


def path_targets(high: pa.Table) -> list[str]:
    """The access keys (else principals) of high-severity hits, in order of first appearance."""
    seen: list[str] = []
    if high.num_rows == 0:
        return seen
    rows = high.sort_by([("event_time", "ascending")]).select(["access_key", "actor"]).to_pylist()
    for r in rows:
        target = r["access_key"] or r["actor"]
        if target and target not in seen:
            seen.append(target)
    return seen


def attack_path(ds: Dataset, high: pa.Table, *, scope_cap: int = SCOPE_CAP) -> AttackPath:
    """The credential chains (``trace``) of the keys and principals named by high-severity hits.

    Each target's chain back to its origin, and the sessions derived from that origin (at most
    ``scope_cap`` credentials loaded), become one graph (nodes merged by id); at most
    ``GRAPH_NODES`` are drawn, chain nodes first.
    """
    targets = path_targets(high)
    traced, untraced = targets[:PATH_TARGETS], max(len(targets) - PATH_TARGETS, 0)
    flagged = set(targets) | {a for a in high.column("actor").to_pylist() if a} if high.num_rows else set()
    if not traced:
        return AttackPath([], [], [], 0, [], 0)
    scope = credential_scope(ds, traced, cap=scope_cap)
    graph = SessionGraph.build(ds, scope.keys)
    nodes: dict[str, PathNode] = {}
    edges: dict[tuple[str, str], None] = {}
    tree_nodes: list[tuple[dict[str, Any], int]] = []
    chain_ids: set[str] = set()
    errors: list[str] = []
    for target in traced:
        try:
            result = trace(ds, target, graph=graph)
        except TraceError as exc:
            errors.append(str(exc))
            continue
        chain = result.chain.to_pylist()
        by_target: dict[str, list[dict[str, Any]]] = {}
        for row in chain:
            by_target.setdefault(row["target"], []).append(row)
        for i, hops in enumerate(by_target.values()):
            chain_ids.update(row["node_id"] for row in hops)
            if i and len(nodes) + len(hops) > GRAPH_NODES:  # an actor's many sessions: the first always drawn
                continue
            depth_of_origin = len(hops) - 1
            for row in hops:
                _add_node(nodes, row, depth_of_origin - row["hop"], flagged)
            for child, parent in pairwise(hops):
                edges[(parent["node_id"], child["node_id"])] = None
        for row in result.tree.to_pylist():
            tree_nodes.append((row, row["depth"]))
    total_ids = chain_ids | {r["node_id"] for r, _ in tree_nodes}
    for row, depth in tree_nodes:  # forward from each origin, while there is room
        if (
            row["node_id"] not in nodes
            and len(nodes) < GRAPH_NODES
            and (row["parent_id"] is None or row["parent_id"] in nodes)
        ):
            _add_node(nodes, row, depth, flagged)
        if row["parent_id"] and row["parent_id"] in nodes and row["node_id"] in nodes:
            edges[(row["parent_id"], row["node_id"])] = None
    return AttackPath(
        targets=traced,
        nodes=list(nodes.values()),
        edges=list(edges),
        omitted=len(total_ids - set(nodes)),
        errors=errors,
        untraced=untraced,
        not_loaded=scope.omitted,
    )


def _add_node(nodes: dict[str, PathNode], row: dict[str, Any], depth: int, flagged: set[str]) -> None:
    node = nodes.get(row["node_id"])
    if node is not None:
        node.depth = max(node.depth, depth)
        return
    nodes[row["node_id"]] = PathNode(
        id=row["node_id"],
        kind=row["kind"],
        principal=row["principal"],
        access_key=row["access_key"],
        session_name=row["session_name"],
        link=row["link"],
        link_event=row["link_event"],
        link_ip=row["link_ip"],
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        events=row["events"] or 0,
        ips=list(row["ips"] or []),
        depth=depth,
        flagged=bool({row["access_key"], row["principal"]} & flagged),
    )
