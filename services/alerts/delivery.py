"""The outbox's delivery loop: each due notification row is locked (FOR UPDATE SKIP LOCKED),
sent, and its attempt recorded in the same transaction, so two workers or two replicas never
send one row and a restart resumes where the last attempt left off."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiosmtplib
import httpx
from sqlalchemy import select
from sqlmodel import col

from services.alerts import store
from services.alerts.payloads import SIGNATURE_HEADER, email_message, encode, signature
from services.alerts.safety import ForbiddenWebhookError, check_webhook_url
from shared.db import Databases
from shared.modes import Mode
from shared.settings import Settings

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 600.0
RETRYABLE_STATUS = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Result:
    delivered: bool
    retryable: bool = True
    status_code: int | None = None
    error: str | None = None


def backoff_seconds(attempts: int, base_s: float, rng: random.Random) -> float:
    """Exponential back-off with jitter: base·2^(n-1), scaled by a random 0.5–1.0."""
    ceiling = min(base_s * 2 ** (attempts - 1), MAX_BACKOFF_S)
    return ceiling * (0.5 + rng.random() / 2)


class Delivery:
    def __init__(
        self,
        db: Databases,
        settings: Settings,
        *,
        modes: tuple[Mode, ...] = tuple(Mode),
        workers: int = 4,
        poll_s: float = 0.5,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.db, self.settings, self.modes = db, settings, modes
        self.workers, self.poll_s, self.now = workers, poll_s, now
        self.rng = rng or random.Random()
        self.http = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._tasks = [
            asyncio.create_task(self._work(polls=index == 0)) for index in range(self.workers)
        ]

    async def stop(self) -> None:
        """Let attempts in flight finish (their outcome is recorded), then stop."""
        self._stopping = True
        self._wake.set()
        if self._tasks:
            grace = self.settings.webhook_timeout_seconds + 2
            _, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._tasks = []
        await self.http.aclose()

    async def _work(self, polls: bool) -> None:
        """Deliver while anything is due. Idle, one worker looks again every `poll_s` (for
        retries coming due, and rows other replicas wrote) and the others sleep until woken:
        four workers polling two databases cost the idle service most of its CPU."""
        while not self._stopping:
            busy = False
            for mode in self.modes:
                try:
                    while not self._stopping and await self.deliver_one(mode):
                        if not busy:
                            busy = True
                            self._wake.set()  # the sleeping workers help while work lasts
                except Exception:  # a database hiccup: try again later
                    log.exception("delivery loop error", extra={"mode": str(mode)})
            if not busy and not self._stopping:
                if polls:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_s)
                else:
                    await self._wake.wait()
                self._wake.clear()

    async def deliver_due(self, mode: Mode) -> int:
        """Deliver every due row of the mode now (tests and benchmarks call this)."""
        count = 0
        while await self.deliver_one(mode):
            count += 1
        return count

    async def deliver_one(self, mode: Mode) -> bool:
        """Attempt one due notification; False when none is due."""
        async with self.db.session(mode) as session:
            now = self.now()
            row = (
                await session.execute(
                    select(store.NotificationRow)
                    .where(
                        col(store.NotificationRow.state) == "pending",
                        col(store.NotificationRow.next_attempt_at) <= now,
                    )
                    .order_by(col(store.NotificationRow.next_attempt_at))
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            ).scalar_one_or_none()
            if row is None:
                return False
            started = time.perf_counter()
            result = await self.send(row)
            elapsed_ms = (time.perf_counter() - started) * 1e3
            self.record(session, row, result, elapsed_ms)
            await session.commit()
        return True

    def record(
        self, session: object, row: store.NotificationRow, result: Result, elapsed_ms: float
    ) -> None:
        now = self.now()
        row.attempts += 1
        if result.delivered:
            row.state, row.delivered_at, row.last_error, outcome = (
                "delivered",
                now,
                None,
                "delivered",
            )
        elif not result.retryable:
            row.state, row.last_error, outcome = "failed", result.error, "failed"
        elif row.attempts >= self.settings.notification_max_tries:
            # The dead-letter record: the row stays, with every attempt beside it.
            row.state, row.last_error, outcome = "dead", result.error, "dead"
        else:
            delay = backoff_seconds(
                row.attempts, self.settings.notification_retry_base_seconds, self.rng
            )
            row.next_attempt_at = now + timedelta(seconds=delay)
            row.last_error, outcome = result.error, "retry"
        session.add(  # type: ignore[attr-defined]
            store.AttemptRow(
                notification_id=row.id or 0,
                tenant_id=row.tenant_id,
                attempt=row.attempts,
                at=now,
                outcome=outcome,
                status_code=result.status_code,
                error=result.error,
                duration_ms=round(elapsed_ms, 2),
            )
        )
        if outcome in ("failed", "dead"):
            log.warning(
                "notification given up",
                extra={
                    "notification_id": row.id,
                    "rule_id": row.rule_id,
                    "action": row.action_type,
                    "attempts": row.attempts,
                    "error": result.error,
                },
            )

    async def send(self, row: store.NotificationRow) -> Result:
        if row.action_type == "webhook":
            return await self.send_webhook(row)
        if row.action_type == "email":
            return await self.send_email(row)
        return Result(False, retryable=False, error=f"unknown action {row.action_type!r}")

    async def send_webhook(self, row: store.NotificationRow) -> Result:
        action = row.action
        url = str(action["url"])
        try:
            # Checked again at send time: the name may resolve elsewhere now.
            await check_webhook_url(url, self.settings.webhook_allowed_hosts)
        except ForbiddenWebhookError as error:
            return Result(False, retryable=False, error=str(error))
        body = encode(row.payload)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "ecp-alerts/1",
            "Idempotency-Key": f"{row.rule_id}:{row.sequence}:{row.status}:{row.repeat}:{row.action_index}",
        }
        if action.get("secret"):
            headers[SIGNATURE_HEADER] = signature(body, str(action["secret"]))
        try:
            reply = await self.http.request(
                str(action.get("method", "POST")),
                url,
                content=body,
                headers=headers,
                timeout=self.settings.webhook_timeout_seconds,
            )
        except httpx.HTTPError as error:
            return Result(False, error=f"{type(error).__name__}: {error}"[:500])
        code = reply.status_code
        if 200 <= code < 300:
            return Result(True, status_code=code)
        retryable = code >= 500 or code in RETRYABLE_STATUS
        return Result(False, retryable=retryable, status_code=code, error=f"HTTP {code}")

    async def send_email(self, row: store.NotificationRow) -> Result:
        s = self.settings
        if not s.smtp_host:
            return Result(False, retryable=False, error="SMTP is not configured (ECP_SMTP_HOST)")
        recipients = [str(r) for r in row.action.get("recipients", [])]
        message = email_message(row.payload, s.smtp_sender, recipients)
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_username or None,
                password=s.smtp_password or None,
                use_tls=s.smtp_tls,
                start_tls=False if s.smtp_tls else s.smtp_starttls,
                timeout=s.webhook_timeout_seconds,
            )
        except aiosmtplib.SMTPResponseException as error:
            permanent = 500 <= error.code < 600
            return Result(
                False, retryable=not permanent, status_code=error.code, error=error.message[:500]
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            return Result(False, error=f"{type(error).__name__}: {error}"[:500])
        return Result(True, status_code=250)
