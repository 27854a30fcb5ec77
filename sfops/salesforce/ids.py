"""Salesforce record ids: the 15 -> 18 character case-insensitive form."""

from __future__ import annotations

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def to18(record_id: str) -> str:
    """The 18-char id for a 15- or 18-char id (an 18-char id is returned unchanged)."""
    if len(record_id) == 18:
        return record_id
    if len(record_id) != 15 or not record_id.isalnum():
        raise ValueError(f"not a Salesforce id: {record_id!r}")
    suffix = ""
    for chunk in range(3):
        bits = 0
        for pos, char in enumerate(record_id[chunk * 5 : chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << pos
        suffix += _CHECKSUM_ALPHABET[bits]
    return record_id + suffix
