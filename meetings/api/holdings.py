"""`POST /api/v1/holdings/claim/` (an account claims a holding by control number) and
`GET /api/v1/registers/{id}/mailing.csv` (the secretary's mailing file); polls/holdings.py decides."""

from __future__ import annotations

from collections.abc import Mapping

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.http import acting_user
from core.roles import IsSecretary
from meetings import holdings
from meetings.models import RegisterSnapshot
from polls.api.serializers import ErrorSerializer


class ClaimRequestSerializer(serializers.Serializer):
    control_number = serializers.CharField(help_text="The 16 digits from the mailing; spaces and dashes optional.")


class ClaimSerializer(serializers.Serializer):
    holder = serializers.IntegerField(help_text="The holder now attached to the caller's account.")
    register = serializers.IntegerField()
    shares = serializers.CharField(help_text="Whole shares, as a string.")


class ClaimView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        summary="Claim a holding with its control number (signed-in account)",
        description=(
            "An unknown, malformed or already claimed number gets the same 400; every refusal counts toward the "
            "account's lockout (429 while locked)."
        ),
        request=ClaimRequestSerializer,
        responses={
            201: ClaimSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Not a usable control number (whatever the reason)."),
            401: OpenApiResponse(ErrorSerializer, description="No or bad credentials."),
            429: OpenApiResponse(ErrorSerializer, description="Too many refused numbers: locked for a while."),
        },
    )
    def post(self, request: Request) -> Response:
        data = request.data
        typed = data.get("control_number") if isinstance(data, Mapping) else None
        holder = holdings.holding_claim(
            actor=acting_user(request),
            control_number=typed if isinstance(typed, str) else "",
        )
        body = {"holder": holder.pk, "register": holder.register_id, "shares": str(holder.shares)}
        return Response(body, status=status.HTTP_201_CREATED)


def mailing_response(register: RegisterSnapshot, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mailing-register-{register.pk}.csv"'
    add_never_cache_headers(response)
    return response


class MailingView(APIView):
    # Control numbers in clear: the secretary's alone.
    permission_classes = [permissions.IsAuthenticated, IsSecretary]

    @extend_schema(
        summary="The register's mailing file: holder, name, email, shares, control number (secretary)",
        description="Each download is on the register's trail. 404 for a register stored before control numbers.",
        responses={
            (200, "text/csv"): OpenApiResponse(description="The mailing CSV."),
            401: OpenApiResponse(ErrorSerializer, description="No or bad credentials."),
            403: OpenApiResponse(ErrorSerializer, description="Not the secretary."),
            404: OpenApiResponse(ErrorSerializer, description="No such register or no mailing file."),
        },
    )
    def get(self, request: Request, register_id: int) -> HttpResponse:
        register = get_object_or_404(RegisterSnapshot, pk=register_id)
        content = holdings.mailing_read(register=register, actor=acting_user(request))
        if content is None:
            raise Http404("No mailing file for this register.")
        return mailing_response(register, content)
