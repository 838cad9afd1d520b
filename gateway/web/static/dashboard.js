"use strict";
(function () {
  var error = document.getElementById("dashboard-error");
  function overview() {
    CRM.api("GET", "/api/v1/overview").then(function (o) {
      error.hidden = true;
      document.getElementById("tile-customers").textContent = CRM.number(o.customers);
      document.getElementById("tile-orders").textContent = CRM.number(o.orders);
      document.getElementById("tile-revenue").textContent = CRM.money(o.revenue);
      document.getElementById("tile-buyers").textContent = CRM.number(o.customers_with_orders);
    }, function (problem) {
      CRM.showError(error, problem);
      if (problem.loading) setTimeout(overview, 3000);
    });
  }
  overview();
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
