"""One env-driven settings module.

With no environment at all the hub runs on embedded defaults: SQLite under ``var/``, Celery on
kombu's filesystem transport (no broker server), the simulators mounted and the clients pointed
at them. ``DATABASE_URL`` and ``REDIS_URL`` / ``CELERY_BROKER_URL`` switch to PostgreSQL and
Redis. Every secret may also be given as ``NAME_FILE`` (a path whose content is the value), the
usual way container orchestrators hand secrets over.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF

from hub import metrics_dir

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HUB_VAR_DIR", BASE_DIR / "var"))

env = environ.Env()
# The local .env (written by `make run` on first start) holds the embedded secret key and
# field-encryption key. Real deployments pass the environment instead; it wins over the file.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def secret(name: str, default: str = "") -> str:
    """Read ``name`` from the environment, or from the file named by ``name + '_FILE'``."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return env.str(name, default=default)


DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = secret("DJANGO_SECRET_KEY") or ("insecure-local-only" if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE) must be set.")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Newest key first; older keys still decrypt, so rotation is: prepend, run
# `manage.py rotate_encryption_keys`, then drop the old key.
FIELD_ENCRYPTION_KEYS = [k for k in secret("FIELD_ENCRYPTION_KEYS").split(",") if k.strip()]

HUB_SIMULATORS = env.bool("HUB_SIMULATORS", default=True)
# `make run HUB_PORT=…` serves on another port: the simulators' default addresses follow it.
HUB_PUBLIC_URL = env.str(
    "HUB_PUBLIC_URL", default=f"http://127.0.0.1:{env.int('HUB_PORT', default=8000)}"
)
# Webhook targets (Smart OA controllers, TIC receivers) on http:// or on loopback/private/
# reserved addresses: only for local runs (hub.http.urlsafety).
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=HUB_SIMULATORS)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "django_otp",
    "django_otp_webauthn",
    "csp",
    "hub.portal",
    "hub",
    "grdf_access",
    "grdf_access.vega",
    "smartoa",
    "flexready",
    "flexready.market",
    "tic",
    # After the apps: its demo receiver runs once their demo meters and contracts exist.
    "hub.control",
]

MIDDLEWARE = [
    "hub.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "hub.middleware.RequestSizeLimitMiddleware",
    "hub.errors.ServiceErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "hub.middleware.RejectNulBytesMiddleware",
    "hub.api.throttling.RateLimitHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "hub.portal.middleware.NoStoreForSessionPagesMiddleware",
]

ROOT_URLCONF = "hub.urls"
WSGI_APPLICATION = "hub.wsgi.application"

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
            ],
        },
    },
]

if not env.str("DATABASE_URL", default=""):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'hub.sqlite3'}"),
}
# The password may come apart from the URL, as a secret file (docker-compose.yml).
if secret("DATABASE_PASSWORD"):
    DATABASES["default"]["PASSWORD"] = secret("DATABASE_PASSWORD")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Hot statements prepared on the server (hub.prepared); off behind a transaction pooler that
# does not keep prepared statements (PgBouncer before 1.21).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, whose health check skips a connection that just served a request.
    DATABASES["default"]["ENGINE"] = "hub.postgresql"
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat share one SQLite file on the embedded defaults: wait for locks
    # instead of failing at once, and let readers run beside the writer.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # A Redis outage degrades throttles and rate budgets to per-process counting (hub.cache).
    CACHES = {"default": {"BACKEND": "hub.cache.FailoverRedisCache", "LOCATION": REDIS_URL}}
else:
    # A file cache is shared by the web, worker and beat processes, which throttles need.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_USER_MODEL = "hub.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Day-first date inputs in both languages (hub/formats/): forms parse and show 10/12/2026.
FORMAT_MODULE_PATH = ["hub.formats"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# The image collects static files at build time into a read-only folder outside var/.
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="hub@localhost")

# --- Security headers: strict unless DEBUG (the embedded local run is plain HTTP). ---
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Request bodies: a larger Content-Length is a 413 before anything is read
# (hub.middleware.RequestSizeLimitMiddleware). Multipart uploads stream their files to disk
# beyond FILE_UPLOAD_MAX_MEMORY_SIZE; the biggest legitimate one is three 4 MB consent proofs.
# Other bodies (JSON, forms) are read into memory and capped lower.
HUB_MAX_REQUEST_BYTES = env.int("HUB_MAX_REQUEST_BYTES", default=16 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)

# Content-Security-Policy (django-csp): scripts only from our origin or carrying the page's
# nonce (templates: nonce="{{ request.csp_nonce }}"), no inline handlers (static/portal/portal.js
# wires data-confirm and data-autosubmit). Inline styles stay allowed: the Smart OA timeline
# places its segments with style attributes, and a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Proxies whose X-Forwarded-For may be believed when finding the client IP (CIDR list).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

REST_FRAMEWORK = {
    "DEFAULT_PARSER_CLASSES": [
        "hub.api.parsers.StorableJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hub.api.auth.ApiTokenAuthentication",
        # A browser session counts only once its second factor is verified.
        "hub.portal.api_auth.VerifiedSessionAuthentication",
    ],
    # Per token, per organisation (all its tokens together) and per person or address: one
    # caller cannot spend another's budget (hub.api.throttling).
    "DEFAULT_THROTTLE_CLASSES": [
        "hub.api.throttling.TokenRateThrottle",
        "hub.api.throttling.OrganisationTokenRateThrottle",
        "hub.api.throttling.PersonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_TOKEN_RATE", default="1200/min"),
        "organisation": env.str("API_ORGANISATION_RATE", default="3000/min"),
        "user": env.str("API_USER_RATE", default="1200/min"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "hub.api.schema.HubAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["hub.api.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "hub.api.pagination.PagePagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "hub.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Supplier-data hub API",
    "DESCRIPTION": "Metering points, time series and the market channels' data.",
    "VERSION": "1",
    "OAS_VERSION": "3.0.3",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets come from the sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hub.api.schema.document_error_responses",
    ],
}

# --- Metrics (/metrics, Prometheus) ---
# Off until one of these is set: a bearer secret, or the networks of the Prometheus servers.
METRICS_TOKEN = secret("HUB_METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = env.list("HUB_METRICS_ALLOWED_NETWORKS", default=[])
# Multiprocess mode: each process's samples under this directory, merged at scrape (empty:
# each process keeps its own, and /metrics shows the answering process only).
# (``hub.celery``, imported with the ``hub`` package, prepares this process's directory.)
METRICS_DIR = metrics_dir.default_root()
METRICS_CELERY_QUEUES = env.list(
    "HUB_METRICS_CELERY_QUEUES", default=["default", "polling", "ingest"]
)

# --- MQTT publishing (Home Assistant) ---
# Brokers are per organisation (admin: "courtiers MQTT"); this names the hub in unique ids.
MQTT_NODE_ID = env.str("HUB_MQTT_NODE_ID", default="hub")
MQTT_QUEUE_SIZE = env.int("HUB_MQTT_QUEUE_SIZE", default=10_000)

# --- Celery ---
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
    }
    for _folder in ("queue", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A message taken but not acknowledged (its worker died) goes back to the queue after
        # this long. It must exceed the longest countdown (webhook retries: 1 h) and the
        # longest task, or Redis hands a still-waiting message to a second worker. Work that
        # must not wait that long is recovered by its own lease (Smart OA's claimed contracts).
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 3600),
        # Sweep for such messages every minute rather than every ~100 s (kombu's default).
        "unacked_restore_interval": 60,
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
        "health_check_interval": 25,
    }
CELERY_TASK_IGNORE_RESULT = True
# Every task here is idempotent (upserts on natural keys, versions stored only when they
# change, deliveries keyed and marked sent), so a message is acknowledged after its task ran:
# a worker that dies mid-task (kill -9, OOM, a Redis restart it does not survive) leaves it
# to be redelivered instead of lost. A task added later that is not idempotent must set
# acks_late=False on itself.
CELERY_TASK_ACKS_LATE = True
# ... and a pool child killed under a task gives the message back too (the default acks it).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Keep trying to reach the broker, at start and after losing it, instead of exiting.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Tasks running when the connection is lost will be redelivered (late ack): stop them rather
# than let them finish and run twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Series storage ---
# Sources whose raw points are kept only this many days (then their partitions are dropped);
# their points are rolled up (1 min, 15 min, 1 h) as they arrive, and the rollups are kept.
SERIES_RAW_RETENTION_DAYS = {"tic": env.int("TIC_RAW_RETENTION_DAYS", default=35)}
# How far ahead the hourly beat task creates partitions (days of short-lived raw points).
SERIES_PARTITIONS_AHEAD_DAYS = env.int("SERIES_PARTITIONS_AHEAD_DAYS", default=7)

LOGGING_CONFIG = "hub.logs.configure"
_LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {"()": "hub.logs.build_formatter", "json": not DEBUG},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": _LOG_LEVEL},
    # httpx logs whole URLs, query strings included; hub.http logs every call without secrets,
    # a routine success at DEBUG (hub/http/logs.py).
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "hub.http": {"level": env.str("HTTP_CLIENT_LOG_LEVEL", default=_LOG_LEVEL)},
    },
}

# --- Portal and MFA ---
# Password, then a second factor (TOTP, recovery code or FIDO2 key) for the portal and the admin.
PORTAL_LOCKOUT = {
    "threshold": env.int("PORTAL_LOCKOUT_THRESHOLD", default=5),  # failures within the window
    # Per IP address: raise it when many people sign in from behind one office NAT.
    "ip_threshold": env.int("PORTAL_LOCKOUT_IP_THRESHOLD", default=5),
    "window_seconds": env.int("PORTAL_LOCKOUT_WINDOW", default=15 * 60),
    "duration_seconds": env.int("PORTAL_LOCKOUT_DURATION", default=15 * 60),
    # Before the lock, each failure past the first few asks the next attempt to wait a little.
    "throttle_after": 2,
    "throttle_base_seconds": env.int("PORTAL_THROTTLE_BASE", default=2),
}
PORTAL_TOTP_ISSUER = env.str("PORTAL_TOTP_ISSUER", default="Supplier-data hub")
PORTAL_RECOVERY_CODES = 10
# The per-device back-off of django-otp stays off: PORTAL_LOCKOUT throttles and locks per account
# and per IP address with one clear message, which a second, silent delay would only muddle.
OTP_TOTP_THROTTLE_FACTOR = 0

from urllib.parse import urlsplit as _urlsplit  # noqa: E402

_public = _urlsplit(HUB_PUBLIC_URL)
# A WebAuthn relying-party ID must be a domain, never an IP address: the embedded run at
# 127.0.0.1 is served as localhost for security keys (http://localhost is a secure context).
_rp_host = _public.hostname or "localhost"
OTP_WEBAUTHN_RP_ID = env.str(
    "OTP_WEBAUTHN_RP_ID",
    default="localhost" if _rp_host.replace(".", "").isdigit() or ":" in _rp_host else _rp_host,
)
OTP_WEBAUTHN_RP_NAME = env.str("OTP_WEBAUTHN_RP_NAME", default="Supplier-data hub")
_public_origin = f"{_public.scheme}://{_public.netloc}"
# Browsers only run WebAuthn on https:// origins and on http://localhost.
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "OTP_WEBAUTHN_ALLOWED_ORIGINS",
    default=[_public_origin] if _public.scheme == "https" else ["http://localhost:8000"],
)
# A key is a second factor here, never a replacement for the password.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

# --- Smart OA ---
# The Effacement resource of EDF OA's API; on the embedded defaults, the in-process simulator.
if HUB_SIMULATORS:
    SMARTOA_API_URL = env.str("SMARTOA_API_URL", default=f"{HUB_PUBLIC_URL}/sim/smartoa")
    SMARTOA_RESOURCE_PATH = env.str("SMARTOA_RESOURCE_PATH", default="/effacement")
else:
    SMARTOA_API_URL = env.str("SMARTOA_API_URL")
    SMARTOA_RESOURCE_PATH = env.str("SMARTOA_RESOURCE_PATH")
# Addresses the simulator accepts calls from, like the allow-list a contract holder declares.
SMARTOA_SIM_ALLOWED_NETWORKS = env.list(
    "SMARTOA_SIM_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"]
)
# Contracts per poll task, and concurrent upstream calls within one task.
SMARTOA_POLL_BATCH = env.int("SMARTOA_POLL_BATCH", default=200)
SMARTOA_POLL_THREADS = env.int("SMARTOA_POLL_THREADS", default=16)
# A claimed contract not polled within this many seconds (its worker died) is claimed again by
# the next fan-out. Longer than a batch takes, shorter than a poll interval.
SMARTOA_CLAIM_LEASE_SECONDS = env.int("SMARTOA_CLAIM_LEASE_SECONDS", default=120)

# --- GRDF ---
# ADICT v2 and its OAuth2 token endpoint; on the embedded defaults, the in-process simulator
# (which accepts the client id/secret below).
if HUB_SIMULATORS:
    GRDF_ADICT_URL = env.str("GRDF_ADICT_URL", default=f"{HUB_PUBLIC_URL}/sim/grdf/adict/v2")
    GRDF_TOKEN_URL = env.str("GRDF_TOKEN_URL", default=f"{HUB_PUBLIC_URL}/sim/grdf/oauth2/token")
    GRDF_CLIENT_ID = env.str("GRDF_CLIENT_ID", default="hub-simulator")
    GRDF_CLIENT_SECRET = secret("GRDF_CLIENT_SECRET", default="hub-simulator-secret")
else:
    # GRDF's published production endpoints (reference grdf-adict.md §1.2).
    GRDF_ADICT_URL = env.str("GRDF_ADICT_URL", default="https://api.grdf.fr/adict/v2")
    GRDF_TOKEN_URL = env.str(
        "GRDF_TOKEN_URL",
        default="https://adict-connexion.grdf.fr/oauth2/aus5y2ta2uEHjCWIR417/v1/token",
    )
    GRDF_CLIENT_ID = env.str("GRDF_CLIENT_ID", default="")
    GRDF_CLIENT_SECRET = secret("GRDF_CLIENT_SECRET")
GRDF_SCOPE = env.str("GRDF_SCOPE", default="/adict/v2")
# How the token endpoint takes the client id and secret: "post" (form body, as GRDF's Okta
# endpoint does, reference grdf-adict.md §1.2) or "basic" (HTTP Basic header).
GRDF_TOKEN_AUTH_METHOD = env.str("GRDF_TOKEN_AUTH_METHOD", default="post")
# Whether GRDF's RSF API (announced, not public yet) is configured: only then are its fields
# (hourly informative data) declared and its operations called; ADICT v2 alone otherwise.
GRDF_RSF = env.bool("GRDF_RSF", default=False)
# The organisation whose rights are those of the settings' credential (shared by every
# organisation without a credential of its own): rights declared outside the hub are imported
# into it only. An organisation's own stored credential imports into that organisation.
GRDF_EXTERNAL_RIGHTS_ORGANISATION = env.str("GRDF_EXTERNAL_RIGHTS_ORGANISATION", default="")
# Requests per second and client credential; GRDF publishes no figure (ref §1.8).
GRDF_REQUESTS_PER_SECOND = env.float("GRDF_REQUESTS_PER_SECOND", default=1.0)
# The GRDF simulator's state (declared rights, counters): in Redis when there is one, else in a
# file cache of its own that never culls (the default one drops entries beyond 300).
CACHES["grdf_simulator"] = (
    CACHES["default"]
    if REDIS_URL
    else {
        "BACKEND": "grdf_access.simulator.filecache.SimulatorFileCache",
        "LOCATION": str(VAR_DIR / "grdf-simulator"),
    }
)
# Data whose consent ended longer ago than this are removed by `manage.py grdf_purge`.
GRDF_RETENTION_DAYS = env.int("GRDF_RETENTION_DAYS", default=365)
# Concurrent calls of one sync (they share the credential's rate limit).
GRDF_SYNC_WORKERS = env.int("GRDF_SYNC_WORKERS", default=4)
# Beyond these sizes an import (rows, one GRDF call each) or an export (PCEs x days) runs as a
# background job followed on its page or at /api/v1/jobs/{id}/, not inside the web request.
GRDF_IMPORT_INLINE_ROWS = env.int("GRDF_IMPORT_INLINE_ROWS", default=20)
GRDF_EXPORT_INLINE_PCE_DAYS = env.int("GRDF_EXPORT_INLINE_PCE_DAYS", default=20 * 366)
# Each sync plans only what each meter's frequency has made available (grdf_access.sync).
# VEGA publication watch (grdf_access.vega): watched SFTP drop directories must sit under this
# root; files are kept in storage for this many days (a directory may say otherwise).
VEGA_DROP_ROOT = env.str("VEGA_DROP_ROOT", default=str(VAR_DIR / "vega-drop"))
VEGA_RETENTION_DAYS = env.int("VEGA_RETENTION_DAYS", default=400)
VEGA_MAX_FILE_BYTES = env.int("VEGA_MAX_FILE_BYTES", default=50 * 1024 * 1024)

# --- Flex Ready ---
# Operators' JWTs: the issuer (iss) to accept, an optional audience, and the keys: a shared
# HS256 secret and/or the issuer's JWKS URL for asymmetric keys. OperatorIdentity rows (admin)
# map an issuer/subject to an organisation. On the embedded defaults the HS256 secret is
# derived from the secret key, so `manage.py flexready_jwt` can mint demo tokens.
FLEXREADY_JWT_ISSUER = env.str("FLEXREADY_JWT_ISSUER", default="urn:supplier-data-hub:flexready")
FLEXREADY_JWT_AUDIENCE = env.str("FLEXREADY_JWT_AUDIENCE", default="")
FLEXREADY_JWT_HS256_SECRET = secret("FLEXREADY_JWT_HS256_SECRET")
if not FLEXREADY_JWT_HS256_SECRET and HUB_SIMULATORS:
    import hashlib as _hashlib

    FLEXREADY_JWT_HS256_SECRET = _hashlib.sha256(f"flexready:{SECRET_KEY}".encode()).hexdigest()
FLEXREADY_JWT_JWKS_URL = env.str("FLEXREADY_JWT_JWKS_URL", default="")
FLEXREADY_JWT_ALGORITHMS = env.list("FLEXREADY_JWT_ALGORITHMS", default=["RS256", "ES256"])
FLEXREADY_JWT_LEEWAY_SECONDS = env.int("FLEXREADY_JWT_LEEWAY_SECONDS", default=30)
FLEXREADY_JWT_RATE = env.str("FLEXREADY_JWT_RATE", default="1200/min")
# The annex's realisation and consumption examples carry no Authorization header: GETs of a
# certification session may then read this organisation (the demo one on the embedded defaults).
FLEXREADY_ANONYMOUS_READ_ORGANISATION = env.str(
    "FLEXREADY_ANONYMOUS_READ_ORGANISATION", default="demo" if HUB_SIMULATORS else ""
)
FLEXREADY_NAIVE_TIMEZONE = env.str("FLEXREADY_NAIVE_TIMEZONE", default="Europe/Paris")
# Realisation: baseline days, data grace, success ratio.
FLEXREADY_BASELINE_DAYS = env.int("FLEXREADY_BASELINE_DAYS", default=5)
FLEXREADY_BASELINE_LOOKBACK_DAYS = env.int("FLEXREADY_BASELINE_LOOKBACK_DAYS", default=30)
FLEXREADY_DATA_GRACE_SECONDS = env.int("FLEXREADY_DATA_GRACE_SECONDS", default=2 * 86400)
FLEXREADY_REALISATION_MIN_RATIO = env.float("FLEXREADY_REALISATION_MIN_RATIO", default=0.5)

# --- TIC ---
# manage.py tic_read: alert when a meter's clock is further than this from ours (seconds).
TIC_DRIFT_THRESHOLD_SECONDS = env.float("TIC_DRIFT_THRESHOLD_SECONDS", default=60.0)
# No valid frame for this long: the port is probed again (02E Annex A: 10 s).
TIC_SILENCE_SECONDS = env.float("TIC_SILENCE_SECONDS", default=10.0)
# A meter's state row (portal, state API) is rewritten at most this often, at once on an event.
TIC_STATE_INTERVAL_SECONDS = env.float("TIC_STATE_INTERVAL_SECONDS", default=5.0)

# --- Flex Ready market signals ---
# The supplier's price/CO2 signal (Flex Ready Annex 2) and RTE Ecowatt v5; on the embedded
# defaults, the in-process simulators (which accept the credentials below).
if HUB_SIMULATORS:
    FLEXREADY_SUPPLIER_URL = env.str(
        "FLEXREADY_SUPPLIER_URL", default=f"{HUB_PUBLIC_URL}/sim/flexready/supplier"
    )
    FLEXREADY_SUPPLIER_TOKEN = secret("FLEXREADY_SUPPLIER_TOKEN", default="")
    FLEXREADY_SUPPLIER_TOKEN_URL = env.str(
        "FLEXREADY_SUPPLIER_TOKEN_URL",
        default=f"{HUB_PUBLIC_URL}/sim/flexready/supplier/auth/token",
    )
    FLEXREADY_SUPPLIER_CLIENT_ID = env.str("FLEXREADY_SUPPLIER_CLIENT_ID", default="hub-simulator")
    FLEXREADY_SUPPLIER_CLIENT_SECRET = secret(
        "FLEXREADY_SUPPLIER_CLIENT_SECRET", default="hub-simulator-secret"
    )
    ECOWATT_API_URL = env.str("ECOWATT_API_URL", default=f"{HUB_PUBLIC_URL}/sim/flexready/ecowatt")
    ECOWATT_TOKEN_URL = env.str(
        "ECOWATT_TOKEN_URL", default=f"{HUB_PUBLIC_URL}/sim/flexready/ecowatt/token/oauth/"
    )
    ECOWATT_CLIENT_ID = env.str("ECOWATT_CLIENT_ID", default="hub-simulator")
    ECOWATT_CLIENT_SECRET = secret("ECOWATT_CLIENT_SECRET", default="hub-simulator-secret")
else:
    # Optional: without it the hub polls no supplier signal (Ecowatt still runs).
    FLEXREADY_SUPPLIER_URL = env.str("FLEXREADY_SUPPLIER_URL", default="")
    # Annex 2: a JWT from the TSG identity provider (OIDC), obtained by the client-credentials
    # grant at its token endpoint and renewed before expiry; a fixed token only without them.
    FLEXREADY_SUPPLIER_TOKEN_URL = env.str("FLEXREADY_SUPPLIER_TOKEN_URL", default="")
    FLEXREADY_SUPPLIER_CLIENT_ID = env.str("FLEXREADY_SUPPLIER_CLIENT_ID", default="")
    FLEXREADY_SUPPLIER_CLIENT_SECRET = secret("FLEXREADY_SUPPLIER_CLIENT_SECRET")
    FLEXREADY_SUPPLIER_TOKEN = secret("FLEXREADY_SUPPLIER_TOKEN")
    ECOWATT_API_URL = env.str("ECOWATT_API_URL", default="https://digital.iservices.rte-france.com")
    ECOWATT_TOKEN_URL = env.str(
        "ECOWATT_TOKEN_URL", default="https://digital.iservices.rte-france.com/token/oauth/"
    )
    ECOWATT_CLIENT_ID = env.str("ECOWATT_CLIENT_ID", default="")
    ECOWATT_CLIENT_SECRET = secret("ECOWATT_CLIENT_SECRET")
# The sandbox path answers fixed data without the 15-minute limit (for trials).
ECOWATT_SANDBOX = env.bool("ECOWATT_SANDBOX", default=False)

# --- Celery across hosts: queues, routes and the beat schedule, in one place ---
# One queue per app, so each can get its own workers (and hosts) as its load grows, plus
# "webhooks" for every app's outgoing deliveries (short, latency-bound: never behind a long
# poll) and "control" for the control loop (every few seconds). Tasks declare no queue; the
# first matching pattern routes them. A worker consuming every queue is one line:
#   celery -A hub worker --queues "$HUB_QUEUES"
HUB_QUEUES = ("default", "webhooks", "control", "grdf", "smartoa", "flexready", "tic")
CELERY_TASK_ROUTES = (
    [
        ("*.deliver_*", {"queue": "webhooks"}),
        ("hub.control.*", {"queue": "control"}),
        ("grdf_access.*", {"queue": "grdf"}),
        ("smartoa.*", {"queue": "smartoa"}),
        ("flexready.*", {"queue": "flexready"}),
        ("tic.*", {"queue": "tic"}),
        ("hub.*", {"queue": "default"}),
    ],
)
# Beat (one per deployment) copies this into django-celery-beat's tables on start; operators
# tune it in the admin.
CELERY_BEAT_SCHEDULE = {
    "prune-old-poll-runs": {
        "task": "hub.tasks.prune_old_poll_runs",
        "schedule": 24 * 3600,
        "kwargs": {"keep_days": 90},
    },
    "smartoa-poll-due-contracts": {
        "task": "smartoa.tasks.poll_due_contracts",
        "schedule": env.int("SMARTOA_FANOUT_SECONDS", default=60),
    },
    # Each sync plans only what each meter's frequency has made available (grdf_access.sync).
    "grdf-sync-due": {
        "task": "grdf_access.tasks.sync_due",
        "schedule": env.int("GRDF_SYNC_SECONDS", default=3600),
    },
    "grdf-purge-expired": {"task": "grdf_access.tasks.purge_expired", "schedule": 24 * 3600},
    "flexready-advance-requests": {
        "task": "flexready.tasks.advance_requests",
        "schedule": env.int("FLEXREADY_ADVANCE_SECONDS", default=60),
    },
    # Every app's webhook deliveries left pending (broker away, lost retry) are sent again.
    "sweep-webhook-deliveries": {"task": "hub.tasks.sweep_webhook_deliveries", "schedule": 60},
    # Creates the points partitions ahead of the data and drops those past their retention.
    "maintain-point-partitions": {
        "task": "hub.tasks.maintain_point_partitions",
        "schedule": 3600,
    },
    # VEGA publication watch: the watched drop directories, then the day's milestones and alerts.
    "grdf-vega-watch": {
        "task": "grdf_access.vega.tasks.watch",
        "schedule": env.int("VEGA_WATCH_SECONDS", default=300),
    },
    "grdf-vega-daily": {"task": "grdf_access.vega.tasks.daily", "schedule": 6 * 3600},
    # Beat checks often; the service itself calls RTE at most once per 15 minutes, so a check
    # that comes a few seconds early does not push the call to the next quarter of an hour.
    "flexready-ecowatt-poll": {
        "task": "flexready.market.tasks.poll_ecowatt",
        "schedule": env.int("ECOWATT_CHECK_SECONDS", default=60),
    },
    "flexready-supplier-signal-poll": {
        "task": "flexready.market.tasks.poll_supplier_feeds",
        "schedule": env.int("FLEXREADY_SUPPLIER_POLL_SECONDS", default=3600),
    },
    # Control of loads (hub/control): evaluate the controllers, refresh the channels' watchdogs.
    "control-evaluate": {
        "task": "hub.control.tasks.evaluate_all",
        "schedule": env.int("CONTROL_EVALUATE_SECONDS", default=5),
    },
    "control-heartbeat": {
        "task": "hub.control.tasks.heartbeat",
        "schedule": env.int("CONTROL_HEARTBEAT_SECONDS", default=10),
    },
}
