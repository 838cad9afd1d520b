/* One campaign: live progress (polled every 1.5 s while sending), the failed
   recipients, and retry-failed for roles that may change things. */
"use strict";
(function () {
  var el = CRM.el;
  var id = document.getElementById("campaign").dataset.campaignId;
  var path = "/api/v1/campaigns/" + encodeURIComponent(id);
  var error = document.getElementById("campaign-error");
  var retry = document.getElementById("retry");
  var lastFailed = -1;

  function show(c) {
    document.getElementById("campaign-name").textContent = c.name;
    document.getElementById("campaign-status").replaceChildren(CRM.statusBadge(c.status));
    document.getElementById("campaign-created").textContent = "created " + CRM.when(c.created_at) +
      (c.attempt > 1 ? " · attempt " + c.attempt : "") +
      (c.status === "launching" ? " · preparing the audience and the messages (a large audience takes a few minutes)" : "");
    ["audience_size", "sent", "failed", "pending"].forEach(function (k) {
      document.getElementById("stat-" + k).textContent = CRM.number(c.stats[k]);
    });
    document.getElementById("campaign-bar").replaceChildren(CRM.bar(c.stats));
    showOutcomes(c.stats);
    document.getElementById("campaign-message").textContent = c.message || (c.variants || []).map(function (v) {
      return v.name + " (" + v.weight + "%): " + v.message; }).join("\n");
    if (c.holdout_percent) document.getElementById("campaign-message").textContent +=
      "\nHoldout: " + c.holdout_percent + "% of the audience get no message (" + CRM.number(c.stats.excluded && c.stats.excluded.held_out) + " so far).";
    showLint(c.lint);
    if (retry) retry.hidden = !(c.status === "completed" && c.stats.failed > 0);
    showControls(c);
    if (c.stats.failed !== lastFailed) { lastFailed = c.stats.failed; loadFailed(); }
  }

  var CONTROLS = {
    pause: { label: "Pause sending", done: "Paused: nothing more goes to the vendor until you resume." },
    resume: { label: "Resume sending", done: "Resumed: the messages not sent yet are on their way." },
    cancel: { label: "Cancel campaign", done: "Cancelled: messages not sent yet will never be sent.",
              confirm: "Cancel this campaign? Messages not sent yet will never be sent, and this cannot be undone." }
  };
  var controls = document.getElementById("campaign-controls"), shownActions = null;

  /* One button per action the campaign accepts right now (the API says which). */
  function showControls(c) {
    if (!controls) return;
    var actions = (c.actions || []).join(",");
    if (actions === shownActions) return;
    shownActions = actions;
    controls.replaceChildren.apply(controls, (c.actions || []).map(function (action) {
      var spec = CONTROLS[action];
      if (!spec) return null;
      return el("button", { type: "button", "class": action === "cancel" ? "danger" : null, text: spec.label,
        onclick: function (event) {
          if (spec.confirm && !window.confirm(spec.confirm)) return;
          event.target.disabled = true;
          CRM.api("POST", path + "/" + action).then(function (changed) {
            document.getElementById("control-result").textContent = spec.done;
            error.hidden = true;
            show(changed);
          }, function (problem) { event.target.disabled = false; CRM.showError(error, problem); });
        } });
    }).filter(Boolean));
  }

  var KINDS = [["sent", "Sent"], ["failed", "Failed"], ["pending", "Pending"]];
  var SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function share(part, total) { return total ? (100 * part / total).toFixed(1) + "%" : "–"; }

  /* A donut of sent / failed / pending (one ring segment each) and its legend. */
  function showOutcomes(stats) {
    var total = stats.audience_size || 0, r = 58, length = 2 * Math.PI * r, offset = 0;
    var chart = svg("svg", { viewBox: "0 0 140 140", width: "140", height: "140", role: "img",
      "aria-label": "Outcomes: " + KINDS.map(function (k) {
        return CRM.number(stats[k[0]]) + " " + k[1].toLowerCase(); }).join(", ") });
    chart.appendChild(svg("circle", { cx: 70, cy: 70, r: r, "class": "donut-track" }));
    KINDS.forEach(function (k) {
      var part = total ? length * (stats[k[0]] || 0) / total : 0;
      if (part > 0) chart.appendChild(svg("circle", { cx: 70, cy: 70, r: r, "class": "donut-" + k[0],
        "stroke-dasharray": part + " " + (length - part), "stroke-dashoffset": -offset,
        transform: "rotate(-90 70 70)" }));
      offset += part;
    });
    var done = svg("text", { x: 70, y: 68, "text-anchor": "middle", "class": "donut-number" });
    done.textContent = total ? Math.floor(100 * ((stats.sent || 0) + (stats.failed || 0)) / total) + "%" : "–";
    var label = svg("text", { x: 70, y: 88, "text-anchor": "middle", "class": "donut-label" });
    label.textContent = "reported";
    chart.appendChild(done); chart.appendChild(label);
    document.getElementById("campaign-chart").replaceChildren(chart);
    document.getElementById("campaign-legend").replaceChildren.apply(
      document.getElementById("campaign-legend"), KINDS.map(function (k) {
        return el("li", {}, [el("span", { "class": "key " + k[0], "aria-hidden": "true" }),
          el("span", { text: k[1] }), el("strong", { text: CRM.number(stats[k[0]]) }),
          el("span", { "class": "hint", text: share(stats[k[0]] || 0, total) })]);
      }));
  }

  /* How many recipients got each placeholder's fallback or an empty value. */
  function showLint(lint) {
    var list = document.getElementById("campaign-lint");
    if (!lint || !lint.placeholders) { list.replaceChildren(); return; }
    list.replaceChildren.apply(list, lint.placeholders.filter(function (p) {
      return p.fallback_used || p.empty;
    }).map(function (p) {
      var text = "{" + p.placeholder + "}: ";
      if (p.fallback_used) text += CRM.number(p.fallback_used) + " of " + CRM.number(lint.recipients) +
        " recipients get the fallback “" + p.fallback + "”";
      if (p.empty) text += (p.fallback_used ? "; " : "") + CRM.number(p.empty) + " get an empty value";
      return el("li", { text: text + "." });
    }));
  }

  function poll() {
    CRM.api("GET", path).then(function (c) {
      error.hidden = true;
      show(c);
      if (["completed", "failed", "cancelled"].indexOf(c.status) < 0) setTimeout(poll, c.status === "paused" ? 5000 : 1500);
    }, function (problem) { CRM.showError(error, problem); setTimeout(poll, 5000); });
  }

  function loadFailed() {
    CRM.api("GET", path + "/messages?status=FAILED&limit=50").then(function (page) {
      var box = document.getElementById("failed-list");
      if (!page.items.length) { box.replaceChildren(el("p", { "class": "hint", text: "No failed messages." })); return; }
      var rows = page.items.map(function (m) {
        return el("tr", {}, [el("td", { text: m.customer_external_id }), el("td", { text: m.to || "–" }),
                             el("td", { text: m.text })]);
      });
      box.replaceChildren(CRM.table(null, ["Customer", "To", "Message"], rows));
      if (page.next_cursor) box.appendChild(el("p", { "class": "hint", text: "Showing the first 50." }));
    }, function (problem) { CRM.showError(error, problem); });
  }

  if (retry) retry.addEventListener("click", function () {
    retry.disabled = true;
    CRM.api("POST", path + "/retry-failed").then(function (attempt) {
      document.getElementById("retry-result").textContent =
        "Retrying " + CRM.number(attempt.failed_to_retry) + " failed messages.";
      retry.disabled = false; poll();
    }, function (problem) { retry.disabled = false; CRM.showError(error, problem); });
  });
  poll();
})();
