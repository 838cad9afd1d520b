/* The new-campaign form's "Check audience": before Launch, the whole audience as a
   launch now would see it (POST /api/v1/campaigns/preflight): matched, minus each
   exclusion, equals who will be sent, and the template's lint over them. Reads the
   form as campaign_new.js's submit does, but saves nothing; the answer's
   assignment_key goes with the form's create, so its holdout is the one shown. */
"use strict";
(function () {
  var el = CRM.el;
  var box = document.getElementById("campaign-preflight");
  var button = document.getElementById("check-audience");
  var select = document.getElementById("campaign-segment");
  var CAUSES = [["unsubscribed", "Unsubscribed"], ["suppressed", "Suppressed (address failed for good)"],
                ["capped", "At the frequency cap"], ["held_out", "Held out"]];

  function builderRules() {
    if (new URLSearchParams(window.location.search).get("from") !== "builder") return null;
    try { return JSON.parse(sessionStorage.getItem("crm.builderRules")); } catch (e) { return null; }
  }
  function row(label, value, cls) {
    return el("tr", { "class": cls || "" }, [el("th", { scope: "row", text: label }),
                                            el("td", { "class": "num", text: CRM.number(value) })]);
  }
  function lintItems(lint) {
    var items = Object.keys(lint.fallback_used).filter(function (p) { return lint.fallback_used[p]; })
      .map(function (p) { return el("li", { text: CRM.number(lint.fallback_used[p]) + " get the fallback of " + p + "." }); });
    if (lint.empty_text) items.push(el("li", { text: CRM.number(lint.empty_text) +
      " placeholders would print nothing: add a fallback, like {visits|a few}." }));
    return items.length ? items : [el("li", { text: "Every placeholder has a value for everyone." })];
  }
  function show(answer, body) {
    var rows = [row("Matched the audience rules", answer.matched)];
    CAUSES.forEach(function (cause) {
      rows.push(row("− " + cause[1], answer.excluded[cause[0]], "excluded-" + cause[0]));
    });
    rows.push(row("= Will be sent", answer.audience_size, "total"));
    var notes = [];
    if (!answer.capped_exact) notes.push("At the cap counts the messages already logged: a launch still sending may add a few.");
    box.replaceChildren(el("table", { "class": "waterfall", id: "preflight-table" }, [el("tbody", {}, rows)]),
                        el("ul", { "class": "lint", id: "preflight-lint" }, lintItems(answer.lint)),
                        el("p", { "class": "hint", text: notes.join(" ") }));
    box.hidden = false;
  }
  button.addEventListener("click", function () {
    var error = document.getElementById("campaign-error");
    var body = { name: document.getElementById("campaign-name").value || "Preflight",
                 message: document.getElementById("campaign-message").value };
    var problem = CRM.variantsForm.apply(body);
    if (problem) { CRM.showError(error, new Error(problem)); return; }
    if (select.value) body.segment_id = select.value;
    else if (builderRules()) body.rules = builderRules();
    else { CRM.showError(error, new Error("Choose who should receive this campaign.")); return; }
    button.disabled = true;
    CRM.api("POST", "/api/v1/campaigns/preflight", body).then(function (answer) {
      button.disabled = false; error.hidden = true; show(answer, body);
      // Launch/Save carry it back (campaign_new.js): the same customers are held out.
      document.getElementById("campaign-form").dataset.assignmentKey = answer.assignment_key;
    }, function (failure) { button.disabled = false; CRM.showError(error, failure); });
  });
})();
