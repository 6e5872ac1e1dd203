"""The part of the session graph around a few credentials: ``credential_scope(ds, seeds) -> Scope``.

``SessionGraph.build(ds)`` links every session of the dataset (gigabytes at 10 M events); the
report only draws the chains of the keys and principals its high-severity findings name.  This
walks the issuing calls from those seeds with filtered queries: back to the identity that issued
them (the chain, always kept whole), then forward, level by level, to what that identity issued,
until ``cap`` credentials are in.  ``SessionGraph.build(ds, scope=...)`` then links only those.

Forward, a credential leads to the keys its calls issued (``responseElements``) and a principal
to the keys it used itself (its long-term keys, its console sessions) and those it issued without
a key; sessions linked only by inference (an "unknown" origin, an Identity Center user named by
a session name) appear when they are in scope, not all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trailforensics.posture.credentials import STS_ISSUERS
from trailforensics.posture.graph import KEY_RE

if TYPE_CHECKING:
    from trailforensics.engine.dataset import Dataset

SCOPE_CAP = 300  # credentials loaded around the seeds (the chains back to the origins are always whole)

# The only two reads of every event: the issuing calls and the console role switches, kept in
# temporary tables (tens of thousands of rows at 10 M events; they spill under the memory limit).
_EDGES_SQL = """
    CREATE TEMP TABLE {name} AS
    SELECT DISTINCT coalesce(json_extract_string(response_elements, '$.credentials.accessKeyId'),
                             json_extract_string(response_elements, '$.accessKey.accessKeyId')) AS issued,
           nullif(user_identity_access_key_id, '') AS caller_key, actor AS caller
    FROM events
    WHERE error_code IS NULL AND event_time IS NOT NULL AND response_elements IS NOT NULL
      AND ((event_source = 'sts.amazonaws.com' AND event_name IN ({issuers}))
        OR (event_source = 'iam.amazonaws.com' AND event_name = 'CreateAccessKey'))"""
_SWITCHES_SQL = """
    CREATE TEMP TABLE {name} AS
    SELECT user_identity_access_key_id AS key, json_extract_string(additional_event_data, '$.SwitchFrom') AS source,
           event_time AS switched_at
    FROM events
    WHERE event_source = 'signin.amazonaws.com' AND event_name = 'SwitchRole' AND error_code IS NULL"""


@dataclass
class Scope:
    """The credentials (access key ids) and principals (actors) the scoped graph is built from."""

    keys: set[str] = field(default_factory=set)
    principals: set[str] = field(default_factory=set)
    omitted: int = 0  # credentials reached going forward but left out by the cap (at least this many)
    queries: int = 0  # filtered queries it took (the walk's cost)


def credential_scope(ds: Dataset, seeds: list[str], *, cap: int = SCOPE_CAP) -> Scope:
    """The keys and principals on the chains of ``seeds`` (access key ids or actors), and forward from them."""
    scope = Scope()
    with _Walker(ds, scope) as walker:
        _walk(walker, scope, seeds, cap)
    return scope


def _walk(walker: _Walker, scope: Scope, seeds: list[str], cap: int) -> None:
    keys = {s for s in seeds if KEY_RE.match(s)}
    actors = {s for s in seeds if s not in keys}
    scope.keys |= keys
    scope.principals |= actors
    used, scope.omitted = walker.keys_used_by(actors, limit=cap // max(len(actors), 1))  # root's thousand sessions
    keys |= used
    scope.keys |= keys
    # Back: the caller of each issuing call, until the origins (no issuing call in the data).
    frontier = set(keys)
    while frontier:
        issued = walker.issues(issued=frontier)
        callers = {r["caller_key"] for r in issued if r["caller_key"]}
        callers |= walker.switched_from(frontier)  # the console session a SwitchRole came from
        callers -= scope.keys
        scope.principals |= {r["caller"] for r in issued if not r["caller_key"] and r["caller"]}
        scope.principals |= walker.users_of(frontier - {r["issued"] for r in issued})  # a user's own keys
        scope.keys |= callers
        frontier = callers
    # Forward from everything on the chains, breadth first, while there is room.
    frontier, principals = set(scope.keys), set(scope.principals)
    while frontier or principals:
        reached = {r["issued"] for r in walker.issues(caller_keys=frontier, callers=principals) if r["issued"]}
        reached |= walker.switched_to(frontier, principals)  # console role switches made from them
        room = max(cap - len(scope.keys), 0)
        used, more = walker.keys_used_by(principals, limit=room)
        reached = (reached | used) - scope.keys
        taken = set(sorted(reached)[:room])
        scope.keys |= taken
        scope.omitted += len(reached) - len(taken) + more
        if scope.omitted:
            break
        frontier, principals = taken, set()


class _Walker:
    """The walk's queries (each counted in ``scope.queries``), on the issuing calls read once."""

    def __init__(self, ds: Dataset, scope: Scope) -> None:
        self.ds = ds
        self.scope = scope
        self.principals_table = "rollup_principals" if ds.has_rollups else "events"
        self.edges = f"tf_scope_edges_{id(self)}"
        self.switches = f"tf_scope_switches_{id(self)}"

    def __enter__(self) -> _Walker:
        issuers = ", ".join(f"'{n}'" for n in STS_ISSUERS)
        self.ds.con.execute(_EDGES_SQL.format(name=self.edges, issuers=issuers))
        self.ds.con.execute(_SWITCHES_SQL.format(name=self.switches))
        self.scope.queries += 2
        return self

    def __exit__(self, *exc: object) -> None:
        for table in (self.edges, self.switches):
            self.ds.con.execute(f"DROP TABLE IF EXISTS {table}")

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        self.scope.queries += 1
        return self.ds.sql(sql, params).to_pylist()

    def issues(
        self, *, issued: set[str] | None = None, caller_keys: set[str] | None = None, callers: set[str] | None = None
    ) -> list[dict[str, Any]]:
        """Issuing calls of these keys, or made with these keys, or made by these principals without a key."""
        if issued is not None:
            if not issued:
                return []
            return self._rows(
                f"SELECT * FROM {self.edges} WHERE issued IN (SELECT unnest(?::VARCHAR[]))", [sorted(issued)]
            )
        if not caller_keys and not callers:
            return []
        return self._rows(
            f"""SELECT * FROM {self.edges} WHERE caller_key IN (SELECT unnest(?::VARCHAR[]))
                OR (caller_key IS NULL AND caller IN (SELECT unnest(?::VARCHAR[])))""",
            [sorted(caller_keys or ()), sorted(callers or ())],
        )

    def keys_used_by(self, actors: set[str], limit: int | None = None) -> tuple[set[str], int]:
        """The access keys these principals signed with (each one's busiest ``limit``) and how many more."""
        if not actors:
            return set(), 0
        weight = "sum(events)" if self.principals_table == "rollup_principals" else "count(*)"
        rows = self._rows(
            f"""SELECT actor, key, count(*) OVER (PARTITION BY actor) AS total FROM (
                    SELECT actor, user_identity_access_key_id AS key, {weight} AS n
                    FROM {self.principals_table} WHERE actor IN (SELECT unnest(?::VARCHAR[]))
                      AND coalesce(user_identity_access_key_id, '') <> '' GROUP BY actor, key)
                QUALIFY row_number() OVER (PARTITION BY actor ORDER BY n DESC, key) <= ?""",
            [sorted(actors), max(limit, 1) if limit is not None else 2**62],  # one row at least: the total
        )
        kept = [r for r in rows if limit is None or limit > 0]
        totals = {r["actor"]: r["total"] for r in rows}
        return {r["key"] for r in kept}, sum(totals.values()) - len(kept)

    def switched_to(self, keys: set[str], principals: set[str]) -> set[str]:
        """The sessions of console role switches made by these principals or by the principals of these
        keys (a switch names the principal it came from, not the session: the graph links the exact one)."""
        if not keys and not principals:
            return set()
        rows = self._rows(
            f"""SELECT DISTINCT key FROM {self.switches}
                WHERE key IS NOT NULL AND (source IN (SELECT unnest(?::VARCHAR[])) OR source IN (
                    SELECT actor FROM {self.principals_table}
                    WHERE user_identity_access_key_id IN (SELECT unnest(?::VARCHAR[]))))""",
            [sorted(principals), sorted(keys)],
        )
        return {r["key"] for r in rows}

    def switched_from(self, keys: set[str]) -> set[str]:
        """The session each console SwitchRole of these keys switched from, chosen as the graph does:
        the source principal's latest console session that started before the switch."""
        if not keys:
            return set()
        switches = self._rows(
            f"SELECT DISTINCT source, switched_at FROM {self.switches} WHERE key IN (SELECT unnest(?::VARCHAR[])) "
            "AND source IS NOT NULL",
            [sorted(keys)],
        )
        if not switches:
            return set()
        sw = "SELECT unnest(?::VARCHAR[]) AS source, unnest(?::TIMESTAMPTZ[]) AS switched_at"
        params = [[r["source"] for r in switches], [r["switched_at"] for r in switches]]
        if self.principals_table == "rollup_principals":
            # No console flag in the rollup: the latest temporary key before the switch (the console
            # session the graph picks, unless the user also had GetSessionToken credentials then).
            rows = self._rows(
                f"""WITH sw AS ({sw}), used AS (
                        SELECT actor, user_identity_access_key_id AS key, min(first_time) AS first_seen
                        FROM rollup_principals
                        WHERE actor IN (SELECT source FROM sw) AND user_identity_access_key_id LIKE 'ASIA%'
                        GROUP BY ALL)
                    SELECT used.key FROM sw JOIN used
                      ON used.actor = sw.source AND used.first_seen <= sw.switched_at + INTERVAL 5 SECOND
                    QUALIFY row_number() OVER (PARTITION BY sw.source, sw.switched_at ORDER BY used.first_seen DESC) = 1
                """,
                params,
            )
        else:
            rows = self._rows(
                f"""WITH sw AS ({sw}), used AS (
                        SELECT actor, user_identity_access_key_id AS key, min(event_time) AS first_seen,
                               bool_or(coalesce(session_credential_from_console, false)) AS console
                        FROM events
                        WHERE actor IN (SELECT source FROM sw) AND coalesce(user_identity_access_key_id, '') <> ''
                        GROUP BY ALL)
                    SELECT arg_max(used.key, (used.console, used.first_seen)) AS key
                    FROM sw JOIN used
                      ON used.actor = sw.source AND used.first_seen <= sw.switched_at + INTERVAL 5 SECOND
                    GROUP BY sw.source, sw.switched_at""",
                params,
            )
        return {r["key"] for r in rows if r["key"]}

    def users_of(self, keys: set[str]) -> set[str]:
        """The IAM users and roots whose own keys (or console sessions) these are: the graph's origins for them."""
        if not keys:
            return set()
        rows = self._rows(
            f"SELECT DISTINCT actor FROM {self.principals_table} "
            "WHERE user_identity_access_key_id IN (SELECT unnest(?::VARCHAR[])) "
            "AND user_identity_type IN ('IAMUser', 'Root') AND actor IS NOT NULL",
            [sorted(keys)],
        )
        return {r["actor"] for r in rows}
