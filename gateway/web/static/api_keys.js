/* The page that shows a new key answers a POST: make its history entry a
   plain GET, so reloading shows the list instead of creating another key. */
"use strict";
(function () {
  if (document.getElementById("new-key") && window.history.replaceState)
    window.history.replaceState(null, "", window.location.href);
  var copy = document.getElementById("copy-key");
  if (copy) copy.addEventListener("click", function () {
    var input = document.getElementById("new-key");
    input.select();
    (navigator.clipboard ? navigator.clipboard.writeText(input.value) : Promise.reject())
      .then(function () { copy.textContent = "Copied"; },
            function () { document.execCommand("copy"); copy.textContent = "Copied"; });
  });
})();
