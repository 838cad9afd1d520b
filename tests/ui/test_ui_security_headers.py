"""The web UI under its Content-Security-Policy in real Chromium: every page works with
nothing blocked (no inline scripts or styles), no page can be framed, and the download of
rejected import rows cannot carry a spreadsheet formula."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.support.browser import dev_sign_in, shot

PAGES = ["/", "/customers", "/segments", "/segments/new", "/campaigns", "/campaigns/new",
         "/import", "/admin/api-keys", "/docs"]
# Every violation the page's CSP reports, collected before any of the page's own scripts run.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def watched_page(new_page):
    page = new_page()
    page.add_init_script(WATCH_CSP)
    console = []
    page.on("console", lambda message: console.append(message.text))
    return page, console


def test_every_page_works_under_its_csp_with_nothing_blocked(new_page):
    page, console = watched_page(new_page)
    dev_sign_in(page, "admin")
    for path in PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy, path
        assert response.headers["x-content-type-options"] == "nosniff"
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__csp") == [], path
    assert not [text for text in console if "Content Security Policy" in text], console
    # The public unsubscribe page (no sign-in) is styled from its own file, not inline.
    assert page.goto("/u/not-a-valid-token").status == 404
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__csp") == []
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == \
        "rgb(245, 246, 248)"
    page.goto("/admin/api-keys")  # its calls-per-minute field, as axe-core sees it
    expect(page.get_by_label("Calls per minute")).to_be_visible()
    shot(page, "api_keys_rate_limit")
    # The campaign bars are sized through the CSSOM, which the policy allows.
    page.goto("/")
    width = page.evaluate("""CRM.bar({audience_size: 4, sent: 1, failed: 1, pending: 2})
                             .firstChild.style.width""")
    assert width == "25%"


def test_no_page_can_be_framed_even_by_the_crm_itself(new_page):
    page, console = watched_page(new_page)
    dev_sign_in(page, "marketer")
    framed = page.evaluate("""() => new Promise(function (done) {
        var frame = document.createElement("iframe");
        frame.src = "/campaigns";
        frame.addEventListener("load", function () {
          var inside = null;
          try { inside = frame.contentDocument && frame.contentDocument.body.innerText; }
          catch (e) { inside = null; }
          done(inside);
        });
        document.body.appendChild(frame);
    })""")
    assert not framed or "Campaigns" not in framed
    assert any("frame-ancestors" in text for text in console), console


REJECTED_CSV = (
    "external_id,name,email,city\r\n"
    "csv-1,Good Customer,good@example.com,Csvtown\r\n"
    'csv-2,"=HYPERLINK(""http://evil.example"",""click"")",not-an-email,+91 Csvtown\r\n'
    "csv-3,@SUM(A1),also-bad,-2+3\r\n"
)


def test_rejected_rows_download_with_formulas_defused(new_page, ui_api):
    page = new_page()
    dev_sign_in(page, "marketer")
    page.goto("/import")
    page.get_by_label("Customers", exact=True).check()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "formulas.csv", "mimeType": "text/csv", "buffer": REJECTED_CSV.encode()}])
    page.get_by_role("button", name="Start import").click()
    expect(page.locator("#import-status")).to_contain_text("Done: 1 of 3", timeout=30_000)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download these rows with their problems").click()
    rows = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert len(rows) == 3, rows
    assert rows[1].startswith('csv-2,"\'=HYPERLINK(""http://evil.example"",""click"")",'), rows
    assert ",'+91 Csvtown," in rows[1], rows
    assert rows[2].startswith("csv-3,'@SUM(A1),also-bad,'-2+3,"), rows
    for row in rows:
        cells = row.split(",")
        assert not any(cell[:1] in "=+-@" and cell for cell in cells), row
