"""Baselines measured in the same run as the real endpoints: the least a view can do."""

from __future__ import annotations

from django.db import IntegrityError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from polls.models import Ballot, Option


@csrf_exempt
@require_POST
def bare_ballot(request: HttpRequest, poll_id: int, option_id: int) -> JsonResponse:
    """Insert one ballot for the voter named in a header; the constraint answers duplicates."""
    try:
        Ballot.objects.create(poll_id=poll_id, voter_id=int(request.headers["X-Voter"]), option_id=option_id)
    except IntegrityError:
        return JsonResponse({"detail": "duplicate"}, status=409)
    return JsonResponse({"ok": True}, status=201)


@require_GET
def bare_counters(request: HttpRequest, poll_id: int) -> JsonResponse:
    """Read the counter rows and nothing else."""
    rows = list(Option.objects.filter(poll_id=poll_id).values_list("id", "votes"))
    return JsonResponse({"options": rows})
