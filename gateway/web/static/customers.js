/* Customers: the list, page by page, and a search that asks the audience
   engine for customers whose name, email or city contains the text. */
"use strict";
(function () {
  var el = CRM.el;
  var list = document.getElementById("customers-list"), more = document.getElementById("customers-more");
  var error = document.getElementById("customers-error"), title = document.getElementById("customers-title");
  var rows = [], cursor = null;

  function table(customers) {
    if (!customers.length) return el("p", { "class": "hint", text: "No customer matches." });
    var cols = [["name", "Name"], ["email", "Email"], ["city", "City"], ["total_spend", "Spend (INR)"],
                ["order_count", "Orders"], ["last_active_at", "Last active"]];
    var body = customers.map(function (p) {
      return el("tr", {}, cols.map(function (c) {
        var v = p[c[0]];
        if (c[0] === "name") return el("td", {}, [el("a", { href: "/customers/" + encodeURIComponent(p.external_id), text: v || p.external_id })]);
        if (c[0].slice(-3) === "_at") v = CRM.when(v);
        else if (typeof v === "number") v = CRM.number(v);
        return el("td", { "class": typeof p[c[0]] === "number" ? "num" : null, text: v === null || v === undefined ? "–" : String(v) });
      }));
    });
    return CRM.table(null, cols.map(function (c) { return c[1]; }), body);
  }

  function page() {
    CRM.api("GET", "/api/v1/customers?limit=25" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""))
      .then(function (answer) {
        rows = rows.concat(answer.items);
        cursor = answer.items.length < 25 ? null : answer.next_cursor;
        list.replaceChildren(table(rows)); more.hidden = !cursor;
      }, function (problem) { CRM.showError(error, problem); });
  }

  document.getElementById("customer-search").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = document.getElementById("search-text").value.trim();
    var rules = { any: ["name", "email", "city"].map(function (f) { return { field: f, op: "contains", value: text }; }) };
    CRM.api("POST", "/api/v1/segments/preview", { rules: rules }).then(function (answer) {
      error.hidden = true; more.hidden = true;
      title.textContent = CRM.number(answer.count) + (answer.count === 1 ? " customer matches" : " customers match") +
        " “" + text + "”" +
        (answer.count > answer.sample.length ? " (showing " + answer.sample.length + ")" : "");
      list.replaceChildren(table(answer.sample));
    }, function (problem) { CRM.showError(error, problem); });
  });
  more.addEventListener("click", page);
  page();
})();
