"""IP filters in SQL without DuckDB's inet extension (not bundled, not downloadable offline).

IPv4 networks become integer ranges (``tf_ipv4_int``); IPv6 networks use a small Python
UDF over the (rare) values containing a colon.  ``sourceIPAddress`` may hold two
comma-separated addresses: a filter matches when any of them does.
"""

from __future__ import annotations

import contextlib
import ipaddress
from typing import Any

import duckdb

UDF_NAME = "tf_ipv6_in_network"


class BadAddress(ValueError):
    pass


def _ipv6_in_network(value: str | None, network: str) -> bool:
    if not value:
        return False
    net = ipaddress.ip_network(network, strict=False)
    for part in value.split(","):
        try:
            if ipaddress.ip_address(part.strip()) in net:
                return True
        except ValueError:
            continue
    return False


def ensure_udf(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # already registered on this connection
        con.create_function(  # type: ignore[call-overload]
            UDF_NAME,
            _ipv6_in_network,
            [duckdb.sqltype("VARCHAR"), duckdb.sqltype("VARCHAR")],
            duckdb.sqltype("BOOLEAN"),
            null_handling="special",
        )


def ip_condition(column: str, value: str, con: duckdb.DuckDBPyConnection | None = None) -> tuple[str, list[Any]]:
    """SQL matching an address or a network (``10.0.0.0/8``, ``2001:db8::/32``) against a column."""
    value = value.strip()
    try:
        network = ipaddress.ip_network(value, strict=False) if "/" in value else None
        if network is None:
            ipaddress.ip_address(value)
    except ValueError as exc:
        if "/" in value:
            raise BadAddress(f"not an IP network: {value!r}") from exc
        # Not an address: CloudTrail also logs service names ("ec2.amazonaws.com", "AWS Internal").
        return f"list_contains(tf_ip_list({column}), ?)", [value]
    if network is None:
        return f"list_contains(tf_ip_list({column}), ?)", [value]
    if network.version == 4:
        lo, hi = int(network.network_address), int(network.broadcast_address)
        return (
            f"len(list_filter(tf_ip_list({column}), lambda x: tf_ipv4_int(x) BETWEEN ? AND ?)) > 0",
            [lo, hi],
        )
    if con is not None:
        ensure_udf(con)
    return f"(contains({column}, ':') AND {UDF_NAME}({column}, ?))", [str(network)]
