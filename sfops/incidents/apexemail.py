"""Apex exception email recipients (ApexEmailNotification) through the Tooling API.

Each record holds one external `Email` address or one `UserId`. Older orgs may hold several
addresses separated by ';' in one Email value; listing splits them. Deploying the
ApexEmailNotifications metadata type instead REPLACES the whole list (every recipient not in
the file is deleted), which is why sfops edits the records one by one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sfops.errors import UsageError
from sfops.salesforce import Org, soql_quote

if TYPE_CHECKING:
    from sfops.store import Store

Confirm = Callable[[str], None]  # sees what is about to be written; raises to abort

OBJECT = "ApexEmailNotification"
METADATA_WARNING = (
    "Deploying ApexEmailNotifications metadata replaces the whole recipient list: recipients "
    "not in the deployed file are deleted. sfops changes records one by one instead."
)
_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")


def list_recipients(org: Org) -> list[dict[str, Any]]:
    """Every recipient: record id, kind (email/user), address, username."""
    rows = org.tooling_query(f"SELECT Id, Email, UserId FROM {OBJECT}")  # noqa: S608 (constant)
    user_ids = sorted({r["UserId"] for r in rows if r.get("UserId")})
    users: dict[str, dict[str, Any]] = {}
    if user_ids:
        quoted = ", ".join(soql_quote(u) for u in user_ids)
        users = {u["Id"]: u for u in org.query(f"SELECT Id, Username, Email FROM User WHERE Id IN ({quoted})")}  # noqa: S608
    out: list[dict[str, Any]] = []
    for r in rows:
        if r.get("UserId"):
            user = users.get(r["UserId"], {})
            out.append(
                {
                    "id": r["Id"],
                    "kind": "user",
                    "address": user.get("Email"),
                    "user": user.get("Username"),
                    "user_id": r["UserId"],
                }
            )
        for address in re.split(r"[;,\s]+", r.get("Email") or ""):
            if address:
                out.append({"id": r["Id"], "kind": "email", "address": address, "user": None, "user_id": None})
    return out


def _keyed(store: Store, org: Org) -> None:
    """Audit under the org id, so every alias of the org sees the record."""
    from sfops.store import org_keys  # lazily: the store's import is not needed to list recipients

    org_keys.key_for(store, org)


def add_recipient(
    org: Org,
    store: Store,
    *,
    actor: str,
    email: str | None = None,
    username: str | None = None,
    reason: str | None = None,
    dry_run: bool = False,
    confirm: Confirm | None = None,
) -> dict[str, Any]:
    """Add one recipient (an external address or a user), audited; an existing one is not duplicated.

    With `dry_run` nothing is written ("created" says what would happen, "id" is None). `confirm`
    (if given) is asked before anything is read or written and may raise to abort."""
    if confirm is not None and not dry_run:
        confirm("Add an Apex exception email recipient.")
    row = _add(org, email=email, username=username, dry_run=dry_run)
    if row["created"] and not dry_run:
        _keyed(store, org)
        store.record_audit(
            actor=actor,
            alias=org.alias,
            action="alerts.apex-email.add",
            target=f"ApexEmailNotification:{row.get('user') or row.get('address')}",
            after={"id": row["id"]},
            reason=reason,
        )
    return row


def _add(org: Org, *, email: str | None, username: str | None, dry_run: bool) -> dict[str, Any]:
    if bool(email) == bool(username):
        raise UsageError("Give exactly one of --email or --user.")
    current = list_recipients(org)
    if email:
        email = email.strip()
        if not _EMAIL.match(email):
            raise UsageError(f"'{email}' is not an email address.")
        match = next(
            (r for r in current if r["kind"] == "email" and (r["address"] or "").lower() == email.lower()), None
        )
        if match:
            return {**match, "created": False}
        new_id = None if dry_run else org.tooling_request("POST", f"sobjects/{OBJECT}/", json={"Email": email})["id"]
        return {"id": new_id, "kind": "email", "address": email, "user": None, "created": True}
    users = org.query(f"SELECT Id, Username, Email FROM User WHERE Username = {soql_quote(str(username))}")  # noqa: S608
    if not users:
        raise UsageError(f"No user with username '{username}'.")
    user = users[0]
    match = next((r for r in current if r["kind"] == "user" and r["user_id"] == user["Id"]), None)
    if match:
        return {**match, "created": False}
    new_id = None if dry_run else org.tooling_request("POST", f"sobjects/{OBJECT}/", json={"UserId": user["Id"]})["id"]
    return {"id": new_id, "kind": "user", "address": user.get("Email"), "user": user["Username"], "created": True}


def remove_recipient(
    org: Org,
    store: Store,
    target: str,
    *,
    actor: str,
    reason: str | None = None,
    dry_run: bool = False,
    confirm: Confirm | None = None,
) -> list[dict[str, Any]]:
    """Remove a recipient by record id, email address or username, audited; returns what was (or, with
    `dry_run`, would be) removed. `confirm` (if given) is asked first and may raise to abort."""
    if confirm is not None and not dry_run:
        confirm(f"Remove Apex exception email recipient {target}.")
    rows = _remove(org, target, dry_run=dry_run)
    if rows and not dry_run:
        _keyed(store, org)
    for row in [] if dry_run else rows:
        store.record_audit(
            actor=actor,
            alias=org.alias,
            action="alerts.apex-email.remove",
            target=f"ApexEmailNotification:{row.get('user') or row.get('address')}",
            before={"id": row["id"]},
            reason=reason,
        )
    return rows


def _remove(org: Org, target: str, *, dry_run: bool) -> list[dict[str, Any]]:
    current = list_recipients(org)
    key = target.strip().lower()
    hits = [
        r
        for r in current
        if r["id"].lower() == key or (r["address"] or "").lower() == key or (r["user"] or "").lower() == key
    ]
    if not hits:
        raise UsageError(
            f"No Apex exception email recipient matches '{target}'.", actions=["sfops alerts apex-email list"]
        )
    removed: list[dict[str, Any]] = []
    for record_id in dict.fromkeys(h["id"] for h in hits):
        siblings = [r for r in current if r["id"] == record_id and r["kind"] == "email"]
        keep = [r["address"] for r in siblings if r not in hits]
        if keep and not dry_run:  # a legacy multi-address value: rewrite it without the removed address
            org.tooling_request("PATCH", f"sobjects/{OBJECT}/{record_id}", json={"Email": ";".join(keep)})
        elif not dry_run:
            org.tooling_request("DELETE", f"sobjects/{OBJECT}/{record_id}")
        removed.extend(h for h in hits if h["id"] == record_id)
    return removed
