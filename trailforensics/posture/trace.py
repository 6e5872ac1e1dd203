"""`trace`: where credentials came from and where they went.

    >>> graph = SessionGraph.build(Dataset("case-42"))
    >>> result = trace(ds, "ASIA...")       # or a session/user/role ARN, or a session name
    >>> result.chain    # one row per hop, from the target back to the originating identity
    >>> result.tree     # every session derived from that origin, with depth, parent and activity

Every event belongs to a *session*: the access key that signed it plus, for temporary
credentials, the issue time (``sessionContext.attributes.creationDate``).  Sessions are linked
to the call that issued their key: AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity,
GetSessionToken, GetFederationToken (``responseElements.credentials.accessKeyId``) and
CreateAccessKey (``responseElements.accessKey.accessKeyId``); console sessions to ConsoleLogin
and SwitchRole.  Access key ids can repeat and events arrive out of order, so a link needs the
id *and* consistent times (issued at the creationDate, used before ``expiration``) to be
``exact``; the two copies of a cross-account AssumeRole are joined on ``sharedEventID``.
Links made without the id (role ARN + session name + creationDate, a ConsoleLogin at the
session's creationDate, an ``AWSReservedSSO_`` role's session name) are ``inferred``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from trailforensics.errors import TrailforensicsError
from trailforensics.posture.graph import Node, SessionGraph
from trailforensics.posture.graph_scope import credential_scope
from trailforensics.schema import TIMESTAMP

# Credentials derived forward from the origin that `trace` loads (the report's scope is 300):
# enough for any real chain, small enough that a principal with a million sessions stays bounded.
TRACE_CAP = 5000

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset


ROW_FIELDS: list[tuple[str, pa.DataType]] = [
    ("node_id", pa.string()),
    ("kind", pa.string()),
    ("principal", pa.string()),
    ("principal_type", pa.string()),
    ("access_key", pa.string()),
    ("session_name", pa.string()),
    ("role_arn", pa.string()),
    ("account", pa.string()),
    ("issued_at", TIMESTAMP),
    ("expires_at", TIMESTAMP),
    ("source_identity", pa.string()),
    ("link", pa.string()),
    ("link_event", pa.string()),
    ("link_event_id", pa.string()),
    ("link_time", TIMESTAMP),
    ("link_ip", pa.string()),
    ("link_user_agent", pa.string()),
    ("link_reason", pa.string()),
    ("origin_type", pa.string()),
    ("first_seen", TIMESTAMP),
    ("last_seen", TIMESTAMP),
    ("events", pa.int64()),
    ("distinct_event_names", pa.int64()),
    ("event_names", pa.list_(pa.string())),
    ("ips", pa.list_(pa.string())),
    ("regions", pa.list_(pa.string())),
    ("errors", pa.int64()),
    ("notes", pa.string()),
]
CHAIN_SCHEMA = pa.schema([("target", pa.string()), ("hop", pa.int32()), *ROW_FIELDS])
TREE_SCHEMA = pa.schema(
    [
        ("root", pa.string()),
        ("depth", pa.int32()),
        ("parent_id", pa.string()),
        ("label", pa.string()),
        *ROW_FIELDS,
    ]
)


class TraceError(TrailforensicsError, ValueError):
    pass


def _row(node: Node) -> dict[str, Any]:
    a = node.activity
    return {
        "node_id": node.id,
        "kind": node.kind,
        "principal": node.principal,
        "principal_type": node.principal_type,
        "access_key": node.access_key,
        "session_name": node.session_name,
        "role_arn": node.role_arn,
        "account": node.account,
        "issued_at": node.issued_at,
        "expires_at": node.expires_at,
        "source_identity": node.source_identity,
        "link": node.link,
        "link_event": node.link_event,
        "link_event_id": node.link_event_id,
        "link_time": node.link_time,
        "link_ip": node.link_ip,
        "link_user_agent": node.link_user_agent,
        "link_reason": node.link_reason,
        "origin_type": node.origin_type,
        "first_seen": a.get("first_seen"),
        "last_seen": a.get("last_seen"),
        "events": a.get("events", 0),
        "distinct_event_names": a.get("distinct_event_names", 0),
        "event_names": a.get("event_names") or [],
        "ips": a.get("ips") or [],
        "regions": a.get("regions") or [],
        "errors": a.get("errors", 0),
        "notes": "; ".join(node.notes) or None,
    }


def label(node: Node) -> str:
    """One line describing a node for the indented tree."""
    if node.kind in ("principal", "unknown"):
        return f"{node.principal} [{node.origin_type or node.kind}]"
    what = node.session_name or node.principal
    if node.kind == "access-key":
        what = f"{node.principal} (long-term key)"
    via = f" via {node.link_event}" if node.link_event else ""
    return f"{node.access_key} {what}{via} [{node.link}]"


@dataclass
class TraceResult:
    targets: list[Node]
    chain: pa.Table
    tree: pa.Table
    graph: SessionGraph
    omitted: int = 0  # credentials derived from the origin beyond the scope (not in the tree)

    def sections(self) -> dict[str, pa.Table]:
        return {"chain": self.chain, "tree": self.tree}


def _scoped(ds: Dataset, target: str, cap: int) -> tuple[SessionGraph, list[Node], int] | None:
    """The graph around ``target`` alone (bounded by ``cap`` credentials), when the target is a key
    or a principal the scope can start from; None when it is not (a session name, say)."""
    scope = credential_scope(ds, [target], cap=cap)
    graph = SessionGraph.build(ds, scope.keys)
    targets = graph.find(target)
    return (graph, targets, scope.omitted) if targets else None


def trace(
    ds: Dataset,
    target: str,
    *,
    graph: SessionGraph | None = None,
    tree_from: str = "origin",
    cap: int | None = TRACE_CAP,
) -> TraceResult:
    """The chain back to the originating identity, and the tree of sessions derived from it.

    ``target``: an access key id, a session / IAM user / role ARN, or a session name.
    ``tree_from``: ``origin`` (everything the originating identity led to) or ``target``.
    ``cap``: the graph is built around the target only, with at most this many credentials
    derived forward (the chain back is always whole; ``omitted`` counts what was left out), so
    memory does not grow with the dataset; None builds the graph of every session.
    """
    omitted = 0
    scoped = _scoped(ds, target, cap) if graph is None and cap is not None else None
    if scoped is not None:
        graph, targets, omitted = scoped
    else:
        graph = graph or SessionGraph.build(ds)
        targets = graph.find(target)
    if not targets:
        raise TraceError(f"no session, access key or principal matches {target!r}")
    chain_rows: list[dict[str, Any]] = []
    roots: list[Node] = []
    for t in targets:
        hops = graph.chain(t)
        for i, node in enumerate(hops):
            chain_rows.append({"target": t.id, "hop": i, **_row(node)})
        root = hops[-1] if tree_from == "origin" else t
        if root not in roots:
            roots.append(root)
    tree_rows: list[dict[str, Any]] = []
    for root in roots:
        for depth, node in graph.subtree(root):
            tree_rows.append(
                {
                    "root": root.id,
                    "depth": depth,
                    "parent_id": node.parent if depth else None,
                    "label": "  " * depth + label(node),
                    **_row(node),
                }
            )
    return TraceResult(
        targets,
        pa.Table.from_pylist(chain_rows, schema=CHAIN_SCHEMA),
        pa.Table.from_pylist(tree_rows, schema=TREE_SCHEMA),
        graph,
        omitted,
    )


def origin_of(result: TraceResult) -> list[dict[str, Any]]:
    """The last hop of each chain: the originating identity."""
    rows = result.chain.to_pylist()
    last: dict[str, dict[str, Any]] = {}
    for r in rows:
        last[r["target"]] = r
    return list(last.values())


__all__ = ["SessionGraph", "TraceError", "TraceResult", "origin_of", "trace"]
