"""Two-factor authentication (TOTP, RFC 6238) and browser sessions: set-up confirmed by a first code, login in
two steps, backup codes used once, codes never accepted twice, disabling and an administrator's reset; session
cookies (HttpOnly, SameSite) with a CSRF token for state-changing calls."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

import pytest
import requests

from conftest import ADMIN_PASSWORD, admin_cli, unique_name


def totp(secret_b32: str, at: float | None = None, step_offset: int = 0) -> str:
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((at or time.time()) // 30) + step_offset
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    o = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1_000_000)


class API:
    def __init__(self, server):
        self.base = server.console_endpoint + "/api/v1"
        self.token = None

    def call(self, method, path, body=None, token=None, **kw):
        headers = kw.pop("headers", {})
        t = token or self.token
        if t:
            headers["Authorization"] = f"Bearer {t}"
        return requests.request(method, self.base + path, json=body, headers=headers, timeout=10, **kw)

    def login(self, name, password):
        r = self.call("POST", "/auth/login", {"username": name, "password": password}, token="-")
        return r


@pytest.fixture
def user(server):
    api = API(server)
    r = api.call("POST", "/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})
    admin_token = r.json()["token"]
    name = unique_name("tfa")
    password = "Two-Factor-Pass-1"
    r = api.call("POST", "/users", {"name": name, "password": password, "role": "admin"}, token=admin_token)
    assert r.status_code == 200, r.text
    yield name, password, admin_token
    api.call("DELETE", f"/users/{name}", token=admin_token)


def session_for(server, name, password):
    r = requests.post(server.console_endpoint + "/api/v1/auth/login", json={"username": name, "password": password}, timeout=10)
    assert r.status_code == 200, r.text
    return r


def enable(server, name, password):
    api = API(server)
    api.token = session_for(server, name, password).json()["token"]
    setup = api.call("POST", "/auth/2fa/setup")
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    assert setup.json()["otpauth_uri"].startswith(f"otpauth://totp/MaxIOFS:{name}?secret={secret}&issuer=MaxIOFS")
    # Not on until a code confirms it.
    assert api.call("GET", "/auth/2fa").json() == {"enabled": False, "backup_codes_left": 0}
    bad = api.call("POST", "/auth/2fa/enable", {"code": "000000" if totp(secret) != "000000" else "111111"})
    assert bad.status_code == 400
    ok = api.call("POST", "/auth/2fa/enable", {"code": totp(secret)})
    assert ok.status_code == 200, ok.text
    codes = ok.json()["backup_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return api, secret, codes


def second_step(server, challenge, code):
    return requests.post(
        server.console_endpoint + "/api/v1/auth/login/2fa", json={"challenge": challenge, "code": code}, timeout=10
    )


def wait_for_next_step():
    time.sleep(30 - time.time() % 30 + 0.2)


def test_setup_then_login_in_two_steps(server, user):
    name, password, _ = user
    api, secret, codes = enable(server, name, password)
    assert api.call("GET", "/auth/2fa").json() == {"enabled": True, "backup_codes_left": 10}
    assert api.call("GET", "/me").json()["two_factor"] is True

    first = session_for(server, name, password).json()
    assert first["two_factor_required"] is True and "token" not in first
    challenge = first["challenge"]
    # A wrong code does not log in; the right one (not already used) does.
    assert second_step(server, challenge, "12345x").status_code == 403
    wait_for_next_step()
    r = second_step(server, challenge, totp(secret))
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    assert requests.get(server.console_endpoint + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200
    # The challenge is gone once used.
    assert second_step(server, challenge, totp(secret)).status_code == 403
    # The same code is never accepted twice, even with a new challenge.
    again = session_for(server, name, password).json()["challenge"]
    assert second_step(server, again, totp(secret)).status_code == 403


def test_backup_codes_work_once(server, user):
    name, password, _ = user
    api, secret, codes = enable(server, name, password)
    ch = session_for(server, name, password).json()["challenge"]
    assert second_step(server, ch, codes[0].upper()).status_code == 200
    ch = session_for(server, name, password).json()["challenge"]
    assert second_step(server, ch, codes[0]).status_code == 403
    assert api.call("GET", "/auth/2fa").json()["backup_codes_left"] == 9
    new = api.call("POST", "/auth/2fa/backup-codes", {"password": password})
    assert new.status_code == 200 and len(new.json()["backup_codes"]) == 10
    ch = session_for(server, name, password).json()["challenge"]
    assert second_step(server, ch, codes[1]).status_code == 403  # the old ones stopped working
    ch = session_for(server, name, password).json()["challenge"]
    assert second_step(server, ch, new.json()["backup_codes"][0]).status_code == 200


def test_a_challenge_takes_five_codes_and_wrong_codes_count_towards_lockout(server, user):
    name, password, admin_token = user
    _, secret, _ = enable(server, name, password)
    ch = session_for(server, name, password).json()["challenge"]
    for _ in range(4):
        assert second_step(server, ch, "999999" if totp(secret) != "999999" else "888888").status_code == 403
    # Five failed logins lock the account (the 5th wrong code).
    assert second_step(server, ch, "999999" if totp(secret) != "999999" else "888888").status_code == 403
    r = requests.post(server.console_endpoint + "/api/v1/auth/login", json={"username": name, "password": password}, timeout=10)
    assert r.status_code == 403  # locked
    # An administrator unlocks.
    API(server).call("PATCH", f"/users/{name}", {"unlock": True}, token=admin_token)


def test_disable_needs_password_or_code_and_admin_reset(server, user):
    name, password, admin_token = user
    api, secret, codes = enable(server, name, password)
    assert api.call("POST", "/auth/2fa/disable", {"password": "wrong"}).status_code == 403
    assert api.call("POST", "/auth/2fa/disable", {"code": codes[3]}).status_code == 200
    assert api.call("GET", "/auth/2fa").json()["enabled"] is False
    assert "token" in session_for(server, name, password).json()
    # On again, then an administrator resets it (lost phone): the user's sessions end.
    api2, _, _ = enable(server, name, password)
    r = API(server).call("DELETE", f"/users/{name}/2fa", token=admin_token)
    assert r.status_code == 200, r.text
    assert api2.call("GET", "/me").status_code == 401
    assert "token" in session_for(server, name, password).json()


def test_audit_records_2fa_changes_without_codes(server, user):
    name, password, admin_token = user
    api, secret, codes = enable(server, name, password)
    r = API(server).call("GET", "/audit", token=admin_token, params={"user": name, "action": "user.2fa.*"})
    actions = [e["action"] for e in r.json()["entries"]]
    assert "user.2fa.setup" in actions and "user.2fa.enable" in actions
    text = r.text
    assert secret not in text and all(c not in text for c in codes)


def test_cli_with_otp(server, user):
    name, password, _ = user
    _, secret, codes = enable(server, name, password)
    out = admin_cli(server, "tenant", "list", username=name, password=password, check=False)
    assert out.returncode == 1 and "two-factor authentication on: pass --otp CODE" in out.stderr
    listed = admin_cli(server, "--otp", codes[5], "tenant", "list", username=name, password=password)
    assert isinstance(listed, list)


def test_browser_session_cookie_and_csrf(server, user):
    name, password, _ = user
    r = session_for(server, name, password)
    cookies = r.headers.get_all("Set-Cookie") if hasattr(r.headers, "get_all") else r.raw.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("maxiofs_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Strict" in session_cookie and "Path=/" in session_cookie
    csrf = r.json()["csrf_token"]
    assert any(c.startswith(f"maxiofs_csrf={csrf}") for c in cookies)
    jar = requests.Session()
    jar.cookies.set("maxiofs_session", r.json()["token"])
    base = server.console_endpoint + "/api/v1"
    # Reads work with the cookie alone.
    assert jar.get(base + "/me", timeout=10).status_code == 200
    # A state-changing call needs the CSRF token.
    denied = jar.post(base + "/auth/2fa/setup", timeout=10)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "CSRFTokenMissing"
    assert jar.post(base + "/auth/2fa/setup", headers={"X-CSRF-Token": "0" * 64}, timeout=10).status_code == 403
    assert jar.post(base + "/auth/2fa/setup", headers={"X-CSRF-Token": csrf}, timeout=10).status_code == 200
    # A password change made with the cookie keeps this session (and ends the others).
    other = session_for(server, name, password).json()["token"]
    changed = jar.post(base + "/auth/password", json={"current_password": password, "new_password": "Changed-Pass-22"},
                       headers={"X-CSRF-Token": csrf}, timeout=10)
    assert changed.status_code == 200, changed.text
    assert jar.get(base + "/me", timeout=10).status_code == 200
    assert requests.get(base + "/me", headers={"Authorization": f"Bearer {other}"}, timeout=10).status_code == 401
    # Logout ends the session server-side and clears the cookies.
    out = jar.post(base + "/auth/logout", timeout=10)
    assert out.status_code == 200
    cleared = out.raw.headers.getlist("Set-Cookie")
    assert any(c.startswith("maxiofs_session=;") and "Max-Age=0" in c for c in cleared)
    jar.cookies.set("maxiofs_session", r.json()["token"])
    assert jar.get(base + "/me", timeout=10).status_code == 401
