"""Settings, all from environment variables with safe defaults for the demo.

Production sets at least: XINYU_SECRET_KEY, XINYU_FIELD_KEY, XINYU_ALLOWED_HOSTS,
DATABASE_URL (PostgreSQL) and XINYU_SECURE=1 (HTTPS only cookies, HSTS). DEBUG is off unless
XINYU_DEBUG=1 turns it on (`make run`, `make serve` and `make demo` do, for development).
"""

import os
import sys
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("XINYU_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Off unless explicitly turned on: a forgotten variable must not show visitors the technical
# 404 page with every URL pattern (issue 11 item 11).
DEBUG = env_bool("XINYU_DEBUG", False)
SECRET_KEY = os.environ.get("XINYU_SECRET_KEY", "demo-only-insecure-key-set-XINYU_SECRET_KEY-in-production")
ALLOWED_HOSTS = [h for h in os.environ.get("XINYU_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("XINYU_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

SECURE = env_bool("XINYU_SECURE", False)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SESSION_COOKIE_HTTPONLY = True
# Absolute session lifetime 12 hours; idle timeout 30 minutes, 15 for district admins
# (xinyu.web.middleware.AccountMiddleware).
SESSION_COOKIE_AGE = 12 * 3600
XINYU_SESSION_IDLE_SECONDS = 30 * 60
XINYU_SESSION_IDLE_ADMIN_SECONDS = 15 * 60
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp 4): no inline script or style anywhere; templates pass
# data to static scripts with json_script (tests/test_headers.py scans the templates).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}

INSTALLED_APPS = [
    # runserver serves static files through WhiteNoise (which refuses `..`) instead of
    # django.contrib.staticfiles' handler (a 500 on /static/../, issue 11 item 9).
    "whitenoise.runserver_nostatic",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "django_otp",  # second factor (xinyu/org/twofactor.py): TOTP and recovery codes
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "xinyu.org",
    "xinyu.audit",
    "xinyu.access",
    "xinyu.screening",
    "xinyu.care",
    "xinyu.notify",
    "xinyu.counselling",
    "xinyu.mailbox",
    "xinyu.staff",
    "xinyu.training",
    "xinyu.wellbeing",
    "xinyu.lessons",
    "xinyu.outreach",
    "xinyu.homevisits",
    "xinyu.schoolevents",
    "xinyu.compliance",
    "xinyu.studentfile",
    "django_tasks",
    "xinyu.web",
    "xinyu.demo",  # manage.py demo: runs every app's registered demo part
    "xinyu.kernel",  # last: imports each app's access, panels, timeline and policy sections
]

# The reverse proxy's address(es) whose X-Forwarded-For names the client (xinyu/kernel/proxy.py).
XINYU_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("XINYU_TRUSTED_PROXIES", "").split(",") if p.strip()
]

MIDDLEWARE = [
    "xinyu.kernel.proxy.ProxyAddressMiddleware",  # first: every later layer sees the client's address
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: static files keep their caching; every page Django makes is no-store.
    "xinyu.web.headers.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "xinyu.audit.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "xinyu.web.locale.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "xinyu.web.middleware.AccountMiddleware",
    "xinyu.web.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "xinyu.urls"
WSGI_APPLICATION = "xinyu.wsgi.application"
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "xinyu.web.context.nav",
            ],
        },
    }
]

# SQLite (WAL) is the embedded default; PostgreSQL in production via DATABASE_URL.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(default=f"sqlite:///{VAR_DIR / 'xinyu.sqlite3'}", conn_max_age=60)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Keep connections open: closing the last connection to a WAL database checkpoints the
    # WAL (with an fsync) on every request (bench/bench_screening.py, 200 students answering:
    # answer-save p95 from 19–1,490 ms down to 7–8 ms).
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    # A file (the browser tests' live server shares it); XINYU_TEST_DB lets runs side by side
    # each use their own.
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("XINYU_TEST_DB", str(VAR_DIR / "test.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The default cache is the database: the public pages' wrong-code counters
# (xinyu.kernel.kiosk) must be the same for every worker. Its table is made by `migrate`.
CACHES = {
    "default": {
        "BACKEND": "xinyu.kernel.kiosk.ThrottleCache",
        "LOCATION": "xinyu_throttle",
        "TIMEOUT": 600,
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
}

# Accounts per 等保 level 3 (xinyu/org/auth.py, docs/SECURITY.md): >= 10 characters, three of
# four character classes, not common, not the product name plus digits; 5 failed logins lock
# the user name for 30 minutes (in the database).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "xinyu.org.auth.MinimumLengthValidator"},
    {"NAME": "xinyu.org.auth.CharacterClassesValidator"},
    {"NAME": "xinyu.org.auth.BilingualCommonPasswordValidator"},
    {"NAME": "xinyu.org.auth.ProductNameValidator"},
]
AUTHENTICATION_BACKENDS = ["xinyu.org.auth.AccountBackend"]
# Second factor (xinyu/org/twofactor.py): wrong codes count toward the lockout above, which
# replaces django-otp's per-device back-off (it would make a typo cost seconds of waiting).
OTP_TOTP_ISSUER = "心育 Xinyu"
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "xinyu" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and "pytest" not in sys.modules  # tests render without collectstatic
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Uploads: roster files up to 20 MB are read in memory for the preview.
DATA_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 25 * 1024 * 1024
XINYU_IMPORT_MAX_BYTES = 20 * 1024 * 1024
XINYU_INSTRUMENT_DIRS = [BASE_DIR / "instruments"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("XINYU_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Background work (django-tasks). The immediate backend runs a task when it is enqueued
# (after the transaction commits); failed sends stay queued for `send_queued_messages`.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# Where SMS and email go (xinyu/notify/backends.py). The default logs a masked address only.
XINYU_SMS_BACKEND = os.environ.get("XINYU_SMS_BACKEND", "xinyu.notify.backends.LogBackend")
XINYU_EMAIL_BACKEND = os.environ.get("XINYU_EMAIL_BACKEND", "xinyu.notify.backends.LogBackend")

# The public address guardians' links and QR codes point at (no trailing slash).
XINYU_PUBLIC_URL = os.environ.get("XINYU_PUBLIC_URL", "http://127.0.0.1:8000")
