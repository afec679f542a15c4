"""Where webhooks may go (KB_WEBHOOK_ALLOWED_HOSTS), checked twice: the URL when it is subscribed, and the
address each delivery actually connects to.

The safe default, with nothing listed: any public address; never loopback
(``127.0.0.1``, ``::1``, ``localhost``, also spelled ``127.1``, ``0x7f000001``
or ``2130706433``), link-local (``169.254.0.0/16``, ``fe80::/10``), cloud
metadata (``169.254.169.254``, ``fd00:ec2::254``, ``100.100.100.200``,
``metadata.google.internal``), unspecified, multicast or reserved addresses;
private ranges (``10/8``, ``172.16/12``, ``192.168/16``, ``100.64/10``,
``fc00::/7``) only when listed. An entry is a host name
(``scoring.example.gov.cn``), ``*.`` and a domain for the names under it
(``*.licheng.gov.cn``), or an IP address or network (``10.20.0.0/16``).

* A listed network allows every address in it, loopback included (a test
  receiver on ``127.0.0.1`` is listed as such).
* A listed name trusts what the deployment's DNS says it is, a private
  address included (an intranet scoring engine by name), but never loopback,
  link-local or metadata unless that address is listed too.
* When anything is listed, only what is listed is allowed.

URLs with user-info (``user@host``) or a backslash are refused outright:
parsers disagree on where their host is (``http://127.0.0.1:8209\\@allowed.host/``
is ``allowed.host`` to urllib and 127.0.0.1 to the HTTP client), and a
webhook receiver needs neither. The connection check
(:meth:`ReceiverHosts.connection_allowed`) is what finally holds: it sees the
peer address of the socket the request is about to be written to.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Alibaba's ECS too (link-local anyway)
    "fd00:ec2::254",  # AWS over IPv6
    "100.100.100.200",  # Alibaba Cloud
    "169.254.170.2",  # AWS ECS task metadata
))
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal",
                            "metadata.tencentyun.com", "localhost"})
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not public, not is_private either


def canonical_address(host: str) -> IPAddress | None:
    """The IP address a host string is, in any spelling the resolver accepts; None for a name.

    ``127.1``, ``0x7f000001``, ``2130706433`` and ``0177.0.0.1`` are all 127.0.0.1 to
    getaddrinfo (inet_aton's legacy forms); ``[::ffff:127.0.0.1]`` is too.
    """
    host = host.strip("[]")
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        if not host or not all(ch in "0123456789abcdefxABCDEFX." for ch in host):
            return None
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _never_by_default(address: IPAddress) -> bool:
    return (address in METADATA_ADDRESSES or address.is_loopback or address.is_link_local
            or address.is_unspecified or address.is_multicast or address.is_reserved)


def _private(address: IPAddress) -> bool:
    return address.is_private or address in _SHARED


def unsafe_url_reason(url: str) -> str | None:
    """Why a receiver URL is refused before its host is even looked at, or None."""
    if "\\" in url:
        return "接收地址不能包含反斜杠（\\）"
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return "接收地址无法解析"
    if "@" in netloc:
        return "接收地址不能包含用户名或密码（user@host）"
    return None


@dataclass(frozen=True)
class ReceiverHosts:
    """The hosts webhooks may be sent to (KB_WEBHOOK_ALLOWED_HOSTS); see the module's docstring."""

    names: frozenset[str] = frozenset()
    domains: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, raw: str | None) -> ReceiverHosts:
        names, domains, networks = set(), [], []
        for entry in (raw or "").replace(",", " ").split():
            entry = entry.strip().lower().rstrip(".")
            if entry.startswith("*."):
                domain = entry[2:]
                if not domain or "*" in domain or "/" in domain:
                    raise ValueError(f"KB_WEBHOOK_ALLOWED_HOSTS: bad entry {entry!r}")
                domains.append(domain)
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if "/" in entry or "*" in entry or ":" in entry or not entry:
                raise ValueError(f"KB_WEBHOOK_ALLOWED_HOSTS: bad entry {entry!r}")
            names.add(entry)
        return cls(frozenset(names), tuple(domains), tuple(networks))

    @property
    def restricted(self) -> bool:
        """Something is listed: only what is listed is allowed."""
        return bool(self.names or self.domains or self.networks)

    def _listed_address(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)

    def _listed_name(self, host: str) -> bool:
        return host in self.names or any(host.endswith("." + domain) for domain in self.domains)

    def allows(self, url: str) -> bool:
        """May a delivery to `url` be attempted: the URL as written (its name is not resolved here)."""
        if unsafe_url_reason(url):
            return False
        try:
            host = (urlsplit(url).hostname or "").rstrip(".").lower()
        except ValueError:
            return False
        if not host:
            return False
        address = canonical_address(host)
        if address is None:
            if self._listed_name(host):
                return True
            if self.restricted or host in METADATA_NAMES or host.endswith(".localhost"):
                return False
            return True  # a public name: where it leads is checked when connecting
        return self.address_allowed(address, name_listed=False)

    def address_allowed(self, address: IPAddress, *, name_listed: bool) -> bool:
        """May a connection go to `address`; `name_listed`: the URL's host is a name on the list."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if self._listed_address(address):
            return True
        if _never_by_default(address):
            return False
        if name_listed:
            return True
        if self.restricted or _private(address):
            return False
        return True

    def connection_allowed(self, host: str, peer: str) -> bool:
        """The check at connect time: `host` as in the URL, `peer` the address the socket is connected to."""
        host = host.strip("[]").rstrip(".").lower()
        address = canonical_address(peer)
        if address is None:
            return False
        name_listed = canonical_address(host) is None and self._listed_name(host)
        return self.address_allowed(address, name_listed=name_listed)


DEFAULT = ReceiverHosts()  # KB_WEBHOOK_ALLOWED_HOSTS unset: public addresses only
