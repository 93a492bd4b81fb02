from django.urls import path

from polls import views

app_name = "polls"

urlpatterns = [
    path("", views.poll_list, name="list"),
    path("polls/<int:poll_id>/", views.poll_detail, name="detail"),
    path("polls/<int:poll_id>/vote/", views.poll_vote, name="vote"),
    path("polls/<int:poll_id>/withdraw/", views.poll_withdraw, name="withdraw"),
    path("polls/<int:poll_id>/results/", views.poll_results, name="results"),
]
