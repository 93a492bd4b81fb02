from django.urls import path

from polls import receipt_views, views

app_name = "polls"

urlpatterns = [
    path("polls/<int:poll_id>/", views.poll_detail, name="detail"),
    path("polls/<int:poll_id>/vote/", views.poll_vote, name="vote"),
    path("polls/<int:poll_id>/withdraw/", views.poll_withdraw, name="withdraw"),
    path("polls/<int:poll_id>/results/", views.poll_results, name="results"),
    path("recorded/<int:recorded_id>/", views.recorded_detail, name="recorded"),
    path("receipts/", receipt_views.receipt_check, name="receipt-check"),
    path("receipts/<str:code>/", receipt_views.receipt_detail, name="receipt"),
]
