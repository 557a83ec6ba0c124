(function () {
  "use strict";
  // Response templates: insert the chosen one into the reply box without reloading the page.
  // Without this script the same form reloads the page with the reply filled in.
  var form = document.getElementById("template-pick");
  var data = document.getElementById("template-texts");
  var box = document.getElementById("message_text");
  if (!form || !data || !box) { return; }
  var texts = JSON.parse(data.textContent);
  var status = document.getElementById("template-status");
  form.addEventListener("submit", function (event) {
    var text = texts[form.elements.template.value];
    if (text === undefined) { return; }
    event.preventDefault();
    box.value = box.value.trim() ? box.value.replace(/\s+$/, "") + "\n\n" + text : text;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    status.textContent = form.dataset.inserted;
  });
})();
