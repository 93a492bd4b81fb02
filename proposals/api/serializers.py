from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.models import AuditEvent
from core.validators import no_bidi_overrides
from meetings.models import Meeting
from polls.models import Comparator, Poll, PollStatus, VoteStandard
from polls.standards import FRACTION_PATTERN
from proposals.models import (
    COMMENT_MAX_CHARS,
    PROPOSAL_TEXT_FIELDS,
    Attachment,
    AttachmentVisibility,
    Comment,
    Director,
    Proposal,
    ProposalKind,
    ReviewVote,
)
from proposals.review import RECOMMENDATION_OF, Decision
from proposals.workflow import Action

# A director's review vote; named in the schema (config/settings.py, ENUM_NAME_OVERRIDES).
REVIEW_DECISIONS = [decision.value for decision in Decision]


class BoardDecisionSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["approved", "rejected", "referred"])
    reason = serializers.CharField()
    recommendation = serializers.ChoiceField(
        choices=["for", "against", "none"],
        help_text="What the board recommends to the shareholders: for (approved), against (rejected), "
        "none (referred with no recommendation).",
    )


class RescheduleSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField(help_text="The review's new due date, in the future.")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=COMMENT_MAX_CHARS)


class ProposalSerializer(serializers.ModelSerializer):
    proposer = serializers.CharField(source="proposer.get_username", read_only=True)
    amount = serializers.DecimalField(max_digits=20, decimal_places=2, required=False, allow_null=True, min_value=0)
    polls = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Poll.objects.exclude(status=PollStatus.DRAFT), required=False
    )
    allowed_actions = serializers.SerializerMethodField()
    board_decision = serializers.SerializerMethodField(
        help_text="The board's decision (approved, rejected or referred with no recommendation) and its reason, "
        "for those who may read it; never the individual votes."
    )
    kind = serializers.ChoiceField(choices=ProposalKind.choices, default=ProposalKind.OTHER)

    class Meta:
        model = Proposal
        fields = [
            "id",
            *PROPOSAL_TEXT_FIELDS,
            "status",
            "polls",
            "item",
            "review_due_at",
            "proposer",
            "allowed_actions",
            "board_decision",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "item", "review_due_at", "proposer", "created_at", "updated_at"]

    def get_allowed_actions(self, proposal: Proposal) -> list[str]:
        from proposals.selectors import actions_for

        return actions_for(self.context["request"].user, proposal)

    @extend_schema_field(BoardDecisionSerializer(allow_null=True))
    def get_board_decision(self, proposal: Proposal) -> dict[str, str] | None:
        from proposals.selectors import board_decision
        from proposals.visibility import can_see_board_decision

        if not can_see_board_decision(self.context["request"].user, proposal):
            return None
        decision = board_decision(proposal)
        if decision is None:
            return None
        return {
            "outcome": decision.outcome,
            "reason": decision.reason,
            "recommendation": proposal.board_recommendation or RECOMMENDATION_OF.get(decision.outcome, ""),
        }


class TransitionSerializer(serializers.Serializer):
    # Any string: the workflow answers an unknown or impossible action with 409 and the
    # actions that are allowed, as it does for every other refusal.
    action = serializers.CharField(max_length=40, help_text=f"One of: {', '.join(a.value for a in Action)}.")
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=COMMENT_MAX_CHARS)
    due_at = serializers.DateTimeField(required=False, help_text="start_review: when the board's review is due.")
    meeting = serializers.PrimaryKeyRelatedField(
        queryset=Meeting.objects.all(), required=False, help_text="put_to_vote: the meeting whose ballot carries it."
    )
    standard = serializers.ChoiceField(choices=VoteStandard.choices, default=VoteStandard.VOTES_CAST)
    threshold = serializers.RegexField(FRACTION_PATTERN, default="1/2")
    comparator = serializers.ChoiceField(choices=Comparator.choices, default=Comparator.GT)
    closes_at = serializers.DateTimeField(required=False)


class TransitionRefusedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    allowed_actions = serializers.ListField(child=serializers.CharField())


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name")

    class Meta:
        model = AuditEvent
        fields = ["seq", "action", "actor", "at", "payload", "hash"]


class ReviewVoteSerializer(serializers.ModelSerializer):
    director = serializers.CharField(source="director.user.get_username", read_only=True)
    decision = serializers.ChoiceField(choices=REVIEW_DECISIONS)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=COMMENT_MAX_CHARS)

    class Meta:
        model = ReviewVote
        fields = ["director", "decision", "comment", "cast_at", "updated_at"]
        read_only_fields = ["director", "cast_at", "updated_at"]


class DirectorSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.all())
    interests = serializers.ListField(child=serializers.CharField(max_length=200), required=False, default=list)

    class Meta:
        model = Director
        fields = ["id", "user", "title", "in_office", "interests"]


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.get_username", read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "created_at"]
        read_only_fields = ["id", "author", "created_at"]
        extra_kwargs = {"body": {"max_length": COMMENT_MAX_CHARS, "validators": [no_bidi_overrides]}}


class AttachmentSerializer(serializers.ModelSerializer):
    file = serializers.FileField(write_only=True, help_text="PDF, PNG, JPEG or plain text, at most 10 MB.")
    download = serializers.SerializerMethodField()
    visibility = serializers.ChoiceField(
        choices=AttachmentVisibility.choices,
        required=False,
        help_text="board (the default): the board and the secretary; proxy_material: everyone once the "
        "proposal is put to a shareholder vote. Only the secretary sets it.",
    )

    class Meta:
        model = Attachment
        fields = ["id", "name", "content_type", "size", "visibility", "created_at", "file", "download"]
        read_only_fields = ["id", "name", "content_type", "size", "created_at", "download"]

    def get_download(self, attachment: Attachment) -> str:
        return f"/proposals/attachments/{attachment.pk}/"


class AttachmentVisibilitySerializer(serializers.Serializer):
    visibility = serializers.ChoiceField(choices=AttachmentVisibility.choices)
