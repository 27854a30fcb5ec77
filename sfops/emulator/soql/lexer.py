"""SOQL tokenizer. It never fails on odd characters (they become OTHER tokens that the parser
reports as "unexpected token"); only broken string literals raise here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from sfops.emulator.soql.errors import MALFORMED_QUERY, error_at

IDENT, STRING, NUMBER, DATE, DATETIME, OP, LPAREN, RPAREN, COMMA, COLON, BIND, OTHER, EOF = (
    "IDENT",
    "STRING",
    "NUMBER",
    "DATE",
    "DATETIME",
    "OP",
    "LPAREN",
    "RPAREN",
    "COMMA",
    "COLON",
    "BIND",
    "OTHER",
    "EOF",
)


@dataclass(frozen=True)
class Token:
    """One token: kind, decoded value, offset in the text and the source text it came from."""

    kind: str
    value: object
    pos: int
    text: str
    raw: str | None = None

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == IDENT else ""


_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_DATETIME_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})", re.ASCII)
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?![0-9A-Za-z_:])", re.ASCII)
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?![A-Za-z_0-9.])", re.ASCII)
_WS = " \t\r\n\f"
_DIGITS = frozenset("0123456789")
_ESCAPES = {
    "n": "\n",
    "N": "\n",
    "r": "\r",
    "R": "\r",
    "t": "\t",
    "T": "\t",
    "b": "\b",
    "B": "\b",
    "f": "\f",
    "F": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "%": "%",
    "_": "_",
}


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens, ending with an EOF token."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _WS:
            i += 1
            continue
        if ch == "'":
            tok, i = _string(text, i)
            tokens.append(tok)
            continue
        if ch in _DIGITS or (ch in "+-." and i + 1 < n and (text[i + 1] in _DIGITS or text[i + 1] == ".")):
            tok, i = _number_or_date(text, i)
            tokens.append(tok)
            continue
        m = _IDENT_RE.match(text, i)
        if m:
            tokens.append(Token(IDENT, m.group(), i, m.group()))
            i = m.end()
            continue
        two = text[i : i + 2]
        if two in ("!=", "<>", "<=", ">="):
            tokens.append(Token(OP, "!=" if two == "<>" else two, i, two))
            i += 2
            continue
        if ch in "=<>":
            tokens.append(Token(OP, ch, i, ch))
            i += 1
            continue
        if ch == ":":
            m = _IDENT_RE.match(text, i + 1)
            if m:
                tokens.append(Token(BIND, m.group(), i, text[i : m.end()]))
                i = m.end()
            else:
                tokens.append(Token(COLON, ":", i, ":"))
                i += 1
            continue
        simple = {"(": LPAREN, ")": RPAREN, ",": COMMA}.get(ch, OTHER)
        tokens.append(Token(simple, ch, i, ch))
        i += 1
    tokens.append(Token(EOF, None, n, "<EOF>"))
    return tokens


def _string(text: str, start: int) -> tuple[Token, int]:
    out: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            return Token(STRING, "".join(out), start, text[start : i + 1], raw=text[start + 1 : i]), i + 1
        if ch == "\\":
            if i + 1 >= n:
                break
            nxt = text[i + 1]
            if nxt not in _ESCAPES:
                raise error_at(
                    MALFORMED_QUERY,
                    text,
                    start,
                    f"Invalid string literal '{text[start + 1 : i + 2]}'. "
                    f"Illegal character sequence '\\{nxt}' in string literal.",
                )
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    raise error_at(MALFORMED_QUERY, text, start, f"unexpected token: '{text[start : start + 20]}'")


def _number_or_date(text: str, start: int) -> tuple[Token, int]:
    m = _DATETIME_RE.match(text, start)
    if m:
        value = _parse_datetime(m)
        if value is not None:
            return Token(DATETIME, value, start, m.group()), m.end()
        return Token(OTHER, m.group(), start, m.group()), m.end()
    m = _DATE_RE.match(text, start)
    if m:
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return Token(OTHER, m.group(), start, m.group()), m.end()
        return Token(DATE, d, start, m.group()), m.end()
    m = _NUMBER_RE.match(text, start)
    if m and any(c in _DIGITS for c in m.group()):
        raw = m.group()
        value: int | float = float(raw) if "." in raw else int(raw)
        return Token(NUMBER, value, start, raw), m.end()
    # a run of digits glued to letters (e.g. "5abc") or a lone sign: one bad token
    end = start + 1
    while end < len(text) and text[end].isascii() and (text[end].isalnum() or text[end] in "_.:-+"):
        end += 1
    return Token(OTHER, text[start:end], start, text[start:end]), end


def _parse_datetime(m: re.Match[str]) -> datetime | None:
    year, month, day, hour, minute, second = (int(m.group(k)) for k in range(1, 7))
    frac = m.group(7)
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    zone = m.group(8)
    if zone == "Z":
        tz: timezone = UTC
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            return None
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None
