"""Test overrides: fast hashing, captured mail, tasks eager unless a test asks for a worker."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-used-anywhere-else-0123456789")
os.environ.setdefault("AUDIT_KEY", "test-only-audit-key-not-used-anywhere-else-0123456789")

from config.settings import *  # noqa: F403
from config.settings import DATABASES

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A worker process's mail, where a test in another process can count it.
if os.environ.get("QUORUM_TEST_MAIL_DIR"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["QUORUM_TEST_MAIL_DIR"]
CELERY_TASK_ALWAYS_EAGER = True
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"].pop("init_command", None)
# Serve static files from the finders, so tests need no collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
# Every read computes afresh: tests create accounts and expect counts to follow at once.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
# Uploaded files go to a throwaway folder, never into the project.
MEDIA_ROOT = tempfile.mkdtemp(prefix="quorum-test-media-")
# Tests sign the secretary and directors in with force_login; the two-factor tests turn it on.
REQUIRE_2FA = False
# The existing suite links holders to accounts by e-mail; control-number tests turn it off.
REGISTER_LINK_BY_EMAIL = True
