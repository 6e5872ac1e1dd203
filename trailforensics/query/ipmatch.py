"""IP filters in SQL without DuckDB's inet extension (not bundled, not downloadable offline).

IPv4 networks (an address is a /32) become integer ranges (``tf_ipv4_int``), vectorised;
values with a colon (IPv6, IPv4-mapped IPv6) go to the ``tf_ip_in`` UDF, which compares
parsed addresses, so neither spelling nor case matters.  ``sourceIPAddress`` may hold two
comma-separated addresses: a filter matches when any of them does.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import duckdb

from trailforensics.engine.ipudf import UDF_NAME, register_ip_udf
from trailforensics.errors import TrailforensicsError


class BadAddress(TrailforensicsError, ValueError):
    pass


def ensure_udf(con: duckdb.DuckDBPyConnection) -> None:
    register_ip_udf(con)


def ip_condition(column: str, value: str, con: duckdb.DuckDBPyConnection | None = None) -> tuple[str, list[Any]]:
    """SQL matching an address or a network (``10.0.0.0/8``, ``2001:db8::/32``) against a column."""
    value = value.strip()
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        if "/" in value:
            raise BadAddress(f"not an IP network: {value!r}") from exc
        # Not an address: CloudTrail also logs service names ("ec2.amazonaws.com", "AWS Internal").
        return f"list_contains(tf_ip_list({column}), ?)", [value]
    if con is not None:
        ensure_udf(con)
    colon = f"(contains({column}, ':') AND {UDF_NAME}({column}, ?))"
    if network.version == 4:
        lo, hi = int(network.network_address), int(network.broadcast_address)
        return (
            f"(len(list_filter(tf_ip_list({column}), lambda x: tf_ipv4_int(x) BETWEEN ? AND ?)) > 0 OR {colon})",
            [lo, hi, str(network)],
        )
    return colon, [str(network)]
