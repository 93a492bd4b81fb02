"""Quorum settings: every deployment-specific value comes from the environment.

Unset variables give the embedded default a newcomer gets from `make run`: a SQLite file in
the project, Celery tasks run eagerly, e-mail printed to the console.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

# A development key is acceptable only while DEBUG is on; production must supply its own.
_DEV_SECRET_KEY = "django-insecure-quorum-development-only"  # noqa: S105 - refused unless DEBUG
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

# The audit trail's HMAC key: kept apart from SECRET_KEY (rotated on its own schedule) and from
# the database, so whoever can write the tables cannot re-sign them. Rotation: set the new key
# and move the old one to AUDIT_OLD_KEYS (comma-separated), which only verifies older links.
_DEV_AUDIT_KEY = "quorum-insecure-audit-key-development-only"  # refused unless DEBUG
AUDIT_KEY = env.str("AUDIT_KEY", default=_DEV_AUDIT_KEY if DEBUG else "")
if not AUDIT_KEY:
    raise ImproperlyConfigured("AUDIT_KEY must be set when DEBUG is off.")
AUDIT_OLD_KEYS = env.list("AUDIT_OLD_KEYS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "core",
    "polls",
    "meetings",
    "proposals",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.local_run.SiteNotFoundPage",
    # Last, so it sees the lockout flag the authentication backend sets on the request.
    "axes.middleware.AxesMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
]
if env.str("DATABASE_REPLICA_URL", default=""):
    # First, so every read of the request (sessions, the user) knows where it may go.
    MIDDLEWARE.insert(0, "core.db_pinning.PrimaryPinMiddleware")

ROOT_URLCONF = "config.urls"
CSRF_FAILURE_VIEW = "config.views.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default runs a web server and a Celery worker with beat side by side:
    # WAL lets them read while one writes, IMMEDIATE makes writers queue instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Behind PgBouncer in transaction mode (README, Deploying): CONN_MAX_AGE=0 and no server-side
    # cursors, which live in a server session the pooler may hand to someone else mid-iteration.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DISABLE_SERVER_SIDE_CURSORS", default=False)

# A streaming replica for results and public pages (config/routers.py). Unset, there is one
# database and nothing below applies. A request that writes, and the next ones from the same
# browser for DATABASE_REPLICA_PIN_SECONDS (a cookie), read the primary (core/db_pinning.py).
DATABASE_REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=5)
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    for _key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "DISABLE_SERVER_SIDE_CURSORS"):
        if _key in DATABASES["default"]:
            DATABASES["replica"][_key] = DATABASES["default"][_key]
    # Tests never build a second database: the replica alias reads the primary's.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["config.routers.PrimaryReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked account before any backend checks a password.
AUTHENTICATION_BACKENDS = [
    "core.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
# The story began in an Italian article: the interface speaks both. The reader's choice comes
# from the switcher (a cookie), else the browser's Accept-Language.
LANGUAGES = [("en", "English"), ("it", "Italiano")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Quorum <quorum@localhost>")
# Links in e-mails point here. Unset, the address `make run` serves on: scripts/run.sh exports
# the PORT it serves on, so a laptop on another port gets links that work.
SITE_URL = env.str("SITE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}").rstrip("/")
# The issuer named at the head of the Item 5.07 export (Form 8-K) and its printable page.
COMPANY_NAME = env.str("COMPANY_NAME", default="Quorum Demo, Inc.")
MEDIA_URL = "media/"
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(BASE_DIR / "media"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Production hardening: on unless DEBUG, each overridable for a TLS-terminating proxy setup.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The health check is probed over plain HTTP by load balancers and process supervisors.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

REST_FRAMEWORK = {
    # Token first, so an anonymous API call gets 401 with a WWW-Authenticate challenge.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_THROTTLE_RATES": {"login": env.str("LOGIN_THROTTLE_RATE", default="10/min")},
    # Throttles count per client address: REMOTE_ADDR, or with N trusted proxies in front the
    # address the N-th proxy from the right saw. A raw X-Forwarded-For is the client's to forge.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}

# Throttle counts live in the cache: set CACHE_URL (e.g. redis://127.0.0.1:6379/1) so every
# worker and node shares them; `check --deploy` refuses a process-local cache when DEBUG is off.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# Lockout per account on every login path (form, admin, token), counted in the database so all
# workers and nodes share it; a successful login or a password reset clears the count.
LOGIN_LOCKOUT_ATTEMPTS = env.int("LOGIN_LOCKOUT_ATTEMPTS", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
# Holders claim holdings with the control number mailed to them; matching a holder's e-mail to
# an account's is only for closed registers whose addresses the company trusts (off by default).
REGISTER_LINK_BY_EMAIL = env.bool("REGISTER_LINK_BY_EMAIL", default=False)
# Keyed digests of control numbers; a separate key lets SECRET_KEY rotate without orphaning them.
CONTROL_NUMBER_KEY = env.str("CONTROL_NUMBER_KEY", default="")
CLAIM_LOCKOUT_ATTEMPTS = env.int("CLAIM_LOCKOUT_ATTEMPTS", default=20)
CLAIM_LOCKOUT_SECONDS = env.int("CLAIM_LOCKOUT_SECONDS", default=60 * 60)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_FAILURE_LIMIT = LOGIN_LOCKOUT_ATTEMPTS
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_LOCKOUT_SECONDS)
AXES_RESET_ON_SUCCESS = True
# Guessing on while locked does not extend the lock: an attacker cannot keep an owner out forever.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "core.lockout.lockout_response"
AXES_USERNAME_CALLABLE = "core.lockout.attempt_username"
AXES_CLIENT_IP_CALLABLE = "core.net.client_ip"
AXES_VERBOSE = False
SILENCED_SYSTEM_CHECKS = [
    # Axes would also lock a client address; the DESIGN locks accounts, and an address shared
    # by an office (NAT, a proxy) must not lock every colleague out after someone's typos.
    "axes.W006",
]

# API tokens expire, and die with a password change or a logout.
TOKEN_TTL = timedelta(seconds=env.int("TOKEN_TTL", default=30 * 24 * 3600))
# TOTP two-factor for the secretary, superusers and directors; off by default only under DEBUG
# so `make run`'s demo logins work with a password alone.
REQUIRE_2FA = env.bool("REQUIRE_2FA", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Quorum")
# The admin never shows a device's secret: its key column, its configuration page and QR code
# would let anyone with view rights on devices mint another person's codes. (The two pages also
# looked the device up before any check, so an unknown id was a 500.) Enrolment is the user's
# own page.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Content-Security-Policy: nothing inline, nothing from elsewhere. The API docs page alone runs
# its start-up script with a per-response nonce.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Quorum API",
    "DESCRIPTION": "Polls, shareholder votes and proposals through board review.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema_hooks.document_unsupported_media_type",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ComparatorEnum": "polls.models.Comparator.choices",
        "PollKindEnum": "polls.kinds.API_KINDS",
        "VoteStandardEnum": "polls.models.VoteStandard.choices",
        "ElectionStandardEnum": "polls.api.item_serializers.ELECTION_STANDARDS",
        "ItemFormEnum": "polls.api.item_serializers.ITEM_FORMS",
        "LineChoiceEnum": "polls.api.item_serializers.LINE_CHOICES",
        "DisinterestedStandardEnum": "polls.api.item_serializers.DISINTERESTED_STANDARDS",
        "ResignationStateEnum": "meetings.api.serializers.RESIGNATION_STATES",
        "ResignationDecisionEnum": "meetings.api.serializers.RESIGNATION_DECISIONS",
        "ReviewDecisionEnum": "proposals.api.serializers.REVIEW_DECISIONS",
        "ProposalKindEnum": "proposals.models.ProposalKind.choices",
        "ConsentOutcomeEnum": "proposals.models.ConsentOutcome.choices",
    },
}

# Celery: with no broker configured, tasks run in-process (eagerly) so nothing needs a server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_ACKS_LATE = True
# Where a task goes unless routed: one queue per worker pool in a deployment that splits them.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Separate worker pools (README, Deploying): with CELERY_MAIL_QUEUE set, e-mail goes to that queue;
# with CELERY_WORK_QUEUE set, settlement, imports and the sweeps go to that one. Unset, no routes:
# every task goes to the default queue, as before. CELERY_TASK_ROUTES (JSON) replaces both.
_mail_queue = env.str("CELERY_MAIL_QUEUE", default="")
_work_queue = env.str("CELERY_WORK_QUEUE", default="")
CELERY_TASK_ROUTES: dict[str, dict[str, str]] = {}
if _mail_queue:
    for _task in (
        "core.tasks.send_notification",
        "polls.tasks.send_ballot_receipts",
        "meetings.tasks.meeting_notices_send",
        "meetings.tasks.meeting_reminders_sweep",
    ):
        CELERY_TASK_ROUTES[_task] = {"queue": _mail_queue}
if _work_queue:
    for _task in (
        "proposals.tasks.proposals_settle",
        "proposals.tasks.proposals_escalate",
        "proposals.tasks.proposals_sweep",
        "meetings.tasks.register_import_run",
        "meetings.tasks.register_imports_resume",
        "polls.tasks.polls_sweep",
        "polls.tasks.polls_reconcile",
    ):
        CELERY_TASK_ROUTES[_task] = {"queue": _work_queue}
CELERY_TASK_ROUTES = env.json("CELERY_TASK_ROUTES", default=CELERY_TASK_ROUTES)
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# What a task prints (the console e-mail backend of `make run`) stays plain output, not a
# WARNING log record per line.
CELERY_WORKER_REDIRECT_STDOUTS = False
# A request that enqueues must not hang on a broker that is down: two quick retries, then the
# failure is logged and the beat sweeps do the work later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "polls-sweep": {"task": "polls.tasks.polls_sweep", "schedule": 30.0},
    "proposals-sweep": {"task": "proposals.tasks.proposals_sweep", "schedule": 60.0},
    "polls-reconcile": {"task": "polls.tasks.polls_reconcile", "schedule": 600.0},
    "register-imports-resume": {"task": "meetings.tasks.register_imports_resume", "schedule": 300.0},
    "meeting-reminders-sweep": {"task": "meetings.tasks.meeting_reminders_sweep", "schedule": 300.0},
}
# A task whose worker died before acknowledging it (acks late) goes back to the queue after the
# visibility timeout. Keep it above the longest task: one still running past it is delivered a
# second time (harmless, tasks are idempotent, but wasted). Tests lower it to see a redelivery.
_visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": _visibility_timeout}
    if _visibility_timeout < 100:
        # kombu looks for such messages every 100 s by default (10 s, throttled to 1 in 10).
        CELERY_BROKER_TRANSPORT_OPTIONS |= {"unacked_restore_interval": 1, "unacked_restore_throttle": 1}
# The proposals sweep sends a notification still unsent this long after it was queued: its task
# was lost (a broker outage, a killed worker).
NOTIFICATION_RESEND_AFTER_SECONDS = env.int("NOTIFICATION_RESEND_AFTER_SECONDS", default=60)
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: the embedded broker of `make run`, no server needed.
    _queue_dir = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(BASE_DIR / ".celery")))
    # kombu does not create its folders, and any command may enqueue (seed_demo does).
    for _folder in ("queue", "processed", "control"):
        (_queue_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
        # Broadcast (pidbox) exchanges: kombu's default is ./control, a folder in the checkout.
        "control_folder": str(_queue_dir / "control"),
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
    },
    "filters": {
        "refusals_without_traceback": {"()": "config.local_run.RefusalsWithoutTraceback"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["refusals_without_traceback"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Django's default console handler would print every request warning a second time.
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # A line per successful login is noise; lockouts and failures stay (WARNING).
        "axes": {"level": "WARNING"},
    },
}
