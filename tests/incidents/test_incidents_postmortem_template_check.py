"""A post-mortem template with an unknown placeholder is an error naming the known ones, not a draft that keeps
the typo as literal text."""

from __future__ import annotations

import pytest

from sfops.errors import ConfigError
from sfops.incidents.model import Incident, Status
from sfops.incidents.postmortem import draft

INC = Incident(id="a00x", org="o", severity="P1", status=Status.NEW, summary="Quotes fail", name="INC-00042")


def test_known_placeholders_and_escaped_dollars_render() -> None:
    text = draft(INC, [], template="# $ref: ${summary} ($severity), budget $$5\n", authors="alice")
    assert text == "# INC-00042: Quotes fail (P1), budget $5\n"


def test_an_unknown_placeholder_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        draft(INC, [], template="# $ref\n$sumary and ${root_cuase}\n", authors="alice")
    message = info.value.message
    assert "unknown placeholder(s) $root_cuase, $sumary" in message
    assert "$summary" in message and "$root_cause" in message and "$$" in message
