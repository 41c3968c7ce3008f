"""Who is calling: the peer address, or the client a configured proxy forwarded for.

``X-Forwarded-For`` is only believed when the peer is one of ``Settings.trusted_proxies``;
otherwise anyone could claim any address and walk around the login throttle.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network
UNKNOWN = "unknown"


def parse_networks(values: Sequence[str], name: str) -> list[Network]:
    """``10.0.0.0/8``, ``192.0.2.7`` (a single host) or IPv6; ValueError names the setting."""
    networks = []
    for value in values:
        try:
            networks.append(ip_network(value.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"{name}: {value!r} is not an IP address or network") from exc
    return networks


def in_networks(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[Network]) -> str:
    """The client's address, normalised; the right-most forwarded hop that is not a trusted proxy."""
    address = _normal(peer)
    if not forwarded_for or not in_networks(address, trusted_proxies):
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        hop_address = _normal(hop)
        if hop_address == UNKNOWN:
            return address  # a garbled header: keep the proxy's own address rather than guess
        if not in_networks(hop_address, trusted_proxies):
            return hop_address
        address = hop_address
    return address


def _normal(value: str | None) -> str:
    try:
        return str(ip_address((value or "").strip()))
    except ValueError:
        return UNKNOWN
