/* Campaign history, newest first; refreshed while any campaign is still sending. */
"use strict";
(function () {
  var box = document.getElementById("history"), more = document.getElementById("more");
  var error = document.getElementById("history-error");
  var items = [], cursor = null;

  function draw() { box.replaceChildren(CRM.campaignTable(items)); more.hidden = !cursor; }

  function firstPage() {
    CRM.api("GET", "/api/v1/campaigns?limit=20").then(function (page) {
      error.hidden = true;
      var older = items.slice(20);
      items = page.items.concat(older);
      // A short page is the last one, whatever cursor came with it.
      if (!older.length) cursor = page.items.length < 20 ? null : page.next_cursor;
      draw();
      var busy = page.items.some(function (c) { return c.status !== "completed" && c.status !== "failed"; });
      if (busy) setTimeout(firstPage, 2000);
    }, function (problem) { CRM.showError(error, problem); setTimeout(firstPage, 5000); });
  }

  more.addEventListener("click", function () {
    CRM.api("GET", "/api/v1/campaigns?limit=20&cursor=" + encodeURIComponent(cursor)).then(function (page) {
      items = items.concat(page.items);
      cursor = page.items.length < 20 ? null : page.next_cursor; draw();
    }, function (problem) { CRM.showError(error, problem); });
  });
  firstPage();
})();
