from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_otp import match_token
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.api import TokenRequestSerializer, TokenSerializer
from core.http import acting_user
from core.lockout import lockout_message
from core.mfa import mfa_required
from core.roles import IsSecretary
from core.services import api_token_issue
from polls import certification, kinds, receipt_mail, receipts, selectors, services
from polls.api.filters import PollFilter
from polls.api.item_serializers import InterestedInputSerializer, InterestedSerializer
from polls.api.payloads import ballot_payload
from polls.api.serializers import (
    BallotCastSerializer,
    BallotReceiptSerializer,
    BallotSerializer,
    ErrorSerializer,
    PollCreateSerializer,
    PollSerializer,
    PollUpdateSerializer,
    ResultsSerializer,
    TabulationSerializer,
)
from polls.ballots import ballot_cast, ballot_withdraw
from polls.models import Comparator, Poll, VoteStandard
from polls.permissions import can_see_results
from polls.standards import FRACTION_PATTERN

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; field errors beside `detail`."),
    401: OpenApiResponse(ErrorSerializer, description="No or bad credentials."),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed."),
    404: OpenApiResponse(ErrorSerializer, description="No such poll."),
    409: OpenApiResponse(ErrorSerializer, description="Not possible in the poll's current state."),
}


# Ids are 64-bit: a longer number is not a poll, and must not reach the database as one.
ID_PATTERN = r"[0-9]{1,18}"
MAX_ID = 2**63 - 1


class DetailWithoutFilters:
    """Filters, search and ordering describe lists; on one object (and its actions) they
    would only turn a stray query parameter into a 400."""

    def filter_queryset(self, queryset: Any) -> Any:
        if getattr(self, "detail", False):
            return queryset
        return super().filter_queryset(queryset)  # type: ignore[misc]


class ItemRulesSerializer(serializers.Serializer):
    standard = serializers.ChoiceField(choices=VoteStandard.choices, required=False)
    threshold = serializers.RegexField(FRACTION_PATTERN, required=False)
    comparator = serializers.ChoiceField(choices=Comparator.choices, required=False)
    advisory = serializers.BooleanField(required=False)


class CertifySerializer(serializers.Serializer):
    confirm_difference = serializers.BooleanField(
        default=False, help_text="Certify the inspector's figures although they differ from the ballots' recount."
    )
    difference_digest = serializers.RegexField(
        r"^[0-9a-f]{32}$",
        required=False,
        help_text=(
            "The `difference_digest` of the 409 that named the difference: the confirmation is then of that "
            "difference only, and a tabulation entered again since answers 409 with the new one."
        ),
    )


class CertifyConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    difference_digest = serializers.CharField(
        required=False,
        help_text="When the inspector's tabulation differs from the recount: send it back with confirm_difference.",
    )


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: ERRORS[code] for code in codes}


def _int_or_none(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError({"holder": _("A holder id is a whole number.")}) from None


HOLDER_PARAMETER = OpenApiParameter(
    "holder", int, description="Shareholder items: the holder whose ballot (yours or as proxy)."
)


class TokenView(APIView):
    """Exchange a username and password (and for the secretary and directors under REQUIRE_2FA,
    a one-time code) for an API token that expires after TOKEN_TTL."""

    authentication_classes: list[type] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            **errors(400),
            403: OpenApiResponse(
                ErrorSerializer, description="Two-factor is required for this account: send a valid `otp`."
            ),
            429: OpenApiResponse(
                ErrorSerializer, description="Too many attempts, or the account is locked; try again later."
            ),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The Django request, not DRF's wrapper: axes counts the failure and flags a lockout on it.
        http_request = request._request
        user = authenticate(http_request, username=data["username"], password=data["password"])
        if getattr(http_request, "axes_locked_out", False):
            return Response({"detail": lockout_message()}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        if user is None:
            raise ValidationError({"non_field_errors": [_("Unable to log in with provided credentials.")]})
        otp_verified = False
        if mfa_required(user):
            if not data.get("otp") or match_token(user, data["otp"].strip()) is None:
                raise PermissionDenied(
                    _(
                        "This account signs in with two-factor: send a current code from the authenticator app "
                        "(or a recovery code) in `otp`. Enrol on the site first if you have not."
                    )
                )
            otp_verified = True
        user_logged_in.send(sender=user.__class__, request=http_request, user=user)
        key, token = api_token_issue(user=user, otp_verified=otp_verified)
        return Response({"token": key, "expires_at": token.expires_at})


@extend_schema_view(
    list=extend_schema(summary="List polls", responses={200: PollSerializer(many=True), **errors(400)}),
    retrieve=extend_schema(summary="One poll with its options", responses={200: PollSerializer, **errors(404)}),
    create=extend_schema(
        summary="Create a poll (secretary)",
        request=PollCreateSerializer,
        responses={201: PollSerializer, **errors(400, 401, 403)},
    ),
    partial_update=extend_schema(
        summary="Edit a poll before it opens (secretary)",
        request=PollUpdateSerializer,
        responses={200: PollSerializer, **errors(400, 401, 403, 404, 409)},
    ),
)
class PollViewSet(
    DetailWithoutFilters,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = ID_PATTERN
    serializer_class = PollSerializer
    filterset_class = PollFilter
    search_fields = ["title", "description"]
    ordering_fields = ["opens_at", "closes_at", "created_at", "title", "id"]
    ordering = ["-opens_at", "-id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]  # no PUT, no poll deletion

    def get_queryset(self) -> QuerySet[Poll]:
        polls = selectors.polls_visible_to(self.request.user)
        if self.action in ("list", "retrieve"):
            polls = polls.prefetch_related("options")
        return polls

    def get_permissions(self) -> list[Any]:
        secretary_only = (
            "create",
            "partial_update",
            "open",
            "close",
            "schedule",
            "certify",
            "tabulation",
            "interested",
        )
        if self.action in secretary_only:
            return [permissions.IsAuthenticated(), IsSecretary()]
        if self.action == "ballot":
            return [permissions.IsAuthenticated()]
        return [permissions.AllowAny()]

    @transaction.atomic
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = PollCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        common = {
            "title": data["title"],
            "description": data["description"],
            "opens_at": data["opens_at"],
            "closes_at": data["closes_at"],
            "allow_change": data["allow_change"],
            "actor": acting_user(request),
        }
        if "results_visibility" in data:
            common["results_visibility"] = data["results_visibility"]
        poll = kinds.form_for(data["kind"]).create(data=data, common=common)
        return Response(PollSerializer(poll).data, status=status.HTTP_201_CREATED)

    @transaction.atomic
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = PollUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # An item's rules (standard, threshold, comparator, advisory) change through their own
        # service, which refuses them (409) once the item has opened.
        rules = ItemRulesSerializer(data=request.data)
        rules.is_valid(raise_exception=True)
        poll = self.get_object()
        if rules.validated_data:
            poll = kinds.form_of(poll).rules_update(
                poll=poll,
                actor=acting_user(request),
                **rules.validated_data,
            )
        if serializer.validated_data or not rules.validated_data:
            poll = services.poll_update(
                poll=poll,
                actor=acting_user(request),
                **serializer.validated_data,
            )
        return Response(PollSerializer(poll).data)

    def _lifecycle(self, request: Request, transition: Any) -> Response:
        poll = transition(poll=self.get_object(), actor=request.user)
        return Response(PollSerializer(poll).data)

    @extend_schema(
        summary="Schedule a draft to open at its opening time (secretary)",
        request=None,
        responses={200: PollSerializer, **errors(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def schedule(self, request: Request, pk: str | None = None) -> Response:
        return self._lifecycle(request, services.poll_schedule)

    @extend_schema(
        summary="Open the poll now (secretary)",
        request=None,
        responses={200: PollSerializer, **errors(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def open(self, request: Request, pk: str | None = None) -> Response:
        return self._lifecycle(request, services.poll_open)

    @extend_schema(
        summary="Close the poll now (secretary)",
        request=None,
        responses={200: PollSerializer, **errors(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        return self._lifecycle(request, services.poll_close)

    @extend_schema(
        summary="Recount, compare and freeze the result (secretary)",
        description=(
            "When the inspector's tabulation differs from the ballots' recount, certifying needs "
            '`{"confirm_difference": true}`, best with the 409\'s `difference_digest`; without it the answer is '
            "409 naming the difference and its digest. "
            "The confirmation, with who gave it and the difference, is kept in the certified record and on the trail."
        ),
        request=CertifySerializer,
        responses={
            200: PollSerializer,
            **errors(400, 401, 403, 404),
            409: OpenApiResponse(
                CertifyConflictSerializer,
                description="Not closed, the recount differs, a record changed outside Quorum, or a difference "
                "not confirmed.",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def certify(self, request: Request, pk: str | None = None) -> Response:
        serializer = CertifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        poll = certification.poll_certify(
            poll=self.get_object(),
            actor=acting_user(request),
            confirm_difference=serializer.validated_data["confirm_difference"],
            difference_digest=serializer.validated_data.get("difference_digest"),
        )
        return Response(PollSerializer(poll).data)

    @extend_schema(
        summary="Enter the inspector's official totals for a shareholder item (secretary)",
        request=TabulationSerializer,
        responses={200: ResultsSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def tabulation(self, request: Request, pk: str | None = None) -> Response:
        serializer = TabulationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        poll = self.get_object()
        kinds.form_of(poll).tabulate(poll=poll, actor=acting_user(request), **serializer.validated_data)
        return Response(selectors.results_json(selectors.poll_results(poll=poll)))

    @extend_schema(
        methods=["GET"],
        summary="Holders marked interested in a proposal (its disinterested approval; secretary)",
        request=None,
        responses={200: InterestedSerializer(many=True), **errors(400, 401, 403, 404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Mark a holder interested in a proposal, with the reason, before it opens (secretary)",
        request=InterestedInputSerializer,
        responses={201: InterestedSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def interested(self, request: Request, pk: str | None = None) -> Response:
        poll = self.get_object()
        form = kinds.form_of(poll)
        if request.method == "GET":
            return Response(InterestedSerializer(form.interested(poll), many=True).data)
        serializer = InterestedInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        interest = form.interested_mark(
            poll=poll,
            holder_id=serializer.validated_data["holder"],
            reason=serializer.validated_data["reason"],
            actor=acting_user(request),
        )
        return Response(InterestedSerializer(interest).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="The caller's ballot",
        request=None,
        parameters=[HOLDER_PARAMETER],
        responses={200: BallotReceiptSerializer, **errors(400, 401, 404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Cast or change the caller's ballot",
        request=BallotCastSerializer,
        responses={
            201: OpenApiResponse(BallotReceiptSerializer, description="First ballot recorded, with its receipt."),
            200: OpenApiResponse(
                BallotReceiptSerializer, description="Ballot changed (a new receipt), or re-cast unchanged (the same)."
            ),
            **errors(400, 401, 403, 404, 409),
        },
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Withdraw the caller's ballot while the poll allows it",
        request=None,
        parameters=[HOLDER_PARAMETER],
        responses={204: None, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "post", "delete"])
    def ballot(self, request: Request, pk: str | None = None) -> Response:
        if request.method == "POST":
            return self._cast(request, poll_id=int(self.kwargs["pk"]))
        poll = self.get_object()
        if request.method == "GET":
            ballot = selectors.ballot_of(
                poll=poll, user=request.user, holder_id=_int_or_none(request.query_params.get("holder"))
            )
            if ballot is None:
                return Response({"detail": "You have not voted in this poll."}, status=status.HTTP_404_NOT_FOUND)
            receipt = receipts.ballot_receipt(poll_id=poll.pk, holder_id=ballot.holder_id, voter_id=ballot.voter_id)
            return Response(
                {**BallotSerializer(ballot).data, **poll.ballot_form.ballot_detail(ballot), "receipt": receipt}
            )
        ballot_withdraw(
            poll_id=poll.pk,
            actor=acting_user(request),
            holder_id=_int_or_none(request.query_params.get("holder")),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _cast(self, request: Request, *, poll_id: int) -> Response:
        # The hot path: the service reads the poll itself (under its lock) and refuses drafts
        # and unknown polls alike, so the viewset's own lookup would only add queries.
        data = request.data
        # `{"option": <positive int>}` is the whole of the common case and needs no serializer;
        # anything else goes through BallotCastSerializer's full validation.
        option = data.get("option") if isinstance(data, dict) and len(data) == 1 else None
        if type(option) is int and 0 < option <= MAX_ID:
            data = {"option": option}
        else:
            serializer = BallotCastSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        if set(data) == {"option"}:
            result = ballot_cast(
                poll_id=poll_id,
                actor=acting_user(request),
                option_id=data["option"],
            )
        else:
            # One transaction for the ballot and its confirmation: one commit per vote.
            with transaction.atomic():
                result = kinds.ballot_cast(poll_id=poll_id, actor=acting_user(request), data=data)
                receipt_mail.ballot_receipts_mail(user=request.user, link_hashes=[result.link_hash])
        return Response(
            # The answer carries the receipt: a public poll's API ballot is not also e-mailed.
            {**ballot_payload(result.ballot), **result.detail, "receipt": receipts.receipt_code(result.link_hash)},
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Totals, percentages, winner and turnout",
        request=None,
        responses={200: ResultsSerializer, **errors(403, 404)},
    )
    @action(detail=True, methods=["get"])
    def results(self, request: Request, pk: str | None = None) -> Response:
        poll = self.get_object()
        if not can_see_results(user=request.user, poll=poll):
            raise PermissionDenied(
                _("Results of this poll are shown %(visibility)s.")
                % {"visibility": poll.get_results_visibility_display().lower()}
            )
        return Response(selectors.results_json(selectors.poll_results(poll=poll)))
