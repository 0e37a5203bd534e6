"""Request and batch ids: unique within a process, and a child process does not repeat its
parent's (a pre-forking server would otherwise hand out the same ids twice)."""

from __future__ import annotations

import os
import re

from shared.ids import unique_hex


def test_ids_are_32_hex_digits_and_never_repeat() -> None:
    ids = [unique_hex() for _ in range(100_000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch("[0-9a-f]{32}", one) for one in ids[::997])


def test_a_forked_child_draws_ids_of_its_own() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        os.close(read_end)
        os.write(write_end, " ".join(unique_hex() for _ in range(3)).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        from_child = pipe.read().split()
    os.waitpid(pid, 0)
    from_parent = [unique_hex() for _ in range(3)]
    assert len(from_child) == 3
    assert not set(from_child) & set(from_parent)
    assert {one[:16] for one in from_child} != {one[:16] for one in from_parent}
