"""Settings for the model library service: every value comes from the environment.

See README.md ("Configuration") for each variable; `.env.example` lists them.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    env_time_zone,
    model_roots_from,
    proxy_ssl_header_from,
    secret_key_from,
)
from config.paths import path_roots_from

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data"))).expanduser().resolve()
try:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ImproperlyConfigured(
        f"DATA_DIR must be a folder this user can create and write; {DATA_DIR}: "
        f"{exc.strerror or exc}."
    ) from None

SECRET_KEY = secret_key_from(DATA_DIR)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

# type -> folders, from MODEL_ROOTS and COMFYUI_PATH.
MODEL_ROOTS = model_roots_from()
MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 50)

# Access control and confinement (docs/SECURITY.md). "none" trusts whoever can
# reach the server, which by default is only this machine; "token" makes every
# API call name a user (manage.py create_api_token).
API_AUTH = env_choice("API_AUTH", ("none", "token"), "none")
# Folders the legacy-import API may read from; empty means no restriction.
LEGACY_IMPORT_ROOTS = path_roots_from("LEGACY_IMPORT_ROOTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "tags",
    "catalog",
    "imaging",
    "migration_app",
    "library",
    "backup",
    "jobs",
    "config",
    # The task framework (django-tasks, Django 6's django.tasks backported) and its engines.
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "django_tasks_rq",
]

MIDDLEWARE = [
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's and the API docs' static files, also with DEBUG off.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # 400 for NUL characters in the URL, before any view or database sees them.
    "config.middleware.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"


def _database() -> dict:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            "OPTIONS": {
                # IMMEDIATE makes every transaction take the write lock up front,
                # so concurrent writers wait (busy timeout) instead of failing
                # with "database is locked" when a read turns into a write.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not memory: concurrency tests need a database that
            # several connections share. One per process, so runs never clash.
            "TEST": {"NAME": DATA_DIR / f"test_db_{os.getpid()}.sqlite3"},
        }
    try:
        database = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError:
        # Not the parser's message: it lists every scheme it knows, and the
        # value itself may hold a password.
        scheme = url.partition("://")[0] if "://" in url else ""
        raise ImproperlyConfigured(
            "DATABASE_URL must be a database URL such as "
            "postgres://user:password@127.0.0.1:5432/modellib or sqlite:////abs/path/db.sqlite3"
            + (f", and its scheme {scheme!r} is not one." if scheme else ".")
        ) from None
    database["TEST"] = {"NAME": f"test_{database['NAME']}_{os.getpid()}"}
    return database


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# The admin shows dates in this zone; the API keeps epoch milliseconds and UTC.
TIME_ZONE = env_time_zone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns on every start when it is missing
# Serve static files straight from the installed apps: no collectstatic step is
# needed to start the service (production may still run collectstatic).
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
# Media (image originals and renditions, docs/images.md): the local folder
# MEDIA_ROOT, or with MEDIA_STORAGE=s3 an S3-compatible bucket (then nothing is
# written under DATA_DIR/media). The image routes stream both the same way.
MEDIA_STORAGE = env_choice("MEDIA_STORAGE", ("local", "s3"), "local")
if MEDIA_STORAGE == "s3":
    S3_BUCKET = env_str("S3_BUCKET", "")
    if not S3_BUCKET:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs S3_BUCKET, the bucket for the images.")
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            # Empty for AWS itself; MinIO, Ceph, Garage, moto... give their URL.
            "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("S3_REGION", "us-east-1"),
            # Credentials: boto3's own chain (AWS_ACCESS_KEY_ID and
            # AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role).
            # Objects stay private (no ACL): clients never reach the bucket.
            "default_acl": None,
            # Renditions are replaced in place by one PUT each (atomic in S3).
            "file_overwrite": True,
        },
    }
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Uploads above this are rejected with a JSON 413 by the upload view; Django's
# own limits sit a little above so that the view, not Django, answers.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = r"^/api/.*$"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS hardening for a deployment behind a TLS-terminating reverse proxy; all
# off by default because the default server speaks plain HTTP on loopback.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = proxy_ssl_header_from("SECURE_PROXY_SSL_HEADER")
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", [])

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",  # DRF's, answering 400 for deeply nested bodies
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    # Both follow API_AUTH at request time (config/authentication.py).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.authentication.TokenAuthentication",
        "config.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.permissions.ApiAccess"],
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Model library service API",
    "DESCRIPTION": "Catalog of AI model files keyed by SHA-256, with tags, "
    "sample images and a staging area for new files.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets from the installed sidecar package: /api/docs/ works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Documents the {"error", "code"} body of every operation's error answers.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_error_responses",
        "config.schema.security_per_auth_mode",
    ],
}

# Jobs (docs/jobs.md): the embedded engine keeps its queue in this database and
# `manage.py jobs_worker` (started by bin/serve) runs it; JOBS_BACKEND=rq sends
# jobs to RQ on Redis, run by `bin/serve --worker` on any number of machines.
JOBS_BACKEND = env_choice("JOBS_BACKEND", ("db", "rq"), "db")
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
if JOBS_BACKEND == "rq" and not os.environ.get("REDIS_URL", "").strip():
    raise ImproperlyConfigured("JOBS_BACKEND=rq needs REDIS_URL (e.g. redis://127.0.0.1:6379/0).")
TASKS = {
    "default": {
        "BACKEND": {
            "db": "django_tasks_db.DatabaseBackend",
            "rq": "django_tasks_rq.RQBackend",
        }[JOBS_BACKEND],
        "QUEUES": ["default"],
    }
}
# No time limit (RQ's default kills a job after 180 s): a hash of several TB runs
# for hours; a lost worker is found by the job's own heartbeat instead.
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": -1}}
RQ = {"JOB_CLASS": "django_tasks_rq.Job"}
# A running job writes its heartbeat this often; one whose heartbeat is older than
# JOBS_STALE_SECONDS has lost its worker and is queued again (resumable kinds, at
# most JOBS_MAX_ATTEMPTS runs in all) or failed as interrupted.
JOBS_HEARTBEAT_SECONDS = env_int("JOBS_HEARTBEAT_SECONDS", 10, minimum=1)
JOBS_STALE_SECONDS = env_int("JOBS_STALE_SECONDS", 60, minimum=2)
JOBS_MAX_ATTEMPTS = env_int("JOBS_MAX_ATTEMPTS", 3, minimum=1)
# Progress (and the cancel flag) is written/read at most this often: a few times a
# second, and at least every 2 s while work advances.
JOBS_PROGRESS_MIN_INTERVAL = 0.25

# Library health (docs/library-health.md): WATCH=true makes bin/serve run
# `manage.py watch`, which stages new model files and marks removed ones missing;
# RESCAN_MINUTES=N (0: off) makes it submit a scan job every N minutes.
WATCH = env_bool("WATCH", False)
RESCAN_MINUTES = env_int("RESCAN_MINUTES", 0, minimum=0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    # A request for a host outside ALLOWED_HOSTS: one line, not a traceback each.
    "filters": {"one_line_refusals": {"()": "config.logs.OneLineRefusals"}},
    "loggers": {"django.security.DisallowedHost": {"filters": ["one_line_refusals"]}},
}
