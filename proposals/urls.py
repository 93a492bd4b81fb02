from django.urls import path

from proposals import board_meeting_views, board_views, consent_views, party_views, views

app_name = "proposals"

urlpatterns = [
    path("", views.proposal_list, name="list"),
    path("new/", views.proposal_new, name="new"),
    path("<int:proposal_id>/", views.proposal_detail, name="detail"),
    path("<int:proposal_id>/edit/", views.proposal_edit, name="edit"),
    path("<int:proposal_id>/transition/", views.proposal_transition, name="transition"),
    path("<int:proposal_id>/review/", board_views.proposal_review, name="review"),
    path("<int:proposal_id>/decide/", board_views.proposal_decide, name="decide"),
    path("<int:proposal_id>/reschedule/", board_views.proposal_reschedule, name="reschedule"),
    path("board/settings/", board_views.board_settings, name="board-settings"),
    path("<int:proposal_id>/comment/", views.proposal_comment, name="comment"),
    path("<int:proposal_id>/attach/", views.proposal_attach, name="attach"),
    path("attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("attachments/<int:attachment_id>/visibility/", views.attachment_visibility, name="attachment_visibility"),
    path("recusals/<int:recusal_id>/lift/", party_views.recusal_lift, name="recusal-lift"),
    path("<int:proposal_id>/consents/new/", consent_views.consent_new, name="consent-new"),
    path("consents/", consent_views.consent_list, name="consents"),
    path("consents/<int:consent_id>/", consent_views.consent_detail, name="consent"),
    path("consents/<int:consent_id>/sign/", consent_views.consent_sign, name="consent-sign"),
    path("board-meetings/", board_meeting_views.meeting_list, name="board-meetings"),
    path("board-meetings/new/", board_meeting_views.meeting_new, name="board-meeting-new"),
    path("board-meetings/<int:meeting_id>/", board_meeting_views.meeting_detail, name="board-meeting"),
    path(
        "board-meetings/<int:meeting_id>/attendance/",
        board_meeting_views.meeting_attendance,
        name="board-meeting-attendance",
    ),
    path("board-meetings/<int:meeting_id>/votes/", board_meeting_views.meeting_vote, name="board-meeting-vote"),
    path("board-meetings/<int:meeting_id>/minutes/save/", board_meeting_views.minutes_save, name="board-minutes-save"),
    path(
        "board-meetings/<int:meeting_id>/minutes/circulate/",
        board_meeting_views.minutes_circulate,
        name="board-minutes-circulate",
    ),
    path(
        "board-meetings/<int:meeting_id>/minutes/comment/",
        board_meeting_views.minutes_comment,
        name="board-minutes-comment",
    ),
    path(
        "board-meetings/<int:meeting_id>/minutes/approve/",
        board_meeting_views.minutes_approve,
        name="board-minutes-approve",
    ),
    path("board-meetings/<int:meeting_id>/minutes/", board_meeting_views.minutes_print, name="board-minutes-print"),
]
