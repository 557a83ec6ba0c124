/* Filters the category list as the citizen types; without this script all categories show. */
(function () {
  "use strict";
  var box = document.querySelector(".category-search");
  var input = document.getElementById("category-filter");
  if (!box || !input) { return; }
  box.hidden = false;
  function plain(text) { return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  input.addEventListener("input", function () {
    var wanted = plain(input.value.trim());
    document.querySelectorAll(".category-group").forEach(function (group) {
      var visible = 0;
      group.querySelectorAll(".category-choice").forEach(function (choice) {
        var match = !wanted || plain(choice.textContent).indexOf(wanted) !== -1 ||
          plain(group.querySelector("legend").textContent).indexOf(wanted) !== -1;
        choice.hidden = !match;
        if (match) { visible += 1; }
      });
      group.hidden = visible === 0;
    });
  });
})();
