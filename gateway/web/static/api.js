/* Shared helpers: calls to /api/v1 with the session and CSRF token, small DOM
   builders, and the campaign row used by the dashboard and the history. */
"use strict";
var CRM = (function () {
  var csrf = document.querySelector('meta[name="csrf-token"]').content;

  function ApiProblem(message, status, body) {
    this.message = message; this.status = status; this.body = body;
    this.loading = status === 503 && !!body && !!body.error && body.error.code === "INDEX_LOADING";
  }

  function sentence(status, body) {
    if (status === 401) return "Your session has ended. Sign in again to continue.";
    if (status === 403 && body && body.error && body.error.code === "FORBIDDEN")
      return "Your role does not allow this. Ask an administrator if you need it.";
    if (status === 503 && body && body.error && body.error.code === "INDEX_LOADING") {
      var d = body.error.details || {};
      return "The audience engine is still loading customers" +
        (d.loaded !== undefined && d.total ? " (" + number(d.loaded) + " of about " + number(d.total) + ")" : "") +
        ". Counts appear as soon as it is ready; this page keeps trying.";
    }
    if (status === 503) return "A part of the CRM is not answering right now. Try again in a moment.";
    if (body && body.error && body.error.message) {
      var text = body.error.message;
      var details = body.error.details || {};
      var parts = Object.keys(details).filter(function (k) { return typeof details[k] === "string"; })
        .map(function (k) { return details[k]; });
      if (parts.length && status === 400) text += " " + parts.slice(0, 3).join(" ");
      return text;
    }
    return "Something went wrong (" + status + "). Try again in a moment.";
  }

  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin",
                    headers: { "Accept": "application/json", "X-CSRFToken": csrf } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!response.ok) throw new ApiProblem(sentence(response.status, data), response.status, data);
        return data;
      });
    }, function () {
      throw new ApiProblem("The CRM cannot be reached. Check your connection and try again.", 0, null);
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key.indexOf("on") === 0) node.addEventListener(key.slice(2), attrs[key]);
      else if (attrs[key] !== null && attrs[key] !== undefined && attrs[key] !== false) node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined)
        node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function number(n) { return (n === null || n === undefined) ? "–" : Number(n).toLocaleString("en-IN"); }

  function money(amount) {
    if (amount === null || amount === undefined) return "–";
    var digits = Number(amount) >= 100000 ? 0 : 2;  // paise do not matter in a lakh
    return Number(amount).toLocaleString("en-IN", { style: "currency", currency: "INR",
                                                     minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function day(iso) {
    if (!iso) return "–";
    return new Date(iso).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
  }

  function when(iso) {
    if (!iso) return "–";
    var d = new Date(iso);
    return d.toLocaleString("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  }

  function bar(stats) {
    var total = Math.max(stats.audience_size || 0, 1);
    function part(kind) {
      var pct = 100 * (stats[kind] || 0) / total;
      // Through the CSSOM: the page's CSP refuses style="" attributes.
      var span = el("span", { "class": "bar-" + kind });
      span.style.width = pct.toFixed(2) + "%";
      return span;
    }
    return el("div", { "class": "bar", role: "img",
      "aria-label": number(stats.sent) + " sent, " + number(stats.failed) + " failed, " +
                    number(stats.pending) + " pending of " + number(stats.audience_size) },
      [part("sent"), part("failed"), part("pending")]);
  }

  function statusBadge(status) {
    return el("span", { "class": "badge status-" + status, text: status });
  }

  /* A table in its scrolling box: headings (a text, or [text, class]) over rows of <tr>. */
  function table(className, headings, rows) {
    var head = headings.map(function (h) {
      return Array.isArray(h) ? el("th", { scope: "col", "class": h[1], text: h[0] }) : el("th", { scope: "col", text: h });
    });
    return el("div", { "class": "table-wrap" }, [el("table", { "class": className }, [
      el("thead", {}, [el("tr", {}, head)]), el("tbody", {}, rows)])]);
  }

  function campaignTable(items) {
    if (!items.length) return el("p", { "class": "hint", text: "No campaigns yet." });
    var rows = items.map(function (c) {
      var s = c.stats || {};
      return el("tr", { "data-campaign-id": c.id }, [
        el("td", {}, [el("a", { href: "/campaigns/" + encodeURIComponent(c.id), text: c.name })]),
        el("td", {}, [statusBadge(c.status)]),
        el("td", { "class": "num", text: number(s.audience_size) }),
        el("td", { "class": "num", text: number(s.sent) }),
        el("td", { "class": "num", text: number(s.failed) }),
        el("td", { "class": "num", text: number(s.pending) }),
        el("td", { "class": "bar-cell" }, [bar(s)]),
        el("td", { text: when(c.created_at) })
      ]);
    });
    return table("campaigns", ["Campaign", "Status", "Audience", "Sent", "Failed", "Pending", "Progress", "Created"], rows);
  }

  function showError(node, problem) {
    node.textContent = problem && problem.message ? problem.message : String(problem);
    node.classList.toggle("waiting", !!(problem && problem.loading));  // a wait, not a failure
    node.hidden = false;
  }

  return { api: api, el: el, number: number, money: money, day: day, when: when, bar: bar, statusBadge: statusBadge,
           table: table, campaignTable: campaignTable, showError: showError,
           canChange: ["admin", "marketer"].indexOf(document.body.dataset.role) >= 0 };
})();
