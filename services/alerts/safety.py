"""Where webhooks may go: never to loopback, link-local or private addresses unless allowed."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

Resolver = Callable[[str], Awaitable[list[str]]]


class ForbiddenWebhookError(ValueError):
    """A webhook URL the service refuses to call; the message says why."""


async def resolve_host(host: str) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def is_internal(address: str) -> bool:
    """Addresses a webhook could use to reach the service's own network (SSRF)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or ip in ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
    )


def _allowed(host: str, addresses: Iterable[str], allowed_hosts: Iterable[str]) -> bool:
    allowed = {h.strip().lower() for h in allowed_hosts if h.strip()}
    return host.lower() in allowed or all(a in allowed for a in addresses)


async def check_webhook_url(
    url: str, allowed_hosts: Iterable[str], resolve: Resolver = resolve_host
) -> None:
    """Raise ForbiddenWebhookError unless `url` is http(s) to a public address or an allowed
    host. The host name is resolved: a public name pointing at 10.0.0.1 is refused too."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ForbiddenWebhookError("a webhook URL must use http or https")
    if parts.username or parts.password:
        raise ForbiddenWebhookError("a webhook URL must not carry credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ForbiddenWebhookError("a webhook URL needs a host")
    try:
        _ = parts.port
    except ValueError:
        raise ForbiddenWebhookError("the webhook URL's port is invalid") from None
    allowed_hosts = list(allowed_hosts)
    if host.lower() in {h.strip().lower() for h in allowed_hosts}:
        return
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = await resolve(host)
        except (OSError, UnicodeError) as error:
            raise ForbiddenWebhookError(f"the webhook host {host!r} does not resolve") from error
    if not addresses:
        raise ForbiddenWebhookError(f"the webhook host {host!r} does not resolve")
    internal = [a for a in addresses if is_internal(a)]
    if internal and not _allowed(host, internal, allowed_hosts):
        raise ForbiddenWebhookError(
            f"the webhook host {host!r} is a loopback, link-local or private address "
            f"({internal[0]}); list it in ECP_WEBHOOK_ALLOWED_HOSTS to allow it"
        )
