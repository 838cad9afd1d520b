/* The campaign page's Results tab: per group (holdout and each variant) conversion
   and revenue per customer with each variant's lift over the holdout and its 95%
   interval, and cumulative conversion by day as an inline SVG chart. */
"use strict";
(function () {
  var el = CRM.el;
  var id = document.getElementById("campaign").dataset.campaignId;
  var path = "/api/v1/campaigns/" + encodeURIComponent(id) + "/results";
  var tabs = [["tab-progress", "panel-progress"], ["tab-results", "panel-results"]];
  var windowSelect = document.getElementById("results-window");
  var error = document.getElementById("results-error");
  var COLOURS = ["#5b6472", "#2563eb", "#d97706", "#059669", "#9333ea"];
  var SVG = "http://www.w3.org/2000/svg";
  var loaded = false;

  function select(tabId) {
    tabs.forEach(function (pair) {
      var on = pair[0] === tabId;
      document.getElementById(pair[0]).setAttribute("aria-selected", on ? "true" : "false");
      document.getElementById(pair[1]).hidden = !on;
    });
    if (tabId === "tab-results" && !loaded) load();
  }

  function percent(x) { return x === null || x === undefined ? "–" : (100 * x).toFixed(2) + "%"; }
  function points(x) { return x === null || x === undefined ? "–" : (x > 0 ? "+" : "") + (100 * x).toFixed(2) + " pts"; }
  function signedMoney(x) { return x === null || x === undefined ? "–" : (x > 0 ? "+" : "") + CRM.money(x); }

  /* "+1.20 pts (95%: -0.30 to +2.70)", or why there is no interval. */
  function lift(one, format) {
    if (!one) return "–";
    var text = format(one.absolute);
    if (one.relative !== null && one.relative !== undefined) text += " (" + (one.relative > 0 ? "+" : "") + (100 * one.relative).toFixed(1) + "%)";
    if (one.ci95) return text + "; 95%: " + format(one.ci95[0]) + " to " + format(one.ci95[1]);
    return text + "; " + (one.reason || "not enough data");
  }

  function row(group) {
    var l = group.lift_vs_holdout;
    return el("tr", {}, [
      el("th", { scope: "row", text: group.name === "holdout" ? "Holdout (no message)" : group.name }),
      el("td", { "class": "num", text: CRM.number(group.customers) }),
      el("td", { "class": "num", text: CRM.number(group.converted) }),
      el("td", { "class": "num", text: percent(group.conversion_rate) }),
      el("td", { text: l ? lift(l.conversion_rate, points) : "baseline" }),
      el("td", { "class": "num", text: CRM.money(group.revenue_per_customer) }),
      el("td", { text: l ? lift(l.revenue_per_customer, signedMoney) : "baseline" })]);
  }

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* One line per group: the share of its customers converted by the end of each day. */
  function chart(groups, days) {
    var width = 560, height = 220, left = 48, bottom = 28, top = 10, right = 10;
    var rates = groups.map(function (g) {
      return g.converted_by_day.map(function (n) { return g.customers ? n / g.customers : 0; });
    });
    var highest = Math.max.apply(null, [0.0001].concat(rates.map(function (r) { return Math.max.apply(null, [0].concat(r)); })));
    function x(day) { return left + (width - left - right) * (days === 1 ? 1 : day / (days - 1)); }
    function y(rate) { return top + (height - top - bottom) * (1 - rate / highest); }
    var box = svg("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height, role: "img", id: "results-chart-svg",
      "aria-label": "Cumulative conversion by day: " + groups.map(function (g, i) {
        return g.name + " " + percent(rates[i][rates[i].length - 1] || 0); }).join(", ") });
    box.appendChild(svg("line", { x1: left, y1: y(0), x2: width - right, y2: y(0), stroke: "#c8ced6" }));
    box.appendChild(svg("text", { x: left - 6, y: y(highest) + 4, "text-anchor": "end", "font-size": 11, fill: "#5b6472" }, percent(highest)));
    box.appendChild(svg("text", { x: left - 6, y: y(0) + 4, "text-anchor": "end", "font-size": 11, fill: "#5b6472" }, "0%"));
    box.appendChild(svg("text", { x: width - right, y: height - 8, "text-anchor": "end", "font-size": 11, fill: "#5b6472" }, "day " + days));
    box.appendChild(svg("text", { x: left, y: height - 8, "font-size": 11, fill: "#5b6472" }, "day 1"));
    rates.forEach(function (r, i) {
      var line = r.map(function (rate, day) { return x(day).toFixed(1) + "," + y(rate).toFixed(1); }).join(" ");
      box.appendChild(svg("polyline", { points: line, fill: "none", stroke: COLOURS[i % COLOURS.length],
        "stroke-width": 2, "data-group": groups[i].name, "stroke-dasharray": groups[i].name === "holdout" ? "5 4" : "none" }));
    });
    var legend = el("ul", { "class": "legend-list" }, groups.map(function (g, i) {
      var key = svg("svg", { width: 14, height: 14, "aria-hidden": "true" });
      key.appendChild(svg("rect", { width: 14, height: 14, fill: COLOURS[i % COLOURS.length] }));
      return el("li", {}, [key, el("span", { text: " " + (g.name === "holdout" ? "Holdout" : g.name) })]);
    }));
    return [box, legend];
  }

  function show(results) {
    var groups = [results.holdout].concat(results.variants);
    document.getElementById("results-table").replaceChildren(CRM.table("results", [
      "Group", ["Customers", "num"], ["Converted", "num"], ["Conversion rate", "num"], "Lift vs holdout",
      ["Revenue per customer", "num"], "Lift vs holdout"], groups.map(row)));
    document.getElementById("results-chart").replaceChildren.apply(
      document.getElementById("results-chart"), chart(groups, results.window_days));
    document.getElementById("results-note").textContent = "Orders placed within " + results.window_days +
      " days after launch (" + CRM.when(results.launched_at) + " to " + CRM.when(results.window_ends_at) + "). " +
      (results.holdout.customers ? "" : "This campaign has no holdout, so no lift can be measured. ") +
      "Orders attributed up to " + CRM.when(results.orders_attributed_at) + ".";
  }

  function load() {
    loaded = true;
    document.getElementById("results-csv").href = path + ".csv?window_days=" + encodeURIComponent(windowSelect.value);
    CRM.api("GET", path + "?window_days=" + encodeURIComponent(windowSelect.value)).then(function (results) {
      error.hidden = true;
      show(results);
    }, function (problem) { CRM.showError(error, problem); });
  }

  tabs.forEach(function (pair) {
    document.getElementById(pair[0]).addEventListener("click", function () { select(pair[0]); });
  });
  windowSelect.addEventListener("change", load);
  document.getElementById("results-refresh").addEventListener("click", load);
})();
