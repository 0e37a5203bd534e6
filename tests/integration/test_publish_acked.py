"""`publish_acked` against a real JetStream: stored when acked, and the errors
`JetStreamContext.publish` would raise when not."""

from __future__ import annotations

import uuid

import nats
import pytest
from nats.js.errors import APIError, NoStreamResponseError

from shared.bus import publish_acked
from shared.settings import Settings

pytestmark = pytest.mark.integration


async def test_acked_publishes_are_stored_and_refusals_raise(settings: Settings) -> None:
    connection = await nats.connect(settings.nats_url)
    js = connection.jetstream()
    stream = f"ACKED_{uuid.uuid4().hex[:8].upper()}"
    await js.add_stream(name=stream, subjects=[f"{stream}.>"])
    try:
        for _ in range(2):  # the second is a duplicate by its id: acked, not stored twice
            await publish_acked(connection, f"{stream}.a", b"one", headers={"Nats-Msg-Id": "m1"},
                                stream=stream, ack_wait_seconds=5)  # fmt: skip
        assert (await js.stream_info(stream)).state.messages == 1
        with pytest.raises(APIError) as refused:
            await publish_acked(connection, f"{stream}.a", b"two", headers={},
                                stream="SOME_OTHER_STREAM", ack_wait_seconds=5)  # fmt: skip
        assert refused.value.err_code == 10060  # expected stream does not match
        with pytest.raises(NoStreamResponseError):
            await publish_acked(connection, f"NOWHERE_{stream}.a", b"three", headers={},
                                stream=stream, ack_wait_seconds=5)  # fmt: skip
        assert (await js.stream_info(stream)).state.messages == 1
    finally:
        await js.delete_stream(stream)
        await connection.close()
