"""Settings of the haopin platform, driven by HAOPIN_* environment variables.

Every variable is parsed strictly by ``environment``; README.md has the table of them.
Without any variable set, the platform runs on an embedded SQLite database under ``var/``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from haopin.config.environment import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env_str("HAOPIN_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("HAOPIN_DEBUG", False)


def _secret_key() -> str:
    """HAOPIN_SECRET_KEY, or a random key created once and kept in the data directory.

    A persisted random key is safer than any default: a single-machine install works with no
    configuration, and several app servers must share one key through the variable.
    """
    given = env_str("HAOPIN_SECRET_KEY")
    if given:
        if len(given) < 32:
            raise ImproperlyConfigured("HAOPIN_SECRET_KEY must be at least 32 characters long")
        return given
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("HAOPIN_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] + (["*"] if DEBUG else []))
CSRF_TRUSTED_ORIGINS = env_list("HAOPIN_CSRF_TRUSTED_ORIGINS", [])
# The public address of the platform, used in links that leave it (QR codes, e-mails).
PUBLIC_URL = env_str("HAOPIN_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "haopin.core",
    "haopin.accounts",
    "haopin.registry",
    "haopin.search",
    "haopin.standards",
    "haopin.evaluation",
    "haopin.certificates",
    "haopin.notifications",
]

MIDDLEWARE = [
    "haopin.core.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "haopin.core.middleware.WorkspaceLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "haopin.core.middleware.ActorMiddleware",
    "haopin.core.middleware.DomainErrorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "haopin.config.urls"
WSGI_APPLICATION = "haopin.config.wsgi.application"
ASGI_APPLICATION = "haopin.config.asgi.application"

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
                "haopin.core.context_processors.platform",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = env_str("HAOPIN_DATABASE_URL", f"sqlite:///{DATA_DIR / 'haopin.sqlite3'}")
if not DATABASE_URL.startswith(("sqlite://", "postgres://", "postgresql://")):
    raise ImproperlyConfigured(
        "HAOPIN_DATABASE_URL must be sqlite:///path or postgresql://user:pass@host:port/name"
    )
_db = dj_database_url.parse(DATABASE_URL)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed while one writer writes; IMMEDIATE takes the write lock at the
    # start of every transaction so two writers queue on busy_timeout instead of one of them
    # failing with "database is locked" when it upgrades a read lock halfway through.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("HAOPIN_SQLITE_BUSY_TIMEOUT", 20, minimum=1),
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;"
            "PRAGMA temp_store=MEMORY;"
            "PRAGMA mmap_size=268435456;"
            "PRAGMA cache_size=-65536;"
        ),
    }
else:
    _db["CONN_MAX_AGE"] = env_int("HAOPIN_DB_CONN_MAX_AGE", 60, minimum=0)
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ----------------------------------------------------------------------------------
REDIS_URL = env_str("HAOPIN_REDIS_URL")
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("HAOPIN_REDIS_URL must be redis://host:port/db")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("HAOPIN_CACHE_PREFIX", "haopin"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- background tasks -----------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env_choice(
            "HAOPIN_TASKS_BACKEND",
            "django_tasks_db.DatabaseBackend",
            {"django_tasks_db.DatabaseBackend", "django_tasks.backends.immediate.ImmediateBackend"},
        ),
        "QUEUES": ["default"],
    }
}

# --- authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "workspace:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env_int("HAOPIN_SESSION_HOURS", 12, minimum=1) * 3600

# --- language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "haopin" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
# Uploads live outside the static root and are never served by URL: documents go through
# registry views that ask the policy first.
MEDIA_ROOT = DATA_DIR / "files"
MEDIA_URL = "/files-are-not-served-directly/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MAX_UPLOAD_MB = env_int("HAOPIN_MAX_UPLOAD_MB", 20, minimum=1)
MAX_IMPORT_MB = env_int("HAOPIN_MAX_IMPORT_MB", 50, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- e-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}[env_choice("HAOPIN_EMAIL_BACKEND", "console", {"console", "smtp", "locmem"})]
EMAIL_HOST = env_str("HAOPIN_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("HAOPIN_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("HAOPIN_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("HAOPIN_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("HAOPIN_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("HAOPIN_FROM_EMAIL", "好品山东 <noreply@haopin.local>")

# --- security -------------------------------------------------------------------------------
HTTPS = env_bool("HAOPIN_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = False  # nginx redirects; the app only trusts its header below
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Number of reverse proxies in front of the app whose X-Forwarded-For may be trusted.
TRUSTED_PROXIES = env_int("HAOPIN_TRUSTED_PROXIES", 0, minimum=0)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    }
}

# --- logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("HAOPIN_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # WeasyPrint logs several INFO lines per rendered page.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- API ------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500
