"use strict";
(function () {
  var error = document.getElementById("dashboard-error");
  // A preview's index_size is every customer; its count, those with an order.
  CRM.api("POST", "/api/v1/segments/preview",
          { rules: { field: "order_count", op: "gt", value: 0 } }).then(function (p) {
    document.getElementById("tile-customers").textContent = CRM.number(p.index_size);
    document.getElementById("tile-buyers").textContent = CRM.number(p.count);
  }, function (problem) { CRM.showError(error, problem); });
  CRM.api("GET", "/api/v1/campaigns?limit=10").then(function (page) {
    var items = page.items;
    document.getElementById("tile-campaigns").textContent =
      CRM.number(items.length) + (page.next_cursor ? "+" : "");
    var sent = items.reduce(function (sum, c) { return sum + ((c.stats || {}).sent || 0); }, 0);
    document.getElementById("tile-sent").textContent = CRM.number(sent);
    var box = document.getElementById("recent-campaigns");
    box.replaceChildren(CRM.campaignTable(items));
  }, function (problem) { CRM.showError(error, problem); });
})();
