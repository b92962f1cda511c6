"""The console's object browser (`#/objects?bucket=NAME[&prefix=P]`) in a real browser (headless Chromium through
Selenium): from the Buckets page into a bucket, uploads with progress rows, folders and breadcrumbs, "Load more",
a download compared byte for byte, a delete with its confirmation; every change checked with boto3. Screenshots
for review (1366x768 and a phone's 390x844) go to $MAXIOFS_SCREENSHOTS (default .build/test-output/screenshots)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conftest import ADMIN_PASSWORD, REPO_ROOT, get_body, make_client, object_exists, put_many, start_server, stop_and_check

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from test_console_ui import login  # noqa: E402  (the same login form)

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not os.path.exists(CHROMEDRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("chromedriver is missing: .ci/run installs chromium and chromium-driver")
    pytest.skip("chromium-driver is not installed", allow_module_level=True)

SCREENSHOTS = Path(os.environ.get("MAXIOFS_SCREENSHOTS", REPO_ROOT / ".build" / "test-output" / "screenshots"))
DESKTOP = (1366, 768)
PHONE = (390, 844)


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("browser"))
    os.environ["SE_AVOID_STATS"] = "true"
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=opts)
    driver.implicitly_wait(0)
    try:
        yield srv, driver
    finally:
        driver.quit()
        stop_and_check(srv)


def wait(driver, cond, timeout=10, message=""):
    # The table is re-rendered after every change: an element read while that happens is looked up again.
    return WebDriverWait(driver, timeout, ignored_exceptions=[StaleElementReferenceException]).until(cond, message)


def visible(driver, css, timeout=10):
    return wait(driver, EC.visibility_of_element_located((By.CSS_SELECTOR, css)), timeout, f"{css} not visible")


def text_appears(driver, text, timeout=10):
    wait(driver, lambda d: text in d.find_element(By.TAG_NAME, "body").text, timeout, f"{text!r} never appeared")


def hash_params(url: str) -> tuple[str, dict[str, str]]:
    """The page and query of a URL's hash (#/objects?bucket=...&prefix=...)."""
    path, _, qs = urlsplit(url).fragment.partition("?")
    return path, {k: v[0] for k, v in parse_qs(qs, keep_blank_values=True).items()}


def at_objects(bucket: str, prefix: str | None):
    def cond(d):
        path, q = hash_params(d.current_url)
        return path == "/objects" and q.get("bucket") == bucket and q.get("prefix") == prefix
    return cond


def table_text(driver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "#objects").text


def file_links(driver) -> dict[str, object]:
    """The file rows' download links by their text."""
    return {a.get_attribute("textContent"): a for a in driver.find_elements(By.CSS_SELECTOR, "#objects a[download]")}


def wait_uploads(driver, names: list[str], timeout=30):
    """Until #uploads has a finished row for each name; fails at once if one says " failed"."""
    def done(d):
        rows = d.find_elements(By.CSS_SELECTOR, "#uploads .upload")
        texts = [r.get_attribute("textContent") for r in rows]
        failed = [t for t in texts if t.rstrip().endswith("failed")]
        assert not failed, f"uploads failed: {failed}; page says: {d.find_element(By.TAG_NAME, 'body').text[:800]}"
        finished = [t for t in texts if t.endswith(" done")]
        return len(finished) == len(names) and all(any(t.startswith(n) for t in finished) for n in names)
    wait(driver, done, timeout, f"uploads of {names} did not all finish")


def wait_listed(driver, names: list[str], timeout=10):
    wait(driver, lambda d: set(names) <= set(file_links(d)), timeout, f"{names} not all in the table")


def shot(driver, name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    assert driver.save_screenshot(str(path)), path
    assert path.stat().st_size > 1000, path


def phone_shot(driver, name: str) -> int:
    """A screenshot at a phone's size (device metrics emulation: a desktop window has a minimum width)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True})
    try:
        wait(driver, lambda d: d.execute_script("return window.innerWidth") == PHONE[0], 5, "phone width not applied")
        # How far the page sticks out sideways at a phone's width (reported, not a rule of the spec).
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        shot(driver, name)
        return overflow
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_object_browser(console, tmp_path):
    srv, driver = console
    base = srv.console_endpoint
    s3 = make_client(srv.endpoint)
    bucket = "browser-bucket"
    s3.create_bucket(Bucket=bucket)
    login(driver, base, "admin", ADMIN_PASSWORD)
    text_appears(driver, "Dashboard")

    # The Buckets page's name is a link to the object browser.
    driver.get(base + "/#/buckets")
    link = wait(driver, EC.element_to_be_clickable((By.LINK_TEXT, bucket)), 10, "no link for the bucket")
    link.click()
    wait(driver, at_objects(bucket, None), 10, "the bucket link did not open the object browser")
    text_appears(driver, "This bucket is empty")
    crumbs = visible(driver, "#crumbs")
    assert "Buckets" in crumbs.text and bucket in crumbs.text
    assert visible(driver, "#objects-more").get_attribute("disabled") is not None
    shot(driver, "objects-empty-1366x768.png")

    # Two files at once through #upload-files.
    files = {"report one.txt": b"first report \xe2\x9c\x93\n" * 200, "photo+1.bin": os.urandom(300_000)}
    paths = []
    for name, data in files.items():
        p = tmp_path / name
        p.write_bytes(data)
        paths.append(str(p))
    upload = driver.find_element(By.CSS_SELECTOR, "#upload-files")
    assert upload.get_attribute("multiple") is not None
    upload.send_keys("\n".join(paths))
    wait_uploads(driver, list(files))
    wait_listed(driver, list(files))
    for name, data in files.items():
        assert get_body(s3, bucket, name) == data, name
    shot(driver, "objects-uploaded-1366x768.png")

    # A folder: created as "docs/" and opened.
    visible(driver, "#folder-name").send_keys("docs")
    form = driver.find_element(By.CSS_SELECTOR, "#folder-name").find_element(By.XPATH, "ancestor::form")
    submit = form.find_element(By.CSS_SELECTOR, "button[type=submit]")
    assert submit.text == "Create folder"
    submit.click()
    wait(driver, at_objects(bucket, "docs/"), 10, "creating the folder did not open it")
    assert object_exists(s3, bucket, "docs/")
    text_appears(driver, "Nothing under this folder yet")
    assert "docs" in visible(driver, "#crumbs").text
    inner = tmp_path / "inner notes.txt"
    inner.write_bytes(b"inside the docs folder")
    driver.find_element(By.CSS_SELECTOR, "#upload-files").send_keys(str(inner))
    wait_uploads(driver, ["inner notes.txt"])
    wait_listed(driver, ["inner notes.txt"])
    assert get_body(s3, bucket, "docs/inner notes.txt") == b"inside the docs folder"
    assert set(file_links(driver)) == {"inner notes.txt"}  # the folder's marker object is not a file row
    shot(driver, "objects-folder-1366x768.png")

    # Back to the bucket through the breadcrumb: the folder's row links deeper.
    driver.find_element(By.CSS_SELECTOR, "#crumbs").find_element(By.LINK_TEXT, bucket).click()
    wait(driver, at_objects(bucket, None), 10, "the breadcrumb did not go back to the bucket")
    wait_listed(driver, list(files))
    folders = driver.find_elements(By.CSS_SELECTOR, "#objects a.folder")
    assert [f.get_attribute("textContent") for f in folders] == ["docs/"]
    href = folders[0].get_attribute("href")
    assert hash_params(href) == ("/objects", {"bucket": bucket, "prefix": "docs/"}), href
    row = folders[0].find_element(By.XPATH, "ancestor::tr")
    assert row.find_elements(By.XPATH, ".//button[normalize-space()='Delete']") == []

    # A download link fetched with the browser's session gives the file's bytes.
    links = file_links(driver)
    a = links["photo+1.bin"]
    assert a.get_attribute("download") == "photo+1.bin"
    href = a.get_attribute("href")
    assert urlsplit(href).path == f"/api/v1/s3/{bucket}/photo%2B1.bin", href
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    r = requests.get(href, cookies=cookies, timeout=30)
    assert r.status_code == 200 and hashlib.sha256(r.content).digest() == hashlib.sha256(files["photo+1.bin"]).digest()
    assert r.headers.get("x-amz-server-side-encryption") == "AES256"
    assert requests.get(href, timeout=30).status_code == 401  # not without the session

    # Delete a file with its row's button and the confirmation.
    row = links["report one.txt"].find_element(By.XPATH, "ancestor::tr")
    row.find_element(By.XPATH, ".//button[normalize-space()='Delete']").click()
    alert = wait(driver, EC.alert_is_present(), 5, "no confirm() before the delete")
    assert "report one.txt" in alert.text
    alert.accept()
    wait(driver, lambda d: "report one.txt" not in file_links(d), 10, "the deleted file is still listed")
    assert "photo+1.bin" in file_links(driver)
    assert not object_exists(s3, bucket, "report one.txt")
    assert object_exists(s3, bucket, "photo+1.bin")

    # At a phone's width.
    overflow = phone_shot(driver, "objects-phone-390x844.png")
    print(f"object browser at {PHONE[0]}px: horizontal overflow {overflow}px; screenshots in {SCREENSHOTS}")


def test_load_more(console):
    srv, driver = console
    base = srv.console_endpoint
    s3 = make_client(srv.endpoint)
    bucket = "browser-many"
    s3.create_bucket(Bucket=bucket)
    keys = [f"many/item-{i:03d}.txt" for i in range(205)]
    put_many(s3, bucket, keys, body=b"m")
    login(driver, base, "admin", ADMIN_PASSWORD)
    text_appears(driver, "Dashboard")
    driver.get(base + "/#/objects?bucket=" + bucket + "&prefix=many%2F")
    wait(driver, lambda d: len(file_links(d)) == 200, 15, "the first page is not 200 files")
    more = visible(driver, "#objects-more")
    assert more.get_attribute("disabled") is None
    more.click()
    wait(driver, lambda d: len(file_links(d)) == 205, 15, "Load more did not add the last 5 files")
    assert set(file_links(driver)) == {k.removeprefix("many/") for k in keys}
    assert driver.find_element(By.CSS_SELECTOR, "#objects-more").get_attribute("disabled") is not None


def bucket_exists_in(s3, name: str) -> bool:
    return name in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_create_and_delete_a_bucket(console):
    """The Buckets page creates a bucket through the S3 gateway (its name checked as it is typed), with
    versioning, and deletes it after the confirmation; boto3 sees each change."""
    srv, driver = console
    base = srv.console_endpoint
    s3 = make_client(srv.endpoint)
    login(driver, base, "admin", ADMIN_PASSWORD)
    text_appears(driver, "Dashboard")
    driver.get(base + "/#/buckets")
    name = visible(driver, "#new-bucket")
    name.send_keys("Bad_Name")
    wait(driver, lambda d: "Lower-case letters" in d.find_element(By.CSS_SELECTOR, "#new-bucket-hint").text, 5,
         "no hint for an invalid name")
    driver.find_element(By.CSS_SELECTOR, "#create-bucket").click()
    text_appears(driver, "Lower-case letters")
    assert not bucket_exists_in(s3, "bad_name")
    name.clear()
    name.send_keys("console-made")
    driver.find_element(By.CSS_SELECTOR, "#new-bucket-versioning").click()
    driver.find_element(By.CSS_SELECTOR, "#create-bucket").click()
    wait(driver, EC.element_to_be_clickable((By.LINK_TEXT, "console-made")), 10, "the new bucket is not listed")
    assert bucket_exists_in(s3, "console-made")
    assert s3.get_bucket_versioning(Bucket="console-made").get("Status") == "Enabled"
    shot(driver, "buckets-1366x768.png")
    # Creating it again: S3's answer, in words.
    name = visible(driver, "#new-bucket")
    name.send_keys("console-made")
    driver.find_element(By.CSS_SELECTOR, "#create-bucket").click()
    text_appears(driver, "already")
    # Delete from its row, after the confirmation.
    row = wait(driver, lambda d: next(r for r in d.find_elements(By.CSS_SELECTOR, "tr") if "console-made" in r.text), 10)
    row.find_element(By.XPATH, ".//button[text()='Delete']").click()
    alert = wait(driver, EC.alert_is_present(), 5, "no confirmation")
    assert "console-made" in alert.text
    alert.accept()
    wait(driver, lambda d: not d.find_elements(By.LINK_TEXT, "console-made"), 10, "the bucket is still listed")
    assert not bucket_exists_in(s3, "console-made")
