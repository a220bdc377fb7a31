"""The sandbox's channels announce settled payments: real notifications to the ingress, re-sent on
each channel's schedule (divided by the time scale) until the merchant answers as the channel
expects.

Every `TICK_S` the notifier looks at the Alipay and WeChat Pay transactions it plays
(`sandbox.channel_signers`): one whose payment the channel has taken (`scenarios.capture`: its
scenario succeeded, or it was settled by hand with `python -m sandbox settle`, for the amount
taken; the query API answers by the same rules) and that is not yet answered is due when its next send
time has come. Each send is signed afresh and POSTed to `UPGRADE_SANDBOX_NOTIFY_URL` with a 5 s
limit (the channels wait about that long); then the attempt is stored in `channel_notifications`
(the sandbox's SQLite file, so a restart resumes the schedule): answered, or the next send time
after the channel's interval (`channels.answers.ALIPAY_RESEND_S` / `WECHAT_RESEND_S`, scaled),
or given up after the last one, as the channels do.

The notification comes first, as with the real channels, where the push usually beats the
merchant's next query: until a settled payment's notification was answered, or sent twice
unanswered, the query API (`GET /v1/payments/...`) still reports it `pending` (`held`). So in
`make run` the payments of the Alipay and WeChat Pay orders arrive by notification, and a poll
decides only when the merchant does not answer.

Boundary: scheduling and sending; the requests are `sandbox.channel_signers`, the channels'
rules `channels`.
"""

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog

from channels.answers import ALIPAY_RESEND_S, WECHAT_RESEND_S
from domain.models import PaymentMethod
from sandbox import scenarios
from sandbox.channel_signers import Settled, Signer
from sandbox.store import Store, Tx, from_iso, to_iso
from sandbox.systems.call import digest

log = structlog.get_logger("sandbox.notifier")

TICK_S = 0.1
SEND_TIMEOUT_S = 5.0
# Sends before the query API shows a settled payment anyway (the merchant did not answer).
HELD_FOR_SENDS = 2
RESEND_S: dict[PaymentMethod, tuple[int, ...]] = {
    PaymentMethod.ALIPAY: ALIPAY_RESEND_S,
    PaymentMethod.WECHAT_PAY: WECHAT_RESEND_S,
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS channel_notifications (
    transaction_id TEXT PRIMARY KEY,
    method TEXT NOT NULL,
    notice_id TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    first_sent_at TEXT NOT NULL,
    next_at TEXT,
    answered_at TEXT,
    gave_up_at TEXT,
    last_answer TEXT NOT NULL
)
"""


def install(store: Store) -> None:
    """Create the notifier's table (its own: the sandbox's schema is not versioned for it)."""
    store.run_sync(lambda tx: tx.execute(SCHEMA))


def held(tx: Tx, transaction_id: str) -> bool:
    """Whether the query API still hides this settled payment: its notification goes first."""
    try:
        row = tx.one(
            "SELECT attempts, answered_at FROM channel_notifications WHERE transaction_id = ?",
            transaction_id,
        )
    except sqlite3.OperationalError:  # no notifier ever ran on this file
        return False
    return row is None or (row["answered_at"] is None and row["attempts"] < HELD_FOR_SENDS)


@dataclass(frozen=True)
class _Due:
    settled: Settled
    method: PaymentMethod
    notice_id: str
    attempts: int
    first_sent_at: str | None


class ChannelNotifier:
    def __init__(
        self,
        store: Store,
        signers: Sequence[Signer],
        notify_url: str,
        *,
        clock: Callable[[], datetime],
        time_scale: float,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._store = store
        self._signers = {signer.method: signer for signer in signers}
        self._url = notify_url.rstrip("/")
        self._clock = clock
        self._scale = time_scale
        self._http = http

    @property
    def channels(self) -> frozenset[str]:
        """The payment methods whose notifications this notifier sends."""
        return frozenset(method.value for method in self._signers)

    async def run_forever(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            if self._http is None:
                self._http = await stack.enter_async_context(
                    httpx.AsyncClient(timeout=SEND_TIMEOUT_S)
                )
            log.info("channel notifier started", channels=sorted(self.channels), url=self._url)
            while True:
                try:
                    await self.tick()
                except Exception:  # one bad round must not end the channel's notifications
                    log.exception("channel notifier round failed")
                await asyncio.sleep(TICK_S)

    async def tick(self) -> int:
        """Send every due notification once; how many were sent."""
        now = self._clock()
        due = await self._store.run(lambda tx: self._due(tx, now))
        await asyncio.gather(*(self._send(item) for item in due))
        return len(due)

    def _due(self, tx: Tx, now: datetime) -> list[_Due]:
        methods = sorted(self.channels)
        marks = ",".join("?" * len(methods))
        rows = tx.all(
            "SELECT t.*, n.notice_id, n.attempts, n.first_sent_at, n.next_at, n.answered_at, "
            "n.gave_up_at FROM transactions t LEFT JOIN channel_notifications n "
            f"USING (transaction_id) WHERE t.method IN ({marks}) "
            "AND n.answered_at IS NULL AND n.gave_up_at IS NULL",
            *methods,
        )
        due: list[_Due] = []
        for row in rows:
            if row["next_at"] is not None and from_iso(row["next_at"]) > now:
                continue
            method = PaymentMethod(row["method"])
            capture = scenarios.capture(row, now, self._scale)
            if capture is None:
                continue
            amount, paid_at = capture
            settled = Settled(
                transaction_id=row["transaction_id"],
                order_id=row["order_id"],
                amount=amount,
                currency=row["currency"],
                paid_at=paid_at,
            )
            notice_id = row["notice_id"] or digest("notify", method.value, row["transaction_id"])
            due.append(_Due(settled, method, notice_id, row["attempts"] or 0, row["first_sent_at"]))
        return due

    async def _send(self, item: _Due) -> None:
        signer = self._signers[item.method]
        now = self._clock()
        request = signer.request(item.settled, item.notice_id, now)
        assert self._http is not None
        try:
            response = await self._http.post(
                self._url + request.path, content=request.body, headers=request.headers
            )
            accepted = signer.accepted(response.status_code, response.content)
            answer = f"{response.status_code} {response.content[:200].decode(errors='replace')}"
        except httpx.HTTPError as error:
            accepted, answer = False, f"{type(error).__name__}: {error}"
        attempts = item.attempts + 1
        schedule = RESEND_S[item.method]
        after = self._clock()
        next_at = gave_up = None
        if not accepted:
            if attempts > len(schedule):
                gave_up = to_iso(after)
            else:
                next_at = to_iso(after + timedelta(seconds=schedule[attempts - 1] / self._scale))
        row = {
            "transaction_id": item.settled.transaction_id,
            "method": item.method.value,
            "notice_id": item.notice_id,
            "attempts": attempts,
            "first_sent_at": item.first_sent_at or to_iso(now),
            "next_at": next_at,
            "answered_at": to_iso(after) if accepted else None,
            "gave_up_at": gave_up,
            "last_answer": answer,
        }
        await self._store.run(lambda tx: tx.insert("channel_notifications", row, replace=True))
        event = "channel notification answered" if accepted else "channel notification refused"
        (log.info if accepted else log.warning)(
            event,
            channel=item.method.value,
            transaction_id=item.settled.transaction_id,
            order_id=item.settled.order_id,
            attempt=attempts,
            answer=answer,
            next_at=next_at,
            gave_up=gave_up is not None,
        )
