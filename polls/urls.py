from django.urls import path, re_path

from polls import holding_views, receipt_views, views

app_name = "polls"

urlpatterns = [
    path("", views.poll_list, name="list"),
    path("polls/<int:poll_id>/", views.poll_detail, name="detail"),
    path("polls/<int:poll_id>/vote/", views.poll_vote, name="vote"),
    path("polls/<int:poll_id>/withdraw/", views.poll_withdraw, name="withdraw"),
    path("polls/<int:poll_id>/results/", views.poll_results, name="results"),
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:meeting_id>/ballot/", views.meeting_ballot, name="meeting-ballot"),
    path("meetings/<int:meeting_id>/proxies/", views.meeting_proxy_appoint, name="proxy-appoint"),
    path("meetings/<int:meeting_id>/proxies/<int:proxy_id>/revoke/", views.meeting_proxy_revoke, name="proxy-revoke"),
    path("meetings/<int:meeting_id>/results.csv", views.meeting_results_csv, name="meeting-results-csv"),
    path("recorded/<int:recorded_id>/", views.recorded_detail, name="recorded"),
    path("receipts/", receipt_views.receipt_check, name="receipt-check"),
    path("receipts/<str:code>/", receipt_views.receipt_detail, name="receipt"),
    path("holdings/claim/", holding_views.holding_claim, name="holding-claim"),
    re_path(
        r"^registers/(?P<register_id>[0-9]{1,18})/mailing\.csv$",
        holding_views.register_mailing,
        name="register-mailing",
    ),
]
