/* CSV as spreadsheets write it (RFC 4180): quoted fields may hold the
   delimiter, quotes ("" inside quotes) and line breaks; CRLF or LF; a UTF-8 BOM
   is dropped. The delimiter is the first of , ; or tab found outside quotes on
   the first line (spreadsheets in many locales save with ;). */
"use strict";
var CRMCSV = (function () {
  function delimiterOf(text) {
    var quoted = false;
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if (c === '"') quoted = !quoted;
      else if (!quoted && (c === "\n" || c === "\r")) break;
      else if (!quoted && (c === "," || c === ";" || c === "\t")) return c;
    }
    return ",";
  }

  /* Records of `text`, each {cells: [...], line: the line it starts on (1-based)}.
     Throws an Error with a sentence when a quote is never closed. */
  function records(text) {
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    var delimiter = delimiterOf(text), out = [], cells = [], cell = "";
    var line = 1, start = 1, quoted = false, i = 0, n = text.length;
    function endRecord() {
      cells.push(cell);
      if (cells.length > 1 || cells[0] !== "") out.push({ cells: cells, line: start });
      cells = []; cell = "";
    }
    while (i < n) {
      var c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue; }
        if (c === '"') { quoted = false; i++; continue; }
        if (c === "\n") line++;
        cell += c; i++;
        continue;
      }
      if (c === '"' && cell === "") { quoted = true; i++; }
      else if (c === delimiter) { cells.push(cell); cell = ""; i++; }
      else if (c === "\r" || c === "\n") {
        endRecord();
        i += (c === "\r" && text[i + 1] === "\n") ? 2 : 1;
        line++; start = line;
      } else { cell += c; i++; }
    }
    if (quoted) throw new Error("A quoted value that starts on line " + start + " never ends: check for a missing closing quote (\").");
    if (cell !== "" || cells.length) endRecord();
    return out;
  }

  /* A spreadsheet runs a cell that starts with = + - @ (or tab/CR, which some strip
     first) as a formula: an imported "=HYPERLINK(...)" would run on the marketer's
     machine. A leading ' makes it text (OWASP's advice), as API.md asks of exports. */
  function defused(text) {
    return /^[=+\-@\t\r]/.test(text) ? "'" + text : text;
  }

  function quote(value) {
    var text = defused(value === null || value === undefined ? "" : String(value));
    return /[",\r\n;\t]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  /* `rows` (lists of values) as CSV text with CRLF line ends; every cell defused. */
  function format(rows) {
    return rows.map(function (row) { return row.map(quote).join(","); }).join("\r\n") + "\r\n";
  }

  return { records: records, format: format };
})();
