"""The web page in headless Chromium (Playwright + Debian's /usr/bin/chromium), against a live server."""

from __future__ import annotations

import os
import re

import pytest

CHROMIUM = os.environ.get("NEURORL_CHROMIUM", "/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is missing (apt-get install -y chromium)"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright==1.65.2)")

from conftest import live_server  # noqa: E402
from neurorl.server.app import ServerConfig  # noqa: E402

TIMEOUT_MS = 240_000  # the first model and env calls compile under JAX on a loaded 2-core machine


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from neurorl.client import Client
    from test_sessions_agents import make_agent_checkpoint

    agent_dir = make_agent_checkpoint(tmp_path_factory.mktemp("agent"))
    with live_server(ServerConfig(state_dir=tmp_path_factory.mktemp("state"))) as url:
        with Client(url, timeout=600) as c:
            c.load_agent(str(agent_dir), agent_id="demo-agent")
        yield url


@pytest.fixture(scope="module")
def page(site):
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run"])
        pg = browser.new_page()
        pg.set_default_timeout(TIMEOUT_MS)
        playwright_api.expect.set_options(timeout=TIMEOUT_MS)
        errors = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(site + "/")
        yield pg
        browser.close()
        assert errors == [], errors


def expect(locator):
    return playwright_api.expect(locator)


def start(page, label):
    page.select_option("#play-task", label=label)
    env_id = page.locator("#play-task").input_value()
    page.click("#play-start")
    page.wait_for_selector(f"#play-board[data-env='{env_id}']")


def test_play_harlow_1d_with_the_keyboard_to_the_score(page):
    start(page, "Harlow 1-D")
    expect(page.locator("#play-frame")).to_be_visible()
    for _ in range(250):  # keep rolling one way: the gaze crosses the cross, then lands on an object
        if page.locator("#play-result").is_visible():
            break
        step = page.locator("#play-step").inner_text()
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(f"document.getElementById('play-step').textContent !== '{step}'")
    expect(page.locator("#play-result")).to_be_visible()
    rows = page.locator("#play-baselines tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("you")
    expect(page.locator("#play-baselines")).to_contain_text("ideal learner")
    expect(page.locator("#play-baselines")).to_contain_text("6.20")


def test_play_bandit_and_two_step_with_clicks_and_keys(page):
    start(page, "Two-armed bandit (0.9 / 0.1)")
    for i in range(4):
        page.click(f"#action-{i % 2}")
        expect(page.locator("#play-step")).to_have_text(str(i + 1))
    page.keyboard.press("1")
    expect(page.locator("#play-step")).to_have_text("5")
    expect(page.locator("#play-history li")).to_have_count(5)
    total = float(page.locator("#play-total").inner_text())
    assert 0 <= total <= 5
    start(page, "Two-step task")
    page.keyboard.press("2")
    expect(page.locator("#play-stage")).to_contain_text(re.compile(r"reached S[12] \((common|rare)\)"))


def test_play_harlow_visual_shows_pixels(page):
    start(page, "Harlow visual")
    img = page.locator("#play-frame")
    expect(img).to_be_visible()
    first = img.get_attribute("src")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#play-step")).to_have_text("1")
    assert first.startswith("data:image/png;base64,") and img.get_attribute("src") != first  # the view moved


def test_watch_an_agent_step_by_step(page):
    page.click("#tab-watch")
    page.click("#watch-refresh")
    page.select_option("#watch-agent", "demo-agent")
    page.click("#watch-play")
    expect(page.locator("#watch-view")).to_be_visible()
    expect(page.locator("#watch-len")).to_have_text("100")
    bars = page.locator("#watch-probs .bar")
    expect(bars).to_have_count(2)
    probs = [float(bars.nth(i).get_attribute("data-prob")) for i in range(2)]
    assert abs(sum(probs) - 1) < 1e-6
    page.click("#watch-next")
    expect(page.locator("#watch-step")).to_have_text("2")
    assert re.fullmatch(r"-?\d+\.\d{3}", page.locator("#watch-value").inner_text())


def test_hippocampus_view(page):
    page.click("#tab-hip")
    page.click("#hip-demo")
    expect(page.locator("#hip-status")).to_contain_text("succeeded")
    page.fill("#hip-index", "3")
    page.click("#hip-test")
    expect(page.locator("#hip-result")).to_contain_text("closest stored pattern")
    for grid in ("#hip-stored", "#hip-cue", "#hip-recall"):
        expect(page.locator(f"{grid} .unit")).to_have_count(144)
    on_stored = page.locator("#hip-stored .unit[data-v='1']").count()
    on_cue = page.locator("#hip-cue .unit[data-v='1']").count()
    assert on_stored == 36 and on_cue == 36 - 18  # ratio .5 switches off int(36 * .5) units (§1.4)


def test_docs_page_lists_operations(page, site):
    page.goto(site + "/docs")
    expect(page.locator("details.op").first).to_be_visible()
    assert page.locator("details.op").count() >= 25
    expect(page.locator("#ops")).to_contain_text("/v1/models/{name}/test")
