/* The campaign form's holdout and variants: the message above is variant A; each
   added variant has its own message and share. CRM.variantsForm.apply(body) puts
   holdout_percent, and variants instead of message, into the create body, or
   returns what is wrong with them (the API checks the same, with a 400). */
"use strict";
CRM.variantsForm = (function () {
  var el = CRM.el;
  var box = document.getElementById("variants");
  var add = document.getElementById("add-variant");
  var weightA = document.getElementById("variant-weight-A");
  var NAMES = ["B", "C", "D"];
  var rows = [];

  function render() {
    document.getElementById("variant-a-weight").hidden = rows.length === 0;
    add.hidden = rows.length >= NAMES.length;
    rows.forEach(function (row, i) { row.name = NAMES[i]; row.legend.textContent = "Variant " + NAMES[i]; });
  }

  function addVariant() {
    var n = rows.length, name = NAMES[n];
    var message = el("textarea", { id: "variant-message-" + name, rows: 2, required: true });
    message.value = document.getElementById("campaign-message").value;
    var weight = el("input", { id: "variant-weight-" + name, type: "number", min: 1, max: 99, step: 1 });
    var legend = el("legend", { text: "Variant " + name });
    var row = { name: name, message: message, weight: weight, legend: legend };
    row.node = el("fieldset", { "class": "variant" }, [legend,
      el("label", { "for": message.id, text: "Message" }), message,
      el("label", { "for": weight.id, text: "Share, percent" }), weight,
      el("button", { type: "button", text: "Remove variant", onclick: function () {
        rows.splice(rows.indexOf(row), 1); row.node.remove(); render(); } })]);
    rows.push(row);
    var share = Math.floor(100 / (rows.length + 1));
    rows.forEach(function (r) { r.weight.value = share; });
    weightA.value = 100 - share * rows.length;
    box.appendChild(row.node);
    render();
    message.focus();
  }

  function apply(body) {
    var holdout = Number(document.getElementById("campaign-holdout").value || 0);
    if (holdout) body.holdout_percent = holdout;
    if (holdout < 0 || holdout > 50) return "The holdout must be between 0 and 50 percent.";
    if (!rows.length) return null;
    body.variants = [{ name: "A", message: body.message, weight: Number(weightA.value) }].concat(
      rows.map(function (r) { return { name: r.name, message: r.message.value, weight: Number(r.weight.value) }; }));
    delete body.message;
    var total = body.variants.reduce(function (sum, v) { return sum + v.weight; }, 0);
    return total === 100 ? null : "The variants' shares add up to " + total + "%: make them add up to 100.";
  }

  add.addEventListener("click", addVariant);
  render();
  return { apply: apply };
})();
