"""A real headless browser for the pages the kit writes: Debian's ``chromium``, driven by
Selenium through Debian's ``chromium-driver`` (both given by path, so Selenium Manager
downloads nothing). Without them the browser tests fail saying what to install.

Tests read what a person sees: element boxes as laid out (``box``), computed styles,
visible text; ``screenshot`` keeps a picture of the whole page in the test's folder.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

WIDTH, HEIGHT = 1280, 900
INSTALL = "apt-get install chromium chromium-driver (Debian), and pip install selenium"


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium, logging its network requests and console."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(f"the browser tests need Selenium: {INSTALL}", pytrace=False)
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.fail(f"the browser tests need chromium and chromedriver: {INSTALL}", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for argument in (
        "--headless=new",
        "--no-sandbox",  # as root in a container
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--window-size={WIDTH},{HEIGHT}",
        "--force-color-profile=srgb",
        "--force-prefers-reduced-motion",
        "--no-first-run",
        "--disable-background-networking",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    session = webdriver.Chrome(options=options, service=Service(driver))
    try:
        yield session
    finally:
        session.quit()


def box(driver, element) -> dict[str, float]:
    """The element's box on the page, in CSS pixels (``left``, ``right``, ``top``...)."""
    return driver.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,"
        " width: r.width, height: r.height, x: r.left + r.width / 2};",
        element,
    )


def style(driver, element, name: str) -> str:
    return driver.execute_script(
        "return getComputedStyle(arguments[0]).getPropertyValue(arguments[1]);", element, name
    )


def screenshot(driver, path: Path) -> Path:
    """The whole page, not only the window, as a PNG."""
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def requested(driver) -> list[str]:
    """Every URL the browser asked for since the last call (the page itself included)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def console_errors(driver) -> list[str]:
    """Errors the page logged: a blocked load, a script error, a policy violation."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
