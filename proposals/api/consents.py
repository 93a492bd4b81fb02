"""API for unanimous written consent: the secretary circulates one on a proposal in review,
each director signs or refuses with their password (and one-time code), the board reads them."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.http import acting_user
from core.roles import IsSecretary, is_secretary
from polls.api.views import ID_PATTERN, DetailWithoutFilters, errors
from proposals import consent, visibility
from proposals.models import ConsentOutcome, ConsentSignature, WrittenConsent

LOCKED = {429: OpenApiResponse(description="Too many wrong passwords or codes: the account is locked for a while.")}


class SignatureSerializer(serializers.ModelSerializer):
    director = serializers.CharField(source="director.user.get_username", read_only=True)
    response = serializers.SerializerMethodField()

    class Meta:
        model = ConsentSignature
        fields = ["director", "response", "responded_at"]

    def get_response(self, signature: ConsentSignature) -> str:
        return signature.response or "pending"


class ConsentSerializer(serializers.ModelSerializer):
    signatures = SignatureSerializer(many=True, read_only=True)
    proposal_status = serializers.SerializerMethodField()

    class Meta:
        model = WrittenConsent
        fields = [
            "id",
            "proposal",
            "text",
            "outcome",
            "deadline",
            "status",
            "failure",
            "created_at",
            "closed_at",
            "signatures",
            "proposal_status",
        ]
        read_only_fields = fields

    def get_proposal_status(self, found: WrittenConsent) -> str | None:
        # The board's decision follows "Who sees what", like every other reader of it.
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return found.proposal.status if visibility.can_see_board_decision(user, found.proposal) else None


class ConsentCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20000)
    outcome = serializers.ChoiceField(choices=ConsentOutcome.choices)
    deadline = serializers.DateTimeField(required=False, help_text="Defaults to seven days from now.")


class ConsentCreateWithProposalSerializer(ConsentCreateSerializer):
    proposal = serializers.IntegerField(min_value=1)


class ConsentSignSerializer(serializers.Serializer):
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    otp = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    refuse = serializers.BooleanField(default=False, help_text="Refuse to sign: the consent fails.")


@extend_schema_view(
    list=extend_schema(
        summary="Written consents (directors in office and the secretary)",
        responses={200: ConsentSerializer(many=True), **errors(400, 401, 403)},
    ),
    retrieve=extend_schema(summary="One written consent", responses={200: ConsentSerializer, **errors(401, 403, 404)}),
    create=extend_schema(
        summary="Circulate a unanimous written consent on a proposal in review (secretary)",
        request=ConsentCreateWithProposalSerializer,
        responses={201: ConsentSerializer, **errors(400, 401, 403, 404, 409)},
    ),
)
class ConsentViewSet(DetailWithoutFilters, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = ID_PATTERN
    serializer_class = ConsentSerializer
    permission_classes = [permissions.IsAuthenticated]
    filterset_fields = {"status": ["exact"], "proposal": ["exact"]}
    ordering_fields = ["created_at", "deadline", "id"]

    def get_queryset(self) -> QuerySet[WrittenConsent]:
        return consent.consents_visible_to(self.request.user).prefetch_related("signatures__director__user")

    def create(self, request: Request) -> Response:
        """The same as POST /api/v1/proposals/{id}/consents/, with the proposal in the body."""
        if not is_secretary(request.user):
            raise PermissionDenied()
        serializer = ConsentCreateWithProposalSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(serializer.validated_data)
        return _circulate(request, proposal_id=data.pop("proposal"), data=data)

    def get_object(self) -> WrittenConsent:
        found: WrittenConsent = super().get_object()
        # A read fails a consent past its deadline, as the sweep would.
        consent.consent_settle(consent_id=found.pk)
        found.refresh_from_db()
        return found

    @extend_schema(
        summary="Sign or refuse, re-entering your password (and code) (director)",
        request=ConsentSignSerializer,
        responses={200: ConsentSerializer, **errors(400, 401, 403, 404, 409), **LOCKED},
    )
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str | None = None) -> Response:
        found = self.get_object()
        serializer = ConsentSignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        signed = consent.consent_sign(
            consent_id=found.pk,
            actor=acting_user(request),
            password=data["password"],
            otp=data["otp"],
            refuse=data["refuse"],
            request=request._request,
        )
        signed.refresh_from_db()
        return Response(self.get_serializer(signed).data)


class ProposalConsentsView(APIView):
    """POST /api/v1/proposals/{id}/consents/: circulate a written consent (secretary)."""

    permission_classes = [permissions.IsAuthenticated, IsSecretary]

    @extend_schema(
        summary="Circulate a unanimous written consent on a proposal in review (secretary)",
        request=ConsentCreateSerializer,
        responses={201: ConsentSerializer, **errors(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, proposal_id: int) -> Response:
        serializer = ConsentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return _circulate(request, proposal_id=proposal_id, data=dict(serializer.validated_data))


def _circulate(request: Request, *, proposal_id: int, data: dict[str, Any]) -> Response:
    if not visibility.proposals_visible_to(request.user).filter(pk=proposal_id).exists():
        raise NotFound()
    created = consent.consent_create(proposal_id=proposal_id, actor=acting_user(request), **data)
    return Response(ConsentSerializer(created, context={"request": request}).data, status=status.HTTP_201_CREATED)
