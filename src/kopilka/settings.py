"""Django settings. Everything that differs between machines comes from the environment.

Variables (all optional; the defaults suit a developer's machine):
KOPILKA_SECRET_KEY, KOPILKA_DEBUG, KOPILKA_ALLOWED_HOSTS, DATABASE_URL, KOPILKA_VAR_DIR,
KOPILKA_PG_PREPARE_THRESHOLD.
"""

import os
from pathlib import Path

import dj_database_url
from django.templatetags.static import static
from django.utils.translation import gettext_lazy as _

from kopilka import bounds

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("KOPILKA_VAR_DIR", BASE_DIR / "var"))


def _flag(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


DEBUG = _flag("KOPILKA_DEBUG", True)
SECRET_KEY = os.environ.get("KOPILKA_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("KOPILKA_SECRET_KEY must be set when KOPILKA_DEBUG is off")
    SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("KOPILKA_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    # unfold's templates must win over the admin's own, so it comes first.
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "kopilka.limits",
    "kopilka.merchants",
    "kopilka.customers",
    "kopilka.catalog",
    "kopilka.programs",
    "kopilka.ledger",
    "kopilka.sales",
    "kopilka.pos",
    "kopilka.reports",
    "kopilka.backoffice",
    "kopilka.cashier",
    "import_export",
    # Its templates and static files: /api/v1/docs serves Swagger UI from here, never from a
    # CDN (a shop may be offline).
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kopilka.security.ContentSecurityPolicy",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "kopilka.bad_requests.RefuseNulCharacters",
    "kopilka.bad_requests.DatabaseUnavailable",
    "django.middleware.common.CommonMiddleware",
    "kopilka.pos.middleware.ApiProblemsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# A larger body or form is answered 413 (kopilka.bad_requests; the API: pos.problems). File
# uploads (the customer import) are not counted. Why these numbers: kopilka.bounds.
DATA_UPLOAD_MAX_MEMORY_SIZE = bounds.MAX_REQUEST_BODY
DATA_UPLOAD_MAX_NUMBER_FIELDS = bounds.MAX_FORM_FIELDS

ROOT_URLCONF = "kopilka.urls"
WSGI_APPLICATION = "kopilka.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
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


def _database() -> dict:
    url = os.environ.get("DATABASE_URL")
    if not url:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{VAR_DIR / 'kopilka.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=60)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # SQLite serialises writers; IMMEDIATE takes the write lock at BEGIN, so two writers
        # never deadlock upgrading a read lock, and WAL lets readers go on meanwhile.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        config["CONN_MAX_AGE"] = 0
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # The ledger's hot statements (ledger/sql.py) are prepared on their sixth run on a
        # connection, counted as psycopg counts; Django's own cursors bind on the client and
        # never prepare. Behind a pooler that cannot keep prepared statements (PgBouncer in
        # transaction mode), set KOPILKA_PG_PREPARE_THRESHOLD=off.
        threshold = os.environ.get("KOPILKA_PG_PREPARE_THRESHOLD", "5")
        config.setdefault("OPTIONS", {})["prepare_threshold"] = (
            None if threshold.lower() in ("", "off", "none") else int(threshold)
        )
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("uk", _("Ukrainian")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# The project's own static files (vendored htmx and Chart.js, the cashier screen) live outside
# any app, so the finders must be told where.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# whitenoise serves static files under gunicorn too; in development it finds them in the apps.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
LOGIN_URL = "admin:login"
# A form sent from a page that is out of date: a page saying so and what to do, translated.
CSRF_FAILURE_VIEW = "kopilka.bad_requests.csrf_failure"
# Behind a proxy that terminates TLS and sets X-Forwarded-Proto (and strips a client's own),
# KOPILKA_TLS_PROXY=1 lets Django know the request was https: CSRF's origin check on sign-in
# and the links in letters depend on it.
# Served over https only, then: cookies travel only over TLS, plain http is redirected, and
# browsers are told to come back over https alone (HSTS, KOPILKA_HSTS_SECONDS: a year unless
# set; 0 switches it off; KOPILKA_HSTS_SUBDOMAINS=0 when other hosts of the domain still
# serve plain http; KOPILKA_HSTS_PRELOAD=0 keeps the domain off browsers' preload lists).
if _flag("KOPILKA_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("KOPILKA_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("KOPILKA_HSTS_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _flag("KOPILKA_HSTS_PRELOAD", True)
# Letters (staff password reset). The console in development; set KOPILKA_EMAIL_HOST (and the
# rest) to send through an SMTP server.
EMAIL_HOST = os.environ.get("KOPILKA_EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "KOPILKA_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = int(os.environ.get("KOPILKA_EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("KOPILKA_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("KOPILKA_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("KOPILKA_EMAIL_TLS", "1") not in ("0", "", "false")
DEFAULT_FROM_EMAIL = os.environ.get("KOPILKA_EMAIL_FROM", "kopilka@localhost")
LOGIN_REDIRECT_URL = "home"

# Two-phase holds expire after this many seconds; receipts sent after the fact (offline) are
# accepted for this many hours back.
KOPILKA_HOLD_TIMEOUT_SECONDS = int(os.environ.get("KOPILKA_HOLD_TIMEOUT_SECONDS", "900"))
KOPILKA_OFFLINE_WINDOW_HOURS = int(os.environ.get("KOPILKA_OFFLINE_WINDOW_HOURS", "72"))
# How one-time codes reach customers (kopilka.sales.notifications): LogBackend only logs them
# (development); EmailBackend mails them (KOPILKA_EMAIL_*); WebhookBackend posts them as JSON
# to an SMS / e-mail gateway at KOPILKA_NOTIFICATION_WEBHOOK_URL.
KOPILKA_NOTIFICATION_BACKEND = os.environ.get(
    "KOPILKA_NOTIFICATION_BACKEND", "kopilka.sales.notifications.LogBackend"
)
KOPILKA_NOTIFICATION_WEBHOOK_URL = os.environ.get("KOPILKA_NOTIFICATION_WEBHOOK_URL", "")
KOPILKA_NOTIFICATION_WEBHOOK_TOKEN = os.environ.get("KOPILKA_NOTIFICATION_WEBHOOK_TOKEN", "")
KOPILKA_NOTIFICATION_WEBHOOK_TIMEOUT = float(
    os.environ.get("KOPILKA_NOTIFICATION_WEBHOOK_TIMEOUT", "5")
)
# The largest manual credit or debit a marketer may make at once, in kopecks.
KOPILKA_MARKETER_ADJUST_LIMIT = int(os.environ.get("KOPILKA_MARKETER_ADJUST_LIMIT", "100000"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KOPILKA_LOG_LEVEL", "INFO")},
}

# The back office's look and navigation (django-unfold).
UNFOLD = {
    "SITE_TITLE": _("Kopilka"),
    "SITE_HEADER": _("Kopilka"),
    "SITE_SYMBOL": "savings",
    "SITE_URL": "/",
    "SHOW_LANGUAGES": True,
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "kopilka.backoffice.dashboard.dashboard_callback",
    # The back office's own few style rules (the program page's levels at 1366 px).
    "STYLES": [lambda request: static("kopilka/backoffice/backoffice.css")],
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": "kopilka.backoffice.navigation.sidebar",
    },
}
