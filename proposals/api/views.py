from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.http import acting_user
from core.roles import IsSecretary
from polls.api.views import ID_PATTERN, DetailWithoutFilters, errors
from proposals import board, materials, people_services, review_votes, services, visibility
from proposals.api.serializers import (
    AttachmentSerializer,
    AttachmentVisibilitySerializer,
    CommentSerializer,
    DirectorSerializer,
    EventSerializer,
    ProposalSerializer,
    RescheduleSerializer,
    ReviewVoteSerializer,
    TransitionRefusedSerializer,
    TransitionSerializer,
)
from proposals.models import AttachmentVisibility, Director, Proposal, ReviewVote

REFUSED = {
    403: OpenApiResponse(TransitionRefusedSerializer, description="The right action by the wrong role."),
    409: OpenApiResponse(TransitionRefusedSerializer, description="Not possible from the current state."),
}


@extend_schema_view(
    list=extend_schema(summary="Proposals you may see", responses={200: ProposalSerializer(many=True), **errors(400)}),
    retrieve=extend_schema(summary="One proposal", responses={200: ProposalSerializer, **errors(404)}),
    create=extend_schema(
        summary="Submit a draft proposal (member)", responses={201: ProposalSerializer, **errors(400, 401)}
    ),
    partial_update=extend_schema(
        summary="Edit a proposal in draft or returned (proposer)",
        responses={200: ProposalSerializer, **errors(400, 401, 403, 404)},
    ),
)
class ProposalViewSet(
    DetailWithoutFilters,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_regex = ID_PATTERN
    serializer_class = ProposalSerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    filterset_fields = {"status": ["exact"], "kind": ["exact"]}
    search_fields = ["title", "summary", "counterparty"]
    ordering_fields = ["created_at", "updated_at", "review_due_at", "title", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Proposal]:
        # Lists, details, search and every nested endpoint start here: what the reader may not
        # see is a 404 like a proposal that never was.
        return visibility.proposals_visible_to(self.request.user).prefetch_related("polls")

    def perform_create(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.proposal_create(actor=acting_user(self.request), **data)

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        polls = data.pop("polls", None)
        serializer.instance = services.proposal_update(
            proposal=serializer.instance,
            actor=acting_user(self.request),
            polls=polls,
            **data,
        )

    @extend_schema(
        summary="Apply a workflow action",
        request=TransitionSerializer,
        responses={200: ProposalSerializer, **errors(400, 401, 404), **REFUSED},
    )
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def transitions(self, request: Request, pk: str | None = None) -> Response:
        proposal = self.get_object()
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        proposal = services.proposal_transition(proposal_id=proposal.pk, actor=acting_user(request), **data)
        return Response(self.get_serializer(proposal).data)

    @extend_schema(
        summary="Set a new due date for the board's review (secretary; after a tie, for instance)",
        request=RescheduleSerializer,
        responses={200: ProposalSerializer, **errors(400, 401, 404), **REFUSED},
    )
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def reschedule(self, request: Request, pk: str | None = None) -> Response:
        proposal = self.get_object()
        serializer = RescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        proposal = board.review_reschedule(
            proposal_id=proposal.pk,
            actor=acting_user(request),
            due_at=serializer.validated_data["due_at"],
            comment=serializer.validated_data["comment"],
        )
        return Response(self.get_serializer(proposal).data)

    @extend_schema(
        summary="The audit trail, oldest first, as far as you may read it (the board's events are the board's)",
        responses={200: EventSerializer(many=True), **errors(404)},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def events(self, request: Request, pk: str | None = None) -> Response:
        events = visibility.events_visible_to(request.user, self.get_object())
        return Response(EventSerializer(events, many=True).data)

    @extend_schema(
        methods=["GET"],
        summary="The board's review votes (directors who are not recused, and the secretary)",
        responses={200: ReviewVoteSerializer(many=True), **errors(404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Cast or change your review vote (director)",
        request=ReviewVoteSerializer,
        responses={201: ReviewVoteSerializer, **errors(400, 401, 403, 404, 409)},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="review-votes",
        pagination_class=None,
        permission_classes=[permissions.IsAuthenticatedOrReadOnly],
    )
    def review_votes(self, request: Request, pk: str | None = None) -> Response:
        proposal = self.get_object()
        if request.method == "GET":
            if not visibility.can_see_deliberation(request.user, proposal):
                raise NotFound()
            votes = ReviewVote.objects.filter(proposal=proposal).select_related("director__user")
            return Response(ReviewVoteSerializer(votes, many=True).data)
        serializer = ReviewVoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        vote = review_votes.review_vote_cast(
            proposal_id=proposal.pk,
            actor=acting_user(request),
            decision=serializer.validated_data["decision"],
            comment=serializer.validated_data["comment"],
        )
        return Response(ReviewVoteSerializer(vote).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], summary="Comments", responses={200: CommentSerializer(many=True), **errors(404)})
    @extend_schema(
        methods=["POST"],
        summary="Comment on the proposal",
        request=CommentSerializer,
        responses={201: CommentSerializer, **errors(400, 401, 403, 404)},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=None,
        permission_classes=[permissions.IsAuthenticatedOrReadOnly],
    )
    def comments(self, request: Request, pk: str | None = None) -> Response:
        proposal = self.get_object()
        if request.method == "GET":
            return Response(CommentSerializer(visibility.comments_visible_to(request.user, proposal), many=True).data)
        serializer = CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = materials.comment_add(
            proposal=proposal,
            actor=acting_user(request),
            body=serializer.validated_data["body"],
        )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], summary="Attachments", responses={200: AttachmentSerializer(many=True), **errors(404)}
    )
    @extend_schema(
        methods=["POST"],
        summary="Attach a PDF, PNG, JPEG or text file (at most 10 MB; the type is checked by content)",
        request={"multipart/form-data": AttachmentSerializer},
        responses={201: AttachmentSerializer, **errors(400, 401, 403, 404)},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser],
        pagination_class=None,
        permission_classes=[permissions.IsAuthenticatedOrReadOnly],
    )
    def attachments(self, request: Request, pk: str | None = None) -> Response:
        proposal = self.get_object()
        if request.method == "GET":
            return Response(
                AttachmentSerializer(visibility.attachments_visible_to(request.user, proposal), many=True).data
            )
        serializer = AttachmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wanted = serializer.validated_data.get("visibility", AttachmentVisibility.BOARD)
        if wanted != AttachmentVisibility.BOARD and not visibility.can_set_attachment_visibility(request.user):
            raise PermissionDenied(_("Only the company secretary may say who reads an attachment."))
        with transaction.atomic():
            attachment = materials.attachment_add(
                proposal=proposal,
                actor=acting_user(request),
                upload=serializer.validated_data["file"],
            )
            if wanted != AttachmentVisibility.BOARD:
                attachment = materials.attachment_visibility_set(
                    attachment=attachment,
                    visibility=wanted,
                    actor=acting_user(request),
                )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], summary="One attachment", responses={200: AttachmentSerializer, **errors(404)})
    @extend_schema(
        methods=["PATCH"],
        summary="Mark an attachment as proxy material or board only (secretary)",
        request=AttachmentVisibilitySerializer,
        responses={200: AttachmentSerializer, **errors(400, 401, 403, 404)},
    )
    @action(
        detail=True,
        methods=["get", "patch"],
        url_path=r"attachments/(?P<attachment_id>[0-9]{1,18})",
        pagination_class=None,
        permission_classes=[permissions.IsAuthenticatedOrReadOnly],
    )
    def attachment(self, request: Request, pk: str | None = None, attachment_id: str | None = None) -> Response:
        proposal = self.get_object()
        attachment = (
            visibility.attachments_visible_to(request.user, proposal).filter(pk=int(attachment_id or 0)).first()
        )
        if attachment is None:
            raise NotFound()
        if request.method == "GET":
            return Response(AttachmentSerializer(attachment).data)
        if not visibility.can_set_attachment_visibility(request.user):
            raise PermissionDenied(_("Only the company secretary may say who reads an attachment."))
        serializer = AttachmentVisibilitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = materials.attachment_visibility_set(
            attachment=attachment,
            visibility=serializer.validated_data["visibility"],
            actor=acting_user(request),
        )
        return Response(AttachmentSerializer(attachment).data)


@extend_schema_view(
    list=extend_schema(
        summary="Directors and their declared interests (secretary)",
        responses={200: DirectorSerializer(many=True), **errors(400, 401, 403)},
    ),
    create=extend_schema(
        summary="Add a director or update one's title and interests (secretary)",
        responses={201: DirectorSerializer, **errors(400, 401, 403)},
    ),
)
class DirectorViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = ID_PATTERN
    serializer_class = DirectorSerializer
    permission_classes = [permissions.IsAuthenticated, IsSecretary]
    queryset = Director.objects.select_related("user").order_by("user__username")

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        serializer.instance = people_services.director_save(
            director_user=data["user"],
            title=data.get("title", ""),
            interests=data.get("interests", []),
            in_office=data.get("in_office", True),
            actor=acting_user(self.request),
        )
