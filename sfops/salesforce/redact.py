"""Masking of secrets (access tokens, session ids, passwords) before anything is shown or logged."""

from __future__ import annotations

import re

# A Salesforce session id / access token: a 15- or 18-char org id, '!', then the secret part.
_TOKEN_RE = re.compile(r"\b(00D[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?)![0-9A-Za-z._\-]+")
_BEARER_RE = re.compile(r"(?i)(bearer\s+)[^\s\"',]+")
_SESSION_XML_RE = re.compile(r"(<(?:\w+:)?sessionId>)[^<]*(</)")


def mask_token(token: str | None) -> str:
    """A token as it may be shown: the org-id prefix kept, the secret part replaced (`00D...!****`)."""
    if not token:
        return ""
    prefix, sep, _ = token.partition("!")
    return f"{prefix}!****" if sep else "****"


def redact(text: str, *secrets: str | None) -> str:
    """`text` with known secret values and anything shaped like a Salesforce token masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, mask_token(secret) if "!" in secret else "****")
    text = _TOKEN_RE.sub(lambda m: f"{m.group(1)}!****", text)
    text = _BEARER_RE.sub(lambda m: f"{m.group(1)}****", text)
    return _SESSION_XML_RE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
