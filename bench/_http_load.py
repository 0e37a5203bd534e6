"""A lean HTTP/1.1 load generator: keep-alive connections sending prepared requests, one at a
time each, reading only the status line and the body's length. It shares the cores with the
system it measures, so it is an asyncio `Protocol` (no stream reader, no task per request): an
HTTP client library spends more CPU per request than a lean server route, and on a small
machine it would measure itself, not the system."""

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


def parse_response(buffer: bytearray) -> tuple[int, bytes, int] | None:
    """(status, body, bytes used) of the first whole response in `buffer`; None until whole."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = bytes(buffer[:head_end])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    end = head_end + 4 + length
    if len(buffer) < end:
        return None
    return int(head.split(b" ", 2)[1]), bytes(buffer[head_end + 4 : end]), end


def take_response(buffer: bytearray) -> tuple[int, bytes] | None:
    """(status, body) of the first whole response, taken out of `buffer`; None until whole."""
    parsed = parse_response(buffer)
    if parsed is None:
        return None
    status, body, used = parsed
    del buffer[:used]
    return status, body


class _Connection(asyncio.Protocol):
    """Sends the next prepared request each time an answer is whole, until none is left."""

    def __init__(self, prepared: list[bytes], expect: int, answers: list[bytes] | None) -> None:
        self.prepared, self.expect, self.answers = prepared, expect, answers
        self.buffer = bytearray()
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._send_next()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        answer = take_response(self.buffer)
        if answer is None:
            return
        status, body = answer
        if status != self.expect:
            self._finish(LoadError(f"{status}: {body[:300]!r}"))
            return
        if self.answers is not None:
            self.answers.append(body)
        self._send_next()

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish(exc or LoadError("the server closed the connection"))

    def _send_next(self) -> None:
        assert self.transport is not None
        if self.prepared:
            self.transport.write(self.prepared.pop())
        else:
            self._finish(None)

    def _finish(self, error: Exception | None) -> None:
        if not self.done.done():
            if error is None:
                self.done.set_result(None)
            else:
                self.done.set_exception(error)
        if self.transport is not None:
            self.transport.close()


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
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    connections = []
    for _ in range(concurrency):
        _, connection = await loop.create_connection(
            lambda: _Connection(prepared, expect, answers), host, port
        )
        connections.append(connection)
    await asyncio.gather(*(connection.done for connection in connections))
    return time.perf_counter() - started


class _Exchange(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time, its answer resolving a
    future."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.answer: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: asyncio.Transport | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None
        self.answer = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self.answer

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        answer = take_response(self.buffer)
        if answer is None:
            return
        status, body = answer
        waiting, self.answer = self.answer, None
        if waiting is not None and not waiting.done():
            waiting.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.answer is not None and not self.answer.done():
            self.answer.set_exception(exc or LoadError("the server closed the connection"))


class OpenLoopClient:
    """POSTs sent when they are due whatever is still unanswered, as users arrive (an open
    loop): each takes an idle keep-alive connection, or opens one."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.headers = headers
        self.idle: list[_Exchange] = []

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """The answer's status and body."""
        exchange = self._idle_exchange() or await self._new_exchange()
        answer = await exchange.send(
            request_bytes(f"{self.host}:{self.port}", path, body, self.headers)
        )
        if not exchange.lost:
            self.idle.append(exchange)
        return answer

    def _idle_exchange(self) -> _Exchange | None:
        # The server closes a keep-alive connection left idle for a while (uvicorn: 5 s); a
        # request sent on it would never be answered.
        while self.idle:
            exchange = self.idle.pop()
            if not exchange.lost:
                return exchange
        return None

    async def _new_exchange(self) -> _Exchange:
        _, exchange = await asyncio.get_running_loop().create_connection(
            _Exchange, self.host, self.port
        )
        return exchange

    def close(self) -> None:
        for exchange in self.idle:
            if exchange.transport is not None:
                exchange.transport.close()
        self.idle.clear()
