"""DESIGN.md, "Who sees what", cell by cell: every role against every state of a proposal's
life, for every place a proposal shows (page, API detail, list and search, events, comments,
attachments and their downloads, review votes, the dashboard, e-mails). Each cell asserts what
the reader gets AND what they do not; a sentinel written into a board comment, a review vote's
comment and the board memo must never reach a reader outside the board."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from proposals import materials, review_votes, services
from proposals.models import Attachment, AttachmentVisibility, Proposal
from proposals.workflow import Action, State
from tests.factories import make_director, make_meeting, make_proposal, make_register, make_secretary, make_user

pytestmark = pytest.mark.django_db

SENTINEL = "SENTINEL-BOARD-7f3a"
PROPOSER_NOTE = "PROPOSER-NOTE-2b9c"
PUBLIC_COMMENT = "PUBLIC-COMMENT-5d1e"
TITLE = "Invest $5B in xAI"

ROLES = ["visitor", "member", "proposer", "director", "recused", "secretary"]
STATES = ["submitted", "in_review", "approved", "rejected", "referred", "shareholder_vote", "adopted"]
PUBLIC_STATES = {"shareholder_vote", "adopted"}
REVIEWED_STATES = set(STATES) - {"submitted"}  # start_review has recorded the recusal
BOARD = {"director", "secretary"}  # who reads the deliberation: not the recused director
DECISIONS = {
    "approved": "approved",
    "rejected": "rejected",
    "referred": "referred",
    "shareholder_vote": "approved",
    "adopted": "approved",
}


def sees_proposal(role: str, state: str) -> bool:
    return role in {"proposer", "director", "recused", "secretary"} or state in PUBLIC_STATES


def sees_deliberation(role: str, state: str) -> bool:
    return role in BOARD


def sees_proxy_material(role: str, state: str) -> bool:
    return role in BOARD or (state in PUBLIC_STATES and sees_proposal(role, state))


def sees_proposer_note(role: str, state: str) -> bool:
    return role in BOARD or role == "proposer"


def sees_business_plan(role: str, state: str) -> bool:
    """Uploaded by the proposer and never marked proxy material: the board's and theirs."""
    return role in BOARD or role == "proposer"


def build_world(state: str, capture: Any, settings: Any, tmp_path: Any) -> dict[str, Any]:
    """One proposal walked through the real services to `state`, with a board comment, a review
    vote and a board memo carrying the sentinel, the proposer's note to the board, the proposer's
    business plan, proxy material and (once at a vote) a public comment."""
    settings.MEDIA_ROOT = str(tmp_path)
    with capture(execute=True):
        secretary = make_secretary(username="secretary", email="secretary@example.com")
        director = make_director("robyn")
        second = make_director("ira")
        recused = make_director("elon", interests=("xAI",))
        member = make_user(username="member")
        proposer = make_user(username="proposer")
        proposal = make_proposal(proposer, title=TITLE)
        services.proposal_transition(proposal_id=proposal.pk, action=Action.SUBMIT, actor=proposer)
        materials.comment_add(proposal=proposal, actor=proposer, body=f"{PROPOSER_NOTE}: happy to answer")
        materials.comment_add(proposal=proposal, actor=director.user, body=f"{SENTINEL}: related-party risk")
        materials.attachment_add(
            proposal=proposal, actor=proposer, upload=SimpleUploadedFile("business-plan.txt", b"the plan")
        )
        memo = materials.attachment_add(
            proposal=proposal,
            actor=secretary,
            upload=SimpleUploadedFile("board-memo.txt", f"{SENTINEL} memo".encode()),
        )
        proxy = materials.attachment_add(
            proposal=proposal, actor=secretary, upload=SimpleUploadedFile("proxy-statement.txt", b"for all")
        )
        materials.attachment_visibility_set(
            attachment=proxy, visibility=AttachmentVisibility.PROXY_MATERIAL, actor=secretary
        )
        if state != "submitted":
            services.proposal_transition(
                proposal_id=proposal.pk,
                action=Action.START_REVIEW,
                actor=secretary,
                due_at=timezone.now() + datetime.timedelta(days=7),
            )
            # Two of the three directors decide (one is recused): by plurality, as the state needs.
            decision = {"rejected": "reject", "referred": "refer"}.get(state, "approve")
            review_votes.review_vote_cast(
                proposal_id=proposal.pk, actor=second.user, decision=decision, comment=f"{SENTINEL}: vote comment"
            )
        if state in ("approved", "rejected", "referred", "shareholder_vote", "adopted"):
            review_votes.review_vote_cast(proposal_id=proposal.pk, actor=director.user, decision=decision)
        if state in PUBLIC_STATES:
            register = make_register([("H1", "Holder", "holder@example.com", 100)], outstanding=100)
            services.proposal_transition(
                proposal_id=proposal.pk, action=Action.PUT_TO_VOTE, actor=secretary, meeting=make_meeting(register)
            )
            materials.comment_add(proposal=proposal, actor=member, body=f"{PUBLIC_COMMENT}: I will vote for")
        if state == "adopted":
            services.proposal_transition(
                proposal_id=proposal.pk, action=Action.SETTLE, actor=None, outcome=State.ADOPTED, comment="Passed."
            )
    proposal.refresh_from_db()
    assert proposal.status == state
    users = {
        "visitor": None,
        "member": member,
        "proposer": proposer,
        "director": director.user,
        "recused": recused.user,
        "secretary": secretary,
    }
    return {"proposal": proposal, "users": users, "memo": memo, "proxy": proxy}


@pytest.fixture
def world_for(django_capture_on_commit_callbacks: Any, settings: Any, tmp_path: Any) -> Any:
    return lambda state: build_world(state, django_capture_on_commit_callbacks, settings, tmp_path)


def api_as(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def client_as(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


CELLS = [(role, state) for state in STATES for role in ROLES]
IDS = [f"{role}-{state}" for role, state in CELLS]


@pytest.mark.parametrize(("role", "state"), CELLS, ids=IDS)
def test_the_proposal_page_shows_each_reader_what_is_theirs(role: str, state: str, world_for: Any) -> None:
    world = world_for(state)
    response = client_as(world["users"][role]).get(f"/proposals/{world['proposal'].pk}/")
    if not sees_proposal(role, state):
        assert response.status_code == 404
        assert TITLE not in response.content.decode()
        assert SENTINEL not in response.content.decode()
        return
    assert response.status_code == 200
    page = response.content.decode()
    assert TITLE in page
    assert (SENTINEL in page) is sees_deliberation(role, state)
    assert ("board-memo.txt" in page) is sees_deliberation(role, state)
    assert ("proxy-statement.txt" in page) is sees_proxy_material(role, state)
    assert ("business-plan.txt" in page) is sees_business_plan(role, state)
    assert (PROPOSER_NOTE in page) is sees_proposer_note(role, state)
    assert (PUBLIC_COMMENT in page) is (state in PUBLIC_STATES)
    assert (" abstain of " in page) is (sees_deliberation(role, state) and state in REVIEWED_STATES)  # the tally
    assert ("You stand aside from this review" in page) is (role == "recused")


@pytest.mark.parametrize(("role", "state"), CELLS, ids=IDS)
def test_the_api_detail_list_and_search_hold_only_what_the_reader_may_see(
    role: str, state: str, world_for: Any
) -> None:
    world = world_for(state)
    api, pk = api_as(world["users"][role]), world["proposal"].pk
    detail = api.get(f"/api/v1/proposals/{pk}/")
    listed = [row["id"] for row in api.get("/api/v1/proposals/").json()["results"]]
    found = [row["id"] for row in api.get("/api/v1/proposals/", {"search": "xAI"}).json()["results"]]
    if sees_proposal(role, state):
        assert detail.status_code == 200
        assert detail.json()["status"] == state
        assert pk in listed and pk in found
        decision = detail.json()["board_decision"]
        assert (decision is not None) is (state in DECISIONS), "the board's decision, once there is one"
        if decision is not None:
            assert decision["outcome"] == DECISIONS[state]
    else:
        assert detail.status_code == 404
        assert TITLE not in detail.content.decode()
        assert pk not in listed and pk not in found
    assert SENTINEL not in detail.content.decode()


@pytest.mark.parametrize(("role", "state"), CELLS, ids=IDS)
def test_the_events_carry_the_board_events_only_to_the_board(role: str, state: str, world_for: Any) -> None:
    world = world_for(state)
    response = api_as(world["users"][role]).get(f"/api/v1/proposals/{world['proposal'].pk}/events/")
    if not sees_proposal(role, state):
        assert response.status_code == 404
        assert SENTINEL not in response.content.decode()
        return
    assert response.status_code == 200
    actions = [event["action"] for event in response.json()]
    body = response.content.decode()
    assert {"created", "submit"} <= set(actions)
    assert (SENTINEL in body) is (sees_deliberation(role, state) and state in REVIEWED_STATES)
    assert ("review_vote" in actions) is (sees_deliberation(role, state) and state in REVIEWED_STATES)
    sees_recusal = role in BOARD or role == "recused"
    assert ("director_recused" in actions) is (sees_recusal and state in REVIEWED_STATES)
    assert ("board-memo.txt" in body) is sees_deliberation(role, state)
    if state in ("approved", "rejected", "referred", *PUBLIC_STATES):
        assert any(event["action"] in ("decide", "refer") for event in response.json()), "the board's decision"


@pytest.mark.parametrize(("role", "state"), CELLS, ids=IDS)
def test_comments_are_read_by_their_audience(role: str, state: str, world_for: Any) -> None:
    world = world_for(state)
    response = api_as(world["users"][role]).get(f"/api/v1/proposals/{world['proposal'].pk}/comments/")
    if not sees_proposal(role, state):
        assert response.status_code == 404
        assert SENTINEL not in response.content.decode()
        return
    assert response.status_code == 200
    bodies = " ".join(comment["body"] for comment in response.json())
    assert (SENTINEL in bodies) is sees_deliberation(role, state)
    assert (PROPOSER_NOTE in bodies) is sees_proposer_note(role, state)
    assert (PUBLIC_COMMENT in bodies) is (state in PUBLIC_STATES)


@pytest.mark.parametrize(("role", "state"), CELLS, ids=IDS)
def test_attachments_are_listed_and_served_by_their_visibility(role: str, state: str, world_for: Any) -> None:
    world = world_for(state)
    user = world["users"][role]
    response = api_as(user).get(f"/api/v1/proposals/{world['proposal'].pk}/attachments/")
    client = client_as(user)
    memo = client.get(f"/proposals/attachments/{world['memo'].pk}/")
    proxy = client.get(f"/proposals/attachments/{world['proxy'].pk}/")
    assert memo.status_code == (200 if sees_deliberation(role, state) else 404)
    assert proxy.status_code == (200 if sees_proxy_material(role, state) else 404)
    if memo.status_code == 404:
        assert SENTINEL.encode() not in memo.content
    if not sees_proposal(role, state):
        assert response.status_code == 404
        return
    assert response.status_code == 200
    names = {row["name"]: row["visibility"] for row in response.json()}
    assert ("board-memo.txt" in names) is sees_deliberation(role, state)
    assert ("proxy-statement.txt" in names) is sees_proxy_material(role, state)
    assert ("business-plan.txt" in names) is sees_business_plan(role, state)
    if "proxy-statement.txt" in names:
        assert names["proxy-statement.txt"] == "proxy_material"


@pytest.mark.parametrize(("role", "state"), CELLS, ids=IDS)
def test_review_votes_are_the_boards_alone(role: str, state: str, world_for: Any) -> None:
    world = world_for(state)
    response = api_as(world["users"][role]).get(f"/api/v1/proposals/{world['proposal'].pk}/review-votes/")
    if not sees_deliberation(role, state):
        assert response.status_code == 404
        assert SENTINEL not in response.content.decode()
        assert "ira" not in response.content.decode()
        return
    assert response.status_code == 200
    votes = {vote["director"]: vote for vote in response.json()}
    if state in REVIEWED_STATES:
        assert votes["ira"]["decision"] == {"rejected": "reject", "referred": "refer"}.get(state, "approve")
        assert SENTINEL in votes["ira"]["comment"]
    else:
        assert votes == {}


@pytest.mark.parametrize(("role", "state"), CELLS, ids=IDS)
def test_the_dashboard_lists_the_proposal_only_where_the_reader_has_a_part(
    role: str, state: str, world_for: Any
) -> None:
    world = world_for(state)
    page = client_as(world["users"][role]).get("/").content.decode()
    link = f'href="/proposals/{world["proposal"].pk}/"'
    expected = (
        role == "proposer"
        or (role == "director" and state == "in_review")
        or (role == "recused" and state in ("submitted", "in_review"))
    )
    assert (link in page) is expected
    assert SENTINEL not in page
    assert ("recused: interest in xAI" in page) is (role == "recused" and state in ("submitted", "in_review"))


EMAIL_ROLES = ["member", "proposer", "director", "recused", "secretary"]


@pytest.mark.parametrize(("role", "state"), [(r, s) for s in STATES for r in EMAIL_ROLES])
def test_e_mails_carry_no_deliberation_and_go_only_to_readers(role: str, state: str, world_for: Any) -> None:
    world = world_for(state)
    address = world["users"][role].email
    mine = [message for message in mail.outbox if address in message.to]
    for message in mine:
        text = " ".join(
            [str(message.subject), str(message.body), *(str(part[0]) for part in getattr(message, "alternatives", []))]
        )
        assert SENTINEL not in text
        assert PROPOSER_NOTE not in text or role in BOARD | {"proposer"}
    subjects = [str(message.subject) for message in mine]
    assert not any("Review requested" in subject for subject in subjects) or role == "director"
    if role == "member":
        assert mine == []
    if role == "director" and state in REVIEWED_STATES:
        assert any("Review requested" in subject for subject in subjects)
    if role == "proposer" and state in ("approved", "rejected", "referred"):
        assert any(str(world["proposal"].get_status_display()).lower() in subject for subject in subjects)
    if role == "secretary":
        assert any("Proposal submitted" in subject for subject in subjects)


# --- The reproductions from issue 11, and the writes that go with the rule --------------------


def test_an_anonymous_visitor_gets_a_404_for_a_proposal_in_review(world_for: Any) -> None:
    world = world_for("in_review")
    response = Client().get(f"/proposals/{world['proposal'].pk}/")
    assert response.status_code == 404
    assert "ira" not in response.content.decode() and SENTINEL not in response.content.decode()


def test_an_anonymous_visitor_cannot_read_the_review_votes(world_for: Any) -> None:
    world = world_for("in_review")
    response = APIClient().get(f"/api/v1/proposals/{world['proposal'].pk}/review-votes/")
    assert response.status_code in (401, 404)
    assert SENTINEL not in response.content.decode()


def test_an_anonymous_visitor_cannot_download_the_board_memo(world_for: Any) -> None:
    world = world_for("in_review")
    response = Client().get(f"/proposals/attachments/{world['memo'].pk}/")
    assert response.status_code == 404
    assert SENTINEL.encode() not in response.content


def test_a_refusal_for_a_hidden_proposal_names_nothing(world_for: Any) -> None:
    world = world_for("in_review")
    api = api_as(world["users"]["member"])
    for path in ("", "events/", "comments/", "attachments/", "review-votes/"):
        response = api.get(f"/api/v1/proposals/{world['proposal'].pk}/{path}")
        assert response.status_code == 404
        assert TITLE not in response.content.decode() and "xAI" not in response.content.decode()


def test_the_secretary_marks_a_file_as_proxy_material_from_the_page(world_for: Any) -> None:
    world = world_for("shareholder_vote")
    memo = world["memo"]
    assert client_as(world["users"]["member"]).get(f"/proposals/attachments/{memo.pk}/").status_code == 404
    director = client_as(world["users"]["director"])
    assert (
        director.post(f"/proposals/attachments/{memo.pk}/visibility/", {"visibility": "proxy_material"}).status_code
        == 403
    )
    response = client_as(world["users"]["secretary"]).post(
        f"/proposals/attachments/{memo.pk}/visibility/", {"visibility": "proxy_material"}
    )
    assert response.status_code == 302
    assert Attachment.objects.get(pk=memo.pk).visibility == "proxy_material"
    assert client_as(world["users"]["member"]).get(f"/proposals/attachments/{memo.pk}/").status_code == 200
    events = api_as(world["users"]["secretary"]).get(f"/api/v1/proposals/{world['proposal'].pk}/events/").json()
    assert events[-1]["action"] == "attachment_visibility_set"
    assert events[-1]["actor"] == "secretary"


def test_only_the_secretary_sets_an_attachments_visibility_through_the_api(world_for: Any) -> None:
    world = world_for("in_review")
    url = f"/api/v1/proposals/{world['proposal'].pk}/attachments/{world['memo'].pk}/"
    body = {"visibility": "proxy_material"}
    assert api_as(world["users"]["director"]).patch(url, body, format="json").status_code == 403
    assert api_as(world["users"]["member"]).patch(url, body, format="json").status_code == 404
    assert api_as(None).patch(url, body, format="json").status_code == 401
    assert api_as(world["users"]["secretary"]).patch(url, {"visibility": "public"}, format="json").status_code == 400
    assert Attachment.objects.get(pk=world["memo"].pk).visibility == "board"
    response = api_as(world["users"]["secretary"]).patch(url, body, format="json")
    assert response.status_code == 200
    assert response.json()["visibility"] == "proxy_material"


def test_a_director_cannot_upload_proxy_material_but_the_secretary_can(world_for: Any) -> None:
    world = world_for("in_review")
    url = f"/api/v1/proposals/{world['proposal'].pk}/attachments/"
    before = Attachment.objects.count()

    def upload() -> dict[str, Any]:
        return {"file": SimpleUploadedFile("notice.txt", b"notice"), "visibility": "proxy_material"}

    assert api_as(world["users"]["director"]).post(url, upload(), format="multipart").status_code == 403
    assert Attachment.objects.count() == before
    response = api_as(world["users"]["secretary"]).post(url, upload(), format="multipart")
    assert response.status_code == 201
    assert response.json()["visibility"] == "proxy_material"


def test_the_database_refuses_an_unknown_attachment_visibility(world_for: Any) -> None:
    from django.db import IntegrityError, transaction

    world = world_for("submitted")
    with pytest.raises(IntegrityError), transaction.atomic():
        Attachment.objects.filter(pk=world["memo"].pk).update(visibility="everyone")


def test_a_recused_director_may_not_join_the_deliberation(world_for: Any) -> None:
    world = world_for("in_review")
    pk, recused = world["proposal"].pk, world["users"]["recused"]
    assert client_as(recused).post(f"/proposals/{pk}/comment/", {"body": "my view"}).status_code == 403
    response = api_as(recused).post(f"/api/v1/proposals/{pk}/comments/", {"body": "my view"}, format="json")
    assert response.status_code == 403
    review = client_as(recused).get(f"/proposals/{pk}/review/")
    assert review.status_code == 200
    assert SENTINEL not in review.content.decode()
    assert "ira" not in review.content.decode()


def test_a_member_may_comment_once_the_proposal_is_at_a_vote_and_everyone_reads_it(world_for: Any) -> None:
    world = world_for("shareholder_vote")
    pk = world["proposal"].pk
    member = api_as(make_user(username="another"))
    assert member.post(f"/api/v1/proposals/{pk}/comments/", {"body": "Count me in"}, format="json").status_code == 201
    assert "Count me in" in [
        comment["body"] for comment in api_as(None).get(f"/api/v1/proposals/{pk}/comments/").json()
    ]


def test_a_member_may_not_attach_files_to_someone_elses_public_proposal(world_for: Any) -> None:
    world = world_for("shareholder_vote")
    response = client_as(world["users"]["member"]).post(
        f"/proposals/{world['proposal'].pk}/attach/", {"file": SimpleUploadedFile("x.txt", b"x")}
    )
    assert response.status_code == 403
    assert not Attachment.objects.filter(name="x.txt").exists()


def test_a_proposal_implemented_without_a_shareholder_vote_stays_with_the_board(world_for: Any) -> None:
    world = world_for("approved")
    services.proposal_transition(
        proposal_id=world["proposal"].pk, action=Action.IMPLEMENT, actor=world["users"]["secretary"]
    )
    assert api_as(None).get(f"/api/v1/proposals/{world['proposal'].pk}/").status_code == 404
    assert api_as(world["users"]["director"]).get(f"/api/v1/proposals/{world['proposal'].pk}/").status_code == 200
    assert Proposal.objects.get(pk=world["proposal"].pk).status == State.IMPLEMENTED


def test_the_admin_shows_the_boards_papers_to_no_staff_account_without_the_role(world_for: Any) -> None:
    from django.contrib.auth.models import Permission

    world = world_for("in_review")
    staff = make_user(username="clerk", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="proposals"))
    client = client_as(staff)
    assert client.get("/admin/proposals/comment/").status_code == 403
    assert client.get(f"/admin/proposals/proposal/{world['proposal'].pk}/change/").status_code in (302, 403, 404)
    admin = client_as(make_user(username="admin", is_staff=True, is_superuser=True))
    page = admin.get(f"/admin/proposals/proposal/{world['proposal'].pk}/change/")
    assert page.status_code == 200
    assert SENTINEL in page.content.decode()
