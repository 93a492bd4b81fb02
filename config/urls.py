from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config import views
from core.api import LogoutView as ApiLogoutView
from core.auth import LoginView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("core.urls")),
    path("api/v1/auth/logout/", ApiLogoutView.as_view(), name="api-logout"),
    path("api/v1/", include("config.api")),
    path("healthz", views.healthz, name="healthz"),
    path("console/", include("proposals.console_urls")),
    path("i18n/setlang/", views.language_set, name="set_language"),
    path("proposals/", include("proposals.urls")),
    path("", views.home, name="home"),
    path("", include("meetings.urls")),
    path("", include("polls.urls")),
]

handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
