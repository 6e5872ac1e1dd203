"""``tf_ip_in(addresses, network)``: IP matching that text comparison gets wrong.

A Python UDF (DuckDB's inet extension is not bundled and cannot be downloaded offline),
registered on every Dataset connection.  It parses each address of ``sourceIPAddress`` (which
may hold two, comma-separated), so ``2001:DB8:0:0::1`` matches ``2001:db8::1``, and an
IPv4-mapped IPv6 address (``::ffff:45.137.21.9``) matches IPv4 networks.  Callers use it only
on rows that text or integer comparisons cannot settle (values containing a colon): it costs
microseconds per row.
"""

from __future__ import annotations

import contextlib
import ipaddress
from functools import lru_cache

import duckdb

UDF_NAME = "tf_ip_in"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=256)
def _network(text: str) -> Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def ip_in(value: str | None, network: str | None) -> bool:
    """Whether any address in ``value`` lies in ``network`` (an address is a /32 or /128)."""
    net = _network(network) if network else None
    if not value or net is None:
        return False
    for part in value.split(","):
        try:
            addr: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(part.strip())
        except ValueError:
            continue  # "AWS Internal", a service name
        if addr.version != net.version:
            mapped = getattr(addr, "ipv4_mapped", None)
            if mapped is None:
                continue
            addr = mapped
        if addr in net:
            return True
    return False


def register_ip_udf(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):  # already registered on this connection
        con.create_function(  # type: ignore[call-overload]
            UDF_NAME,
            ip_in,
            [duckdb.sqltype("VARCHAR"), duckdb.sqltype("VARCHAR")],
            duckdb.sqltype("BOOLEAN"),
            null_handling="special",
            side_effects=False,
        )
