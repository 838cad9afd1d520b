/* The audience builder page: live count (debounced), breakdown, sample, save. */
"use strict";
(function () {
  var el = CRM.el;
  var countNode = document.getElementById("audience-count");
  var note = document.getElementById("audience-note");
  var error = document.getElementById("builder-error");
  var timer = null, asked = 0;
  var tree = Rules.group("all", [Rules.condition("total_spend", "gt", "")]);
  var editor = Rules.mount(document.getElementById("rule-tree"), tree, schedule);
  // "Open in the builder" from the saved audiences: start from that audience's rules.
  var from = new URLSearchParams(window.location.search).get("from");
  function load(rules) {
    var loaded = Rules.fromApi(rules);
    editor = Rules.mount(document.getElementById("rule-tree"),
                         loaded.type === "group" ? loaded : Rules.group("all", [loaded]), schedule);
  }
  if (from) {
    CRM.api("GET", "/api/v1/segments/" + encodeURIComponent(from)).then(function (segment) {
      load(segment.rules);
      var name = document.getElementById("segment-name");
      if (name) name.value = segment.name + " (copy)";
    }, function (problem) { CRM.showError(error, problem); });
  }

  // "Describe it": the words read into rules (POST /api/v1/segments/parse) fill the
  // tree; the marketer checks them there. Unread words are marked, nothing is changed.
  var describeForm = document.getElementById("describe-form");
  describeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = document.getElementById("describe-text").value;
    var said = document.getElementById("describe-result"), problem = document.getElementById("describe-error");
    if (!text.trim()) { said.textContent = "Type who should be in the audience first."; return; }
    said.textContent = "Reading…";
    CRM.api("POST", "/api/v1/segments/parse", { text: text }).then(function (read) {
      problem.hidden = true;
      load(read.rules);
      said.textContent = "Read as: " + read.explained + ". Check the conditions below.";
    }, function (failure) {
      said.textContent = "";
      var unread = failure.body && failure.body.error && failure.body.error.details &&
                   failure.body.error.details.unparsed;
      if (failure.status !== 422 || !unread) { CRM.showError(problem, failure); return; }
      showUnread(problem, text, unread);
    });
  });

  function showUnread(box, text, spans) {
    var parts = [], at = 0;
    spans.forEach(function (span) {
      if (span.start > at) parts.push(text.slice(at, span.start));
      parts.push(el("mark", { text: text.slice(span.start, span.end) || "(nothing)" }));
      at = Math.max(at, span.end);
    });
    if (at < text.length) parts.push(text.slice(at));
    box.replaceChildren(el("p", { text: "Some words could not be read; the rules were not changed." }),
      el("p", { "class": "unread" }, parts),
      el("ul", {}, spans.map(function (span) {
        return el("li", { text: "“" + span.text + "”: " + span.reason });
      })));
    box.hidden = false;
  }

  function schedule(rules) {
    clearTimeout(timer);
    if (!rules) {
      countNode.textContent = "–";
      note.textContent = "Add a condition to count your audience.";
      return;
    }
    note.textContent = "Counting…";
    timer = setTimeout(function () { preview(rules); }, 400);
  }

  function preview(rules) {
    var ticket = ++asked;  // only the latest answer may update the page
    CRM.api("POST", "/api/v1/segments/preview", { rules: rules }).then(function (result) {
      if (ticket !== asked) return;
      error.hidden = true;
      countNode.textContent = CRM.number(result.count);
      note.textContent = "out of " + CRM.number(result.index_size) + " customers";
      showBreakdown(result.breakdown || []);
      showSample(result.sample || []);
    }, function (problem) {
      if (ticket !== asked) return;
      note.textContent = "";
      CRM.showError(error, problem);
      if (problem.loading) timer = setTimeout(function () { preview(rules); }, 3000);
    });
  }

  function showBreakdown(steps) {
    document.getElementById("breakdown").replaceChildren.apply(
      document.getElementById("breakdown"), steps.map(function (step) {
        return el("li", {}, [el("span", { text: Rules.describe(step.rule) }),
          el("span", { "class": "num", text: CRM.number(step.count) + " alone · " + CRM.number(step.cumulative) + " so far" })]);
      }));
  }

  function showSample(sample) {
    var box = document.getElementById("sample");
    if (!sample.length) { box.replaceChildren(el("p", { "class": "hint", text: "No customer matches yet." })); return; }
    var cols = [["name", "Name"], ["city", "City"], ["total_spend", "Spend"], ["order_count", "Orders"],
                ["visits", "Visits"], ["last_active_at", "Last active"]];
    var rows = sample.map(function (p) {
      return el("tr", {}, cols.map(function (c) {
        var v = p[c[0]];
        if (c[0].slice(-3) === "_at") v = CRM.when(v);
        else if (typeof v === "number") v = CRM.number(v);
        return el("td", { text: v === null || v === undefined ? "–" : String(v) });
      }));
    });
    box.replaceChildren(CRM.table(null, cols.map(function (c) { return c[1]; }), rows));
  }

  var form = document.getElementById("save-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var rules = editor.rules(), result = document.getElementById("save-result");
      if (!rules) { CRM.showError(error, new Error("Add at least one complete condition before saving.")); return; }
      CRM.api("POST", "/api/v1/segments", { name: document.getElementById("segment-name").value, rules: rules })
        .then(function (segment) {
          result.replaceChildren("Saved “" + segment.name + "” (" + CRM.number(segment.count) + " customers). ",
            el("a", { href: "/campaigns/new?segment=" + encodeURIComponent(segment.id), text: "Start a campaign for it" }));
        }, function (problem) { CRM.showError(error, problem); });
    });
    document.getElementById("use-in-campaign").addEventListener("click", function () {
      var rules = editor.rules();
      if (!rules) { CRM.showError(error, new Error("Add at least one complete condition first.")); return; }
      sessionStorage.setItem("crm.builderRules", JSON.stringify(rules));
      window.location = "/campaigns/new?from=builder";
    });
  }
})();
