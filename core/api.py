"""The API side of accounts: the token request's shape and logging a token out."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import services
from core.models import ApiToken


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        help_text=_(
            "A code from the authenticator app, or a recovery code: required for the secretary and "
            "directors when two-factor is on (REQUIRE_2FA)."
        ),
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class LogoutRequestSerializer(serializers.Serializer):
    all = serializers.BooleanField(default=False, help_text=_("Revoke every token of the account, not only this one."))


class LogoutView(APIView):
    """Revoke the token of this request (or with `all`, every token of the account)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=LogoutRequestSerializer,
        responses={
            204: OpenApiResponse(description="Revoked."),
            400: OpenApiResponse(description="Invalid input."),
            401: OpenApiResponse(description="No or bad credentials."),
        },
        summary="Log out: revoke the API token",
    )
    def post(self, request: Request) -> Response:
        serializer = LogoutRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["all"]:
            services.api_tokens_revoke(user=request.user)
        elif isinstance(request.auth, ApiToken):
            services.api_token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
