from django.urls import path

from proposals import (
    console,
    console_imports,
    console_polls,
    console_recommendation,
    console_tabulation,
    outbox_views,
    people,
)

app_name = "console"

urlpatterns = [
    path("", console.console_home, name="home"),
    path("registers/import/", console.register_import, name="register-import"),
    path("registers/imports/<int:job_id>/", console_imports.import_progress, name="register-import-progress"),
    path("registers/imports/<int:job_id>/status/", console_imports.import_status, name="register-import-status"),
    path("polls/new/", console.poll_new, name="poll-new"),
    path("meetings/new/", console.meeting_new, name="meeting-new"),
    path("meetings/<int:meeting_id>/edit/", console.meeting_edit, name="meeting-edit"),
    path("meetings/<int:meeting_id>/items/new/", console.item_new, name="item-new"),
    path("meetings/<int:meeting_id>/", console_polls.meeting_view, name="meeting"),
    path("polls/<int:poll_id>/edit/", console_polls.poll_edit, name="poll-edit"),
    path("polls/<int:poll_id>/delete/", console_polls.poll_delete, name="poll-delete"),
    path("polls/<int:poll_id>/recommendation/", console_recommendation.recommendation_edit, name="recommendation"),
    path("polls/<int:poll_id>/tabulation/", console_tabulation.tabulation_enter, name="tabulation"),
    path("polls/<int:poll_id>/open/", console.poll_act, {"action": "open"}, name="poll-open"),
    path("polls/<int:poll_id>/close/", console.poll_act, {"action": "close"}, name="poll-close"),
    path("polls/<int:poll_id>/certify/", console.poll_certify, name="poll-certify"),
    path("follow-ups/<int:follow_up_id>/done/", console.follow_up_done, name="follow-up-done"),
    path("outbox/", outbox_views.outbox, name="outbox"),
    path("outbox/<int:notification_id>/resend/", outbox_views.outbox_resend, name="outbox-resend"),
    path("people/", people.people_home, name="people"),
    path("people/directors/new/", people.director_new, name="director-new"),
    path("people/directors/<int:director_id>/", people.director_edit, name="director-edit"),
    path("people/directors/<int:director_id>/remove/", people.director_remove, name="director-remove"),
    path("people/invite/", people.account_invite, name="account-invite"),
    path("people/accounts/<int:user_id>/deactivate/", people.account_deactivate, name="account-deactivate"),
    path("people/accounts/<int:user_id>/reactivate/", people.account_reactivate, name="account-reactivate"),
]
