/* One customer's profile, as the audience engine sees it. */
"use strict";
(function () {
  var el = CRM.el;
  var id = document.getElementById("customer").dataset.externalId;
  var error = document.getElementById("customer-error");
  var LABELS = [["external_id", "Customer id"], ["email", "Email"], ["phone", "Phone"], ["city", "City"],
                ["tags", "Tags"], ["signed_up_at", "Signed up"], ["last_visit_at", "Last visit"],
                ["last_order_at", "Last order"]];
  CRM.api("GET", "/api/v1/customers/" + encodeURIComponent(id)).then(function (p) {
    document.getElementById("customer-name").textContent = p.name || p.external_id;
    document.getElementById("customer-contact").textContent = [p.email, p.city].filter(Boolean).join(" · ");
    document.getElementById("customer-total_spend").textContent = CRM.money(p.total_spend);
    ["order_count", "visits"].forEach(function (k) {
      document.getElementById("customer-" + k).textContent = CRM.number(p[k]);
    });
    document.getElementById("customer-last_active_at").textContent = CRM.when(p.last_active_at);
    var dl = document.getElementById("customer-profile");
    LABELS.forEach(function (pair) {
      var v = p[pair[0]];
      if (pair[0].slice(-3) === "_at") v = CRM.when(v);
      else if (Array.isArray(v)) v = v.length ? v.join(", ") : "–";
      dl.appendChild(el("dt", { text: pair[1] }));
      dl.appendChild(el("dd", { text: v === null || v === undefined || v === "" ? "–" : String(v) }));
    });
  }, function (problem) {
    CRM.showError(error, problem.status === 404 ?
      { message: "No customer has the id “" + id + "” yet. New customers appear a moment after they are imported." } : problem);
  });

  var orders = [], cursor = null, more = document.getElementById("orders-more");
  function ordersTable() {
    if (!orders.length) return el("p", { "class": "hint", text: "No orders yet." });
    var rows = orders.map(function (o) {
      return el("tr", {}, [el("td", { text: o.external_id }), el("td", { "class": "num", text: CRM.money(o.amount) }),
                           el("td", { text: CRM.day(o.placed_at) })]);
    });
    return CRM.table("orders", ["Order", ["Amount", "num"], "Placed"], rows);
  }
  function ordersPage() {
    more.disabled = true;
    CRM.api("GET", "/api/v1/customers/" + encodeURIComponent(id) + "/orders?limit=20" +
            (cursor ? "&cursor=" + encodeURIComponent(cursor) : "")).then(function (page) {
      orders = orders.concat(page.items);
      cursor = page.next_cursor;
      document.getElementById("customer-orders").replaceChildren(ordersTable());
      more.hidden = !cursor; more.disabled = false;
    }, function (problem) {
      more.disabled = false;
      if (problem.status !== 404) CRM.showError(error, problem);
      else document.getElementById("customer-orders").replaceChildren();
    });
  }
  more.addEventListener("click", ordersPage);
  ordersPage();
})();
