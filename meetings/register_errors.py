"""The register check's findings: codes with parameters, put into words only where they are
shown (the console, the admin, the API, an import job's page), in the reader's language.

Both import paths (meetings.registers in Python, meetings.register_import's SQL on PostgreSQL) produce
the same findings, line for line; an import job stores them as JSON (`as_json`), so a page
renders them in whatever language its reader chose, not the uploader's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

Param = str | int


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a line (or the file): a code from MESSAGES and the values its
    message names."""

    code: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def __str__(self) -> str:
        return finding_text(self)


@dataclass(frozen=True)
class RegisterError:
    """One entry of a refused register's list: a line and everything wrong with it, or the
    whole file (line None)."""

    line: int | None
    findings: tuple[Finding, ...]

    def __str__(self) -> str:
        return register_error_text(self)

    def as_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "findings": [{"code": finding.code, "params": dict(finding.params)} for finding in self.findings],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RegisterError:
        return cls(
            line=data.get("line"),
            findings=tuple(Finding(item["code"], item.get("params", {})) for item in data.get("findings", [])),
        )


@dataclass(frozen=True)
class Message:
    text: StrOrPromise
    quoted: tuple[str, ...] = ()  # a cell as the file had it, shown in quotes
    grouped: tuple[str, ...] = ()  # share counts, grouped in the reader's style


MESSAGES: dict[str, Message] = {
    "empty_file": Message(gettext_lazy("the file is empty; expected the header holder,name,email,shares")),
    "unreadable": Message(gettext_lazy("the file cannot be read as UTF-8 CSV (%(why)s)")),
    "unreadable_past_line": Message(gettext_lazy("the file cannot be read past this line (%(why)s)")),
    "wrong_header": Message(gettext_lazy("expected the header holder,name,email,shares, found %(found)s")),
    "field_count": Message(gettext_lazy("expected 4 fields (holder,name,email,shares), found %(n)s")),
    "duplicate_holder": Message(gettext_lazy("holder %(holder)s already appears on line %(first)s")),
    "over_outstanding": Message(
        gettext_lazy("the register holds %(total)s shares, more than the %(outstanding)s outstanding"),
        grouped=("total", "outstanding"),
    ),
    "missing": Message(gettext_lazy("missing %(column)s")),
    "control_character": Message(gettext_lazy("control character in %(column)s")),
    "shares_negative": Message(gettext_lazy("shares must not be negative, found %(found)s")),
    "shares_too_long": Message(gettext_lazy("shares must be at most 18 digits, found %(n)s")),
    "shares_not_whole": Message(gettext_lazy("shares must be a whole number, found %(found)s"), quoted=("found",)),
    "email_invalid": Message(gettext_lazy("%(email)s is not a valid e-mail address"), quoted=("email",)),
    "too_long": Message(gettext_lazy("holder id is limited to 64 characters and name to 200")),
}


def finding_text(finding: Finding) -> str:
    """One finding in the active language; a code this version does not know shows as itself."""
    message = MESSAGES.get(finding.code)
    if message is None:
        return finding.code
    params: dict[str, Param] = dict(finding.params)
    for name in message.quoted:
        params[name] = repr(str(params[name]))
    for name in message.grouped:
        params[name] = number_format(int(params[name]), force_grouping=True)
    return str(message.text) % params if params else str(message.text)


def register_error_text(error: RegisterError | Mapping[str, Any] | str) -> str:
    """One entry of a refused register's list as the reader reads it: a RegisterError, or one
    stored by an import job (its JSON; plain text from before findings had codes is kept)."""
    if isinstance(error, str):
        return error
    if not isinstance(error, RegisterError):
        error = RegisterError.from_json(error)
    text = "; ".join(finding_text(finding) for finding in error.findings)
    return text if error.line is None else _("line %(line)s: %(finding)s") % {"line": error.line, "finding": text}
