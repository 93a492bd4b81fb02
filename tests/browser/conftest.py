"""Browser tests: Playwright (pytest-playwright) driving Debian's Chromium against pytest-django's
live server on 127.0.0.1.

Without /usr/bin/chromium (or without `npm ci --prefix tests/browser` for the axe pass) these
tests skip with the reason; with QUORUM_REQUIRE_BROWSER=1, as in CI, they fail instead.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Playwright, expect

from meetings.models import Meeting
from polls import services as poll_services
from polls.models import Poll, RecordedPoll, ResultsVisibility
from proposals.models import Proposal
from tests.factories import (
    make_director,
    make_item,
    make_meeting,
    make_poll,
    make_register,
    make_secretary,
    make_user,
)

CHROMIUM = Path(os.environ.get("QUORUM_CHROMIUM", "/usr/bin/chromium"))
HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = HERE.parents[1] / "test-artifacts"
PASSWORD = "pw-for-tests-1"  # tests.factories.UserFactory's
REQUIRED = os.environ.get("QUORUM_REQUIRE_BROWSER") == "1"

# The Tesla 2025 annual meeting's public totals (rounded), held by three accounts here.
FOR_SHARES = 1_060_000_000
AGAINST_SHARES = 916_300_000
ABSTAIN_SHARES = 473_000_000
OUTSTANDING = 3_200_000_000


def unavailable(reason: str) -> None:
    """Skip, or fail when CI asks for the browser tests to run for real."""
    if REQUIRED:
        pytest.fail(f"{reason} (QUORUM_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


# --- Playwright ------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    # The live server listens on 127.0.0.1 (not "localhost", which may resolve to ::1 first).
    if not config.getoption("liveserver", default=None):
        config.option.liveserver = "127.0.0.1"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The browser tests run after all the others: from the first one on, Playwright's event
    loop counts as running in this thread (see `playwright` below)."""
    items.sort(key=lambda item: item.path.is_relative_to(HERE))


@pytest.fixture(scope="session")
def playwright(playwright: Playwright) -> Iterator[Playwright]:
    """Playwright's sync API marks its event loop as running in the test thread between calls,
    until the end of the session; Django refuses blocking ORM calls beside a running loop unless
    DJANGO_ALLOW_ASYNC_UNSAFE is set. The browser tests make such calls on purpose (building a
    world, checking what a page recorded), so the switch is on exactly while Playwright is, and
    never in the session's other tests or in the processes they start."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield playwright
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's Chromium: Playwright cannot download its own build here."""
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM}: apt-get install -y --no-install-recommends chromium")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": ["--no-sandbox"]}


@pytest.fixture(scope="session")
def base_url(live_server: Any) -> str:
    """Every context talks to the live server (pytest-playwright passes this to new contexts)."""
    return str(live_server.url)


@pytest.fixture
def origin(live_server: Any) -> str:
    assert live_server.url.startswith("http://127.0.0.1:"), live_server.url
    return str(live_server.url)


def log_in(page: Page, username: str, password: str = PASSWORD) -> Page:
    """Through the login form, as a person would."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("header")).to_contain_text(username)
    return page


ACTION_TIMEOUT_MS = 10_000  # a click or fill on a local page; Playwright's default is 30 s


# Chromium reports a blocked inline script or style, or a blocked load, on the console ("Refused
# to ... because it violates the following Content Security Policy directive"); the listener adds
# the `securitypolicyviolation` events, which also cover report-only cases and frames.
CSP_LISTENER = """
document.addEventListener('securitypolicyviolation', (event) => {
  console.error(`Content Security Policy violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`
    + ` at ${event.sourceFile || document.location.href}:${event.lineNumber}`);
});
"""


@pytest.fixture
def new_context(new_context: Callable[..., BrowserContext]) -> Iterator[Callable[..., BrowserContext]]:
    """Every browser context of a test, watched for Content-Security-Policy violations: a page
    that logs one fails the test, so every journey asserts the policy holds."""
    violations: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def watched(**context_args: Any) -> BrowserContext:
        context = new_context(**context_args)
        context.add_init_script(script=CSP_LISTENER)
        context.on("console", note)
        return context

    yield watched
    if violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(violations), pytrace=False)


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    context = new_context()
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    return context


@pytest.fixture
def signed_in(new_context: Callable[..., BrowserContext]) -> Callable[..., Page]:
    """A page in a browser context of its own, signed in as `username` (one context per role)."""

    def open_as(username: str, **context_args: Any) -> Page:
        context = new_context(**context_args)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        return log_in(context.new_page(), username)

    return open_as


def screenshot(page: Page, journey: str) -> Path:
    """The journey's final page, whole, for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{journey}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000, f"{path} is empty"
    return path


# --- axe-core --------------------------------------------------------------------------------


def axe_violations(page: Page, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """Run axe-core (from the npm registry, pinned in package.json) on the page as it is."""
    if not AXE.exists():
        unavailable(f"axe-core is not installed: npm ci --prefix {HERE.relative_to(HERE.parents[1])}")
    # Evaluated through the DevTools protocol, not added as an inline <script>: the page's
    # Content-Security-Policy refuses inline scripts, and axe is the test's, not the page's.
    page.evaluate(AXE.read_text())
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in results["violations"] if v.get("impact") in impacts]


def axe_summary(url: str, violations: list[dict[str, Any]]) -> str:
    lines = [f"axe: {len(violations)} serious or critical violation(s) on {url}"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"][:5]:
            lines.append(f"    {json.dumps(node['target'])}: {node.get('failureSummary', '').splitlines()[-1:]}")
            lines.append(f"      {node['html'][:200]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


# --- A world to browse -----------------------------------------------------------------------


@dataclass
class World:
    secretary: User
    poll: Poll  # public, open, votes may change, live results
    meeting: Meeting  # three open items; alice, bob and carol hold the shares
    items: list[Poll]


def make_world() -> World:
    """Accounts before the register, so holders link to them by e-mail."""
    secretary = make_secretary(username="secretary")
    for name in ("alice", "bob", "carol", "paolo"):
        make_user(username=name, email=f"{name}@example.com")
    for username, title, interests in [
        ("robyn", "Chair", ()),
        ("elon", "Director and CEO", ("xAI", "SpaceX", "X")),
        ("kimbal", "Director", ()),
        ("ira", "Director", ()),
        ("james", "Director", ()),
    ]:
        make_director(username, title=title, interests=interests)
    poll = make_poll(
        title="Should the annual report be published in Italian as well?",
        options=("Yes", "No", "Only a summary"),
        allow_change=True,
        results_visibility=ResultsVisibility.LIVE,
        description="Asked of the members before the annual meeting.",
    )
    register = make_register(
        [
            ("TSLA-0001", "Alice Example", "alice@example.com", FOR_SHARES),
            ("TSLA-0002", "Bob Example", "bob@example.com", AGAINST_SHARES),
            ("TSLA-0003", "Carol Example", "carol@example.com", ABSTAIN_SHARES),
        ],
        outstanding=OUTSTANDING,
    )
    meeting = make_meeting(register, title="2025 Annual Meeting of Stockholders")
    items = [
        make_item(meeting, title=title, results_visibility=ResultsVisibility.LIVE)
        for title in (
            "Elect the director nominees",
            "Ratify the appointment of the independent auditor",
            "Approve executive compensation on an advisory basis",
        )
    ]
    return World(secretary=secretary, poll=poll, meeting=meeting, items=items)


def make_recorded_x_poll() -> RecordedPoll:
    """The X poll of July 2024, with three snapshots of what the platform showed."""
    recorded = poll_services.recorded_poll_create(
        platform="X",
        url="https://x.com/elonmusk",
        author="Elon Musk (@elonmusk)",
        question="Should Tesla invest $5B into xAI?",
        options=["Yes", "No"],
        actor=None,
    )
    posted = datetime.datetime(2024, 7, 24, 22, 0, tzinfo=datetime.UTC)
    for hours, total, yes in [(3, 386_000, "70.0"), (4, 440_189, "69.5"), (24, 958_086, "67.9")]:
        poll_services.recorded_snapshot_add(
            recorded_poll=recorded,
            taken_at=posted + datetime.timedelta(hours=hours),
            total_votes=total,
            percentages={"Yes": Decimal(yes), "No": Decimal(100) - Decimal(yes)},
        )
    return recorded


@pytest.fixture
def world(live_server: Any) -> World:
    return make_world()


@pytest.fixture
def proposal_in_review(world: World) -> Proposal:
    """The xAI proposal in board review: Elon is recused, Robyn abstained."""
    from proposals import review_votes
    from tests.factories import make_proposal, start_review

    alice = User.objects.get(username="alice")
    proposal = make_proposal(
        alice,
        body="Tesla and xAI would share talent and compute; the valuation is set by outside investors.",
        amount=Decimal("5000000000.00"),
        currency="USD",
        needs_shareholder_vote=True,
        advisory=True,
    )
    start_review(proposal, world.secretary, days=14)
    review_votes.review_vote_cast(
        proposal_id=proposal.pk,
        actor=User.objects.get(username="robyn"),
        decision="abstain",
        comment="Shareholders should weigh in.",
    )
    proposal.refresh_from_db()
    return proposal
