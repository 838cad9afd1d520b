/* The audience rule editor: a tree of groups (all / any, optionally negated)
   and conditions, drawn as nested fieldsets, turned into API.md rules. */
"use strict";
var Rules = (function () {
  var FIELDS = {
    total_spend: { label: "Total spend (INR)", kind: "number" },
    order_count: { label: "Number of orders", kind: "number" },
    visits: { label: "Visits", kind: "number" },
    city: { label: "City", kind: "text" },
    tags: { label: "Tags", kind: "text" },
    name: { label: "Name", kind: "text" },
    email: { label: "Email", kind: "text" },
    last_active_at: { label: "Last active", kind: "time" },
    last_order_at: { label: "Last order", kind: "time" },
    last_visit_at: { label: "Last visit", kind: "time" },
    signed_up_at: { label: "Signed up", kind: "time" },
    marketing_consent: { label: "Marketing consent", kind: "consent" },
    suppressed: { label: "Suppressed", kind: "flag" }
  };
  var OPS = {
    number: [["gt", "is more than"], ["gte", "is at least"], ["lt", "is less than"],
             ["lte", "is at most"], ["eq", "is"], ["ne", "is not"], ["between", "is between"],
             ["in", "is one of"]],
    text: [["eq", "is"], ["ne", "is not"], ["contains", "contains"], ["starts_with", "starts with"],
           ["in", "is one of"], ["not_in", "is none of"]],
    time: [["older_than", "more than … ago"], ["within", "within the last"],
           ["before", "is before"], ["after", "is after"], ["exists", "is known"]],
    consent: [["eq", "is"], ["ne", "is not"]],
    flag: [["eq", "is"]]
  };
  var CHOICES = { consent: [["subscribed", "subscribed"], ["unsubscribed", "unsubscribed"]],
                  flag: [["true", "yes"], ["false", "no"]] };
  var UNITS = [["d", "days"], ["w", "weeks"], ["mo", "months"], ["y", "years"]];
  // An order window (API.md in_last): only the orders placed in the last N days count.
  var WINDOW_FIELDS = ["total_spend", "order_count"];
  var counter = 0;
  var el = CRM.el;

  function condition(field, op, value, window) {
    return { type: "condition", field: field || "total_spend", op: op || "gt",
             value: value === undefined ? "" : value, window: window || null };
  }
  function windowed(c) { return WINDOW_FIELDS.indexOf(c.field) >= 0 && c.window; }
  function group(mode, children) {
    return { type: "group", mode: mode || "all", negate: false, children: children || [] };
  }

  function list(text) { return String(text).split(",").map(function (s) { return s.trim(); }).filter(Boolean); }
  function num(text) { return text === "" || text === null || isNaN(Number(text)) ? null : Number(text); }

  /* The API value of a condition, or undefined while it is incomplete. */
  function apiValue(c) {
    var kind = FIELDS[c.field].kind, v = c.value;
    if (c.op === "between") {
      var low = num((v || [])[0]), high = num((v || [])[1]);
      return low === null || high === null ? undefined : [low, high];
    }
    if (c.op === "in" || c.op === "not_in") {
      var items = list(v || "");
      if (kind === "number") items = items.map(num);
      return items.length && items.indexOf(null) < 0 ? items : undefined;
    }
    if (c.op === "exists" || kind === "flag") return v !== "false";
    if (kind === "consent") return v || undefined;
    if (c.op === "older_than" || c.op === "within") return duration(v);
    if (kind === "number") { var n = num(v); return n === null ? undefined : n; }
    return v === "" ? undefined : v;
  }

  /* A duration as the API writes it ("90d"), or undefined while incomplete. */
  function duration(v) {
    var amount = num((v || [])[0]);
    return amount === null || amount <= 0 ? undefined : Math.round(amount) + ((v || [])[1] || "d");
  }

  function toApi(node) {
    if (node.type === "condition") {
      var value = apiValue(node);
      if (value === undefined) return null;
      var rule = { field: node.field, op: node.op, value: value };
      if (!windowed(node)) return rule;
      rule.in_last = duration(node.window);
      return rule.in_last === undefined ? null : rule;
    }
    var parts = node.children.map(toApi).filter(Boolean);
    if (!parts.length) return null;
    var body = {}; body[node.mode] = parts;
    return node.negate ? { not: body } : body;
  }

  function defaultValue(c) {
    var kind = FIELDS[c.field].kind;
    if (CHOICES[kind]) return CHOICES[kind][kind === "consent" ? 1 : 0][0];
    if (c.op === "between") return ["", ""];
    if (c.op === "older_than" || c.op === "within") return ["90", "d"];
    if (c.op === "exists") return "true";
    return "";
  }

  function valueInputs(c, onChange, id) {
    var kind = FIELDS[c.field].kind;
    function input(attrs, get, set) {
      attrs.oninput = function (e) { set(e.target.value); onChange(false); };
      attrs.value = get();
      return el("input", attrs);
    }
    if (c.op === "between") {
      return [input({ type: "number", "aria-label": "From", id: id, "class": "short" },
                    function () { return c.value[0]; }, function (x) { c.value[0] = x; }),
              el("span", { text: "and" }),
              input({ type: "number", "aria-label": "To", "class": "short" },
                    function () { return c.value[1]; }, function (x) { c.value[1] = x; })];
    }
    if (c.op === "older_than" || c.op === "within") {
      var unit = el("select", { "aria-label": "Unit", onchange: function (e) { c.value[1] = e.target.value; onChange(false); } },
        UNITS.map(function (u) { return el("option", { value: u[0], selected: c.value[1] === u[0] ? "selected" : null, text: u[1] }); }));
      return [input({ type: "number", min: "1", "aria-label": "How long", id: id, "class": "short" },
                    function () { return c.value[0]; }, function (x) { c.value[0] = x; }), unit];
    }
    if (c.op === "exists" || CHOICES[kind]) {
      return [el("select", { "aria-label": c.op === "exists" ? "Known or not" : "Value", id: id,
                             onchange: function (e) { c.value = e.target.value; onChange(false); } },
        (CHOICES[kind] || CHOICES.flag).map(function (o) { return el("option", { value: o[0], selected: c.value === o[0] ? "selected" : null, text: o[1] }); }))];
    }
    var multi = c.op === "in" || c.op === "not_in";
    // A time to the microsecond ("on or after 1 Jan" read from words) is kept as text.
    var dateOnly = !c.value || /^\d{4}-\d{2}-\d{2}$/.test(c.value);
    var type = kind === "number" && !multi ? "number" : (kind === "time" && dateOnly ? "date" : "text");
    var hint = multi ? "comma separated" : (c.field === "tags" ? "a tag" : "");
    return [input({ type: type, "aria-label": "Value", id: id, placeholder: hint },
                  function () { return c.value; }, function (x) { c.value = x; })];
  }

  /* "ever" or "in the last N days|weeks|months|years": the condition's order window. */
  function windowInputs(c, onChange, id) {
    if (WINDOW_FIELDS.indexOf(c.field) < 0) return [];
    var choice = el("select", { id: id, "aria-label": "Order window", onchange: function (e) {
      c.window = e.target.value ? ["90", "d"] : null; onChange(true);
    } }, [["", "ever"], ["last", "in the last"]].map(function (o) {
      return el("option", { value: o[0], selected: (c.window ? "last" : "") === o[0] ? "selected" : null, text: o[1] });
    }));
    if (!c.window) return [choice];
    var length = el("input", { type: "number", min: "1", id: id + "-length", "class": "short",
                               "aria-label": "Window length", value: c.window[0],
                               oninput: function (e) { c.window[0] = e.target.value; onChange(false); } });
    var unit = el("select", { id: id + "-unit", "aria-label": "Window unit", onchange: function (e) { c.window[1] = e.target.value; onChange(false); } },
      UNITS.map(function (u) { return el("option", { value: u[0], selected: c.window[1] === u[0] ? "selected" : null, text: u[1] }); }));
    return [choice, length, unit];
  }

  function conditionView(c, parent, onChange) {
    var id = "cond-" + (c.uid || (c.uid = ++counter));
    var fieldSelect = el("select", { id: id + "-field", "aria-label": "Field", onchange: function (e) {
      var before = FIELDS[c.field].kind;
      c.field = e.target.value;
      if (FIELDS[c.field].kind !== before) { c.op = OPS[FIELDS[c.field].kind][0][0]; c.value = defaultValue(c); }
      if (WINDOW_FIELDS.indexOf(c.field) < 0) c.window = null;
      onChange(true);
    } }, Object.keys(FIELDS).map(function (f) {
      return el("option", { value: f, selected: f === c.field ? "selected" : null, text: FIELDS[f].label });
    }));
    var opSelect = el("select", { id: id + "-op", "aria-label": "Comparison", onchange: function (e) {
      c.op = e.target.value; c.value = defaultValue(c); onChange(true);
    } }, OPS[FIELDS[c.field].kind].map(function (o) {
      return el("option", { value: o[0], selected: o[0] === c.op ? "selected" : null, text: o[1] });
    }));
    var remove = el("button", { type: "button", "class": "icon", "aria-label": "Remove this condition",
      onclick: function () { parent.children.splice(parent.children.indexOf(c), 1); onChange(true); } }, ["✕"]);
    return el("div", { "class": "condition" },
      [fieldSelect, opSelect].concat(valueInputs(c, onChange, id + "-value"))
        .concat(windowInputs(c, onChange, id + "-window")).concat([remove]));
  }

  function groupView(g, parent, onChange, depth) {
    var mode = el("select", { "aria-label": "Match", onchange: function (e) { g.mode = e.target.value; onChange(true); } },
      [["all", "all of"], ["any", "any of"]].map(function (o) {
        return el("option", { value: o[0], selected: g.mode === o[0] ? "selected" : null, text: o[1] });
      }));
    var negate = el("label", { "class": "inline" }, [
      el("input", { type: "checkbox", checked: g.negate ? "checked" : null,
                    onchange: function (e) { g.negate = e.target.checked; onChange(true); } }), " exclude"]);
    var head = el("div", { "class": "group-head" }, [
      el("span", { text: depth ? "Customers matching" : "Customers who match" }), mode,
      el("span", { text: "these:" }), negate]);
    if (parent) head.appendChild(el("button", { type: "button", "class": "icon", "aria-label": "Remove this group",
      onclick: function () { parent.children.splice(parent.children.indexOf(g), 1); onChange(true); } }, ["✕"]));
    var body = el("div", { "class": "group-body" }, g.children.map(function (child) {
      return child.type === "group" ? groupView(child, g, onChange, depth + 1) : conditionView(child, g, onChange);
    }));
    var actions = el("div", { "class": "group-actions" }, [
      el("button", { type: "button", onclick: function () { g.children.push(condition()); onChange(true); } }, ["+ Condition"]),
      depth < 7 ? el("button", { type: "button", onclick: function () {
        g.children.push(group(g.mode === "all" ? "any" : "all", [condition("city", "eq")])); onChange(true);
      } }, ["+ Group"]) : null]);
    return el("fieldset", { "class": "group depth-" + (depth % 4) + (g.negate ? " negated" : "") },
      [el("legend", { "class": "visually-hidden", text: "Group of conditions" }), head, body, actions]);
  }

  /* A tree from API rules (for a saved audience), best effort. */
  function fromApi(rule) {
    if (!rule) return group("all", []);
    if (rule.not) { var inner = fromApi(rule.not); if (inner.type !== "group") inner = group("all", [inner]); inner.negate = !inner.negate; return inner; }
    if (rule.all || rule.any) {
      var mode = rule.all ? "all" : "any";
      return group(mode, rule[mode].map(function (r) { var n = fromApi(r); return n; }));
    }
    var c = condition(rule.field, rule.op, "");
    var v = rule.value;
    if (rule.op === "between") c.value = [String(v[0]), String(v[1])];
    else if (rule.op === "in" || rule.op === "not_in") c.value = v.join(", ");
    else if (rule.op === "older_than" || rule.op === "within") { var m = /^(\d+)(\w+)$/.exec(v); c.value = m ? [m[1], m[2]] : ["90", "d"]; }
    else if (rule.op === "exists" || rule.field === "suppressed") c.value = v ? "true" : "false";
    else c.value = String(v);
    var w = rule.in_last && /^(\d+)(\w+)$/.exec(rule.in_last);
    if (w) c.window = [w[1], w[2]];
    return c;
  }

  function mount(container, tree, onRulesChange) {
    var lastJson = null;
    function render(structural) {
      if (structural) {
        var focusedId = document.activeElement && document.activeElement.id;
        container.replaceChildren(groupView(tree, null, render, 0));
        if (focusedId && document.getElementById(focusedId)) document.getElementById(focusedId).focus();
      }
      var rules = toApi(tree);
      var json = JSON.stringify(rules);
      if (json !== lastJson) { lastJson = json; onRulesChange(rules); }
    }
    render(true);
    return { rules: function () { return toApi(tree); } };
  }

  /* A condition in words, e.g. "Visits is more than 30". */
  function describe(rule) {
    if (rule.not) return "not (" + describe(rule.not) + ")";
    if (rule.all || rule.any) {
      var mode = rule.all ? "all" : "any";
      return (mode === "all" ? "all of " : "any of ") + rule[mode].length + " conditions";
    }
    var field = FIELDS[rule.field] || { label: rule.field, kind: "text" };
    var op = (OPS[field.kind] || []).filter(function (o) { return o[0] === rule.op; })[0];
    var value = rule.value;
    if (rule.op === "between") value = value[0] + " and " + value[1];
    else if (Array.isArray(value)) value = value.join(", ");
    else if (rule.op === "exists") value = value ? "" : "(no)";
    else if (rule.field === "suppressed") value = value ? "yes" : "no";
    var window = rule.in_last ? " in the last " + spoken(rule.in_last) : "";
    if (rule.op === "older_than") return field.label + " more than " + value + " ago";
    return field.label + " " + (op ? op[1] : rule.op) + " " + value + window;
  }

  /* "90d" -> "90 days", "1mo" -> "month". */
  function spoken(text) {
    var m = /^(\d+)(\w+)$/.exec(text), names = { d: "day", w: "week", mo: "month", y: "year" };
    if (!m || !names[m[2]]) return text;
    return m[1] === "1" ? names[m[2]] : m[1] + " " + names[m[2]] + "s";
  }

  return { describe: describe, mount: mount, group: group, condition: condition, fromApi: fromApi, toApi: toApi, FIELDS: FIELDS };
})();
