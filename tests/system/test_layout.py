"""The layout of DESIGN.md: the dependency rule (config -> proposals -> meetings -> polls -> core)
and ballot forms as kinds registered with the engine, with no branch on the kind outside the
registry (polls/kinds.py) and the kinds (meetings/kinds.py)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMPORT = re.compile(r"^\s*(?:from|import) (\w+)", re.MULTILINE)
INCLUDE = re.compile(r"""\{%\s*(?:include|extends)\s+["'](\w+)/""")
HIGHER = {
    "core": {"polls", "meetings", "proposals", "config"},
    "polls": {"meetings", "proposals", "config"},
    "meetings": {"proposals", "config"},
    "proposals": {"config"},
}


def _imports_of(app: str) -> list[tuple[str, str]]:
    found = []
    for path in (ROOT / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for module in IMPORT.findall(path.read_text()):
            if module in HIGHER[app]:
                found.append((str(path.relative_to(ROOT)), module))
    return found


@pytest.mark.parametrize("app", sorted(HIGHER))
def test_an_app_imports_no_app_above_it(app: str) -> None:
    assert _imports_of(app) == []


@pytest.mark.parametrize("app", ["polls", "meetings"])
def test_a_lower_apps_templates_include_no_higher_apps_template(app: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / app / "templates").rglob("*.html")
        if set(INCLUDE.findall(path.read_text())) & HIGHER[app]
    ]
    assert offenders == []


APPS = ("config", "core", "polls", "meetings", "proposals")
KIND_HOMES = {"polls/kinds.py", "meetings/kinds.py", "meetings/ballot_forms.py"}
# A branch on the poll's kind in code: the enum's members, the old `is_item`, a comparison with
# a kind, or a kind spelled as text (in a filter or in SQL).
KIND_BRANCH = re.compile(r"""PollKind\.|\.is_item\b|kind ==|kind !=|kind in |\bkind\s*=\s*['"](?:public|shareholder)""")
# ... and in a template: a condition on a poll's or an item's kind (`{% if poll.is_item %}`,
# `{% if item.kind == "shareholder" %}`); a notification's or a proposal's kind is another kind.
TEMPLATE_KIND_BRANCH = re.compile(
    r"\{%\s*(?:if|elif)\b[^%]*(?:\bis_item\b|\b(?:poll|item)\w*\.(?:kind|get_kind_display)\b)"
)
# Where a kind is data, not a branch, each line as often as it may appear: the model field and
# its check constraint, the API's choice lists, a poll made with its kind by the service that
# makes it, the schema's name for the enum.
KIND_AS_DATA: dict[str, Counter[str]] = {
    "polls/models.py": Counter(
        {
            "kind = models.CharField(max_length=20, choices=PollKind.choices, default=PollKind.PUBLIC)": 1,
            'condition=Q(secret=False) | Q(kind=PollKind.PUBLIC), name="polls_poll_secret_only_public"': 1,
        }
    ),
    "polls/services.py": Counter({"kind=PollKind.PUBLIC,": 1}),  # poll_create
    "meetings/meeting_services.py": Counter({"kind=PollKind.SHAREHOLDER,": 1}),  # item_create
    "config/settings.py": Counter({'"PollKindEnum": "polls.kinds.API_KINDS",': 1}),
}


def _app_files(*suffixes: str) -> list[Path]:
    return [
        path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*"))
        if path.suffix in suffixes and "migrations" not in path.parts
    ]


def kind_branches(path: Path, text: str) -> list[str]:
    """The lines of `text` (the file at `path`) that branch on the poll's kind."""
    name = str(path.relative_to(ROOT)) if path.is_absolute() else str(path)
    if name in KIND_HOMES:
        return []
    pattern = KIND_BRANCH if path.suffix == ".py" else TEMPLATE_KIND_BRANCH
    allowed = Counter(KIND_AS_DATA.get(name, Counter()))
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not pattern.search(line):
            continue
        if allowed[line.strip()] > 0:
            allowed[line.strip()] -= 1
            continue
        found.append(f"{name}:{number}: {line.strip()}")
    return found


def test_no_code_branches_on_the_poll_kind_outside_the_ballot_forms() -> None:
    offenders = [line for path in _app_files(".py") for line in kind_branches(path, path.read_text())]
    assert offenders == [], "ask the poll's ballot form (polls/kinds.py) instead"


def test_no_template_branches_on_the_poll_kind() -> None:
    offenders = [line for path in _app_files(".html", ".txt") for line in kind_branches(path, path.read_text())]
    assert offenders == [], "ask poll.ballot_form instead"


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("polls/views.py", "if poll.kind == PollKind.SHAREHOLDER:"),
        ("polls/views.py", "if poll.is_item:"),
        ("polls/selectors.py", "polls = Poll.objects.filter(kind=PollKind.PUBLIC)"),
        ("meetings/services.py", "if poll.kind != 'public':"),
        ("proposals/forms.py", "queryset = Poll.objects.filter(kind='public')"),
        ("polls/fastpath.py", "WHERE id = %(poll)s AND kind = 'public'"),
        ("polls/disclosure.py", "ballots = poll.ballot_count if poll.kind in ITEM_KINDS else votes"),
        ("polls/templates/polls/poll_detail.html", "{% if poll.is_item %}"),
        ("polls/templates/polls/poll_detail.html", '{% elif poll.kind == "shareholder" %}'),
        ("proposals/templates/console/certify.html", "{% if poll.is_item and status == PollStatus.CLOSED %}"),
        ("meetings/templates/meetings/meeting_detail.html", "{% for item in items %}{% if item.kind != 'public' %}"),
    ],
)
def test_the_check_finds_a_branch_on_the_kind(name: str, line: str) -> None:
    assert kind_branches(Path(name), f"x\n    {line}\n") == [f"{name}:2: {line}"]


@pytest.mark.parametrize(
    ("name", "line"),
    [
        # Each allowed line is allowed where it is, as often as it is listed.
        ("polls/selectors.py", "kind=PollKind.PUBLIC,"),
        ("meetings/views.py", "kind=PollKind.SHAREHOLDER,"),
    ],
)
def test_data_lines_are_allowed_only_where_they_are(name: str, line: str) -> None:
    assert kind_branches(Path(name), line) == [f"{name}:1: {line}"]


def test_a_data_line_is_allowed_only_as_often_as_listed() -> None:
    text = "kind=PollKind.PUBLIC,\nkind=PollKind.PUBLIC,\n"
    assert kind_branches(Path("polls/services.py"), text) == ["polls/services.py:2: kind=PollKind.PUBLIC,"]
