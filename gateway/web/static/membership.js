/* On the customer page: why this customer is in a saved audience, or not
   (GET /api/v1/segments/<id>/explain/<external_id>), condition by condition. */
"use strict";
(function () {
  var el = CRM.el;
  var id = document.getElementById("customer").dataset.externalId;
  var select = document.getElementById("membership-segment");
  var box = document.getElementById("membership");

  CRM.api("GET", "/api/v1/segments?limit=100").then(function (page) {
    select.replaceChildren.apply(select, page.items.length ? page.items.map(function (s) {
      return el("option", { value: s.id, text: s.name });
    }) : [el("option", { value: "", text: "No saved audiences yet" })]);
  }, function (problem) { CRM.showError(box, problem); });

  document.getElementById("membership-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!select.value) return;
    var name = select.options[select.selectedIndex].text;
    box.replaceChildren(el("p", { "class": "hint", text: "Checking…" }));
    CRM.api("GET", "/api/v1/segments/" + encodeURIComponent(select.value) + "/explain/" +
            encodeURIComponent(id)).then(function (answer) {
      box.replaceChildren(
        el("p", { id: "membership-verdict", "class": answer.matched ? "verdict in" : "verdict out",
                  text: (answer.matched ? "In “" : "Not in “") + name + "” now." }),
        el("ul", { "class": "explained" }, [node(answer.rules)]));
    }, function (problem) { box.replaceChildren(); CRM.showError(box, problem); });
  });

  function mark(matched) {
    return el("span", { "class": matched ? "mark yes" : "mark no", text: matched ? "✓ yes" : "✗ no" });
  }

  function shown(value) {
    if (value === null || value === undefined || value === "") return "none";
    if (Array.isArray(value)) return value.length ? value.join(", ") : "none";
    if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value)) return CRM.when(value);
    return typeof value === "number" ? CRM.number(value) : String(value);
  }

  function node(n) {
    if (n.all || n.any) {
      var mode = n.all ? "all" : "any";
      return el("li", { "class": "group" }, [mark(n.matched), " " + (mode === "all" ? "All of:" : "Any of:"),
        el("ul", {}, n[mode].map(node))]);
    }
    if (n.not) return el("li", { "class": "group" }, [mark(n.matched), " Not:", el("ul", {}, [node(n.not)])]);
    return el("li", { "class": "condition-result" }, [mark(n.matched), " " + Rules.describe(n),
      el("span", { "class": "hint", text: " (theirs: " + shown(n.customer_value) + ")" })]);
  }
})();
