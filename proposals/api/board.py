"""`/api/v1/board/`: the board's settings, read by any signed-in reader, changed by the
secretary through the same service as the settings page and the admin."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.http import acting_user
from polls.api.views import errors
from proposals.board import board_settings_update
from proposals.models import BoardSettings
from proposals.review import QuorumBasis


class BoardSettingsSerializer(serializers.Serializer):
    quorum_basis = serializers.ChoiceField(
        choices=[basis.value for basis in QuorumBasis],
        help_text="`all_in_office`: a majority of the directors in office (DGCL s.141(b)); "
        "`disinterested`: a majority of the directors who are not recused (a special committee).",
    )

    def to_internal_value(self, data: Any) -> Any:
        unknown = set(data) - set(self.fields) if isinstance(data, dict) else set()
        if unknown:
            raise serializers.ValidationError({key: ["Unknown field."] for key in sorted(unknown)})
        return super().to_internal_value(data)


def _current() -> dict[str, str]:
    row = BoardSettings.objects.filter(pk=1).first()
    return {"quorum_basis": row.quorum_basis if row else QuorumBasis.ALL_IN_OFFICE.value}


class BoardSettingsView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = BoardSettingsSerializer

    @extend_schema(summary="The board's settings", responses={200: BoardSettingsSerializer, **errors(401)})
    def get(self, request: Request) -> Response:
        return Response(_current())

    @extend_schema(
        summary="Change the board's quorum basis (secretary)",
        request=BoardSettingsSerializer,
        responses={200: BoardSettingsSerializer, **errors(400, 401, 403)},
    )
    def patch(self, request: Request) -> Response:
        serializer = BoardSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        board_settings_update(quorum_basis=serializer.validated_data["quorum_basis"], actor=acting_user(request))
        return Response(_current())
