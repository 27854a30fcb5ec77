"""The exported dashboard in a real headless browser (Debian's chromium driven by Selenium): the pages
load without console errors, link to each other, and show the numbers expected for seeded data
(computed by hand).

Skipped with the reason when selenium, chromium or chromedriver are not installed
(CI: `apt-get install chromium chromium-driver` and `pip install selenium`)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import chromium_browser

from sfops.config import load_settings
from sfops.incidents import records
from sfops.incidents.model import Incident, Status
from sfops.store import Store
from sfops.web.console import Console
from sfops.web.export import export_site, serve_export

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium_browser() as driver:
        yield driver


def _seed(store: Store) -> None:
    base = dt.datetime(2026, 10, 5, 8, tzinfo=dt.UTC)
    # MTTR by hand: P1 = (60 + 90) / 2 = 75; P2 = 120; overall (60 + 90 + 120) / 3 = 90; MTTA (5+15+10)/3 = 10
    spec = [("P1", 0, 5, 60), ("P1", 1, 15, 90), ("P2", 2, 10, 120)]
    for n, (sev, day, ack, res) in enumerate(spec):
        detected = base + dt.timedelta(days=day)
        records.save_incident(
            store,
            Incident(
                id=f"a03000000000{n:03d}AAA",
                org="emu",
                severity=sev,
                status=Status.RESOLVED,
                summary=f"#{n}",
                detected_at=detected,
                acknowledged_at=detected + dt.timedelta(minutes=ack),
                resolved_at=detected + dt.timedelta(minutes=res),
                mitigated_at=detected + dt.timedelta(minutes=res),
            ),
        )
    records.save_incident(
        store,
        Incident(
            id="a03000000000099AAA",
            org="emu",
            severity="P3",
            status=Status.NEW,
            summary="Still <open>",
            detected_at=base + dt.timedelta(days=20),
        ),
    )


def test_dashboard_renders_in_chromium_without_console_errors(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    _seed(store)
    (tmp_path / "sfops.toml").write_text(
        '[orgs.emu]\nauth = "token"\ninstance_url = "https://emu.example.invalid"\n', encoding="utf-8"
    )
    settings = load_settings({"HOME": str(tmp_path)}, tmp_path / "sfops.toml", tmp_path)
    console = Console(
        store, settings, ("emu",), get_org=None, actor="t", clock=lambda: dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    )
    page = export_site(console, "emu", tmp_path / "site" / "dashboard.html")[0]
    server = serve_export(page, 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        browser.get(f"http://127.0.0.1:{server.server_address[1]}/dashboard.html")
        assert browser.title == "sfops - emu"
        assert browser.find_element(By.ID, "kpi-open").text == "1"
        assert "Still <open>" in browser.find_element(By.ID, "open").text
        browser.find_element(By.LINK_TEXT, "Incident analytics for emu").click()
        browser.find_element(By.LINK_TEXT, "all").click()  # the period filter: all time
        assert browser.title == "sfops analytics - emu"
        kpi = {k: browser.find_element(By.ID, f"kpi-{k}").text for k in ("incidents", "mtta", "mttr")}
        assert kpi == {"incidents": "4", "mtta": "10.0", "mttr": "90.0"}
        bars = {
            b.get_attribute("data-label"): b.get_attribute("data-value")
            for b in browser.find_elements(By.CSS_SELECTOR, "#mttr-by-severity rect")
        }
        assert bars == {"P1": "75.0", "P2": "120.0", "P3": "", "P4": ""}
        october = {
            r.get_attribute("data-series"): r.get_attribute("data-value")
            for r in browser.find_elements(By.CSS_SELECTOR, '#by-severity rect[data-x="2026-10"]')
        }
        assert october == {"P1": "2", "P2": "1", "P3": "1"}
        severe = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
        assert severe == []
    finally:
        server.shutdown()
        server.server_close()
