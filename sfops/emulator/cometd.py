"""The Streaming API's CometD endpoint, `/cometd/<version>`, enough for clients that handshake and then
read their results another way (the `sf` CLI's `apex get test` handshakes before it queries).

Bayeux over long polling: `/meta/handshake` gives a clientId (the OAuth token in the Authorization
header is checked; a bad one answers `401::Authentication invalid` as Salesforce does),
`/meta/subscribe` accepts the system topic `/systemTopic/TestResult` and answers any other channel
with Salesforce's "channel ... does not exist" error, `/meta/connect` returns at once with advice to
poll again after a pause (no events are ever delivered: test runs finish before anyone subscribes),
`/meta/disconnect` forgets the client; an unknown clientId is `403::Unknown client`.
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

from sfops.emulator import auth
from sfops.emulator.wire import Request, Response

if TYPE_CHECKING:
    from sfops.emulator.app import Emulator

CHANNELS = frozenset({"/systemTopic/TestResult"})
RECONNECT_INTERVAL_MS = 2000
CLIENTS = "cometd.client"  # the emulator's key/value kind holding live client ids (a reset forgets them)


def _reply(message: dict[str, Any], **fields: Any) -> dict[str, Any]:
    out = {"channel": message.get("channel"), **fields}
    if "id" in message:
        out["id"] = message["id"]
    return out


def _answer(emu: Emulator, req: Request, message: dict[str, Any]) -> dict[str, Any]:
    channel = str(message.get("channel") or "")
    client = str(message.get("clientId") or "")
    if channel == "/meta/handshake":
        session = emu.sessions.get(auth.bearer_token(req))
        if session is None:
            return _reply(message, successful=False, error="401::Authentication invalid", advice={"reconnect": "none"})
        client_id = secrets.token_urlsafe(18)
        emu.store.put_json(CLIENTS, client_id, {"user_id": session.user_id})
        return _reply(
            message,
            version="1.0",
            minimumVersion="1.0",
            clientId=client_id,
            successful=True,
            supportedConnectionTypes=["long-polling"],
            ext={"replay": True, "payload.format": True},
            advice={"reconnect": "retry", "interval": 0, "timeout": 110000},
        )
    if not client or emu.store.get_json(CLIENTS, client) is None:
        return _reply(
            message,
            clientId=client,
            successful=False,
            error="403::Unknown client",
            advice={"reconnect": "handshake", "interval": 0},
        )
    if channel == "/meta/connect":
        return _reply(
            message,
            clientId=client,
            successful=True,
            advice={"reconnect": "retry", "interval": RECONNECT_INTERVAL_MS, "timeout": 110000},
        )
    if channel == "/meta/subscribe":
        wanted = str(message.get("subscription") or "")
        if wanted in CHANNELS:
            return _reply(message, clientId=client, subscription=wanted, successful=True)
        return _reply(
            message,
            clientId=client,
            subscription=wanted,
            successful=False,
            error=f"400::The channel you requested to subscribe to does not exist {{{wanted}}}",
        )
    if channel == "/meta/unsubscribe":
        return _reply(message, clientId=client, subscription=message.get("subscription"), successful=True)
    if channel == "/meta/disconnect":
        emu.store.delete_json(CLIENTS, client)
        return _reply(message, clientId=client, successful=True)
    return _reply(message, clientId=client, successful=False, error=f"400::Unknown channel {channel}")


def handle(emu: Emulator, req: Request, version: str) -> Response:
    """POST /cometd/<version>: a Bayeux message or array of messages -> the array of replies."""
    if req.method != "POST":
        return Response(
            400, b'[{"successful":false,"error":"400::POST a Bayeux message"}]', {"Content-Type": "application/json"}
        )
    try:
        body = json.loads(req.body or b"[]")
    except ValueError:
        body = None
    messages = body if isinstance(body, list) else [body] if isinstance(body, dict) else None
    if not messages or not all(isinstance(m, dict) for m in messages):
        return Response(
            400, b'[{"successful":false,"error":"400::Invalid Bayeux message"}]', {"Content-Type": "application/json"}
        )
    replies = [_answer(emu, req, m) for m in messages]
    return Response(200, json.dumps(replies).encode(), {"Content-Type": "application/json"})
