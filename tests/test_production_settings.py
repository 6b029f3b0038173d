"""Production settings are secure by default: with debug off behind the TLS proxy, cookies are
Secure, plain http is redirected, HSTS is sent, and `kopilka check --deploy` reports nothing.
Each case runs in a fresh process with the environment a server would have."""

import json
import os
import subprocess
import sys

PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({name: getattr(settings, name, None) for name in (
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER")}))
"""


def production_env(**extra) -> dict:
    # The browser tests allow Django's ORM in async code for their live server; a production
    # server has no such variable.
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "kopilka.settings",
        "DATABASE_URL": "postgres://kopilka:secret@db.internal:5432/kopilka",
        "KOPILKA_DEBUG": "0",
        "KOPILKA_SECRET_KEY": "pr0d-" + "".join(chr(33 + (n * 7) % 90) for n in range(60)),
        "KOPILKA_ALLOWED_HOSTS": "loyalty.example.com",
        "KOPILKA_TLS_PROXY": "1",
        "KOPILKA_NOTIFICATION_BACKEND": "kopilka.sales.notifications.WebhookBackend",
        **extra,
    }


def settings_in(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_behind_the_tls_proxy_cookies_are_secure_and_https_is_enforced():
    found = settings_in(production_env())
    assert found == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


def test_the_hsts_promise_is_configurable():
    env = production_env(
        KOPILKA_HSTS_SECONDS="300", KOPILKA_HSTS_SUBDOMAINS="0", KOPILKA_HSTS_PRELOAD="0"
    )
    found = settings_in(env)
    assert found["SECURE_HSTS_SECONDS"] == 300
    assert found["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert found["SECURE_HSTS_PRELOAD"] is False


def test_the_deploy_check_reports_nothing():
    out = subprocess.run(
        [sys.executable, "-m", "kopilka.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(),
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout
