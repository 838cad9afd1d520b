"""The simulated vendor's send API: `POST /v1/messages {"messages": [...]}` -> 202."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from vendor_sim import handlers
from vendor_sim.schemas import SendRequestSchema, SendResultSchema

from shared.http import ApiError, json_body

blueprint = Blueprint("vendor_api", __name__)
_request_schema = SendRequestSchema()
_result_schema = SendResultSchema(many=True)


@blueprint.post("/v1/messages")
def send_messages():
    context = current_app.extensions["vendor_sim"]
    body = json_body()
    if isinstance(body, dict) and isinstance(body.get("messages"), list):
        if len(body["messages"]) > context.config.max_messages:
            raise ApiError(413, "BATCH_TOO_LARGE",
                           f"A batch holds at most {context.config.max_messages} messages.",
                           {"max_messages": context.config.max_messages})
    request = _request_schema.load(body)
    results = handlers.accept_messages(request["messages"], store=context.store,
                                       courier=context.courier)
    return jsonify({"results": _result_schema.dump(results)}), 202
