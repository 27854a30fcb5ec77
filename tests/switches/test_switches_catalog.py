"""Switch discovery from Kill_Switch__c's describe, and name matching."""

from __future__ import annotations

import json

from paths import WIRE

from sfops.switches.catalog import match_names, switches_from_describe


def describe_with(*extra: dict) -> dict:
    """The real (trimmed) custom-setting describe from the wire fixtures, plus extra fields."""
    body = json.loads((WIRE / "sobject-describe-custom-object-trimmed.json").read_text())
    base = {k: v for k, v in body["fields"][0].items()}
    body["fields"] = body["fields"] + [{**base, **f} for f in extra]
    return body


def test_every_custom_updateable_checkbox_is_a_switch_with_label_and_help() -> None:
    describe = describe_with(
        {
            "name": "New_Pricing__c",
            "type": "boolean",
            "custom": True,
            "updateable": True,
            "label": "New Pricing",
            "inlineHelpText": "Uncheck to stop the pricing engine.",
            "defaultValue": True,
        },
        {
            "name": "Async_Recalculation__c",
            "type": "boolean",
            "custom": True,
            "updateable": True,
            "label": "Async Recalculation",
            "inlineHelpText": None,
            "defaultValue": False,
        },
        {"name": "IsDeleted", "type": "boolean", "custom": False, "updateable": False, "label": "Deleted"},
        {"name": "Formula_Flag__c", "type": "boolean", "custom": True, "calculated": True, "label": "F"},
        {"name": "Note__c", "type": "string", "custom": True, "updateable": True, "label": "Note"},
    )
    switches = switches_from_describe(describe)
    assert [s.name for s in switches] == ["Async_Recalculation__c", "New_Pricing__c"]
    pricing = switches[1]
    assert (pricing.label, pricing.help, pricing.default) == (
        "New Pricing",
        "Uncheck to stop the pricing engine.",
        True,
    )
    assert switches[0].help is None


def test_names_match_case_insensitively_with_or_without_the_suffix() -> None:
    switches = switches_from_describe(
        describe_with({"name": "New_Pricing__c", "type": "boolean", "custom": True, "updateable": True, "label": "N"})
    )
    found, unknown = match_names(["new_pricing", "NEW_PRICING__C", "Nope__c", "New_Pricing__c; DROP"], switches)
    assert found == ["New_Pricing__c", "New_Pricing__c"]
    assert unknown == ["Nope__c", "New_Pricing__c; DROP"]
