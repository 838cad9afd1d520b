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

  /* The message as the campaign service will render it (API.md templates). */
  function render(template, customer) {
    var first = String(customer.name || "").split(/\s+/)[0];
    return template.replace(/\{([a-z_]+)(?:\|([^}]*))?\}/g, function (all, field, fallback) {
      var value = field === "first_name" ? first : customer[field];
      if (value === null || value === undefined || value === "") return fallback === undefined ? "" : fallback;
      return String(value);
    });
  }

  function showPreview() {
    var list = document.getElementById("message-preview");
    if (!sample.length) { list.replaceChildren(el("li", { "class": "hint", text: "Choose an audience to preview the message." })); return; }
    list.replaceChildren.apply(list, sample.slice(0, 3).map(function (c) {
      return el("li", {}, [el("strong", { text: (c.name || c.external_id) + ": " }), render(message.value, c)]);
    }));
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
    if (select.value) body.segment_id = select.value;
    else if (builderRules) body.rules = builderRules;
    else { CRM.showError(error, new Error("Choose who should receive this campaign.")); return; }
    var button = document.getElementById("launch");
    button.disabled = true;
    CRM.api("POST", "/api/v1/campaigns", body).then(function (campaign) {
      sessionStorage.removeItem("crm.builderRules");
      window.location = "/campaigns/" + encodeURIComponent(campaign.id);
    }, function (problem) { button.disabled = false; CRM.showError(error, problem); });
  });
})();
