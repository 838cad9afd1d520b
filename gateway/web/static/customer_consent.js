/* Whether the customer may get campaigns: marketing consent (with a button to
   unsubscribe or subscribe them again) and the suppression list (the vendor
   reported their address dead for good). Both through the public API. */
"use strict";
(function () {
  var id = document.getElementById("customer").dataset.externalId;
  var path = "/api/v1/customers/" + encodeURIComponent(id);
  var consent = document.getElementById("customer-consent");
  var suppression = document.getElementById("customer-suppression");
  var toggle = document.getElementById("consent-toggle");
  var result = document.getElementById("consent-result");

  function show(p) {
    var subscribed = p.marketing_consent !== "unsubscribed";
    consent.dataset.consent = p.marketing_consent || "subscribed";
    consent.textContent = (subscribed ? "Subscribed: gets campaigns." : "Unsubscribed: gets no campaigns.") +
      (p.marketing_consent_at ? " Since " + CRM.when(p.marketing_consent_at) + "." : "");
    suppression.hidden = !p.suppressed;
    if (p.suppressed) {
      suppression.textContent = "Suppressed since " + CRM.when(p.suppressed_since) + " (" +
        (p.suppression_reason || "permanent failure") + "): campaigns leave this customer out. " +
        "Lift it on the Suppressions page.";
    }
    if (toggle) {
      toggle.hidden = false;
      toggle.dataset.action = subscribed ? "unsubscribe" : "subscribe";
      toggle.textContent = subscribed ? "Unsubscribe from campaigns" : "Subscribe again";
    }
  }
  CRM.api("GET", path).then(show, function () { consent.textContent = "–"; });
  if (toggle) {
    toggle.addEventListener("click", function () {
      toggle.disabled = true;
      result.textContent = "";
      CRM.api("POST", path + "/" + toggle.dataset.action).then(function (p) {
        show(p);
        toggle.disabled = false;
        result.textContent = p.marketing_consent === "unsubscribed" ?
          "Unsubscribed. Campaigns launched from now on leave this customer out." :
          "Subscribed again.";
      }, function (problem) {
        toggle.disabled = false;
        CRM.showError(result, problem);
      });
    });
  }
})();
