"""The learner's walk in a real browser: Debian's headless Chromium driven by Playwright.

Home -> topic -> collection -> resource -> report a problem, with no console error on any
page and no request leaving 127.0.0.1 (every request is routed through a handler that refuses
other hosts, and Chromium itself may resolve no name).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import service_missing

CHROMIUM = Path("/usr/bin/chromium")
LOOPBACK = "127.0.0.1"
CHROMIUM_ARGS = [
    # No name resolves but the loopback address: nothing can leave, whatever the page says.
    f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {LOOPBACK}",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-sync",
]

pytestmark = pytest.mark.slow


@pytest.fixture
def chromium(site):
    # After `site`: the catalogue is written, and the database flushed at the end, while no
    # event loop runs in this thread (Playwright's sync API runs one, where Django refuses
    # database calls).
    if not CHROMIUM.exists() and shutil.which("chromium") is None:
        service_missing(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        yield browser
        browser.close()


@pytest.fixture
def site(transactional_db, live_server):
    from curation.demo.loader import load_demo
    from curation.models import HealthState, Resource

    load_demo()
    Resource.objects.update(health=HealthState.HEALTHY)
    Resource.objects.filter(url="http://deeplearning.net/").update(health=HealthState.BROKEN)
    return live_server.url


class Walk:
    """A page whose every request and console message is watched."""

    def __init__(self, browser) -> None:
        self.context = browser.new_context()
        self.left: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _route(self, route) -> None:
        if urlsplit(route.request.url).hostname == LOOPBACK:
            route.continue_()
        else:
            self.left.append(route.request.url)
            route.abort()

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} at {self.page.url}")

    def follow(self, selector: str) -> str:
        with self.page.expect_navigation():
            self.page.locator(selector).first.click()
        return urlsplit(self.page.url).path


def test_a_learner_walks_from_home_to_a_resource_and_reports_a_problem(site, chromium):
    walk = Walk(chromium)
    page = walk.page
    response = page.goto(site + "/")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "Learn from lists people can vouch for"

    assert walk.follow("ul.topics a:text-is('Deep learning')") == "/topics/deep-learning/"
    assert page.locator("h1").inner_text() == "Deep learning"
    assert page.locator("#level-beginner li.item").count() > 0

    path = walk.follow("a.collection")
    assert path == "/collections/so-you-are-interested-in-deep-learning/"
    titles = page.locator("section.section h2").all_inner_texts()
    assert titles[0] == "Start with a course"
    broken = page.locator("li.item", has_text="deeplearning.net")
    assert broken.locator("a.item-link").count() == 0
    assert broken.locator(".health").inner_text() == "Broken link: not linked"

    assert walk.follow("li.item a.details").startswith("/resources/")
    assert page.locator("a.go").count() == 1
    stylesheet = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "system-ui" in stylesheet  # the site's own stylesheet was served and applied

    page.locator("details.report summary").click()
    page.get_by_label("The link is broken").check()
    page.get_by_label("Anything else (optional)").fill("It answers 404 for me.")
    with page.expect_navigation():
        page.get_by_role("button", name="Send report").click()
    assert page.locator(".messages").inner_text() == "Thank you: a curator will look at it."

    walk.context.close()
    assert walk.left == []
    assert walk.errors == []


def test_the_walk_notices_a_request_to_another_host(site, chromium):
    # The guard of the walk above, proven: a request elsewhere is seen and refused.
    walk = Walk(chromium)
    walk.page.goto(site + "/")
    walk.page.evaluate("fetch('http://example.test/tracker').catch(() => null)")
    walk.context.close()
    assert walk.left == ["http://example.test/tracker"]
