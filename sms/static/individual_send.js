// 個別送信: choosing a storage box shows its text and URL (read-only: the box is what is sent); choosing none
// gives the fields back for a text of one's own. box_editor.js then counts and previews as for a box.
(function () {
  "use strict";
  var select = document.getElementById("send-box");
  var body = document.getElementById("box-body");
  var url = document.getElementById("box-url");
  if (!select || !body || !url) { return; }

  function lock() {
    var option = select.selectedOptions[0];
    var fromBox = Boolean(option && option.value);
    if (fromBox) {
      body.value = option.dataset.body;
      url.value = option.dataset.url;
    }
    body.readOnly = fromBox;
    url.readOnly = fromBox;
    body.classList.toggle("fixed", fromBox);
    url.classList.toggle("fixed", fromBox);
  }

  select.addEventListener("change", function () {
    lock();
    body.dispatchEvent(new Event("input"));
  });
  lock();
})();
