// A legalization QR code opens this page as <base URL>#<seal>. The fragment never reaches the
// server, so copy the whole address into the form and send it (POST: the seal stays out of
// server logs). Without JavaScript the visitor can paste the text by hand.
(function () {
  "use strict";
  function start() {
    var hash = window.location.hash;
    var form = document.getElementById("verify-form");
    var text = document.getElementById("text");
    if (!form || !text || !hash || hash.length < 2 || text.value) { return; }
    text.value = window.location.href;
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    form.submit();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
