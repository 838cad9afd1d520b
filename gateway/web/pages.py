"""The web UI's pages: server-rendered shells whose plain JavaScript
(gateway/web/static/) reads and changes data through `/api/v1`, so the UI and
API clients see exactly the same rules, errors and permissions."""
from __future__ import annotations

from flask import Blueprint, render_template

from gateway.web.auth import sign_in_required

blueprint = Blueprint("pages", __name__, template_folder="templates",
                      static_folder="static", static_url_path="/static")


@blueprint.get("/")
@sign_in_required
def dashboard():
    return render_template("web/dashboard.html", page="dashboard")


@blueprint.get("/segments")
@sign_in_required
def segments():
    return render_template("web/segments.html", page="segments")


@blueprint.get("/segments/new")
@sign_in_required
def segment_builder():
    return render_template("web/segment_builder.html", page="segments")


@blueprint.get("/campaigns")
@sign_in_required
def campaigns():
    return render_template("web/campaigns.html", page="campaigns")


@blueprint.get("/campaigns/new")
@sign_in_required
def new_campaign():
    return render_template("web/campaign_new.html", page="campaigns")


@blueprint.get("/campaigns/<campaign_id>")
@sign_in_required
def campaign(campaign_id: str):
    return render_template("web/campaign.html", page="campaigns", campaign_id=campaign_id)


@blueprint.get("/customers")
@sign_in_required
def customers():
    return render_template("web/customers.html", page="customers")


@blueprint.get("/customers/<path:external_id>")
@sign_in_required
def customer(external_id: str):
    return render_template("web/customer.html", page="customers", external_id=external_id)


@blueprint.get("/import")
@sign_in_required
def import_records():
    return render_template("web/import.html", page="import")
