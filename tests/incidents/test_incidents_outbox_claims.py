"""The outbox's claim protocol (sfops/store/notifications.py under sfops.incidents.notify): a row is sent by
one sender only, and a row left "sending" by a sender that died goes back to the retry queue."""

from __future__ import annotations

import datetime as dt

from clock_support import Clock
from incidents_support import Receiver, alerts_section

from sfops.incidents.model import Incident, Status
from sfops.incidents.notify import AlertsConfig, Notifier, outbox
from sfops.store import Store, notifications

INCIDENT = Incident(
    id="a035g000000002gAAA",
    org="emu",
    severity="P3",
    status=Status.NEW,
    summary="Slow batch",
    name="INC-00043",
    detected_at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC),
)


def _failed_once(store: Store, receiver: Receiver, env: dict[str, str], clock: Clock) -> tuple[Notifier, int]:
    """A notifier and the id of a P3 webhook notification whose first attempt got an HTTP 500."""
    notifier = Notifier(
        AlertsConfig.from_settings(alerts_section(receiver), env), store, alias="emu", actor="alice", clock=clock
    )
    receiver.status = 500
    (result,) = notifier(INCIDENT, "triggered")
    assert result["status"] == "retry" and len(receiver.for_path("/hook")) == 1
    receiver.status = 200
    return notifier, result["id"]


def test_a_row_is_claimed_by_one_sender_only(
    store: Store, receiver: Receiver, alerts_env: dict[str, str], clock: Clock
) -> None:
    notifier, row_id = _failed_once(store, receiver, alerts_env, clock)
    row, claimed = notifications.claim(store, row_id, claimable=("retry",), status="sending", at=clock())
    assert claimed and row["status"] == "retry"
    _, again = notifications.claim(store, row_id, claimable=("retry",), status="sending", at=clock())
    assert not again

    result = notifier.deliver(row_id)  # another sender holds the row: nothing is sent twice
    assert result["status"] == "sending" and "another process" in result["error"]
    assert len(receiver.for_path("/hook")) == 1


def test_a_row_left_sending_returns_to_the_queue_after_the_grace_period(
    store: Store, receiver: Receiver, alerts_env: dict[str, str], clock: Clock
) -> None:
    notifier, row_id = _failed_once(store, receiver, alerts_env, clock)
    notifications.claim(store, row_id, claimable=("retry",), status="sending", at=clock())  # then the sender dies

    clock.advance(minutes=5)
    assert notifier.retry_due() == []  # still within the grace period: maybe still being sent
    assert [r["status"] for r in outbox(store, "emu")] == ["sending"]

    clock.advance(minutes=6)
    (result,) = notifier.retry_due()
    assert result["id"] == row_id and result["status"] == "sent" and result["attempts"] == 2
    assert len(receiver.for_path("/hook")) == 2
    (row,) = outbox(store, "emu", statuses=["sent"])
    assert row["last_error"] is None and row["incident_id"] == INCIDENT.id
