"""Meetings, registers of record and polls held elsewhere."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.http import acting_user
from core.roles import IsSecretary, IsSecretaryOrReadOnly
from core.validators import no_control_characters
from meetings import meeting_services, proxies, proxy_selectors
from meetings.api.serializers import (
    AttendanceRowSerializer,
    CheckInSerializer,
    MeetingSerializer,
    ProxyAppointSerializer,
    ProxyBallotHolderSerializer,
    ProxyBallotSerializer,
    ProxyNamedSerializer,
    ProxySerializer,
    RecommendationSerializer,
    RecommendationSetSerializer,
    RegisterErrorSerializer,
    RegisterSnapshotSerializer,
    RegisterUploadSerializer,
    ResignationDecideSerializer,
    ResignationSerializer,
)
from meetings.attendance import attendance_check_in, attendance_visible_to
from meetings.models import Holder, Meeting, ProxyAppointment, RegisterSnapshot
from meetings.proxy_ballot import proxy_ballot_cast
from meetings.recommendations import recommendation_apply, recommendations_read
from meetings.register_import import register_import
from meetings.resignations import resignation_decide, resignations_of
from meetings.services import proxy_revoke
from meetings.uploads import RegisterUploadLimit
from polls import refusals, services
from polls.api.serializers import RecordedPollSerializer, RecordedSnapshotSerializer
from polls.api.views import ID_PATTERN, DetailWithoutFilters, errors
from polls.models import Comparator, Poll, PollStatus, RecordedPoll
from polls.standards import FRACTION_PATTERN


class MeetingUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, required=False, validators=[no_control_characters])
    date = serializers.DateField(required=False)
    register = serializers.PrimaryKeyRelatedField(queryset=RegisterSnapshot.objects.all(), required=False)
    quorum = serializers.RegexField(FRACTION_PATTERN, required=False)
    quorum_comparator = serializers.ChoiceField(choices=Comparator.choices, required=False)
    proxy_cutoff = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When proxy voting stops, no later than the end of the meeting day; null: 23:59 the day before. "
        "Once voting has begun it cannot move into the past (409).",
    )


@extend_schema_view(
    list=extend_schema(summary="List meetings", responses={200: MeetingSerializer(many=True), **errors(400)}),
    retrieve=extend_schema(summary="One meeting with its items", responses={200: MeetingSerializer, **errors(404)}),
    create=extend_schema(
        summary="Create a meeting on a register of record (secretary)",
        responses={201: MeetingSerializer, **errors(400, 401, 403)},
    ),
    partial_update=extend_schema(
        summary="Edit a meeting (secretary); its register and quorum are frozen once an item has opened (409)",
        request=MeetingUpdateSerializer,
        responses={200: MeetingSerializer, **errors(400, 401, 403, 404, 409)},
    ),
)
class MeetingViewSet(
    DetailWithoutFilters,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = ID_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]  # no PUT
    serializer_class = MeetingSerializer
    permission_classes = [IsSecretaryOrReadOnly]
    queryset = Meeting.objects.select_related("register").prefetch_related("items").order_by("-date", "-id")
    filterset_fields = ["date"]
    search_fields = ["title"]
    ordering_fields = ["date", "title", "id"]

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        serializer.instance = meeting_services.meeting_create(
            title=data["title"],
            date=data["date"],
            register=data["register"],
            quorum=data["quorum_text"],
            quorum_comparator=data["quorum_comparator"],
            proxy_cutoff=data.get("proxy_cutoff_at"),
            actor=acting_user(self.request),
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = MeetingUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        meeting = meeting_services.meeting_update(
            meeting=self.get_object(),
            actor=acting_user(request),
            **serializer.validated_data,
        )
        return Response(MeetingSerializer(meeting).data)

    def _proxies(self, meeting: Meeting) -> QuerySet[ProxyAppointment]:
        appointments = ProxyAppointment.objects.filter(meeting=meeting, revoked_at__isnull=True)
        user = self.request.user
        if not IsSecretary().has_permission(self.request, self):
            # A holder sees the proxies it appointed; a proxy sees the appointments it holds.
            appointments = appointments.filter(Q(holder__user_id=user.pk) | Q(proxy_id=user.pk))
        return appointments.select_related("proxy").prefetch_related("instructions")

    @extend_schema(
        methods=["GET"],
        summary="Active proxy appointments you made or hold (all of them for the secretary)",
        responses={200: ProxySerializer(many=True), **errors(401, 404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Appoint a proxy for a holder you are (or, as secretary, for any holder)",
        description=(
            "`proxy` is a username or an e-mail address. The answer is the same whether or not an account "
            "matches: a matching account is appointed, an e-mail address without one is sent an invitation. "
            "The appointment covers every item of the meeting: `instructions` direct it item by item (a directed "
            "proxy's ballot must follow them, else 409), elsewhere it votes at its discretion, or not at all "
            "when `discretionary` is false. An instruction for an item not on the meeting is a 400 naming it."
        ),
        request=ProxyAppointSerializer,
        responses={201: ProxyNamedSerializer, **errors(400, 401, 403, 404)},
    )
    @action(
        detail=True, methods=["get", "post"], permission_classes=[permissions.IsAuthenticated], pagination_class=None
    )
    def proxies(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()
        if request.method == "GET":
            return Response(ProxySerializer(self._proxies(meeting), many=True).data)
        serializer = ProxyAppointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        holder = Holder.objects.filter(pk=serializer.validated_data["holder"]).first()
        if holder is None:
            # The same refusal as a holder that is not the caller's: ids are not probed.
            raise PermissionDenied(refusals.HOLDER_REFUSED)
        named = proxies.proxy_name(
            meeting=meeting,
            holder=holder,
            proxy=serializer.validated_data["proxy"],
            actor=acting_user(request),
            instructions=serializer.validated_data["instructions"],
            discretionary=serializer.validated_data["discretionary"],
        )
        return Response(
            {"holder": holder.pk, "proxy": named.proxy, "detail": named.message}, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        methods=["GET"],
        summary="The proxy's desk: the open items with the board's recommendations, and every holder you vote "
        "for here with their instructions and the items they voted themselves",
        request=None,
        responses={
            200: OpenApiResponse(description="{proxy_cutoff, before_cutoff, items: [...], holders: [...]}"),
            **errors(401, 404),
        },
    )
    @extend_schema(
        methods=["POST"],
        summary="Vote many holders at once as their proxy: common choices, per-holder exceptions, instructions "
        "followed; all or nothing",
        description=(
            '`choices`: {item id: ballot} for every holder voted; `holders`: ids or "all"; `exceptions`: '
            "{holder id: {item id: ballot, or null to leave it}}. A directed holder's ballot on an item they "
            "instructed is the instruction's. Items a holder voted themselves are left alone (`skipped`). "
            "Past the meeting's proxy cut-off: 409 naming it. Any refusal records nothing (409/400 with "
            "`holders`: {holder id: {item id: reason}})."
        ),
        request=ProxyBallotSerializer,
        responses={201: ProxyBallotHolderSerializer(many=True), **errors(400, 401, 403, 404, 409)},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="proxy-ballot",
        permission_classes=[permissions.IsAuthenticated],
        pagination_class=None,
    )
    def proxy_ballot(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()
        if request.method == "GET":
            return Response(proxy_selectors.desk_json(proxy_selectors.proxy_desk(meeting=meeting, user=request.user)))
        serializer = ProxyBallotSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reports = proxy_ballot_cast(
            meeting=meeting,
            actor=acting_user(request),
            choices=serializer.validated_data["choices"],
            holders=serializer.validated_data["holders"],
            exceptions=serializer.validated_data["exceptions"],
        )
        return Response(ProxyBallotHolderSerializer(reports, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="Holders present (the secretary sees all; a holder or proxy, those they represent)",
        request=None,
        responses={200: AttendanceRowSerializer(many=True), **errors(401, 404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Check a holder in (the holder, their proxy, or the secretary for in-person attendance)",
        request=CheckInSerializer,
        responses={201: AttendanceRowSerializer, **errors(400, 401, 403, 404)},
    )
    @action(
        detail=True, methods=["get", "post"], permission_classes=[permissions.IsAuthenticated], pagination_class=None
    )
    def attendance(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()
        if request.method == "GET":
            rows = attendance_visible_to(meeting=meeting, user=request.user)
            return Response(AttendanceRowSerializer(rows, many=True).data)
        serializer = CheckInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = attendance_check_in(
            meeting=meeting, holder_id=serializer.validated_data["holder"], actor=acting_user(request)
        )
        return Response(AttendanceRowSerializer(row).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="Resignations tendered under the majority-voting policy, with the board's decisions",
        request=None,
        responses={200: ResignationSerializer(many=True), **errors(404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Record the board's decision on a tendered resignation (secretary)",
        request=ResignationDecideSerializer,
        responses={201: ResignationSerializer(many=True), **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def resignations(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()
        items = list(Poll.objects.filter(meeting=meeting).values_list("pk", flat=True))
        if request.method == "POST":
            serializer = ResignationDecideSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            item = Poll.objects.filter(pk=serializer.validated_data["item"], meeting=meeting).first()
            if item is None:
                raise NotFound(_("No such item on this meeting."))
            resignation_decide(
                poll=item,
                nominee_id=serializer.validated_data["nominee"],
                decision=serializer.validated_data["decision"],
                note=serializer.validated_data["note"],
                actor=acting_user(request),
            )
        rows = ResignationSerializer(resignations_of(poll_ids=items), many=True).data
        return Response(rows, status=status.HTTP_201_CREATED if request.method == "POST" else status.HTTP_200_OK)

    @extend_schema(
        methods=["GET"],
        summary="The board's recommendation on each item (drafts: the secretary only)",
        request=None,
        responses={200: RecommendationSerializer(many=True), **errors(404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Set the board's recommendation on one item before it opens (secretary)",
        request=RecommendationSetSerializer,
        responses={201: RecommendationSerializer(many=True), **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def recommendations(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()
        items = Poll.objects.filter(meeting=meeting).order_by("pk")
        if not IsSecretary().has_permission(request, self):
            items = items.exclude(status=PollStatus.DRAFT)
        if request.method == "POST":
            serializer = RecommendationSetSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            item = items.filter(pk=serializer.validated_data["item"]).first()
            if item is None:
                raise NotFound(_("No such item on this meeting."))
            recommendation_apply(poll=item, actor=acting_user(request), given=serializer.validated_data)
        rows = RecommendationSerializer(recommendations_read(items=items), many=True).data
        return Response(rows, status=status.HTTP_201_CREATED if request.method == "POST" else status.HTTP_200_OK)

    @extend_schema(
        summary="Revoke a proxy appointment (the holder or the secretary)",
        request=None,
        responses={200: ProxySerializer, **errors(401, 403, 404)},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"proxies/(?P<proxy_id>[0-9]+)",
        permission_classes=[permissions.IsAuthenticated],
    )
    def revoke_proxy(self, request: Request, pk: str | None = None, proxy_id: str | None = None) -> Response:
        meeting = self.get_object()
        appointment = self._proxies(meeting).filter(pk=int(proxy_id or 0)).first()
        if appointment is None:
            raise NotFound(_("No such active proxy appointment."))
        appointment = proxy_revoke(appointment=appointment, actor=acting_user(request))
        return Response(ProxySerializer(appointment).data)


@extend_schema_view(
    list=extend_schema(
        summary="Registers of record (secretary)",
        responses={200: RegisterSnapshotSerializer(many=True), **errors(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary="One register of record (secretary)",
        responses={200: RegisterSnapshotSerializer, **errors(401, 403, 404)},
    ),
)
class RegisterViewSet(
    DetailWithoutFilters,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    # Registers hold holders' names and e-mail addresses: the secretary's alone.
    permission_classes = [permissions.IsAuthenticated, IsSecretary]
    lookup_value_regex = ID_PATTERN
    serializer_class = RegisterSnapshotSerializer
    queryset = RegisterSnapshot.objects.order_by("-record_date", "-id")
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["record_date"]
    ordering_fields = ["record_date", "id"]

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body (the CSRF check of session authentication does).
        if request.method == "POST":
            request.upload_handlers = [RegisterUploadLimit(request), *request.upload_handlers]
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        summary="Import a register CSV (holder,name,email,shares); a file with bad lines imports nothing",
        request={"multipart/form-data": RegisterUploadSerializer},
        responses={
            201: RegisterSnapshotSerializer,
            400: OpenApiResponse(RegisterErrorSerializer, description="Bad lines, each with its line number."),
            **errors(401, 403),
            413: OpenApiResponse(RegisterErrorSerializer, description="Larger than the import reads; not read."),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = RegisterUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        with data["file"].open("rb") as source:
            snapshot = register_import(
                source=source,
                record_date=data["record_date"],
                shares_outstanding=data["shares_outstanding"],
                actor=acting_user(request),
                source_name=data["file"].name or "",
            )
        return Response(RegisterSnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="Polls held elsewhere, with their snapshots",
        responses={200: RecordedPollSerializer(many=True), **errors(400)},
    ),
    retrieve=extend_schema(summary="One recorded poll", responses={200: RecordedPollSerializer, **errors(404)}),
    create=extend_schema(
        summary="Record a poll held elsewhere (secretary)",
        responses={201: RecordedPollSerializer, **errors(400, 401, 403)},
    ),
)
class RecordedPollViewSet(
    DetailWithoutFilters,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = ID_PATTERN
    serializer_class = RecordedPollSerializer
    permission_classes = [IsSecretaryOrReadOnly]
    queryset = RecordedPoll.objects.prefetch_related("snapshots").order_by("-created_at", "-id")
    search_fields = ["question", "author", "platform"]
    ordering_fields = ["created_at", "id"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.recorded_poll_create(
            actor=acting_user(self.request),
            **serializer.validated_data,
        )

    @extend_schema(
        methods=["GET"],
        summary="Snapshots over time",
        responses={200: RecordedSnapshotSerializer(many=True), **errors(404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add what the platform showed at a moment (secretary)",
        request=RecordedSnapshotSerializer,
        responses={201: RecordedSnapshotSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def snapshots(self, request: Request, pk: str | None = None) -> Response:
        recorded = self.get_object()
        if request.method == "GET":
            return Response(RecordedSnapshotSerializer(recorded.snapshots.all(), many=True).data)
        serializer = RecordedSnapshotSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        snapshot = services.recorded_snapshot_add(recorded_poll=recorded, **serializer.validated_data)
        return Response(RecordedSnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)
