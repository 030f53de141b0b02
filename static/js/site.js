// Progressive enhancements only: every page works without this file.
(function () {
  "use strict";

  function addCopyButtons(root) {
    root.querySelectorAll(".highlight").forEach(function (block) {
      if (block.querySelector(".copy-button") || !navigator.clipboard) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-button";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy this code to the clipboard");
      button.addEventListener("click", function () {
        var code = block.querySelector("code") || block.querySelector("pre");
        navigator.clipboard.writeText(code.innerText.replace(/\n$/, "")).then(
          function () { flash(button, "Copied"); },
          function () { flash(button, "Press Ctrl+C to copy"); }
        );
      });
      block.appendChild(button);
    });
  }

  // WCAG 2.1.1: a code block or table that scrolls sideways must be reachable with the keyboard,
  // or keyboard users cannot read the end of its long lines. Only the ones that overflow get a tab stop.
  function focusableScrollers(root) {
    root.querySelectorAll("pre, table").forEach(function (box) {
      if (box.hasAttribute("tabindex") || box.scrollWidth <= box.clientWidth) return;
      if (/auto|scroll/.test(getComputedStyle(box).overflowX)) box.setAttribute("tabindex", "0");
    });
  }

  function flash(button, text) {
    button.textContent = text;
    window.setTimeout(function () { button.textContent = "Copy"; }, 1800);
  }

  // WCAG 1.4.13: a tooltip that opened on hover or focus can be dismissed without moving away.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll(".gloss").forEach(function (term) { term.classList.add("is-dismissed"); });
  });
  document.addEventListener("focusin", clearDismissed);
  document.addEventListener("mouseover", clearDismissed);
  function clearDismissed(event) {
    var term = event.target.closest && event.target.closest(".gloss");
    document.querySelectorAll(".gloss.is-dismissed").forEach(function (dismissed) {
      if (dismissed !== term) dismissed.classList.remove("is-dismissed");
    });
  }

  document.addEventListener("DOMContentLoaded", function () { addCopyButtons(document); focusableScrollers(document); });
  document.addEventListener("htmx:afterSwap", function (event) { addCopyButtons(event.target); focusableScrollers(event.target); });
  window.addEventListener("resize", function () { focusableScrollers(document); });
})();
