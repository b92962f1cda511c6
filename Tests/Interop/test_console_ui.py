"""The web console in a real browser (headless Chromium through Selenium): log in, the dashboard, tenants,
users, access keys, settings, the audit log, two-factor set-up and a login with a code, logout."""

from __future__ import annotations

import os
import shutil
import time

import pytest
import requests

from conftest import ADMIN_PASSWORD, start_server, stop_and_check
from test_two_factor import totp

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not os.path.exists(CHROMEDRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("chromedriver is missing: .ci/run installs chromium and chromium-driver")
    pytest.skip("chromium-driver is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("console"), extra_args=["--metrics-history-interval", "1"])
    os.environ["SE_AVOID_STATS"] = "true"
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=opts)
    driver.implicitly_wait(0)
    try:
        yield srv, driver
    finally:
        driver.quit()
        stop_and_check(srv)


def wait(driver, cond, timeout=10):
    return WebDriverWait(driver, timeout).until(cond)


def visible(driver, css, timeout=10):
    return wait(driver, EC.visibility_of_element_located((By.CSS_SELECTOR, css)), timeout)


def login(driver, base, user, password):
    driver.get(base + "/#/login")
    driver.refresh()
    name = visible(driver, "#username")
    name.clear()
    name.send_keys(user)
    field = driver.find_element(By.CSS_SELECTOR, "#password")
    field.clear()
    field.send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "#login").click()


def text_appears(driver, text, timeout=10):
    wait(driver, lambda d: text in d.find_element(By.TAG_NAME, "body").text, timeout)


def test_page_headers(console):
    srv, _ = console
    r = requests.get(srv.console_endpoint + "/", timeout=10)
    assert r.status_code == 200 and "<div id=\"app\"" in r.text
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    js = requests.get(srv.console_endpoint + "/ui/app.js", timeout=10)
    assert js.status_code == 200 and js.headers["Content-Type"].startswith("text/javascript")
    again = requests.get(srv.console_endpoint + "/ui/app.js", headers={"If-None-Match": js.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
    assert requests.get(srv.console_endpoint + "/ui/nothing.js", timeout=10).status_code == 404


def test_wrong_password_is_shown_in_words(console):
    srv, driver = console
    login(driver, srv.console_endpoint, "admin", "not-the-password")
    text_appears(driver, "The user name or password is wrong")


def test_admin_walkthrough(console):
    srv, driver = console
    base = srv.console_endpoint
    login(driver, base, "admin", ADMIN_PASSWORD)
    text_appears(driver, "Dashboard")
    text_appears(driver, "BUCKETS")
    assert "Version" in driver.find_element(By.TAG_NAME, "body").text

    # Buckets: empty at first, then the bucket an S3 client made, with its size.
    driver.get(base + "/#/buckets")
    text_appears(driver, "No buckets yet")
    from conftest import make_client
    s3 = make_client(srv.endpoint)
    s3.create_bucket(Bucket="ui-bucket")
    s3.put_object(Bucket="ui-bucket", Key="k", Body=b"x" * 2048)
    driver.refresh()
    text_appears(driver, "ui-bucket")
    text_appears(driver, "2.00 KiB")

    # Tenants: create one with a quota in human units.
    driver.get(base + "/#/tenants")
    visible(driver, "#tenant-name").send_keys("webco")
    driver.find_element(By.CSS_SELECTOR, "#tenant-storage").send_keys("10 GB")
    driver.find_element(By.CSS_SELECTOR, "#create-tenant").click()
    text_appears(driver, "of 9.31 GiB")
    # A bad size is refused with a message.
    visible(driver, "#tenant-name").send_keys("other")
    driver.find_element(By.CSS_SELECTOR, "#tenant-storage").send_keys("lots")
    driver.find_element(By.CSS_SELECTOR, "#create-tenant").click()
    text_appears(driver, "is not a size")

    # Users: create a tenant user.
    driver.get(base + "/#/users")
    visible(driver, "#user-name").send_keys("webuser")
    driver.find_element(By.CSS_SELECTOR, "#user-password").send_keys("Web-User-pass-1")
    driver.find_element(By.CSS_SELECTOR, "#user-tenant").send_keys("webco")
    driver.find_element(By.CSS_SELECTOR, "#create-user").click()
    text_appears(driver, "webuser")

    # Access keys: the secret is shown once.
    driver.get(base + "/#/keys")
    visible(driver, "#create-key").click()
    secret = visible(driver, "#new-key-secret").text
    assert len(secret) == 40

    # Settings: change a runtime setting.
    driver.get(base + "/#/settings")
    field = visible(driver, "input[data-setting='s3.requests_per_second']")
    field.clear()
    field.send_keys("500")
    field.find_element(By.XPATH, "following-sibling::button").click()
    text_appears(driver, "s3.requests_per_second is now 500")

    # The audit log shows what was just done.
    driver.get(base + "/#/audit")
    text_appears(driver, "tenant.create")
    text_appears(driver, "settings.update")

    driver.find_element(By.CSS_SELECTOR, "#logout").click()
    visible(driver, "#username")


def test_two_factor_setup_and_login_with_a_code(console):
    srv, driver = console
    base = srv.console_endpoint
    login(driver, base, "admin", ADMIN_PASSWORD)
    text_appears(driver, "Dashboard")
    driver.get(base + "/#/profile")
    visible(driver, "#setup-2fa").click()
    secret = visible(driver, "#totp-secret").text
    visible(driver, "#confirm-code").send_keys(totp(secret))
    driver.find_element(By.CSS_SELECTOR, "#confirm-2fa").click()
    codes = visible(driver, "#backup-codes").text.split()
    assert len(codes) == 10
    driver.find_element(By.CSS_SELECTOR, "#logout").click()

    login(driver, base, "admin", ADMIN_PASSWORD)
    visible(driver, "#code").send_keys(codes[0])
    driver.find_element(By.CSS_SELECTOR, "#verify").click()
    text_appears(driver, "Dashboard")
    # Turn it off again with the password, so other tests log in with one step.
    driver.get(base + "/#/profile")
    visible(driver, "#disable-password").send_keys(ADMIN_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#disable-2fa").click()
    visible(driver, "#setup-2fa")
