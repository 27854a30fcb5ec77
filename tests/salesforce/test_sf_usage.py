"""API usage from Sforce-Limit-Info, recorded from every response."""

from __future__ import annotations

import pytest
from sf_fixtures import API, wire_bytes

from sfops.errors import SalesforceError
from sfops.salesforce.usage import ApiUsage, parse_limit_info


def test_parse_plain_and_per_app_in_either_order() -> None:
    assert parse_limit_info("api-usage=25/15000") == ApiUsage(25, 15000)
    both = parse_limit_info("api-usage=25/5000; per-app-api-usage=17/250(appName=sfops)")
    assert (both.used, both.max, dict(both.per_app)) == (25, 5000, {"sfops": (17, 250)})
    reversed_order = parse_limit_info("per-app-api-usage=17/250(appName=sfops); api-usage=30/5000")
    assert (reversed_order.used, reversed_order.max) == (30, 5000)
    assert reversed_order.per_app == {"sfops": (17, 250)}
    assert parse_limit_info("per-app-api-usage=17/250(appName=x)") is None
    assert parse_limit_info(None) is None
    assert parse_limit_info("") is None
    assert str(both) == "25/5000"
    assert both.ratio == pytest.approx(0.005)


def test_every_response_updates_usage_including_errors(org, rsps) -> None:
    rsps.get(
        f"{API}/limits/",
        body=wire_bytes("limits.json"),
        content_type="application/json",
        headers={"Sforce-Limit-Info": "api-usage=10/15000"},
    )
    rsps.get(
        f"{API}/sobjects/Account/describe",
        body=wire_bytes("error-not-found.json"),
        status=404,
        content_type="application/json",
        headers={"Sforce-Limit-Info": "api-usage=11/15000"},
    )
    assert org.api_usage is None
    org.limits()
    assert org.api_usage == ApiUsage(10, 15000)
    with pytest.raises(SalesforceError):
        org.describe("Account")
    assert org.api_usage == ApiUsage(11, 15000)


def test_calls_through_simple_salesforce_are_recorded_too(org, rsps) -> None:
    rsps.get(
        f"{API}/sobjects/Account/001000000000001AAA",
        json={"Id": "001000000000001AAA"},
        headers={"Sforce-Limit-Info": "api-usage=77/15000; per-app-api-usage=3/250(appName=sfops)"},
    )
    org.sf.Account.get("001000000000001AAA")
    assert org.api_usage.used == 77
    assert org.api_usage.per_app["sfops"] == (3, 250)
