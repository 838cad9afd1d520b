"""The web UI's pages: server-rendered shells whose plain JavaScript
(gateway/web/static/) reads and changes data through `/api/v1`, so the UI and
API clients see exactly the same rules, errors and permissions."""
from __future__ import annotations

from flask import Blueprint, render_template

from gateway.web.auth import sign_in_required

blueprint = Blueprint("pages", __name__, template_folder="templates",
                      static_folder="static", static_url_path="/static")


# (url, endpoint, template, highlighted nav entry). The endpoint names are what
# templates and redirects pass to url_for("pages.<endpoint>"); URL variables
# (campaign_id, external_id) reach the template under their own names.
PAGES = [
    ("/", "dashboard", "dashboard", "dashboard"),
    ("/segments", "segments", "segments", "segments"),
    ("/segments/new", "segment_builder", "segment_builder", "segments"),
    ("/campaigns", "campaigns", "campaigns", "campaigns"),
    ("/campaigns/new", "new_campaign", "campaign_new", "campaigns"),
    ("/campaigns/<campaign_id>", "campaign", "campaign", "campaigns"),
    ("/customers", "customers", "customers", "customers"),
    ("/customers/<path:external_id>", "customer", "customer", "customers"),
    ("/import", "import_records", "import", "import"),
    ("/suppressions", "suppressions", "suppressions", "suppressions"),
    ("/settings", "settings", "settings", "settings"),
]


def _page_view(template: str, page: str):
    def view(**url_values: str):
        return render_template(f"web/{template}.html", page=page, **url_values)
    return view


for _url, _endpoint, _template, _page in PAGES:
    blueprint.add_url_rule(_url, _endpoint, sign_in_required(_page_view(_template, _page)),
                           methods=["GET"])
