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

  // A file over its field's limit (data-max-bytes) is refused before the upload starts: the rest of the form
  // stays as typed, where the server could only answer a bare 413 once the whole body had been sent.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) { return; }
    var limit = parseInt(input.getAttribute("data-max-bytes"), 10);
    var tooBig = Array.prototype.filter.call(input.files || [], function (file) { return file.size > limit; })[0];
    input.setCustomValidity(tooBig ? "ファイル「" + tooBig.name + "」は " + megabytes(tooBig.size) +
      " MB あります。" + megabytes(limit) + " MB 以下のファイルを選んでください。" : "");
    if (tooBig) { input.reportValidity(); }
  });

  function megabytes(bytes) {
    return (Math.ceil(bytes / 1048576 * 10) / 10).toLocaleString("ja-JP");
  }

  // A table wider than the page's main area (the daily report with every counter, the delivery log) scrolls
  // sideways inside its own box instead of widening the page; narrow tables still fill the width.
  Array.prototype.forEach.call(document.querySelectorAll("table.list"), function (table) {
    if (table.parentElement.classList.contains("table-scroll")) { return; }
    var box = document.createElement("div");
    box.className = "table-scroll";
    table.parentNode.insertBefore(box, table);
    box.appendChild(table);
  });

  // Bar widths come as data-width (percent): the Content-Security-Policy refuses style attributes in the page,
  // while a width set from a script file is allowed.
  Array.prototype.forEach.call(document.querySelectorAll("[data-width]"), function (bar) {
    bar.style.width = parseFloat(bar.getAttribute("data-width")) + "%";
  });

  // On narrow screens the side menu folds behind its button (app.css): the button opens and closes it,
  // Escape closes it and gives the focus back to the button.
  var menuToggle = document.querySelector(".menu-toggle");
  var sideMenu = menuToggle && document.getElementById(menuToggle.getAttribute("aria-controls"));
  if (menuToggle && sideMenu) {
    var setMenuOpen = function (open) {
      sideMenu.classList.toggle("open", open);
      menuToggle.setAttribute("aria-expanded", open ? "true" : "false");
    };
    menuToggle.addEventListener("click", function () {
      setMenuOpen(menuToggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menuToggle.getAttribute("aria-expanded") === "true") {
        setMenuOpen(false);
        menuToggle.focus();
      }
    });
  }

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
