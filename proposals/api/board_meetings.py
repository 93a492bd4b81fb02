"""API for board meetings: the secretary schedules one and records attendance, votes and the
minutes; directors approve the minutes, which are frozen once approved (edits 409)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.http import acting_user
from polls.api.views import ID_PATTERN, DetailWithoutFilters, errors
from proposals import board_meetings
from proposals.models import DECISION_CHOICES, BoardMeeting, Director, Proposal
from proposals.workflow import State


class BoardMeetingSerializer(serializers.ModelSerializer):
    agenda = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Proposal.objects.filter(status=State.IN_REVIEW), required=False
    )
    present = serializers.SerializerMethodField()

    class Meta:
        model = BoardMeeting
        fields = [
            "id",
            "starts_at",
            "place",
            "video_link",
            "agenda",
            "present",
            "minutes_status",
            "minutes_approved_at",
            "minutes_digest",
        ]
        read_only_fields = ["minutes_status", "minutes_approved_at", "minutes_digest"]

    def get_present(self, meeting: BoardMeeting) -> list[str]:
        return [director.user.get_username() for director in board_meetings.present_directors(meeting)]


def _director_named(username: str) -> Director:
    director = Director.objects.filter(user__username=username, in_office=True).select_related("user").first()
    if director is None:
        raise serializers.ValidationError(f"No director in office is called {username[:80]}.")
    return director


class AttendanceSerializer(serializers.Serializer):
    present = serializers.ListField(child=serializers.CharField(max_length=150), help_text="Usernames.")

    def validate_present(self, value: list[str]) -> list[Director]:
        return [_director_named(username) for username in value]


class MeetingVoteSerializer(serializers.Serializer):
    proposal = serializers.PrimaryKeyRelatedField(queryset=Proposal.objects.all())
    director = serializers.CharField(max_length=150, help_text="The director's username.")
    decision = serializers.ChoiceField(choices=[value for value, _label in DECISION_CHOICES])
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate_director(self, value: str) -> Director:
        return _director_named(value)


class MinutesSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, max_length=100_000)
    status = serializers.CharField(read_only=True)
    digest = serializers.CharField(read_only=True)


def _minutes(meeting: BoardMeeting) -> dict[str, Any]:
    return {
        "text": meeting.minutes,
        "status": meeting.minutes_status,
        "digest": meeting.minutes_digest or board_meetings.minutes_digest(meeting.minutes),
    }


class IsBoard(permissions.BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return board_meetings.can_see_meetings(request.user)


@extend_schema_view(
    list=extend_schema(
        summary="Board meetings (the board)",
        responses={200: BoardMeetingSerializer(many=True), **errors(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary="One board meeting", responses={200: BoardMeetingSerializer, **errors(401, 403, 404)}
    ),
    create=extend_schema(
        summary="Schedule a board meeting (secretary)", responses={201: BoardMeetingSerializer, **errors(400, 401, 403)}
    ),
)
class BoardMeetingViewSet(
    DetailWithoutFilters,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = ID_PATTERN
    serializer_class = BoardMeetingSerializer
    permission_classes = [permissions.IsAuthenticated, IsBoard]

    def get_queryset(self) -> QuerySet[BoardMeeting]:
        return board_meetings.meetings_visible_to(self.request.user).prefetch_related("agenda")

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = board_meetings.board_meeting_create(
            actor=acting_user(self.request), **serializer.validated_data
        )

    @extend_schema(
        summary="Record who attended (secretary)",
        request=AttendanceSerializer,
        responses={200: BoardMeetingSerializer, **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def attendance(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()
        serializer = AttendanceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        board_meetings.attendance_record(
            meeting_id=meeting.pk,
            present=serializer.validated_data["present"],
            actor=acting_user(request),
        )
        return Response(self.get_serializer(meeting).data)

    @extend_schema(
        summary="Record a vote taken at the meeting (secretary); it counts like a review vote",
        request=MeetingVoteSerializer,
        responses={201: None, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def votes(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()
        serializer = MeetingVoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        vote = board_meetings.meeting_vote_record(
            meeting_id=meeting.pk,
            proposal_id=data["proposal"].pk,
            director=data["director"],
            decision=data["decision"],
            comment=data["comment"],
            actor=acting_user(request),
        )
        return Response(
            {"proposal": vote.proposal_id, "director": vote.director.user.get_username(), "decision": vote.decision},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        methods=["GET"], summary="The minutes, in Markdown", responses={200: MinutesSerializer, **errors(401, 403, 404)}
    )
    @extend_schema(
        methods=["PUT"],
        summary="Draft or correct the minutes (secretary); 409 once approved",
        request=MinutesSerializer,
        responses={200: MinutesSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "put"])
    def minutes(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()
        if request.method == "PUT":
            serializer = MinutesSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            meeting = board_meetings.minutes_save(
                meeting_id=meeting.pk,
                text=serializer.validated_data["text"],
                actor=acting_user(request),
            )
        return Response(_minutes(meeting))

    @extend_schema(
        summary="Circulate the minutes to the directors (secretary)",
        request=None,
        responses={200: MinutesSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="minutes/circulate")
    def minutes_circulate(self, request: Request, pk: str | None = None) -> Response:
        meeting = board_meetings.minutes_circulate(meeting_id=self.get_object().pk, actor=acting_user(request))
        return Response(_minutes(meeting))

    @extend_schema(
        summary="Approve the circulated minutes (director); a majority of the directors in office freezes them",
        request=None,
        responses={200: MinutesSerializer, **errors(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="minutes/approve")
    def minutes_approve(self, request: Request, pk: str | None = None) -> Response:
        meeting = board_meetings.minutes_approve(meeting_id=self.get_object().pk, actor=acting_user(request))
        return Response(_minutes(meeting))
