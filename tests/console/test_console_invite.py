"""Members and invitations from the console, in a real browser: an admin invites an e-mail and sees the link
once; the invitee opens it in a fresh browser, sets a password (an error first, next to the field) and lands
in the console as a member of that organization; an existing account accepts signed in; the admin sees the
members, changes a role, removes one, and revokes a pending invitation (whose link then fails). The token
travels in the link's fragment and in request bodies only: no request the browser makes has it in its URL."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.accounts.helpers import register
from tests.console.conftest import Server, signed_in_page

LINK_PASSWORD = "uma senha longa e nova"


async def invite(page: Any, email: str, role: str = "member") -> str:
    """Invite through the admin view; returns the link shown once."""
    form = page.locator("#invite-form")
    await page.fill("#i-email", email)
    await page.select_option("#i-role", role)
    await form.locator("button[type=submit]").click()
    await form.locator(".once").wait_for(state="visible")
    assert email in await form.locator("[data-once-text]").inner_text()
    link: str = await page.input_value("#invite-link")
    return link


async def test_an_invited_person_sets_a_password_and_joins_and_the_admin_manages_members(
    console_server: Server, browser: Any, shots: Path
) -> None:
    http, url = console_server.http, console_server.url
    owner = await register(http, "Rede Convites")
    page = await signed_in_page(browser, console_server, owner, path="/console/admin")
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)

    email = f"bruno-{uuid.uuid4().hex[:6]}@example.com"
    link = await invite(page, email)
    assert link.startswith(url + "/invite#inv_"), link
    token = link.split("#", 1)[1]
    await page.screenshot(path=str(shots / "admin-invite-link.png"), full_page=True)
    await page.click("button[data-copy='invite-link']")
    await page.locator("button[data-copy='invite-link']", has_text="Copiado!").wait_for()
    assert await page.evaluate("navigator.clipboard.readText()") == link
    await page.reload()  # shown once: the pending list has the e-mail, never the token again
    await page.locator("#invitations tr", has_text=email).wait_for()
    assert token not in await page.content()

    # The invitee, in a browser that never signed in: a too-short password is refused next to its field.
    invitee = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
    urls: list[str] = []
    invitee.on("request", lambda r: urls.append(r.url))
    await invitee.goto(link)
    assert await invitee.locator("#invite-account").count() == 0  # nobody is signed in here
    # In English: the switch's redirect drops the fragment, the tab still has the invitation.
    await invitee.select_option("#lang-switch", "en")
    await invitee.click("#lang-apply")
    await invitee.locator("h1", has_text="Invitation").wait_for()
    assert await invitee.input_value("#invite-password input[name=token]") == token
    await invitee.fill("#inv-name", "Bruno")
    await invitee.fill("#inv-password", "curta")
    await invitee.click("#invite-password button[type=submit]")
    error = invitee.locator("#invite-password .field-error[data-for='password']")
    await error.wait_for(state="visible")
    assert "8" in await error.inner_text()
    assert await invitee.get_attribute("#inv-password", "aria-invalid") == "true"
    assert await invitee.get_attribute("#inv-password", "aria-describedby") == await error.get_attribute("id")
    await invitee.screenshot(path=str(shots / "invite.png"), full_page=True)
    await invitee.fill("#inv-password", LINK_PASSWORD)
    await invitee.click("#invite-password button[type=submit]")
    await invitee.wait_for_url(url + "/console/")
    # A member of that organization: its administration view lists the owner, without the admin actions.
    await invitee.goto(url + "/console/admin")
    await invitee.locator("#members tr", has_text=owner.email).wait_for()
    assert await invitee.locator("#invite-form").count() == 0
    assert all(token not in u for u in urls), "the token never goes in a URL"
    await invitee.context.close()

    # The admin sees the member (the invitation is no longer pending) and makes them an admin.
    await page.reload()
    row = page.locator("#members tr", has_text=email)
    await row.wait_for()
    assert await page.locator("#invitations tr", has_text=email).count() == 0
    await row.locator("select").select_option("admin")
    await row.locator("button", has_text="Alterar").click()
    await page.wait_for_load_state()
    await (
        page.locator("#members tr", has_text=email).locator("option[value=admin][selected]").wait_for(state="attached")
    )
    roles = {m["email"]: m["role"] for m in (await http.get("/members", headers=owner.headers)).json()["items"]}
    assert roles[email] == "admin"

    # Someone who already has an account accepts while signed in, with it.
    existing = await register(http, "Outra Farmácia")
    link2 = await invite(page, existing.email)
    theirs = await signed_in_page(browser, console_server, existing, path=link2.removeprefix(url))
    await theirs.click("#invite-account button[type=submit]")
    await theirs.wait_for_url(url + "/console/")
    await theirs.goto(url + "/console/admin")
    await theirs.locator("#members tr", has_text=owner.email).wait_for()  # now acting in the owner's organization
    await theirs.context.close()

    # A pending invitation is revoked, and its link then fails (with the reason, in the page's language).
    gone = f"carla-{uuid.uuid4().hex[:6]}@example.com"
    link3 = await invite(page, gone)
    await page.reload()
    pending = page.locator("#invitations tr", has_text=gone)
    page.once("dialog", lambda d: d.accept())
    await pending.locator("button", has_text="Revogar").click()
    await pending.wait_for(state="detached")
    assert (await http.get("/invitations", headers=owner.headers)).json()["items"] == []
    late = await (await browser.new_context()).new_page()
    await late.goto(link3)
    await late.fill("#inv-password", LINK_PASSWORD)
    await late.click("#invite-password button[type=submit]")
    await late.locator("#invite-password .form-error", has_text="revogado").wait_for()
    await late.context.close()

    # A member is removed.
    await page.reload()
    member = page.locator("#members tr", has_text=email)
    page.once("dialog", lambda d: d.accept())
    await member.locator("button.remove").click()
    await member.wait_for(state="detached")
    emails = {m["email"] for m in (await http.get("/members", headers=owner.headers)).json()["items"]}
    assert emails == {owner.email, existing.email}
    await page.screenshot(path=str(shots / "admin-members.png"), full_page=True)
    await page.context.close()


async def test_the_invitation_page_without_a_token_says_so(console_server: Server, browser: Any) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(console_server.url + "/invite")
    await page.locator("#invite-missing").wait_for(state="visible")
    assert await page.locator("#invite-password").is_hidden()
    await page.context.close()
