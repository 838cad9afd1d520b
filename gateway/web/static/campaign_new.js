/* Create a campaign from a saved audience or the builder's rules, with a live
   preview of the message for sample customers. */
"use strict";
(function () {
  var el = CRM.el;
  var params = new URLSearchParams(window.location.search);
  var select = document.getElementById("campaign-segment");
  var message = document.getElementById("campaign-message");
  var error = document.getElementById("campaign-error");
  var builderRules = null, sample = [], segments = {};
  if (params.get("from") === "builder") {
    try { builderRules = JSON.parse(sessionStorage.getItem("crm.builderRules")); } catch (e) { builderRules = null; }
  }

  var previewTimer = null, previewTicket = 0;
  var lintList = document.getElementById("message-lint"), templateProblem = document.getElementById("message-problem");

  /* Who gets a fallback or an empty value, among the sample customers. */
  function showLint(lint) {
    lintList.replaceChildren.apply(lintList, lint.placeholders.filter(function (p) {
      return p.fallback_used || p.empty;
    }).map(function (p) {
      var text = p.fallback_used ?
        CRM.number(p.fallback_used) + " of " + CRM.number(lint.recipients) + " sample customers get the fallback “" + p.fallback + "” for " + p.placeholder :
        CRM.number(p.empty) + " of " + CRM.number(lint.recipients) + " sample customers have no " + p.field +
          ": " + p.placeholder + " will be left empty. Add a fallback, like {" + p.field + "|friend}.";
      return el("li", { text: text + "." });
    }));
  }

  /* The campaign service renders the message for the sample, exactly as sending will. */
  function showPreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(function () {
      var list = document.getElementById("message-preview"), ticket = ++previewTicket;
      if (!message.value.trim()) { list.replaceChildren(); lintList.replaceChildren(); return; }
      CRM.api("POST", "/api/v1/campaigns/preview-message", { message: message.value, recipients: sample.slice(0, 10) })
        .then(function (result) {
          if (ticket !== previewTicket) return;
          templateProblem.hidden = true;
          if (!sample.length) list.replaceChildren(el("li", { "class": "hint", text: "Choose an audience to preview the message." }));
          else list.replaceChildren.apply(list, result.messages.slice(0, 3).map(function (m, i) {
            return el("li", {}, [el("strong", { text: (sample[i].name || sample[i].external_id) + ": " }), m.text]);
          }));
          showLint(result.lint);
        }, function (problem) {
          if (ticket !== previewTicket) return;
          list.replaceChildren(); lintList.replaceChildren();
          var details = (problem.body && problem.body.error && problem.body.error.details) || {};
          if ((details.unknown_placeholders || []).length && details.allowed_fields)
            problem = { message: problem.message + " You can use: " + details.allowed_fields.join(", ") + "." };
          CRM.showError(templateProblem, problem);
        });
    }, 300);
  }

  function currentRules() {
    if (select.value) return segments[select.value].rules;
    return builderRules;
  }

  function refreshAudience() {
    var rules = currentRules();
    if (!rules) { sample = []; document.getElementById("campaign-audience").textContent = "–"; showPreview(); return; }
    CRM.api("POST", "/api/v1/segments/preview", { rules: rules }).then(function (p) {
      sample = p.sample || [];
      document.getElementById("campaign-audience").textContent = CRM.number(p.count);
      showPreview();
    }, function (problem) { CRM.showError(error, problem); });
  }

  CRM.api("GET", "/api/v1/segments?limit=100").then(function (page) {
    var options = [el("option", { value: "", text: builderRules ? "The rules from the builder" : "Choose an audience" })];
    page.items.forEach(function (s) {
      segments[s.id] = s;
      options.push(el("option", { value: s.id, text: s.name + " (" + CRM.number(s.count) + ")" }));
    });
    select.replaceChildren.apply(select, options);
    if (params.get("segment") && segments[params.get("segment")]) select.value = params.get("segment");
    document.getElementById("builder-rules-note").hidden = !builderRules || !!select.value;
    refreshAudience();
  }, function (problem) { CRM.showError(error, problem); });

  select.addEventListener("change", function () {
    document.getElementById("builder-rules-note").hidden = !builderRules || !!select.value;
    refreshAudience();
  });
  message.addEventListener("input", showPreview);

  document.getElementById("campaign-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = { name: document.getElementById("campaign-name").value, message: message.value };
    var whenProblem = CRM.campaignWhen.apply(body);  // draft or send_at (campaign_schedule.js)
    if (whenProblem) { CRM.showError(error, new Error(whenProblem)); return; }
    var variantsProblem = CRM.variantsForm.apply(body);  // holdout_percent; variants, not message
    if (variantsProblem) { CRM.showError(error, new Error(variantsProblem)); return; }
    if (select.value) body.segment_id = select.value;
    else if (builderRules) body.rules = builderRules;
    else { CRM.showError(error, new Error("Choose who should receive this campaign.")); return; }
    var checked = event.target.dataset.assignmentKey;  // Check audience's (campaign_preflight.js)
    if (checked) body.assignment_key = checked;
    var button = document.getElementById(body.draft ? "save-draft" : body.send_at ? "schedule" : "launch");
    button.disabled = true;
    CRM.api("POST", "/api/v1/campaigns", body).then(function (campaign) {
      sessionStorage.removeItem("crm.builderRules");
      window.location = "/campaigns/" + encodeURIComponent(campaign.id);
    }, function (problem) { button.disabled = false; CRM.showError(error, problem); });
  });
})();
