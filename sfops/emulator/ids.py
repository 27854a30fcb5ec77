"""Salesforce record ids: 15-char case-sensitive ids, the 18-char case-safe checksum, key prefixes."""

from __future__ import annotations

import itertools
import re
import threading

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")


def checksum(id15: str) -> str:
    """The 3-char suffix that makes a 15-char id case-insensitively unique."""
    out = []
    for chunk in range(3):
        bits = 0
        for j, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << j
        out.append(_CHECKSUM_ALPHABET[bits])
    return "".join(out)


def to18(value: str) -> str:
    """The 18-char form of a 15- or 18-char id (18-char input is re-normalised from its first 15)."""
    return value[:15] + checksum(value[:15])


def to15(value: str) -> str:
    """The 15-char (case-sensitive) form."""
    return value[:15]


def looks_like_id(value: object) -> bool:
    """True for a 15-char id or an 18-char id whose checksum is right."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        return False
    return len(value) == 15 or value[15:].upper() == checksum(value[:15])


def normalize(value: str) -> str:
    """Canonical 18-char id for a 15/18-char input; for 18-char input the case of the first 15
    chars is recovered from the checksum-free comparison, so a lower-cased 18-char id still matches."""
    if len(value) == 18:
        return _recase(value)
    return to18(value)


def _recase(value: str) -> str:
    """Rebuild the case of an 18-char id from its checksum (lets `001abc...` match `001ABC...`)."""
    head, suffix = value[:15], value[15:].upper()
    chars = list(head.lower())
    for chunk in range(3):
        bits = _CHECKSUM_ALPHABET.find(suffix[chunk]) if chunk < len(suffix) else 0
        for j in range(5):
            pos = chunk * 5 + j
            if bits >= 0 and bits & (1 << j) and chars[pos].isalpha():
                chars[pos] = chars[pos].upper()
    return "".join(chars) + suffix


def base62(n: int, width: int) -> str:
    """`n` in base 62, left-padded with zeros to `width`."""
    digits = []
    while n:
        n, r = divmod(n, 62)
        digits.append(_BASE62[r])
    return "".join(reversed(digits)).rjust(width, "0")


class IdFactory:
    """Makes ids: prefix + pod "5g" + reserved "0" + 9-char base-62 counter + checksum."""

    def __init__(self, start: int = 1, pod: str = "5g") -> None:
        self._counter = itertools.count(start)
        self._lock = threading.Lock()
        self.pod = pod

    def new(self, prefix: str) -> str:
        """A fresh 18-char id with the given 3-char key prefix."""
        with self._lock:
            n = next(self._counter)
        return to18(prefix + self.pod + "0" + base62(n, 9))

    def peek(self) -> int:
        """The next counter value (persisted so ids stay unique across restarts)."""
        with self._lock:
            n = next(self._counter)
            self._counter = itertools.count(n)
            return n
