"""The live console in headless chromium (Selenium): every page renders without console errors, the charts
have axes, legends and units, the filters work, and a signed-in user acknowledges an incident through
the form. Screenshots of each page are saved as artifacts (the path is printed; under the test's tmp dir).

Skipped with the reason when selenium, chromium or chromedriver are missing (apt-get install chromium
chromium-driver)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import chromium_browser

from sfops.incidents import records
from sfops.web.console import console_handler
from sfops.web.server import make_server, serve_in_background

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TOKEN = "s3cret-console-token-for-tests"  # what the web_settings fixture puts in SFOPS_CONSOLE_TOKEN


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium_browser("--window-size=1280,1600") as driver:
        yield driver


def _history(console: Any) -> None:
    """Resolved incidents over three months in the store (MTTA/MTTR by hand: see the assertions)."""
    from sfops.incidents.model import Incident, Status

    base = dt.datetime.now(dt.UTC).replace(hour=8, minute=0, second=0, microsecond=0) - dt.timedelta(days=70)
    for n, (days, sev, category, ack, fix) in enumerate(
        [(0, "P1", "Apex", 10, 60), (1, "P2", "Integration", 20, 120), (40, "P3", "Apex", 30, 240)]
    ):
        detected = base + dt.timedelta(days=days)
        records.save_incident(
            console.store,
            Incident(
                id=f"a03000000000{n:03d}AAA",
                org="emu",
                severity=sev,
                status=Status.RESOLVED,
                summary=f"past #{n}",
                category=category,
                detected_at=detected,
                acknowledged_at=detected + dt.timedelta(minutes=ack),
                resolved_at=detected + dt.timedelta(minutes=fix),
            ),
        )


def test_console_pages_in_chromium(browser: Any, web_settings, make_console, raise_incident, tmp_path: Path) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 20, ignored_exceptions=(StaleElementReferenceException,))
    console = make_console(web_settings("[console]\nwrites = true\n"))
    live = raise_incident(console, "emu", "Checkout <timeouts>", "P1")
    _history(console)
    server = make_server("127.0.0.1", 0, console_handler(console))
    serve_in_background(server)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    shots = tmp_path / "screenshots"
    shots.mkdir()
    print(f"\nconsole screenshots: {shots}")

    def shot(name: str) -> None:
        assert browser.save_screenshot(str(shots / f"{name}.png"))

    try:
        browser.get(base + "/")
        assert browser.title == "sfops - orgs"
        rows = {
            r.find_element(By.CSS_SELECTOR, "td a").text: r
            for r in browser.find_elements(By.CSS_SELECTOR, "#orgs tr")
            if r.find_elements(By.CSS_SELECTOR, "td a")
        }
        assert set(rows) == {"emu", "prod"}
        shot("1-orgs")
        rows["emu"].find_element(By.LINK_TEXT, "emu").click()
        assert browser.title == "sfops - emu"
        assert browser.find_element(By.ID, "kpi-open").text == "1"
        assert "Checkout <timeouts>" in browser.find_element(By.ID, "open").text
        switches = browser.find_elements(By.CSS_SELECTOR, "#switches tr[data-switch]")
        assert switches  # effective values read from the org
        shot("2-org-emu")
        browser.find_element(By.LINK_TEXT, live.ref).click()
        assert browser.find_element(By.ID, "incident-title").text.startswith(f"{live.ref}: Checkout <timeouts>")
        assert "raised" in browser.find_element(By.ID, "timeline").text.lower()
        assert browser.find_element(By.ID, "postmortem").text.strip()
        assert not browser.find_elements(By.ID, "ack-form")  # not signed in: no write actions
        shot("3-incident")
        browser.find_element(By.ID, "nav-analytics").click()
        Select(browser.find_element(By.NAME, "period")).select_by_value("365d")
        Select(browser.find_element(By.NAME, "org")).select_by_value("emu")
        browser.find_element(By.CSS_SELECTOR, "#filters button").click()
        wait.until(lambda b: "org=emu" in b.current_url)
        assert "period=365d" in browser.current_url
        assert browser.find_element(By.ID, "kpi-incidents").text == "4"
        assert browser.find_element(By.ID, "kpi-mttr").text == "140.0"  # (60 + 120 + 240) / 3 resolved
        chart = browser.find_element(By.ID, "mtta-mttr")
        axis_titles = {t.text for t in chart.find_elements(By.CSS_SELECTOR, "text.axis-title")}
        assert axis_titles == {"minutes", "month"}
        assert len(chart.find_elements(By.CSS_SELECTOR, "text.tick")) >= 5 + 3  # y ticks and month labels
        legends = [
            k.text for k in browser.find_elements(By.CSS_SELECTOR, ".legend")[0].find_elements(By.CSS_SELECTOR, ".key")
        ]
        assert legends == ["MTTA", "MTTR"]
        points = {
            (c.get_attribute("data-series"), c.get_attribute("data-value"))
            for c in chart.find_elements(By.CSS_SELECTOR, "circle")
        }
        assert ("MTTR", "240") in points and ("MTTA", "30") in points
        severity = browser.find_element(By.ID, "by-severity")
        assert {r.get_attribute("data-series") for r in severity.find_elements(By.CSS_SELECTOR, "rect")} == {
            "P1",
            "P2",
            "P3",
        }
        shot("4-analytics")
        # sign in and acknowledge through the form
        browser.get(base + "/login")
        browser.find_element(By.NAME, "token").send_keys(TOKEN)
        browser.find_element(By.CSS_SELECTOR, "form button").click()
        wait.until(lambda b: b.current_url == base + "/")
        browser.get(f"{base}/incident/emu/{live.id}")
        assert "signed in" in browser.find_element(By.TAG_NAME, "header").text
        form = browser.find_element(By.ID, "ack-form")
        form.find_element(By.NAME, "note").send_keys("looking")
        form.find_element(By.CSS_SELECTOR, "button").click()
        wait.until(lambda b: b.find_elements(By.ID, "flash"))
        assert "New -> Triaged" in browser.find_element(By.ID, "flash").text
        assert records.load_incident(console.store, "emu", live.id).status.value == "Triaged"
        shot("5-acknowledged")
        severe = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
        assert severe == []
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-orgs.png",
        "2-org-emu.png",
        "3-incident.png",
        "4-analytics.png",
        "5-acknowledged.png",
    ]
