"""`GET /api/v1/receipts/{code}/`: anyone checks a receipt code (polls/receipts.py decides what
a check may say)."""

from __future__ import annotations

from django.http import Http404
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from polls import receipts
from polls.api.serializers import ErrorSerializer
from polls.selectors import iso_datetime


class ReceiptSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The receipt code, grouped: `a1b2c-3d4e5-f6a7b-8c9d0`.")
    status = serializers.ChoiceField(
        choices=receipts.ReceiptStatus.choices,
        help_text=(
            "`counted`: the ballot stands and the poll is certified; `recorded`: it stands and the poll is not "
            "certified yet; `superseded`: a later ballot replaced it; `withdrawn`: it was taken back."
        ),
    )
    cast_at = serializers.DateTimeField(help_text="When this ballot was recorded.")
    poll = serializers.IntegerField(help_text="The poll or shareholder item the ballot was cast in.")
    poll_title = serializers.CharField()
    detail = serializers.CharField(help_text="The answer as one sentence, in the request's language.")


def receipt_json(receipt: receipts.Receipt) -> dict[str, object]:
    return {
        "code": receipt.code,
        "status": receipt.status,
        "cast_at": iso_datetime(receipt.cast_at),
        "poll": receipt.poll_id,
        "poll_title": receipt.poll_title,
        "detail": receipt.message,
    }


class ReceiptView(APIView):
    """No credentials needed, and none looked at: a receipt says the same to everyone."""

    authentication_classes: list[type] = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Check a ballot receipt (anyone)",
        description=(
            "Whether the ballot with this receipt code was recorded, counted, superseded or withdrawn. Never the "
            "choice, the voter or the holder. Dashes and case are optional in the code."
        ),
        request=None,
        responses={
            200: ReceiptSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No such receipt (unknown or malformed alike)."),
        },
        auth=[],
    )
    def get(self, request: Request, code: str) -> Response:
        receipt = receipts.receipt_find(code)
        if receipt is None:
            raise Http404
        response = Response(receipt_json(receipt))
        add_never_cache_headers(response)  # the answer changes when the ballot is replaced or certified
        return response
