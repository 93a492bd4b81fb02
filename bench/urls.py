from django.urls import path

from bench import views
from config.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("bench/bare-ballot/<int:poll_id>/<int:option_id>/", views.bare_ballot),
    path("bench/counters/<int:poll_id>/", views.bare_counters),
    *app_urlpatterns,
]
