"""SOQL errors in Salesforce's shapes: an errorCode and the multi-line caret message."""

from __future__ import annotations

MALFORMED_QUERY = "MALFORMED_QUERY"
INVALID_FIELD = "INVALID_FIELD"
INVALID_TYPE = "INVALID_TYPE"
INVALID_QUERY_FILTER_OPERATOR = "INVALID_QUERY_FILTER_OPERATOR"
NUMBER_OUTSIDE_VALID_RANGE = "NUMBER_OUTSIDE_VALID_RANGE"


class SoqlError(Exception):
    """A query Salesforce would reject. The REST layer answers HTTP 400 with
    `[{"message": error.message, "errorCode": error.error_code}]`."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message

    def to_wire(self) -> list[dict[str, str]]:
        """The REST error body."""
        return [{"message": self.message, "errorCode": self.error_code}]


def caret_message(text: str, pos: int, detail: str) -> str:
    """Salesforce's caret form: the query line, a caret under offset `pos`, Row/Column (1-based), detail.

    e.g. "\\nselect count() from XYZZY\\n                    ^\\nERROR at Row:1:Column:21\\nsObject type ..."
    """
    pos = max(0, min(pos, len(text)))
    row = text.count("\n", 0, pos) + 1
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start:] if line_end < 0 else text[line_start:line_end]
    col = pos - line_start + 1
    return f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{detail}"


def error_at(code: str, text: str, pos: int, detail: str) -> SoqlError:
    """A SoqlError whose message points at offset `pos` of the query text."""
    return SoqlError(code, caret_message(text, pos, detail))
