"""The session graph: every credential in the dataset, linked to the one it was derived from.

Links come from :mod:`.credentials`; sessions without an issuing call are linked by inference
(a ConsoleLogin at the session's creationDate, a console SwitchRole, an ``AWSReservedSSO_``
role's session name) or to an "unknown" origin.  :mod:`.trace` walks it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from trailforensics.posture.common import iso, loads, near, pick, role_arn_of_session, session_name_of
from trailforensics.posture.credentials import (
    ISSUE_SKEW,
    RANKED_LISTS,
    Evidence,
    Issue,
    load_evidence,
    match_issue,
    merge_activity,
    rank_activity,
)

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

CONSOLE_SKEW = 120.0  # seconds between a ConsoleLogin and its session's creationDate
KEY_RE = re.compile(r"^(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{12,}$")
UNKNOWN_ORIGIN = "unknown: the issuing call is not in the data"


@dataclass
class Node:
    id: str
    kind: str  # principal | access-key | session | console-session | unknown
    principal: str
    principal_type: str | None = None
    access_key: str | None = None
    session_name: str | None = None
    role_arn: str | None = None
    account: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    source_identity: str | None = None
    parent: str | None = None
    link: str = "origin"  # exact | inferred | unknown | origin
    link_event: str | None = None
    link_event_id: str | None = None
    link_time: datetime | None = None
    link_ip: str | None = None
    link_user_agent: str | None = None
    link_reason: str = ""
    origin_type: str | None = None  # for principal/unknown nodes: IAMUser, Root, SAMLUser, ...
    notes: list[str] = field(default_factory=list)
    activity: dict[str, Any] = field(default_factory=dict)
    children: list[str] = field(default_factory=list)


class SessionGraph:
    """Every credential in the dataset and how it was obtained (a notebook can walk ``nodes``)."""

    def __init__(self, nodes: dict[str, Node], issues: list[Issue]) -> None:
        self.nodes = nodes
        self.issues = issues

    # -- building -------------------------------------------------------------------------
    @classmethod
    def build(cls, ds: Dataset, keys: set[str] | None = None) -> SessionGraph:
        """The graph of every credential, or only of ``keys`` (``graph_scope.credential_scope``'s, for a few chains)."""
        ev = load_evidence(ds, keys)
        graph = cls({}, ev.issues + ev.key_issues)
        graph._link(ev)
        graph._principal_activity(ds)
        return graph

    def _principal(
        self, actor: str, origin_type: str | None, account: str | None = None, kind: str = "principal"
    ) -> Node:
        nid = f"principal:{actor}"
        if nid not in self.nodes:
            self.nodes[nid] = Node(
                nid, kind, actor, principal_type=origin_type, account=account, origin_type=origin_type
            )
        return self.nodes[nid]

    def _link(self, ev: Evidence) -> None:
        by_key: dict[str, list[Issue]] = defaultdict(list)
        for issue in ev.issues + ev.key_issues:
            by_key[issue.key].append(issue)
        by_session_arn: dict[str, list[Issue]] = defaultdict(list)
        for issue in ev.issues:
            if issue.session_arn:
                by_session_arn[issue.session_arn].append(issue)

        # Session groups that belong to the same issue (with and without creationDate) are merged.
        merged: dict[tuple[Any, ...], dict[str, Any]] = {}
        for s in ev.sessions:
            matched, link, reason = match_issue(s, by_key.get(s["key"], []), by_session_arn.get(s["arn"] or "", []))
            s["_issue"], s["_link"], s["_reason"] = matched, link, reason
            ident = (s["key"], s["arn"], id(matched) if matched else s["start"])
            if ident in merged:
                merge_activity(merged[ident], s)
            else:
                merged[ident] = s
        issued_by: dict[str, Issue] = {}  # node id -> the call that issued its key
        for s in merged.values():
            node = self._add_session(s)
            if s["_issue"] is not None:
                issued_by[node.id] = s["_issue"]

        # The sessions' parents: the caller of the issuing call, or an inferred / unknown origin.
        session_index: dict[str, list[Node]] = defaultdict(list)
        for node in self.nodes.values():
            if node.access_key:
                session_index[node.access_key].append(node)
        for node in list(self.nodes.values()):
            if node.kind == "principal":
                continue
            issuer = issued_by.get(node.id)
            if issuer is not None:
                parent = self._caller_node(issuer, session_index)
                node.parent = parent.id
                node.link_event, node.link_event_id, node.link_time = (
                    issuer.event_name,
                    issuer.event_id,
                    issuer.time,
                )
                node.link_ip, node.link_user_agent = issuer.caller["source_ip"], issuer.caller["user_agent"]
                if len(issuer.event_ids) > 1:
                    node.notes.append("copies: " + ", ".join(issuer.event_ids))
                if issuer.detail and issuer.detail not in node.link_reason:
                    node.link_reason = f"{node.link_reason}; {issuer.detail}" if node.link_reason else issuer.detail
                if issuer.event_name == "CreateAccessKey":
                    user = node.principal.rsplit("/", 1)[-1] if ":user/" in node.principal else None
                    made = ev.created_users.get((node.account, user))
                    if made is not None:
                        node.notes.append(
                            f"user created by {made['actor']} at {iso(made['event_time'])} "
                            f"(CreateUser {made['event_id']})"
                        )
                continue
            self._infer_parent(node, ev.logins, ev.switches, session_index)
        for node in self.nodes.values():
            if node.parent and node.parent in self.nodes and node.id not in self.nodes[node.parent].children:
                self.nodes[node.parent].children.append(node.id)
        for node in self.nodes.values():
            node.children.sort(key=lambda c: (_when(self.nodes[c]), c))

    def _add_session(self, s: dict[str, Any]) -> Node:
        key, arn, typ = s["key"], s["arn"] or "", s["type"]
        issue: Issue | None = s["_issue"]
        akia = key.startswith("AKIA")
        nid = key if akia else f"{key}@{iso(s['start']) if s['start'] else iso(s['first_seen'])}"
        kind = "access-key" if akia else ("console-session" if s["console"] else "session")
        role = s["issuer_arn"] if typ == "AssumedRole" else None
        node = Node(
            nid,
            kind,
            arn or (s["user_name"] or key),
            principal_type=typ,
            access_key=key,
            session_name=session_name_of(arn),
            role_arn=role or role_arn_of_session(arn),
            account=s["account"],
            issued_at=issue.time if issue else s["start"],
            expires_at=issue.expiration if issue else None,
            source_identity=s["source_identity"] or (issue.source_identity if issue else None),
            link=s["_link"],
            link_reason=s["_reason"],
        )
        node.activity = {
            k: s[k]
            for k in (
                "first_seen",
                "last_seen",
                "events",
                "distinct_event_names",
                "regions",
                "errors",
                *(name for pair in RANKED_LISTS for name in pair),
            )
        }
        if nid in self.nodes:  # the same key and start under two ARNs (a renamed user): keep both
            nid = f"{nid}|{arn}"
            node.id = nid
        self.nodes[nid] = node
        return node

    def _caller_node(self, issue: Issue, index: dict[str, list[Node]]) -> Node:
        c = issue.caller
        if c["key"]:
            sessions = [n for n in index.get(c["key"], []) if not c["arn"] or n.principal == c["arn"]]
            if c["created"] is not None:
                exact = [n for n in sessions if near(n.issued_at, c["created"], ISSUE_SKEW.total_seconds())]
                sessions = exact or sessions
            live = [
                n
                for n in sessions
                if n.activity.get("first_seen")
                and n.activity["first_seen"] <= issue.time + ISSUE_SKEW
                and issue.time <= n.activity["last_seen"] + ISSUE_SKEW
            ]
            chosen = live or sessions
            if chosen:
                return max(chosen, key=lambda n: n.issued_at or n.activity["first_seen"])
        if issue.origin_hint:
            typ, name = issue.origin_hint
            return self._principal(name, typ, c["account"])
        if c["type"] == "AWSAccount":
            node = self._principal(
                f"account:{c['account']} {c['principal_id'] or ''}".strip(),
                "AWSAccount",
                c["account"],
                kind="unknown",
            )
            node.notes = ["the caller's copy of the cross-account call is not in the data"]
            return node
        return self._principal(c["actor"] or "unknown", c["type"], c["account"])

    def _infer_parent(
        self,
        node: Node,
        logins: list[dict[str, Any]],
        switches: list[dict[str, Any]],
        index: dict[str, list[Node]],
    ) -> None:
        start = node.issued_at or node.activity.get("first_seen")
        if node.kind == "access-key":  # a long-term key: its user is the origin
            typ = node.principal_type or "IAMUser"
            parent = self._principal(node.principal, typ, node.account)
            node.parent, node.link = parent.id, "origin"
            node.link_reason = f"long-term access key of {node.principal}; its creation is not in the data"
            return
        if node.principal_type in ("IAMUser", "Root"):
            login = min(
                (
                    r
                    for r in logins
                    if r["arn"] == node.principal and start is not None and near(r["event_time"], start, CONSOLE_SKEW)
                ),
                key=lambda r: abs((r["event_time"] - start).total_seconds()),
                default=None,
            )
            if login is not None:
                parent = self._principal(node.principal, node.principal_type, node.account)
                node.parent, node.link = parent.id, "inferred"
                node.link_event, node.link_event_id, node.link_time = (
                    "ConsoleLogin",
                    login["event_id"],
                    login["event_time"],
                )
                node.link_ip, node.link_user_agent = login["source_ip"], login["user_agent"]
                mfa = pick(loads(login["additional_event_data"]), "MFAUsed")
                node.link_reason = "user ARN + creationDate = ConsoleLogin time" + (f"; MFAUsed={mfa}" if mfa else "")
                return
        if node.principal_type == "AssumedRole" and start is not None:
            switch = next(
                (
                    r
                    for r in switches
                    if (r["key"] == node.access_key or r["arn"] == node.principal)
                    and near(r["event_time"], start, CONSOLE_SKEW)
                ),
                None,
            )
            if switch is not None:
                source = pick(loads(switch["additional_event_data"]), "SwitchFrom")
                switched = self._switch_parent(source, switch["event_time"], index) if source else None
                if switched is not None:
                    node.parent, node.link = switched.id, "inferred"
                    node.link_event, node.link_event_id, node.link_time = (
                        "SwitchRole",
                        switch["event_id"],
                        switch["event_time"],
                    )
                    node.link_ip, node.link_user_agent = switch["source_ip"], switch["user_agent"]
                    node.link_reason = f"console SwitchRole from {source} at the session's creationDate"
                    return
        if node.role_arn and "/AWSReservedSSO_" in node.role_arn and node.session_name:
            parent = self._principal(f"identitycenter:{node.session_name}", "IdentityCenterUser", node.account)
            node.parent, node.link = parent.id, "inferred"
            node.link_reason = (
                "AWSReservedSSO_ role: Identity Center user named by the session name "
                "(the AssumeRoleWithSAML is not in the data)"
            )
            return
        if node.principal_type in ("IAMUser", "Root") and node.kind != "session":
            parent = self._principal(node.principal, node.principal_type, node.account)
            node.parent, node.link = parent.id, "inferred"
            node.link_reason = "console session of the user; its ConsoleLogin is not in the data"
            return
        if node.principal_type == "AWSService" or (node.principal or "").endswith(".amazonaws.com"):
            parent = self._principal(node.principal, "AWSService", node.account)
            node.parent, node.link = parent.id, "origin"
            return
        label = UNKNOWN_ORIGIN + (f" (sourceIdentity {node.source_identity})" if node.source_identity else "")
        parent = self._principal(f"{label} [{node.role_arn or node.principal}]", None, node.account, kind="unknown")
        parent.origin_type = "unknown"
        node.parent, node.link = parent.id, "unknown"
        node.link_reason = UNKNOWN_ORIGIN

    def _switch_parent(self, source: str, when: datetime, index: dict[str, list[Node]]) -> Node | None:
        candidates = [
            n
            for nodes in index.values()
            for n in nodes
            if n.principal == source and n.activity.get("first_seen") and n.activity["first_seen"] <= when + ISSUE_SKEW
        ]
        if candidates:
            # the console session the user switched from, else the latest of the user's credentials
            return max(candidates, key=lambda n: (n.kind == "console-session", n.activity["first_seen"]))
        return self._principal(source, "IAMUser" if ":user/" in source else None)

    def _principal_activity(self, ds: Dataset) -> None:
        actors = [n.principal for n in self.nodes.values() if n.kind in ("principal",)]
        if not actors:
            return
        rows = ds.sql(
            """
            SELECT actor, min(event_time) AS first_seen, max(event_time) AS last_seen,
                   count(DISTINCT coalesce(shared_event_id, event_id)) AS events,
                   histogram(event_name) FILTER (WHERE event_name IS NOT NULL) AS event_name_counts,
                   histogram(source_ip_address) FILTER (WHERE source_ip_address IS NOT NULL) AS ip_counts,
                   list_sort(list(DISTINCT aws_region) FILTER (WHERE aws_region IS NOT NULL)) AS regions,
                   count(*) FILTER (WHERE error_code IS NOT NULL) AS errors
            FROM events
            WHERE (user_identity_access_key_id IS NULL OR user_identity_access_key_id = '')
              AND actor IN (SELECT unnest(?::VARCHAR[]))
            GROUP BY actor""",
            [actors],
        ).to_pylist()
        for r in rows:
            rank_activity(r)
        by_actor = {r["actor"]: r for r in rows}
        for node in self.nodes.values():
            if node.kind == "principal" and node.principal in by_actor:
                node.activity = {k: v for k, v in by_actor[node.principal].items() if k != "actor"}

    # -- queries --------------------------------------------------------------------------
    def find(self, target: str) -> list[Node]:
        """Sessions named by an access key id, a session/user/role ARN, a session name or an actor."""
        t = target.strip()
        nodes = [n for n in self.nodes.values() if n.kind != "unknown"]
        if KEY_RE.match(t):
            return _ordered([n for n in nodes if n.access_key == t])
        if t.startswith("arn:"):
            hits = [n for n in nodes if n.principal == t or n.role_arn == t]
            if not hits and ":user/" in t:
                hits = [n for n in nodes if n.id == f"principal:{t}"]
            return _ordered(hits)
        hits = [n for n in nodes if n.session_name == t]
        if not hits:
            hits = [n for n in nodes if n.principal == t or n.id == f"principal:{t}"]
        return _ordered(hits)

    def chain(self, node: Node) -> list[Node]:
        out, seen = [node], {node.id}
        while out[-1].parent and out[-1].parent in self.nodes and out[-1].parent not in seen:
            out.append(self.nodes[out[-1].parent])
            seen.add(out[-1].id)
        return out

    def subtree(self, root: Node) -> list[tuple[int, Node]]:
        out: list[tuple[int, Node]] = []
        seen: set[str] = set()

        def walk(n: Node, depth: int) -> None:
            if n.id in seen:
                return
            seen.add(n.id)
            out.append((depth, n))
            for c in n.children:
                walk(self.nodes[c], depth + 1)

        walk(root, 0)
        return out


def _when(node: Node) -> str:
    return iso(node.issued_at or node.activity.get("first_seen"))


def _ordered(nodes: list[Node]) -> list[Node]:
    return sorted(nodes, key=lambda n: (_when(n), n.id))
