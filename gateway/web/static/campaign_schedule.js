/* The new-campaign form's Save draft and Schedule: which button was used decides
   whether the create carries `draft: true`, `send_at` (from the datetime input, the
   browser's local time sent as UTC) or neither (Launch). campaign_new.js asks
   CRM.campaignWhen.apply(body) before it posts. */
"use strict";
CRM.campaignWhen = (function () {
  var form = document.getElementById("campaign-form");
  var input = document.getElementById("campaign-send-at");
  var mode = "launch";

  function submitAs(chosen) {
    return function () {
      mode = chosen;
      if (form.requestSubmit) form.requestSubmit(); else form.dispatchEvent(new Event("submit"));
    };
  }
  document.getElementById("save-draft").addEventListener("click", submitAs("draft"));
  document.getElementById("schedule").addEventListener("click", submitAs("schedule"));
  document.getElementById("launch").addEventListener("click", function () { mode = "launch"; });

  /* Adds draft or send_at to the create body; returns a problem to show, or null. */
  function apply(body) {
    var chosen = mode;
    mode = "launch";
    if (chosen === "draft") body.draft = true;
    if (chosen !== "schedule") return null;
    if (!input.value) return "Choose when to send it: a date and time in the next 90 days.";
    var at = new Date(input.value);
    if (isNaN(at.getTime())) return "That date and time could not be read.";
    if (at.getTime() <= Date.now()) return "Choose a time in the future.";
    body.send_at = at.toISOString();
    return null;
  }
  return { apply: apply };
})();
