/* The campaign's exclusions at launch: matched, minus each cause (unsubscribed,
   suppressed, capped, held out), equals the audience messaged. Read with the
   campaign until its audience is fully decided. */
"use strict";
(function () {
  var el = CRM.el;
  var id = document.getElementById("campaign").dataset.campaignId;
  var box = document.getElementById("campaign-exclusions");
  var CAUSES = [["unsubscribed", "Unsubscribed"], ["suppressed", "Suppressed (address failed for good)"],
                ["capped", "At the frequency cap"], ["held_out", "Held out"]];

  function row(label, value, cls) {
    return el("tr", { "class": cls || "" }, [el("th", { scope: "row", text: label }),
                                            el("td", { "class": "num", text: value })]);
  }
  function show(stats) {
    var excluded = stats.excluded || {};
    var rows = [row("Matched the audience rules", CRM.number(stats.matched || 0))];
    CAUSES.forEach(function (cause) {
      rows.push(row("− " + cause[1], CRM.number(excluded[cause[0]] || 0), "excluded-" + cause[0]));
    });
    rows.push(row("= Messaged", CRM.number(stats.audience_size || 0), "total"));
    box.replaceChildren(el("table", { "class": "waterfall", id: "exclusions-table" },
                           [el("tbody", {}, rows)]));
  }
  function load() {
    CRM.api("GET", "/api/v1/campaigns/" + encodeURIComponent(id)).then(function (c) {
      show(c.stats);
      if (c.status === "launching" || c.status === "sending" || c.status === "paused") {
        setTimeout(load, 2000);
      }
    }, function () { setTimeout(load, 5000); });
  }
  load();
})();
