// Behaviour shared by every page: confirmation before destructive posts, CSRF header for fetch().
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);

  var meta = document.querySelector('meta[name="csrf-token"]');
  window.csrfToken = meta ? meta.getAttribute("content") : "";

  // fetch() wrapper for same-origin JSON calls from pages (CSRF header included).
  window.postJSON = function (url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": window.csrfToken },
      body: JSON.stringify(body || {})
    });
  };
})();
