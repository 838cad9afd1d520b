/* A draft or scheduled campaign's page: when it will go out, Launch now, and Send
   test (the message rendered for up to 10 customers and sent marked test, outside
   the campaign's stats). Cancel is among the sending controls (campaign.js). */
"use strict";
(function () {
  var el = CRM.el;
  var root = document.getElementById("campaign");
  var box = document.getElementById("draft-box");
  if (!root || !box) return;
  var path = "/api/v1/campaigns/" + encodeURIComponent(root.dataset.campaignId);
  var error = document.getElementById("draft-error");

  function show(c) {
    var unlaunched = c.status === "draft" || c.status === "scheduled";
    box.hidden = !unlaunched;
    if (!unlaunched) return;
    document.getElementById("draft-when").textContent = c.status === "scheduled" ?
      "Scheduled: it launches by itself at " + CRM.when(c.send_at) + "." :
      "Draft: nothing is sent until you launch it.";
  }

  var launch = document.getElementById("launch-now");
  if (launch) launch.addEventListener("click", function () {
    launch.disabled = true;
    CRM.api("POST", path + "/launch").then(function () { window.location.reload(); },
      function (problem) { launch.disabled = false; CRM.showError(error, problem); });
  });

  var testForm = document.getElementById("test-send-form");
  if (testForm) testForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var ids = document.getElementById("test-send-to").value.split(/[\s,]+/).filter(Boolean);
    var list = document.getElementById("test-send-result");
    error.hidden = true;
    CRM.api("POST", path + "/test-send", { to: ids }).then(function (result) {
      var items = result.messages.map(function (m) {
        return el("li", {}, [el("strong", { text: m.customer_external_id + " (" + (m.to || "no address") + "): " }),
                             m.text]);
      });
      result.not_found.forEach(function (id) { items.push(el("li", { "class": "hint", text: id + ": no such customer, nothing sent" })); });
      list.replaceChildren.apply(list, items);
    }, function (problem) { CRM.showError(error, problem); });
  });

  /* Read again while unlaunched: a cancel (campaign.js) or the launch at send_at
     hides the box instead of leaving "launches by itself" on a cancelled campaign. */
  function refresh() {
    CRM.api("GET", path).then(function (c) {
      show(c);
      if (!box.hidden) setTimeout(refresh, 2000);
    }, function (problem) { CRM.showError(error, problem); setTimeout(refresh, 5000); });
  }
  refresh();
})();
