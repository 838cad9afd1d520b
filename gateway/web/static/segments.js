/* Saved audiences, newest first: their rules in words, the size when saved and
   now, and (for roles that may change things) start a campaign, rename, delete. */
"use strict";
(function () {
  var el = CRM.el;
  var list = document.getElementById("segments-list"), more = document.getElementById("segments-more");
  var error = document.getElementById("segments-error"), result = document.getElementById("segments-result");
  var cursor = null, table = null;

  /* The whole rule in words: groups in brackets joined by "and" / "or". */
  function words(rule) {
    if (rule.not) return "not " + words(rule.not);
    if (rule.all || rule.any) {
      var parts = (rule.all || rule.any).map(words);
      return parts.length === 1 ? parts[0] : "(" + parts.join(rule.all ? " and " : " or ") + ")";
    }
    return Rules.describe(rule);
  }

  function plain(rule) {
    var text = words(rule);
    return text.charAt(0) === "(" && text.slice(-1) === ")" ? text.slice(1, -1) : text;
  }

  function currentCount(segment, cell) {
    CRM.api("GET", "/api/v1/segments/" + encodeURIComponent(segment.id)).then(function (one) {
      cell.textContent = one.current_count === null ? "counting…" : CRM.number(one.current_count);
    }, function () { cell.textContent = "–"; });
  }

  /* The segment's sizes over time (GET .../history: one a day, and any taken on demand)
     as a sparkline, its numbers in the label for screen readers. */
  function sizes(segment, cell) {
    CRM.api("GET", "/api/v1/segments/" + encodeURIComponent(segment.id) + "/history").then(function (answer) {
      cell.replaceChildren(sparkline(answer.items.map(function (s) { return s.count; }), segment.name));
    }, function () { cell.textContent = "–"; });
  }

  function sparkline(counts, name) {
    if (!counts.length) return el("span", { "class": "hint", text: "no sizes yet" });
    var ns = "http://www.w3.org/2000/svg", width = 96, height = 24;
    var low = Math.min.apply(null, counts), high = Math.max.apply(null, counts);
    var points = counts.map(function (n, i) {
      var x = counts.length === 1 ? width / 2 : 2 + i * (width - 4) / (counts.length - 1);
      var y = high === low ? height / 2 : height - 2 - (n - low) * (height - 4) / (high - low);
      return x.toFixed(1) + "," + y.toFixed(1);
    });
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "sparkline");
    svg.setAttribute("width", width); svg.setAttribute("height", height);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "Size of " + name + " over time: " + counts.map(CRM.number).join(", "));
    var line = document.createElementNS(ns, counts.length === 1 ? "circle" : "polyline");
    if (counts.length === 1) { line.setAttribute("cx", width / 2); line.setAttribute("cy", height / 2); line.setAttribute("r", 2.5); }
    else line.setAttribute("points", points.join(" "));
    svg.appendChild(line);
    return svg;
  }

  function recordSize(segment, cell) {
    CRM.api("POST", "/api/v1/segments/" + encodeURIComponent(segment.id) + "/history").then(function (size) {
      result.textContent = "Recorded the size of “" + segment.name + "”: " + CRM.number(size.count) + ".";
      sizes(segment, cell);
    }, function (problem) { CRM.showError(error, problem); });
  }

  function rename(segment, nameCell) {
    var input = el("input", { value: segment.name, maxlength: 200, "aria-label": "New name for " + segment.name });
    var form = el("form", { "class": "inline-form" }, [input, el("button", { type: "submit", text: "Save name" })]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      CRM.api("PATCH", "/api/v1/segments/" + encodeURIComponent(segment.id), { name: input.value })
        .then(function (renamed) {
          segment.name = renamed.name;
          nameCell.replaceChildren(document.createTextNode(renamed.name));
          result.textContent = "Renamed to “" + renamed.name + "”.";
        }, function (problem) { CRM.showError(error, problem); });
    });
    nameCell.replaceChildren(form);
    input.focus();
  }

  function remove(segment, row) {
    if (!window.confirm("Delete the audience “" + segment.name + "”? Campaigns already sent to it keep their history.")) return;
    CRM.api("DELETE", "/api/v1/segments/" + encodeURIComponent(segment.id)).then(function () {
      row.remove();
      result.textContent = "Deleted “" + segment.name + "”.";
    }, function (problem) { CRM.showError(error, problem); });
  }

  function row(segment) {
    var nameCell = el("td", { text: segment.name }), now = el("td", { "class": "num", text: "…" });
    var actions = el("td", { "class": "actions" }), overTime = el("td", { "class": "over-time" });
    var tr = el("tr", { "data-segment-id": segment.id }, [nameCell, el("td", { text: plain(segment.rules) }),
      el("td", { "class": "num", text: CRM.number(segment.count) }), now, overTime,
      el("td", { text: CRM.day(segment.created_at) }), actions]);
    if (CRM.canChange) {
      actions.appendChild(el("a", { "class": "button", href: "/campaigns/new?segment=" + encodeURIComponent(segment.id),
                                    text: "Start a campaign", "aria-label": "Start a campaign for " + segment.name }));
      actions.appendChild(el("a", { "class": "button", href: "/segments/new?from=" + encodeURIComponent(segment.id),
                                    text: "Open in builder", "aria-label": "Open " + segment.name + " in the builder" }));
      actions.appendChild(el("a", { "class": "button", download: "",
                                    href: "/api/v1/segments/" + encodeURIComponent(segment.id) + "/members.csv",
                                    text: "Download CSV", "aria-label": "Download the customers of " + segment.name + " (CSV)" }));
      actions.appendChild(el("button", { type: "button", text: "Record size", "aria-label": "Record the size of " + segment.name,
                                         onclick: function () { recordSize(segment, overTime); } }));
      actions.appendChild(el("button", { type: "button", text: "Rename", "aria-label": "Rename " + segment.name,
                                         onclick: function () { rename(segment, nameCell); } }));
      actions.appendChild(el("button", { type: "button", text: "Delete", "aria-label": "Delete " + segment.name,
                                         onclick: function () { remove(segment, tr); } }));
    }
    currentCount(segment, now);
    sizes(segment, overTime);
    return tr;
  }

  function page() {
    more.disabled = true;
    CRM.api("GET", "/api/v1/segments?limit=25" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : ""))
      .then(function (answer) {
        if (!table && !answer.items.length) {
          list.replaceChildren(el("p", { "class": "hint", text: "No saved audiences yet: build one and save it." }));
          return;
        }
        if (!table) {
          var wrap = CRM.table("segments", ["Name", "Who", ["Size when saved", "num"], ["Size now", "num"], "Over time", "Saved on", ""], []);
          table = wrap.querySelector("tbody");
          list.replaceChildren(wrap);
        }
        answer.items.forEach(function (segment) { table.appendChild(row(segment)); });
        cursor = answer.next_cursor;
        more.hidden = !cursor; more.disabled = false;
      }, function (problem) { more.disabled = false; CRM.showError(error, problem); });
  }

  more.addEventListener("click", page);
  page();
})();
