"""Anyone may check a receipt code, signed in or not: the page says only whether that ballot
stands, was counted, replaced or withdrawn (polls/receipts.py)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from polls import receipts


@require_GET
def receipt_check(request: HttpRequest) -> HttpResponse:
    """The form: a typed code goes to its page, whatever its spelling (dashes, spaces, case)."""
    typed = request.GET.get("code", "").strip()
    if typed:
        prefix = receipts.receipt_prefix(typed)
        if prefix is not None:
            return redirect("polls:receipt", code=receipts.receipt_code(prefix))
    return render(request, "polls/receipt.html", {"receipt": None, "typed": typed}, status=400 if typed else 200)


@never_cache  # the answer changes when the ballot is replaced or the poll certified
@require_GET
def receipt_detail(request: HttpRequest, code: str) -> HttpResponse:
    receipt = receipts.receipt_find(code)
    if receipt is None:
        raise Http404("No such receipt.")  # unknown and malformed alike: the site's plain 404
    return render(request, "polls/receipt.html", {"receipt": receipt, "typed": ""})
