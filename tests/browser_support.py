"""Headless chromium for the page tests (Selenium + Debian's chromium and chromium-driver).

`chromium_browser()` is the one place that starts it. Importing this module skips the calling test module,
with the reason, when selenium, chromium or chromedriver is missing (apt-get install chromium chromium-driver)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not (CHROMEDRIVER and CHROMIUM):
    pytest.skip(
        "chromium/chromedriver not installed (apt-get install chromium chromium-driver)", allow_module_level=True
    )


@contextmanager
def chromium_browser(*extra_args: str) -> Iterator[Any]:
    """A headless chromium whose console log can be read, quit on exit.

    It runs without LD_PRELOAD: chromium hangs under libfaketime (scripts/suite-at-fake-dates.sh), and it only
    renders pages the server already dated, so it needs none of the test's faked clock."""
    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", *extra_args):
        options.add_argument(arg)
    options.binary_location = str(CHROMIUM)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    environment = {key: value for key, value in os.environ.items() if key != "LD_PRELOAD"}
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER), env=environment)
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()
