from django.urls import path, re_path

from meetings import attendance_views, holding_views, proxy_views, report_views, views

app_name = "meetings"

urlpatterns = [
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:meeting_id>/ballot/", views.meeting_ballot, name="meeting-ballot"),
    path("meetings/<int:meeting_id>/check-in/", attendance_views.meeting_check_in, name="check-in"),
    path("meetings/<int:meeting_id>/proxies/", views.meeting_proxy_appoint, name="proxy-appoint"),
    path("meetings/<int:meeting_id>/proxy-ballot/", proxy_views.proxy_ballot, name="proxy-ballot"),
    path("meetings/<int:meeting_id>/proxies/<int:proxy_id>/revoke/", views.meeting_proxy_revoke, name="proxy-revoke"),
    path("meetings/<int:meeting_id>/results.csv", views.meeting_results_csv, name="meeting-results-csv"),
    path("meetings/<int:meeting_id>/item-5-07/", report_views.meeting_item_507, name="item-507"),
    path("holdings/claim/", holding_views.holding_claim, name="holding-claim"),
    re_path(
        r"^registers/(?P<register_id>[0-9]{1,18})/mailing\.csv$",
        holding_views.register_mailing,
        name="register-mailing",
    ),
]
