/* Import: read a CSV in the browser, send it to the public ingest API in
   batches of 1,000 rows, one batch at a time (a later row of the same customer
   must win), show progress and every rejected row with its line and problem.
   Ingest is idempotent, so running a file again after a stop is safe. */
"use strict";
(function () {
  var el = CRM.el;
  var BATCH = 1000, RETRIES = 5, SHOWN_PROBLEMS = 200;
  var KINDS = {
    customers: { path: "/api/v1/customers", required: ["external_id", "name", "email"],
                 optional: ["phone", "city", "tags", "signed_up_at", "visits", "last_visit_at",
                            "marketing_consent"],
                 noun: "customers" },
    orders: { path: "/api/v1/orders", required: ["external_id", "customer_external_id", "amount", "placed_at"],
              optional: [], noun: "orders" }
  };
  var MESSAGES = { "unknown customer": "no customer with this id has been imported yet: import the customers first" };

  var form = document.getElementById("import-form"), fileInput = document.getElementById("import-file");
  var error = document.getElementById("import-error"), startButton = document.getElementById("import-start");
  var stopButton = document.getElementById("import-stop"), report = document.getElementById("import-report");
  var progress = document.getElementById("import-progress"), status = document.getElementById("import-status");
  var problemsBox = document.getElementById("import-problems"), problemsMore = document.getElementById("import-errors-more");
  var problemRows = document.querySelector("#import-errors tbody");
  var running = false, stopAsked = false, problems = [], header = [];

  function kind() { return form.querySelector('input[name="kind"]:checked').value; }

  function showKindHelp() {
    document.querySelectorAll("#import-help [data-kind]").forEach(function (p) {
      p.hidden = p.dataset.kind !== kind();
    });
  }

  function columnName(text) { return text.trim().toLowerCase().replace(/[\s-]+/g, "_"); }

  function value(column, text) {
    text = text.trim();
    if (column === "tags") return text.split(/[;|]/).map(function (t) { return t.trim(); }).filter(Boolean);
    if (column === "visits" && /^\d+$/.test(text)) return parseInt(text, 10);
    if (column === "amount") {
      var plain = text.replace(/,/g, "");
      if (/^-?\d+(\.\d+)?$/.test(plain)) return Number(plain);
    }
    return text;  // anything else goes as written: the API explains what is wrong with it
  }

  function toRecord(columns, cells) {
    var record = {};
    columns.forEach(function (column, i) {
      if (column && i < cells.length && cells[i].trim() !== "") record[column] = value(column, cells[i]);
    });
    return record;
  }

  /* The file's columns, or throws a sentence when a required one is missing. */
  function columnsOf(names, spec) {
    var known = spec.required.concat(spec.optional);
    var columns = names.map(function (n) { return known.indexOf(columnName(n)) >= 0 ? columnName(n) : null; });
    var missing = spec.required.filter(function (c) { return columns.indexOf(c) < 0; });
    if (missing.length) {
      var other = kind() === "customers" ? "orders" : "customers";
      var looksOther = KINDS[other].required.every(function (c) {
        return names.map(columnName).indexOf(c) >= 0;
      });
      throw new Error("The first row of the file must name the columns. Missing: " + missing.join(", ") + "." +
        (looksOther ? " This looks like a file of " + other + ": choose “" + other + "” above." : ""));
    }
    return columns;
  }

  function describe(errors) {
    return Object.keys(errors || {}).map(function (field) {
      var messages = errors[field];
      var list = Array.isArray(messages) ? messages :
        (typeof messages === "object" ? Object.keys(messages).map(function (k) { return [].concat(messages[k]).join(" "); }) : [messages]);
      return field + ": " + list.map(function (m) { return MESSAGES[m] || m; }).join(" ");
    }).join("; ");
  }

  function addProblem(row, text) {
    problems.push({ line: row.line, cells: row.cells, problem: text });
    if (problems.length <= SHOWN_PROBLEMS) {
      var id = row.cells[header.map(columnName).indexOf("external_id")] || "";
      problemRows.appendChild(el("tr", {}, [el("td", { text: String(row.line) }),
        el("td", { text: id }), el("td", { text: text })]));
    } else {
      problemsMore.textContent = "And " + CRM.number(problems.length - SHOWN_PROBLEMS) +
        " more: download the rows to see them all.";
      problemsMore.hidden = false;
    }
    problemsBox.hidden = false;
    document.getElementById("import-rejected").textContent = CRM.number(problems.length);
  }

  function wait(seconds) { return new Promise(function (done) { setTimeout(done, seconds * 1000); }); }

  /* Send one batch; answers {accepted, rejected} or throws an ApiProblem that ends the import. */
  function send(spec, records, attempt) {
    return CRM.api("POST", spec.path, { records: records }).catch(function (problem) {
      if (problem.status === 422) return { accepted: 0, rejected: problem.body.error.details.rejected || [] };
      var transient = problem.status === 0 || problem.status === 429 || problem.status >= 500;
      if (!transient || attempt >= RETRIES || stopAsked) throw problem;
      var pause = Math.pow(2, attempt);
      status.textContent = problem.message + " Trying again in " + pause + " s…";
      return wait(pause).then(function () { return send(spec, records, attempt + 1); });
    });
  }

  function update(done, total, accepted, started) {
    progress.max = Math.max(total, 1);
    progress.value = done;
    document.getElementById("import-rows").textContent = CRM.number(done);
    document.getElementById("import-accepted").textContent = CRM.number(accepted);
    var seconds = Math.max((Date.now() - started) / 1000, 0.001);
    status.textContent = "Sent " + CRM.number(done) + " of " + CRM.number(total) + " rows (" +
      Math.round(100 * done / Math.max(total, 1)) + "%, " + CRM.number(Math.round(done / seconds)) + " rows a second)…";
  }

  function run(spec, columns, rows) {
    var started = Date.now(), done = 0, accepted = 0;
    function next() {
      if (stopAsked || done >= rows.length) return Promise.resolve();
      var batch = rows.slice(done, done + BATCH);
      return send(spec, batch.map(function (row) { return toRecord(columns, row.cells); }), 0)
        .then(function (answer) {
          accepted += answer.accepted;
          answer.rejected.forEach(function (r) { addProblem(batch[r.index], describe(r.errors)); });
          done += batch.length;
          update(done, rows.length, accepted, started);
          return next();
        });
    }
    update(0, rows.length, 0, started);
    return next().then(function () {
      var seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (stopAsked && done < rows.length) {
        status.textContent = "Stopped after " + CRM.number(done) + " of " + CRM.number(rows.length) +
          " rows. Import the same file again to finish: rows already imported are not counted twice.";
      } else {
        status.textContent = "Done: " + CRM.number(accepted) + " of " + CRM.number(rows.length) + " " + spec.noun +
          " imported in " + seconds + " s" + (problems.length ? "; " + CRM.number(problems.length) +
          " rows were not imported (listed below)." : ".") +
          " They show in customers and audiences within a few seconds.";
      }
    }, function (problem) {
      status.textContent = "";
      CRM.showError(error, { message: problem.message + " The import stopped after " + CRM.number(done) +
        " of " + CRM.number(rows.length) + " rows; importing the same file again is safe." });
    });
  }

  function begin(text) {
    var spec = KINDS[kind()], all = CRMCSV.records(text);
    if (!all.length) throw new Error("The file is empty.");
    header = all[0].cells;
    var columns = columnsOf(header, spec), rows = all.slice(1);
    if (!rows.length) throw new Error("The file has a header row but no " + spec.noun + " under it.");
    var ignored = header.filter(function (name, i) { return !columns[i] && name.trim(); });
    problems = []; problemRows.replaceChildren(); problemsBox.hidden = true; problemsMore.hidden = true;
    document.getElementById("import-rejected").textContent = "0";
    report.hidden = false;
    var ignoredNote = document.getElementById("import-ignored");
    ignoredNote.textContent = "These columns are not part of a " + spec.noun.slice(0, -1) + " and were left out: " +
      ignored.join(", ") + ".";
    ignoredNote.hidden = !ignored.length;
    return run(spec, columns, rows);
  }

  function finish() {
    running = false; stopAsked = false;
    startButton.disabled = false; stopButton.hidden = true;
  }

  form.addEventListener("change", function (event) { if (event.target.name === "kind") showKindHelp(); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (running) return;
    error.hidden = true;
    var file = fileInput.files[0];
    if (!file) { CRM.showError(error, { message: "Choose a CSV file first." }); return; }
    running = true; startButton.disabled = true; stopButton.hidden = false;
    file.text().then(function (text) { return begin(text); })
      .catch(function (problem) { CRM.showError(error, problem); })
      .then(finish);
  });
  stopButton.addEventListener("click", function () {
    stopAsked = true;
    status.textContent = "Stopping after the batch being sent…";
  });
  document.getElementById("import-download").addEventListener("click", function () {
    var rows = [header.concat(["line", "problem"])].concat(problems.map(function (p) {
      return p.cells.concat([p.line, p.problem]);
    }));
    var link = el("a", { href: URL.createObjectURL(new Blob([CRMCSV.format(rows)], { type: "text/csv" })),
                         download: "not-imported.csv" });
    document.body.appendChild(link); link.click(); link.remove();
  });
  window.addEventListener("beforeunload", function (event) {
    if (running) { event.preventDefault(); event.returnValue = ""; }
  });
  showKindHelp();
})();
