// The certificate page's buttons: print, and copy the link to share. Without this file the page
// still says how to print (the browser's own command) and the link can be selected and copied by hand.
(function () {
  "use strict";

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.querySelector("[data-copy-status]");
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var say = function (text) { if (status) status.textContent = text; };
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(
          function () { say("Link copied: paste it wherever you want to share it."); },
          function () { say("The link is selected: press Ctrl+C (or ⌘C) to copy it."); }
        );
      } else {
        say("The link is selected: press Ctrl+C (or ⌘C) to copy it.");
      }
    });
  });
})();
