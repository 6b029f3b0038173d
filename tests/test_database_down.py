"""When the database cannot be reached, every face says so and asks to try again: the API
answers 503 `service_unavailable` with Retry-After (a till repeats the same request with the
same key), the cashier screen shows it in its message bar, the back office on a page.

A real server process, pointed at a PostgreSQL address where nothing listens."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

# A signed-in browser's cookie: the session has to be read from the database.
SESSION = "sessionid=" + "k" * 32


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server_without_database():
    port, nowhere = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://kopilka:secret@127.0.0.1:{nowhere}/kopilka",
        "KOPILKA_DEBUG": "0",
        "KOPILKA_SECRET_KEY": "a-test-key-for-the-database-down-test-only",
        "KOPILKA_ALLOWED_HOSTS": "127.0.0.1",
    }
    process = subprocess.Popen(
        # gunicorn, as in production (runserver would stop at its migration check)
        [sys.executable, "-m", "gunicorn", "kopilka.wsgi", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def answer(url: str, *, data: bytes | None = None, headers: dict) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_the_api_asks_the_till_to_retry_the_same_request(server_without_database):
    status, headers, body = answer(
        f"{server_without_database}/api/v1/receipts",
        data=json.dumps({"external_number": "1", "lines": []}).encode(),
        headers={
            "Authorization": "Bearer kp_0123456789abcdef",
            "Idempotency-Key": "retry-me",
            "Content-Type": "application/json",
        },
    )
    assert status == 503
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["Retry-After"] == "5"
    problem = json.loads(body)
    assert problem["code"] == "service_unavailable"
    assert "Idempotency-Key" in problem["detail"]


def test_the_cashier_screen_says_there_is_no_connection_in_its_message_bar(
    server_without_database,
):
    status, headers, body = answer(
        f"{server_without_database}/cashier/",
        headers={"HX-Request": "true", "Cookie": SESSION, "Accept-Language": "ru"},
    )
    assert status == 503
    assert headers["Retry-After"] == "5"
    assert "Нет связи с базой данных" in body


def test_the_back_office_says_so_on_a_page(server_without_database):
    status, _headers, body = answer(
        f"{server_without_database}/admin/",
        headers={"Cookie": SESSION, "Accept-Language": "uk"},
    )
    assert status == 503
    assert "Немає зв’язку з базою даних" in body


def test_a_missing_page_without_the_database_says_so_rather_than_failing(server_without_database):
    status, headers, body = answer(
        f"{server_without_database}/no-such-page/",
        headers={"Cookie": SESSION, "Accept-Language": "ru"},
    )
    assert status == 503
    assert headers["Retry-After"] == "5"
    assert "Нет связи с базой данных" in body
