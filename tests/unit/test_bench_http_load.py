"""The benchmarks' open-loop HTTP client never sends on a connection the server closed."""

from __future__ import annotations

import asyncio

from bench._http_load import OpenLoopClient

ANSWER = b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok"


async def answer_once_then_close(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """One answer, then the connection closed, as a server ends an idle keep-alive connection."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(ANSWER)
    await writer.drain()
    writer.close()


async def test_a_request_after_the_server_closed_an_idle_connection_gets_its_answer() -> None:
    server = await asyncio.start_server(answer_once_then_close, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = OpenLoopClient(f"http://127.0.0.1:{port}", {})
    try:
        assert await client.post("/", b"{}") == (202, b"ok")
        for _ in range(100):  # until the client has seen the close
            if client.idle and client.idle[0].lost:
                break
            await asyncio.sleep(0.01)
        assert client.idle and client.idle[0].lost
        # Sent on the closed connection, this request would wait for ever.
        assert await asyncio.wait_for(client.post("/", b"{}"), 5) == (202, b"ok")
    finally:
        client.close()
        server.close()
        await server.wait_closed()
