"""Fixtures of the console's browser suite: Debian's Chromium through Playwright, the sandbox
server that scripts/console-test started, and a record of every response the browser received,
searched for the stored secrets after each test."""

import json
import os
import re

import pytest
from playwright.sync_api import sync_playwright

SIGN_IN_URL = os.environ["SB_CONSOLE_URL"]
BASE_URL = SIGN_IN_URL.split("/console/")[0]
ADMIN_EMAIL = os.environ["SB_CONSOLE_EMAIL"]
ADMIN_PASSWORD = os.environ["SB_CONSOLE_PASSWORD"]
API_KEY = os.environ["SB_API_KEY"]

# The secret fields of each provider's configuration document (ConfigurationSchema's `secret: true`).
SECRET_FIELDS = {
    "twilio": ["auth_token", "api_key_secret"],
    "telnyx": ["api_key"],
    "vonage": ["api_secret", "private_key", "signature_secret"],
    "plivo": ["auth_token"],
}


def stored_secrets():
    """Every secret value stored for the sandbox (a PEM key by its longest body line), and the API key."""
    accounts = json.load(open(os.environ["SB_ACCOUNTS_FILE"]))
    secrets = [API_KEY, ADMIN_PASSWORD]
    for provider, fields in SECRET_FIELDS.items():
        for field in fields:
            value = accounts.get(provider, {}).get(field)
            if not value:
                continue
            if "-----BEGIN" in value:
                value = max(value.splitlines(), key=len)
            secrets.append(value)
    return [s for s in secrets if len(s) >= 8]


SECRETS = stored_secrets()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("SB_CHROMIUM", "/usr/bin/chromium"),
            args=["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
        )
        print(f"\nChromium {browser.version}")
        yield browser
        browser.close()


class Recorder:
    """Keeps every response of the contexts it watches; `check` searches their bodies and headers."""

    def __init__(self):
        self.responses = []

    def watch(self, context):
        context.on("response", lambda response: self.responses.append(response))
        return context

    def check(self):
        checked = 0
        for response in self.responses:
            try:
                body = response.body().decode("utf-8", "replace")
            except Exception:  # redirects and aborted loads have no body
                body = ""
            text = body + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
            for secret in SECRETS:
                assert secret not in text, f"{response.url} contains a stored secret"
            checked += 1
        return checked


@pytest.fixture
def recorder():
    recorder = Recorder()
    yield recorder
    recorder.check()


@pytest.fixture
def new_context(browser, recorder):
    """Opens browser contexts (each its own cookie jar) whose responses are searched for secrets."""
    contexts = []

    def make(**options):
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = recorder.watch(browser.new_context(permissions=["microphone"], **options))
        contexts.append(context)
        return context

    yield make
    recorder.check()
    for context in contexts:
        context.close()


def sign_in(page, email, password):
    page.goto(SIGN_IN_URL)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def admin_page(new_context):
    page = new_context().new_page()
    sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    page.wait_for_url(re.compile(r".*/console/overview$"))
    return page
