"""The web inbox at /_ringlet/ in a real headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium): an SMS sent through the API appears in the open page
without a reload, and a text sent from the page's handset form reaches the message store."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import provision_account
from tests.e2e.messaging import records, send_sms
from tests.support.client import ApiClient

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TIMEOUT_S = 30


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail(
            "Chromium is missing: apt-get install chromium chromium-driver (.ci/run does)",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _text_appears(driver: WebDriver, css: str, text: str) -> None:
    WebDriverWait(driver, TIMEOUT_S).until(
        lambda d: any(text in e.text for e in d.find_elements(By.CSS_SELECTOR, css)),
        message=f"{text!r} did not appear in {css}",
    )


def test_the_inbox_shows_an_sms_live_and_texts_back_from_a_handset(
    server_factory, spec_validator, browser: WebDriver
) -> None:
    srv = server_factory()
    account = provision_account(srv)
    bob_number, handset = account.ext("102").number, account.handset(1)
    with ApiClient(srv.base_url, validator=spec_validator) as api:
        bob = api.login(account, "102")

        browser.get(srv.base_url + "/_ringlet/")
        assert browser.title == "ringlet inbox"
        # The server has an admin token: the page asks for it before it shows anything.
        token = WebDriverWait(browser, TIMEOUT_S).until(
            lambda d: (
                d.find_element(By.ID, "token")
                if d.find_element(By.ID, "token").is_displayed()
                else None
            )
        )
        token.send_keys(srv.admin_token)
        browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
        _text_appears(browser, "#status", "Up to date")
        _text_appears(browser, "#accounts", account.name)

        # An SMS sent through the API shows up in the open page, in the handset's section and
        # in Bob's conversation, and reaches Delivered there.
        sent = send_sms(bob, bob_number, handset, "Hello from the API")
        assert sent.status_code == 200, sent.text
        _text_appears(browser, f'#handsets section[data-handset="{handset}"]', "Hello from the API")
        extension = f'#accounts details[data-extension="{account.ext("102").id}"]'
        _text_appears(browser, f"{extension} li", "Delivered")

        # Text back from the page's form.
        browser.find_element(By.ID, "handset-from").send_keys(handset)
        browser.find_element(By.ID, "handset-to").send_keys(bob_number)
        browser.find_element(By.ID, "handset-text").send_keys("Reply from the handset")
        browser.find_element(By.CSS_SELECTOR, "#handset-form button").click()
        _text_appears(browser, "#send-result", "Sent (message")
        (reply,) = [m for m in records(bob) if m["subject"] == "Reply from the handset"]
        assert reply["direction"] == "Inbound" and reply["from"]["phoneNumber"] == handset
        assert reply["conversationId"] == sent.json()["conversationId"]
        _text_appears(browser, f"{extension} li", "Reply from the handset")
        bob.close()


def test_the_inbox_data_shows_threads_and_its_long_poll_answers_a_change(
    server_factory, spec_validator
) -> None:
    import httpx

    from tests.support.server import ADMIN_HEADER

    srv = server_factory()
    account = provision_account(srv)
    headers = {ADMIN_HEADER: srv.admin_token}
    with (
        ApiClient(srv.base_url, validator=spec_validator) as api,
        httpx.Client(base_url=srv.base_url, headers=headers, timeout=60) as raw,
    ):
        bob = api.login(account, "102")
        before = raw.get("/_ringlet/inbox").json()["version"]
        unchanged = raw.get("/_ringlet/inbox/changes", params={"version": before, "wait": 0.5})
        assert unchanged.json() == {"version": before}
        pager = bob.post(
            "/restapi/v1.0/account/~/extension/~/company-pager",
            json={"to": [{"extensionNumber": "103"}, {"extensionNumber": "101"}], "text": "Lunch?"},
        )
        assert pager.status_code == 200
        changed = raw.get("/_ringlet/inbox/changes", params={"version": before, "wait": 30})
        assert changed.json()["version"] != before
        data = raw.get("/_ringlet/inbox").json()
        assert data["version"] == changed.json()["version"]
        (acct,) = [a for a in data["accounts"] if a["id"] == str(account.id)]
        (carol,) = [e for e in acct["extensions"] if e["extensionNumber"] == "103"]
        (thread,) = carol["conversations"]
        assert thread["type"] == "Pager"
        assert thread["conversationId"] == str(pager.json()["conversationId"])
        names = {account.ext(n).name for n in ("101", "102", "103")}
        assert {m.split(" (")[0] for m in thread["members"]} == names
        (message,) = thread["messages"]
        assert message["text"] == "Lunch?" and message["direction"] == "Inbound"
        bad = raw.get("/_ringlet/inbox/changes", params={"wait": "99"})
        assert bad.status_code == 400
        spec_validator.validate_error("/_ringlet/inbox/changes", bad.content)
        bob.close()
