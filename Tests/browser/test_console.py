"""The web console in a real Chromium: sign in, invite an agent who sets a password, API keys,
CSRF, and no stored secret in anything the browser receives."""

import os
import re

from playwright.sync_api import expect

from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, API_KEY, BASE_URL, SECRETS, sign_in


def nav_links(page):
    return page.get_by_role("navigation").get_by_role("link").all_inner_texts()


def test_admin_signs_in_and_sees_the_admin_navigation(admin_page):
    page = admin_page
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    for name in ["Overview", "API keys", "Users", "Dialer"]:
        expect(page.get_by_role("navigation").get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    # The sandbox stores all four providers; Twilio is the default; webhook URLs come with copy buttons.
    expect(page.get_by_role("heading", name="Twilio", level=2)).to_be_visible()
    expect(page.get_by_role("heading", name="Telnyx", level=2)).to_be_visible()
    expect(page.get_by_text(re.compile(r"Calls use\s+Twilio"))).to_be_visible()
    assert page.get_by_role("button", name="Copy").count() >= 8
    expect(page.get_by_text(f"{BASE_URL}/api/v1/telephony/webhooks/twilio/").first).to_be_visible()


def test_a_wrong_password_and_an_unknown_email_read_alike(new_context):
    page = new_context().new_page()
    sign_in(page, ADMIN_EMAIL, "not the password")
    wrong = page.get_by_role("alert").inner_text()
    sign_in(page, "nobody@sandbox.example", "not the password")
    assert page.get_by_role("alert").inner_text() == wrong
    assert "/console/sign-in" in page.url


def test_admin_invites_an_agent_who_sets_a_password_and_signs_in(admin_page, new_context):
    page = admin_page
    page.get_by_role("navigation").get_by_role("link", name="Users").click()
    page.get_by_label("Email").fill("agent.one@sandbox.example")
    page.get_by_label("Name").fill("Agent One")
    page.get_by_label("Role").select_option("agent")
    page.get_by_role("button", name="Invite").click()
    link = page.locator("#invitation-link").inner_text().strip()
    assert re.fullmatch(re.escape(BASE_URL) + r"/console/set-password\?token=[A-Za-z0-9]{43}", link)
    expect(page.get_by_role("cell", name="agent.one@sandbox.example")).to_be_visible()

    agent = new_context().new_page()
    agent.goto(link)
    agent.get_by_label("New password").fill("agent one's password")
    agent.get_by_label("Confirm password").fill("agent one's password")
    agent.get_by_role("button", name="Set password").click()
    expect(agent.get_by_text("Your password is set")).to_be_visible()
    agent.get_by_label("Password").fill("agent one's password")
    agent.get_by_role("button", name="Sign in").click()
    agent.wait_for_url(re.compile(r".*/console/dialer$"))
    assert nav_links(agent) == ["Dialer"]
    # An agent is refused the admin pages.
    response = agent.goto(f"{BASE_URL}/console/users")
    assert response.status == 403
    # The link was for one use only.
    assert agent.goto(link).status == 404


def test_admin_creates_and_revokes_an_api_key(admin_page):
    page = admin_page
    page.get_by_role("navigation").get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("browser-test key")
    page.get_by_label("Role").select_option("service")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("shown only this once")).to_be_visible()
    key = page.locator("#new-key").inner_text().strip()
    assert re.fullmatch(r"sb_[A-Za-z0-9]{12}_[A-Za-z0-9]{40}", key)
    api = page.request.get(f"{BASE_URL}/api/v1/contacts", headers={"Authorization": f"Bearer {key}"})
    assert api.status == 200
    # The list shows the key by name and prefix, never again in full.
    page.get_by_role("navigation").get_by_role("link", name="API keys").click()
    assert key not in page.content()
    row = page.get_by_role("row").filter(has_text="browser-test key")
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("row").filter(has_text="browser-test key")).to_contain_text("Revoked")
    api = page.request.get(f"{BASE_URL}/api/v1/contacts", headers={"Authorization": f"Bearer {key}"})
    assert api.status == 401


def test_a_forged_csrf_token_is_refused(admin_page):
    page = admin_page
    page.get_by_role("navigation").get_by_role("link", name="API keys").click()
    before = page.get_by_role("row").count()
    page.get_by_label("Name").fill("forged key")
    page.locator("form[action='/console/api-keys'] input[name=_csrf]").evaluate("el => el.value = 'A'.repeat(43)")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("alert")).to_contain_text("not sent from this console")
    # A request from elsewhere carries the session cookie but not the page's token.
    response = page.request.post(
        f"{BASE_URL}/console/api-keys", form={"name": "forged key", "role": "admin", "_csrf": "forged"}
    )
    assert response.status == 403
    page.goto(f"{BASE_URL}/console/api-keys")
    assert page.get_by_role("row").count() == before
    assert "forged key" not in page.content()


def test_sign_out_ends_the_session(admin_page):
    page = admin_page
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/console/sign-in$"))
    page.goto(f"{BASE_URL}/console/overview")
    assert "/console/sign-in" in page.url


def test_no_page_or_answer_contains_a_stored_secret(admin_page, recorder):
    page = admin_page
    assert len(SECRETS) >= 8
    for path in ["/console/overview", "/console/api-keys", "/console/users", "/console/dialer",
                 "/console/static/console.css", "/console/static/console.js", "/console/no-such-page"]:
        page.goto(BASE_URL + path)
        html = page.content()
        for secret in SECRETS:
            assert secret not in html, path
    assert recorder.check() >= 7


SIZES = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}


def test_screenshots(new_context):
    """With SB_SCREENSHOTS set, saves each built page at 1280 and 390 px (full page)."""
    directory = os.environ.get("SB_SCREENSHOTS")
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    for width, viewport in SIZES.items():
        page = new_context(viewport=viewport).new_page()
        page.goto(BASE_URL + "/console/sign-in")
        page.screenshot(path=f"{directory}/sign-in-{width}.png", full_page=True)
        sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
        page.wait_for_url(re.compile(r".*/console/overview$"))
        for name in ["overview", "api-keys", "users", "dialer"]:
            page.goto(f"{BASE_URL}/console/{name}")
            page.screenshot(path=f"{directory}/{name}-{width}.png", full_page=True)
