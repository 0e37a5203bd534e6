"""A lean HTTP/1.1 load generator: keep-alive connections sending prepared requests, reading
only the status line and the body's length. An HTTP client library spends more CPU per request
than a lean server route; on a small machine it would measure itself, not the system."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit


class LoadError(RuntimeError):
    pass


def request_bytes(host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def post_all(
    base_url: str,
    requests: list[tuple[str, bytes]],
    concurrency: int,
    headers: dict[str, str],
    expect: int = 202,
    answers: list[bytes] | None = None,
) -> float:
    """POSTs every (path, body) over `concurrency` connections; the seconds it took. The
    answers' bodies go to `answers` when one is given."""
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    prepared = [request_bytes(f"{host}:{port}", path, body, headers) for path, body in requests]
    prepared.reverse()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while prepared:
                writer.write(prepared.pop())
                status, body = await _read_response(reader)
                if status != expect:
                    raise LoadError(f"{status}: {body[:300]!r}")
                if answers is not None:
                    answers.append(body)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return time.perf_counter() - started
