/* Settings: the frequency cap (GET /api/v1/settings/frequency-cap; admins PUT it). */
"use strict";
(function () {
  var path = "/api/v1/settings/frequency-cap";
  var now = document.getElementById("cap-now"), form = document.getElementById("cap-form");
  var error = document.getElementById("cap-error"), result = document.getElementById("cap-result");

  function show(cap) {
    now.dataset.max = cap.max_messages === null ? "" : String(cap.max_messages);
    now.textContent = cap.max_messages === null ? "No cap: every matching customer is messaged." :
      "At most " + cap.max_messages + " message" + (cap.max_messages === 1 ? "" : "s") + " per customer in " +
      cap.per_days + " day" + (cap.per_days === 1 ? "" : "s") + ".";
    if (!form) return;
    document.getElementById("cap-on").checked = cap.max_messages !== null;
    if (cap.max_messages !== null) document.getElementById("cap-max").value = cap.max_messages;
    document.getElementById("cap-days").value = cap.per_days;
  }
  CRM.api("GET", path).then(show, function (problem) { CRM.showError(error, problem); });
  if (!form) return;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.hidden = true; result.textContent = "";
    var on = document.getElementById("cap-on").checked;
    var body = on ? { max_messages: Number(document.getElementById("cap-max").value),
                      per_days: Number(document.getElementById("cap-days").value) } : { max_messages: null };
    CRM.api("PUT", path, body).then(function (cap) {
      show(cap);
      result.textContent = "Saved. It holds for campaigns launched from now on.";
    }, function (problem) { CRM.showError(error, problem); });
  });
})();
