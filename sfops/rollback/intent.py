"""Start a Metadata API deploy at most once, even when its reply is lost.

A deploy call the org accepted but whose answer never came back leaves a deploy running in the org and
no id in our hands; running the command again would start a second deploy (a second full test run, a
second change on production). So every start is recorded first as a "pending" audit record carrying
a fingerprint of what is deployed (zip, options, phase). When the reply is lost, and on the next run
when a pending intent for the same fingerprint is found, the org's own list of deploys (Tooling API
`DeployRequest`, which Salesforce writes as soon as it accepts the call) is asked for a deploy this user
started in the intent's window with the same check-only flag and that this store does not know yet:
that deploy is followed instead of starting another. The caller settles the intent with the outcome.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sfops.errors import SalesforceError, SfopsError, TransientError
from sfops.salesforce.soql import soql_literal
from sfops.salesforce.values import parse_datetime

if TYPE_CHECKING:
    from sfops.salesforce.metadata import DeployOptions, MetadataClient
    from sfops.store import Store

AUDIT_PREFIX = "rollback."
# the deploy call ends within the gateway's request deadline (600 s) and retries; the org may stamp
# CreatedDate with a clock a little off ours
ADOPT_WINDOW = dt.timedelta(minutes=15)
CLOCK_SKEW = dt.timedelta(minutes=2)
# a pending intent older than this belongs to a run nobody followed up: its deploy (if any) is history,
# not something to report as this run's outcome
ADOPT_MAX_AGE = dt.timedelta(days=1)
# answers that do not say whether the org acted (besides TransientError: no answer, 5xx)
UNREAD_ANSWER = frozenset({"MALFORMED_RESPONSE", "BAD_RESPONSE", "RESPONSE_TOO_LARGE"})


class DeployOutcomeUnknownError(SfopsError):
    """A deploy may have started in the org, and sfops could not find out: it must not start another."""


@dataclass
class Started:
    """A deploy this run follows: the id, the pending audit record to settle, and what to tell the user."""

    deploy_id: str
    audit_id: int
    note: str | None = None


def fingerprint(zip_bytes: bytes, options: DeployOptions, phase: str) -> str:
    """What makes two deploy starts "the same deploy": the zip, the options that change the deploy, the phase."""
    digest = hashlib.sha256(zip_bytes)
    digest.update(options.to_xml().encode("utf-8"))
    digest.update(b"\0" + phase.encode("utf-8"))
    return digest.hexdigest()


def quick_fingerprint(validation_id: str, phase: str) -> str:
    """The fingerprint of a quick deploy of one validation."""
    return hashlib.sha256(f"quick\0{validation_id[:15]}\0{phase}".encode()).hexdigest()


class DeployIntents:
    """Intent before a deploy starts, adoption of a deploy whose start reply was lost."""

    def __init__(
        self,
        client: MetadataClient,
        store: Store,
        org: str,
        *,
        actor: str,
        now: Callable[[], dt.datetime],
        incident_id: str | None,
    ) -> None:
        self.client, self.store, self.org, self.actor = client, store, org, actor
        self.now, self.incident_id = now, incident_id

    def start(
        self, *, action: str, fingerprint: str, check_only: bool, begin: Callable[[], str], audit: dict[str, Any]
    ) -> Started:
        """Start the deploy with `begin()` once: adopt the deploy of a pending intent for the same
        fingerprint if the org has it, else record a new pending intent and call `begin`. `audit` holds
        the record's target/before/after/reason/details."""
        for intent in reversed(self._pending(fingerprint)):
            if self.now() - intent.at > ADOPT_MAX_AGE:
                self.store.settle_audit([intent.id], "abandoned", {"settled_at": self.now().isoformat()})
                continue
            known = (intent.details or {}).get("deploy_id")
            found = str(known) if known else self._lookup(intent.at, check_only)
            if found:
                self.store.settle_audit([intent.id], "pending", {"deploy_id": found})  # still pending
                return Started(
                    found,
                    intent.id,
                    f"ADOPTED deploy {found}: an earlier run started it at "
                    f"{intent.at:%H:%M:%S} UTC and did not see it finish; following "
                    "it instead of deploying again",
                )
            self.store.settle_audit(
                [intent.id],
                "not-applied",
                {"settled_by_lookup": self.now().isoformat(), "why": "no DeployRequest of this user in its window"},
            )
        at = self.now()
        details = {**audit.pop("details", {}), "fingerprint": fingerprint, "check_only": check_only}
        audit_id = self.store.record_audit(
            actor=self.actor,
            alias=self.org,
            action=f"{AUDIT_PREFIX}{action}",
            incident_id=self.incident_id,
            outcome="pending",
            details=details,
            at=at,
            **audit,
        )
        try:
            deploy_id = begin()
        except SalesforceError as exc:
            if not isinstance(exc, TransientError) and exc.error_code not in UNREAD_ANSWER:
                self.store.settle_audit([audit_id], "failed", {"error": exc.message})
                raise  # the org answered: it refused the deploy
            lost = exc
        else:
            self.store.settle_audit([audit_id], "pending", {"deploy_id": deploy_id})  # a crash now: still found
            return Started(deploy_id, audit_id)
        found = self._lookup(at, check_only, lost=lost)
        if not found:
            self.store.settle_audit(
                [audit_id], "failed", {"error": lost.message, "settled_by_lookup": self.now().isoformat()}
            )
            raise lost
        self.store.settle_audit([audit_id], "pending", {"deploy_id": found})
        return Started(
            found,
            audit_id,
            f"the org's reply to the deploy call was lost ({lost.message}); it had "
            f"started deploy {found}: following it instead of deploying again",
        )

    def _pending(self, fingerprint: str) -> list[Any]:
        return [
            a
            for a in self.store.pending_audits(alias=self.org, action_prefix=AUDIT_PREFIX)
            if (a.details or {}).get("fingerprint") == fingerprint
        ]

    def _known_ids(self) -> set[str]:
        """Deploy ids this store already follows or followed (not candidates for adoption)."""
        known = set()
        for record in self.store.audit_history(alias=self.org, action_prefix=AUDIT_PREFIX, limit=500):
            deploy_id = (record.details or {}).get("deploy_id") or (record.details or {}).get("validation_id")
            if deploy_id:
                known.add(str(deploy_id)[:15])
        return known

    def _lookup(self, at: dt.datetime, check_only: bool, *, lost: SalesforceError | None = None) -> str | None:
        """The deploy this user started in the window of an intent made at `at`, if the org lists one."""
        org = self.client.org
        try:
            user = org.identity.user_id
            soql = (
                "SELECT Id, Status, CreatedDate, CompletedDate, CheckOnly FROM DeployRequest "  # noqa: S608
                f"WHERE CreatedById = {soql_literal(user)} AND CheckOnly = {soql_literal(check_only)} "
                f"AND CreatedDate >= {soql_literal(at - CLOCK_SKEW)} "
                f"AND CreatedDate <= {soql_literal(at + ADOPT_WINDOW)} ORDER BY CreatedDate"
            )
            rows = org.tooling_query(soql)
        except SalesforceError as exc:
            first = (
                f"the deploy call got no answer ({lost.message}) and "
                if lost
                else "an earlier run's deploy of this package got no answer and "
            )
            raise DeployOutcomeUnknownError(
                f"{first}the org's deploy list could not be read ({exc.message}): the deploy may be running; "
                "nothing more was started. Re-run the same command to follow it instead of starting another "
                "(or see Setup > Deployment Status)."
            ) from None
        known = self._known_ids()
        fresh = [
            (parse_datetime(r.get("CreatedDate")), parse_datetime(r.get("CompletedDate")), str(r["Id"]))
            for r in rows
            if str(r.get("Id"))[:15] not in known and r.get("CreatedDate")
        ]
        # ours is the first one the org created after the intent; one created a little before it (a clock
        # a little behind ours) only if it had not finished by then (a deploy made just before, e.g.
        # the release itself by the same user, has)
        after = [deploy_id for created, _done, deploy_id in fresh if created and created >= at]
        if after:
            return after[0]
        before = [deploy_id for _created, done, deploy_id in fresh if not done or done >= at]
        return before[-1] if before else None
