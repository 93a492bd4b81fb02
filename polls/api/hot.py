"""The vote and results endpoints without DRF's dispatch, for the common case only.

`POST /api/v1/polls/{id}/ballot/` with a token and `{"option": <id>}`, or a token holder's
`{"votes": {...}}` or `{"cumulative": {...}}` on an election, and an anonymous
`GET /api/v1/polls/{id}/results/` of a poll whose results everyone may see, are most of the
API's traffic; DRF's request wrapping, negotiation, authentication, permission chain and the
cast serializer cost more than the database work (bench/, README, Performance). Anything else
(another method, a session, a bad or missing token, another body or any value the serializer
would change or refuse, a proxy's `holder`, another Accept, a draft, results shown only to
voters) goes to the viewset unchanged, which also answers the OpenAPI schema: these functions
are not APIViews, so the schema is the viewset's. Tests hold both answers equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, re_path
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings

from core.api_errors import exception_handler
from core.prepared import PreparedSelect
from core.tokens import ExpiringTokenAuthentication, credentials_with, token_select
from polls import kinds, receipt_mail, receipts, selectors
from polls.api.payloads import ballot_payload
from polls.api.serializers import MAX_BALLOT_LINES
from polls.ballots import CastResult, ballot_cast
from polls.exceptions import PollNotFound
from polls.models import Option, Poll, PollStatus
from polls.permissions import can_see_results

View = Callable[..., HttpResponse]

# As the viewset's router answers them (a test compares).
BALLOT_ALLOW = "GET, POST, DELETE, HEAD, OPTIONS"
RESULTS_ALLOW = "GET, HEAD, OPTIONS"
MAX_ID = 2**63 - 1
_renderer = JSONRenderer()
_anonymous = AnonymousUser()


def _json_answer(payload: Any, status: int, allow: str, headers: dict[str, str] | None = None) -> HttpResponse:
    # DRF's own renderer, so the bytes are the viewset's (compact, UTF-8, U+2028 escaped).
    response = HttpResponse(_renderer.render(payload), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response[name] = value
    response["Allow"] = allow
    if len(api_settings.DEFAULT_RENDERER_CLASSES) > 1:  # the browsable API (DEBUG) adds it
        patch_vary_headers(response, ["Accept"])
    return response


def _wants_plain_json(request: HttpRequest) -> bool:
    """The viewset would pick the JSON renderer without negotiating anything special."""
    if api_settings.URL_FORMAT_OVERRIDE in request.GET:
        return False
    return request.META.get("HTTP_ACCEPT", "*/*") in ("*/*", "application/json", "")


def _token_key(request: HttpRequest) -> str | None:
    # DRF splits the header's bytes, on ASCII blanks only; str.split() would also split on a
    # no-break space, and take a header DRF refuses.
    header = request.META.get("HTTP_AUTHORIZATION", "")
    parts = header.split() if header.isascii() else []
    if len(parts) != 2 or parts[0].lower() != "token":
        return None
    return parts[1]


def _body(request: HttpRequest) -> Any:
    charset = (request.content_params or {}).get("charset", "utf-8")
    if request.content_type != "application/json" or charset.lower() != "utf-8":
        return None
    try:
        # Decoded first: json.loads of bytes would also take UTF-16, UTF-32 or a byte order
        # mark, which DRF's parser answers with a 400.
        return json.loads(request.body.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError included
        return None


def _option_of(data: Any) -> int | None:
    option = data.get("option") if isinstance(data, dict) and len(data) == 1 else None
    return option if type(option) is int and 0 < option <= MAX_ID else None


# A ballot of lines whose every value BallotCastSerializer passes on unchanged (a string, no
# surrounding blanks, within the field's max_length): then the form's rules alone answer it, as
# they do behind the serializer. Its checks on a value, by key.
_LINE_CHOICES = frozenset({"for", "against", "abstain", "withhold"})
_LINE_VALUES: dict[str, Callable[[str], bool]] = {
    "votes": _LINE_CHOICES.__contains__,
    "cumulative": lambda value: value.isascii() and value.isdigit() and len(value) <= 20,
}


def _lines_of(data: Any) -> dict[str, dict[str, str]] | None:
    """`{"votes": {...}}` or `{"cumulative": {...}}` as the serializer would validate it, else None."""
    if not isinstance(data, dict) or len(data) != 1:
        return None
    ((key, value),) = data.items()
    check = _LINE_VALUES.get(key)
    if check is None or not isinstance(value, dict) or not 0 < len(value) <= MAX_BALLOT_LINES:
        return None
    if not all(type(choice) is str and check(choice) for choice in value.values()):
        return None
    return {key: value}


# A ballot of lines is cast by its poll's form (polls.kinds.ballot_cast): the poll's kind, unless
# it is unknown or a draft, is read with the token, in its query (a query of its own, built by
# the ORM on every ballot, cost about 1 ms of the election vote's CPU).
_TOKEN_AND_KIND = token_select(
    extra=f"(SELECT kind FROM {Poll._meta.db_table} WHERE id = CAST(%s AS bigint) AND status <> %s)"  # noqa: S608 - the model's table
)


def _lines_cast(poll_id: int, user: User, kind: str | None, lines: dict[str, dict[str, str]]) -> CastResult:
    """The ballot and its confirmation in one transaction, as the viewset casts them; but not one
    of ours: the form's service queues the confirmation with the ballot (a first ballot of lines
    is then one short transaction, committed at once). A form that does not take it, only refuses a
    ballot of lines today; were it to cast one, its confirmation would follow it here."""
    if kind is None:
        raise PollNotFound()  # as polls.kinds.ballot_cast answers an unknown poll or a draft
    form = kinds.form_for(kind)
    with receipt_mail.confirmation_with_ballot(user) as asked:
        result = form.cast(poll_id=poll_id, actor=user, data=lines)
    if not asked.queued:
        with transaction.atomic():
            receipt_mail.ballot_receipts_mail(user=user, link_hashes=[result.link_hash])
    return result


def _fast_cast(request: HttpRequest, poll_id: int) -> HttpResponse | None:
    if request.method != "POST" or not _wants_plain_json(request):
        return None
    key = _token_key(request)
    if key is None:
        return None
    data = _body(request)
    option = _option_of(data)
    lines = _lines_of(data) if option is None else None
    if option is None and lines is None:
        return None
    try:
        if lines is not None:
            user, _token, (kind,) = credentials_with(key, _TOKEN_AND_KIND, [poll_id, PollStatus.DRAFT.value])
        else:
            user, _token = ExpiringTokenAuthentication().authenticate_credentials(key)
    except exceptions.AuthenticationFailed:
        return None  # the viewset answers 401 with its challenge
    request.user = user  # as DRF leaves it, for anything downstream that reads it
    if option is not None:
        result = ballot_cast(poll_id=poll_id, actor=user, option_id=option)
    elif lines is not None:
        result = _lines_cast(poll_id, user, kind, lines)
    else:
        return None
    payload = {**ballot_payload(result.ballot), **result.detail, "receipt": receipts.receipt_code(result.link_hash)}
    return _json_answer(payload, 201 if result.created else 200, BALLOT_ALLOW)


def _fast_results(request: HttpRequest, poll_id: int) -> HttpResponse | None:
    if request.method != "GET" or "HTTP_AUTHORIZATION" in request.META or not _wants_plain_json(request):
        return None
    found = _poll_with_options(poll_id)
    if found is None:
        return None
    poll, options = found
    now = timezone.now()
    # Only what anyone may see; a draft, or results shown to voters alone, depend on the caller.
    if poll.status == PollStatus.DRAFT or not can_see_results(user=_anonymous, poll=poll, now=now):
        return None
    payload = selectors.results_json(selectors.poll_results(poll=poll, now=now, options=options))
    return _json_answer(payload, 200, RESULTS_ALLOW)


_POLL_OPTIONS = PreparedSelect(
    [(Poll, "p"), (Option, "o")],
    "FROM {option} o JOIN {poll} p ON p.id = o.poll_id WHERE o.poll_id = %s ORDER BY o.position, o.id",
)


def _poll_with_options(poll_id: int) -> tuple[Poll, list[Option]] | None:
    """The poll and its options in order, in one query (read where the router sends polls)."""
    rows = _POLL_OPTIONS.rows([poll_id], read_as=Poll)
    if not rows:
        return None
    return cast(Poll, rows[0][0]), [cast(Option, row[1]) for row in rows]


def _with_fallback(fast: Callable[[HttpRequest, int], HttpResponse | None], fallback: View, allow: str) -> View:
    @csrf_exempt  # token or anonymous only; the viewset (and its CSRF check) takes sessions
    def view(request: HttpRequest, pk: str) -> HttpResponse:
        try:
            response = fast(request, int(pk))
        except Exception as exc:
            # The API's one error shape: a refusal as the viewset words it, a lost database 503.
            error = exception_handler(exc, {"request": request, "view": None})
            if error is None:
                raise
            headers = {name: value for name, value in error.items() if name.lower() != "content-type"}
            return _json_answer(error.data, error.status_code, allow, headers)
        return response if response is not None else fallback(request, pk=pk)

    return view


def urlpatterns(router_urls: list[Any]) -> list[URLPattern]:
    """Routes placed before the router's, each falling back to the router's own view."""
    views = {}
    for pattern in router_urls:
        if pattern.name in ("poll-ballot", "poll-results") and pattern.name not in views:
            views[pattern.name] = pattern.callback
    return [
        re_path(r"^polls/(?P<pk>[0-9]{1,18})/ballot/$", _with_fallback(_fast_cast, views["poll-ballot"], BALLOT_ALLOW)),
        re_path(
            r"^polls/(?P<pk>[0-9]{1,18})/results/$", _with_fallback(_fast_results, views["poll-results"], RESULTS_ALLOW)
        ),
    ]
