"""A message no handler can take lands in the dead letters, where an admin sees and replays it."""

from __future__ import annotations

import asyncio

import nats

from shared import subjects
from shared.modes import Mode
from tests.support.clients import client, headers, tenant_id
from tests.support.system import RunningSystem


async def dead_letters_for(http, key: str, subject: str) -> list[dict]:  # type: ignore[no-untyped-def]
    reply = await http.get("/api/v1/dead-letters/", headers=headers(True, key))
    assert reply.status_code == 200, reply.text
    return [letter for letter in reply.json() if letter["original_subject"] == subject]


async def test_a_poison_command_is_dead_lettered_and_can_be_replayed(
    system: RunningSystem, settings_env: dict[str, str]
) -> None:
    subject = subjects.command(Mode.demo, tenant_id("poison"), "tenant", "create")
    nc = await nats.connect(settings_env["ECP_NATS_URL"])
    await nc.jetstream().publish(subject, b'{"not": "a command"}', headers={"Nats-Msg-Id": subject})
    await nc.close()
    async with client(system.base_url) as http:
        letters: list[dict] = []
        for _ in range(100):
            letters = await dead_letters_for(http, system.admin_key, subject)
            if letters:
                break
            await asyncio.sleep(0.1)
        assert len(letters) == 1
        assert letters[0]["service"] == "calculator" and "ValidationError" in letters[0]["error"]
        assert letters[0]["body"] == {"not": "a command"}

        anonymous = await http.get("/api/v1/dead-letters/", headers=headers(True))
        assert anonymous.status_code == 403

        replayed = await http.post(
            f"/api/v1/dead-letters/{letters[0]['sequence']}/replay",
            headers=headers(True, system.admin_key),
        )
        assert replayed.status_code == 200 and replayed.json()["republished_to"] == subject
        # Still poison: it fails again and comes back under a new sequence, not twice.
        again: list[dict] = []
        for _ in range(100):
            again = await dead_letters_for(http, system.admin_key, subject)
            if again and again[0]["sequence"] != letters[0]["sequence"]:
                break
            await asyncio.sleep(0.1)
        assert len(again) == 1 and again[0]["sequence"] > letters[0]["sequence"]
