"""Production settings for tests that serve the app with gunicorn: static files from the finders,
so the pages render without a collectstatic (the manifest storage refuses otherwise)."""

from django.conf import global_settings

from config.settings import *  # noqa: F403

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# The test process makes accounts with its fast MD5 hasher; the server must verify them.
PASSWORD_HASHERS = [*global_settings.PASSWORD_HASHERS, "django.contrib.auth.hashers.MD5PasswordHasher"]
