from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core.api import LogoutView as ApiLogoutView
from polls.auth import LoginView
from polls.views import healthz, language_set

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/", include("core.urls")),
    path("api/v1/auth/logout/", ApiLogoutView.as_view(), name="api-logout"),
    path("api/v1/", include("polls.api.urls")),
    path("healthz", healthz, name="healthz"),
    path("console/", include("proposals.console_urls")),
    path("i18n/setlang/", language_set, name="set_language"),
    path("proposals/", include("proposals.urls")),
    path("", include("polls.urls")),
]

handler404 = "polls.views.not_found"
handler500 = "polls.views.server_error"
