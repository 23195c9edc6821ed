"""Settings for the NEASPEC camera-trap exchange, read from the environment.

The defaults are the zero-setup development set-up: a SQLite file, the filesystem broker and
media under var/, DEBUG on. Production sets DEBUG=False, SECRET_KEY, ALLOWED_HOSTS,
DATABASE_URL and CELERY_BROKER_URL (see README.md, "Configuration").
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

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

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.getenv("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is False")
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
    "django_filters",
    "sightings",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "neaspec_traps.urls"
WSGI_APPLICATION = "neaspec_traps.wsgi.application"

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

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("zh-hans", _("Simplified Chinese")),
    ("ru", _("Russian")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
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

# Independent detections (camtrapR's rule) as marked on sightings and used by the browser:
# at least this many minutes since the previous record of the same species at the same
# location ("last") or since the previous independent one ("independent").
INDEPENDENCE_MIN_DELTA_MINUTES = env_int("INDEPENDENCE_MIN_DELTA_MINUTES", 30)
INDEPENDENCE_COMPARED_TO = os.getenv("INDEPENDENCE_COMPARED_TO", "last")
if INDEPENDENCE_COMPARED_TO not in ("last", "independent"):
    raise ImproperlyConfigured("INDEPENDENCE_COMPARED_TO must be 'last' or 'independent'")

# Celery. The default broker is kombu's filesystem transport under var/broker/, so a real
# worker process runs with no server to install. Production sets CELERY_BROKER_URL=redis://...
CELERY_BROKER_URL = os.getenv("CELERY_BROKER_URL", "filesystem://localhost/")
LOCAL_BROKER_FOLDERS = []
if CELERY_BROKER_URL.startswith("filesystem://"):
    LOCAL_BROKER_FOLDERS = [VAR_DIR / "broker" / "queue", VAR_DIR / "broker" / "control"]
    # https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.filesystem.html
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(LOCAL_BROKER_FOLDERS[0]),
        "data_folder_out": str(LOCAL_BROKER_FOLDERS[0]),
        "control_folder": str(LOCAL_BROKER_FOLDERS[1]),
        # The transport polls its folder; at the default 1 s a worker waits up to a second
        # between images (bench/ingest.py: 102 ms per image at 0.1 s, 60 ms at 20 ms); an idle
        # worker used no measurable CPU either way.
        "polling_interval": 0.02,
    }
else:
    # A message not acknowledged within this time is delivered again (a worker machine died).
    # https://docs.celeryq.dev/en/stable/getting-started/backends-and-brokers/redis.html#visibility-timeout
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    }
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
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_HTTPS_PROXY", False) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)

# Kombu's filesystem transport does not create its folders ("must be created manually");
# WhiteNoise warns when STATIC_ROOT is missing.
for folder in (MEDIA_ROOT, FILE_UPLOAD_TEMP_DIR, STATIC_ROOT, *LOCAL_BROKER_FOLDERS):
    Path(folder).mkdir(parents=True, exist_ok=True)
