/* The suppression list, page by page, with "Lift" (DELETE /api/v1/suppressions/<id>)
   for roles that may change things. */
"use strict";
(function () {
  var el = CRM.el;
  var list = document.getElementById("suppressions-list"), more = document.getElementById("suppressions-more");
  var error = document.getElementById("suppressions-error"), result = document.getElementById("suppressions-result");
  var canChange = ["admin", "marketer"].indexOf(document.body.dataset.role) >= 0;
  var items = [], cursor = null;

  function lift(item, button) {
    button.disabled = true;
    CRM.api("DELETE", "/api/v1/suppressions/" + encodeURIComponent(item.customer_external_id)).then(function () {
      items = items.filter(function (other) { return other !== item; });
      render();
      result.textContent = "Lifted: " + item.customer_external_id + " may get campaigns again.";
    }, function (problem) { button.disabled = false; CRM.showError(error, problem); });
  }
  function render() {
    if (!items.length) {
      list.replaceChildren(el("p", { "class": "hint", text: "Nobody is suppressed." }));
      return;
    }
    var rows = items.map(function (item) {
      var cells = [el("td", {}, [el("a", { href: "/customers/" + encodeURIComponent(item.customer_external_id),
                                           text: item.customer_external_id })]),
                   el("td", { text: item.reason || "–" }), el("td", { text: CRM.when(item.since) }),
                   el("td", {}, [el("a", { href: "/campaigns/" + encodeURIComponent(item.campaign_id || ""),
                                           text: item.campaign_id ? "the campaign" : "–" })])];
      if (canChange) {
        var button = el("button", { type: "button", "class": "lift", text: "Lift" });
        button.addEventListener("click", function () { lift(item, button); });
        cells.push(el("td", {}, [button]));
      }
      return el("tr", { "data-customer": item.customer_external_id }, cells);
    });
    var heads = ["Customer", "Reason", "Since", "Failed in"].concat(canChange ? ["Action"] : []);
    list.replaceChildren(CRM.table("suppressions", heads, rows));
  }
  function page() {
    more.disabled = true;
    CRM.api("GET", "/api/v1/suppressions?limit=100" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""))
      .then(function (answer) {
        items = items.concat(answer.items);
        cursor = answer.next_cursor;
        render();
        more.hidden = !cursor; more.disabled = false;
      }, function (problem) { more.disabled = false; CRM.showError(error, problem); });
  }
  more.addEventListener("click", page);
  page();
})();
