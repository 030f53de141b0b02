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

  // A table wider than its box says so in words above it (the shadow at its edge says it too, without
  // JavaScript), and only a box that really scrolls keeps its tab stop.
  var tableCount = 0;
  function tableHints(root) {
    root.querySelectorAll(".table-scroll").forEach(function (box) {
      var hint = box.previousElementSibling;
      if (!hint || !hint.classList.contains("table-scroll__hint")) {
        hint = document.createElement("p");
        hint.className = "table-scroll__hint";
        hint.id = "table-hint-" + (++tableCount);
        hint.textContent = "This table is wider than the screen: scroll it sideways to see every column →";
        box.parentNode.insertBefore(hint, box);
      }
      var overflows = box.scrollWidth > box.clientWidth + 1;
      hint.hidden = !overflows;
      if (overflows) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("aria-describedby", hint.id);
      } else {
        box.removeAttribute("tabindex");
        box.removeAttribute("aria-describedby");
      }
    });
  }

  function flash(button, text) {
    button.textContent = text;
    window.setTimeout(function () { button.textContent = "Copy"; }, 1800);
  }

  // WCAG 1.4.13: a tooltip that opened on hover or focus can be dismissed without moving away.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll(".gloss").forEach(function (term) {
      term.classList.add("is-dismissed");
      if (term.classList.contains("is-open")) setTermOpen(term, false);
    });
    var menu = document.querySelector(".site-menu[open]");
    if (menu && menu.contains(document.activeElement)) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  // --- Glossary terms ---
  // A click, a tap or Enter on a term opens its definition where it is, instead of leaving the
  // lesson for the glossary; the same again, Escape or a click elsewhere closes it. Without this
  // file the term stays a link to the glossary, and its definition still opens on hover and focus.
  function enhanceTerms(root) {
    root.querySelectorAll(".gloss-term").forEach(function (link) {
      if (link.hasAttribute("aria-expanded")) return;
      link.setAttribute("aria-expanded", "false");
      link.setAttribute("aria-controls", link.getAttribute("aria-describedby"));
    });
  }

  function setTermOpen(term, open) {
    term.classList.toggle("is-open", open);
    var link = term.querySelector(".gloss-term");
    if (link) link.setAttribute("aria-expanded", String(open));
    if (open) {
      term.classList.remove("is-dismissed");
      placeTip(term);
    }
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var link = target.closest && target.closest(".gloss-term");
    var term = link && link.closest(".gloss");
    document.querySelectorAll(".gloss.is-open").forEach(function (open) {
      if (open !== term) setTermOpen(open, false);
    });
    document.querySelectorAll(".site-menu[open]").forEach(function (menu) {
      if (!menu.contains(target)) menu.open = false;
    });
    // A click meant to open the glossary in a new tab or window still does.
    if (!term || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    var opening = !term.classList.contains("is-open");
    setTermOpen(term, opening);
    // Closing: the term keeps focus (and maybe the pointer), which would show the definition again.
    if (!opening) term.classList.add("is-dismissed");
  });

  // A definition near an edge of the window would be cut off: move it back inside, or above the
  // term when there is no room below. Measured each time it opens, as the page may have scrolled.
  var EDGE = 8;
  function placeTip(term) {
    var tip = term.querySelector(".gloss-tip");
    if (!tip) return;
    term.classList.remove("gloss--above");
    tip.style.setProperty("--gloss-shift", "0px");
    var box = tip.getBoundingClientRect();
    if (!box.width) return;
    var width = document.documentElement.clientWidth;
    // A margin from the edge when there is room for one; a definition as wide as the window gets none.
    var margin = Math.min(EDGE, Math.max(0, (width - box.width) / 2));
    var shift = 0;
    if (box.right > width - margin) shift = width - margin - box.right;
    if (box.left + shift < margin) shift = margin - box.left;
    if (shift) tip.style.setProperty("--gloss-shift", Math.round(shift) + "px");
    var link = term.querySelector(".gloss-term");
    var above = link.getBoundingClientRect().top - box.height - EDGE;
    if (box.bottom > document.documentElement.clientHeight - EDGE && above >= EDGE) term.classList.add("gloss--above");
  }

  document.addEventListener("mouseover", function (event) {
    var term = event.target.closest && event.target.closest(".gloss");
    if (term && !term.contains(event.relatedTarget)) placeTip(term);
  });
  document.addEventListener("focusin", function (event) {
    var term = event.target.closest && event.target.closest(".gloss");
    if (term) placeTip(term);
  });
  // A definition closed under the pointer opens on hover again once the pointer has left the term.
  document.addEventListener("mouseout", function (event) {
    var term = event.target.closest && event.target.closest(".gloss.is-dismissed");
    if (term && !term.contains(event.relatedTarget) && !term.contains(document.activeElement)) {
      term.classList.remove("is-dismissed");
    }
  });
  document.addEventListener("focusin", clearDismissed);
  document.addEventListener("mouseover", clearDismissed);
  function clearDismissed(event) {
    var term = event.target.closest && event.target.closest(".gloss");
    document.querySelectorAll(".gloss.is-dismissed").forEach(function (dismissed) {
      if (dismissed !== term) dismissed.classList.remove("is-dismissed");
    });
  }

  // --- htmx answers that are not a success ---
  // A refusal (a paste that cannot be read, a rate limit, an out-of-date page) comes back as a 4xx
  // fragment, and htmx.config.responseHandling (base.html) swaps it into its panel. Anything else
  // that fails (a whole error page, a server error, no network) gets a short message in the panel,
  // so the page neither goes blank nor stays silent.
  var WHOLE_PAGE = /^\s*(<!doctype\b|<html\b)/i;

  function isFragment(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    var text = xhr.responseText || "";
    return type.indexOf("text/html") === 0 && text.trim() !== "" && !WHOLE_PAGE.test(text);
  }

  // With DEBUG on, django-htmx's debug script listens on the document and shows every 400, 403, 404
  // and 500 answer as a whole page, which for a refusal would wipe out the lesson. A fragment's
  // event stops at <html>, one step before; whole error pages (tracebacks) still reach the script.
  document.documentElement.addEventListener("htmx:beforeOnLoad", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status >= 400 && xhr.status < 500 && isFragment(xhr)) event.stopPropagation();
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var xhr = detail.xhr;
    if (xhr.status < 400) return;
    if (detail.shouldSwap && isFragment(xhr)) {
      // "This page is out of date" goes before the form that was sent: once is enough.
      var before = detail.target && detail.target.previousElementSibling;
      if (xhr.getResponseHeader("HX-Reswap") === "beforebegin" && before && before.classList.contains("stale-page")) {
        before.remove();
      }
      return;
    }
    detail.shouldSwap = false;
    showProblem(detail.target, problemFor(xhr.status));
  });

  document.addEventListener("htmx:sendError", function (event) {
    showProblem(event.detail.target, "The portal could not be reached. Check your connection, then try again.");
  });

  function problemFor(status) {
    if (status === 413) {
      return "What you sent is larger than the portal accepts (1 MiB). Send less, for example only the objects of this lab.";
    }
    if (status === 429) return "There were too many requests in a short time. Wait a minute, then try again.";
    if (status === 503) return "The portal is busy or briefly unavailable, and nothing was saved. Try again in a few seconds.";
    if (status >= 500) {
      return "Something went wrong on the portal's side, and nothing was saved. Try again in a moment; " +
        "if it keeps happening, tell the people who run this portal.";
    }
    return "The portal could not accept this (error " + status + "). Reload the page, then try again.";
  }

  function showProblem(target, message) {
    if (!target || !target.isConnected) return;
    var panel = target.matches("form") ? target.parentNode : target;
    var old = panel.querySelector(".request-problem");
    if (old) old.remove();
    var alert = document.createElement("div");
    alert.className = "alert alert--error request-problem";
    alert.setAttribute("role", "alert");
    var text = document.createElement("p");
    text.textContent = message;
    alert.appendChild(text);
    // Next to the form that was sent, where the learner is looking.
    var form = target.matches("form") ? target : panel.querySelector("form");
    if (form && form.parentNode) form.parentNode.insertBefore(alert, form);
    else panel.insertBefore(alert, panel.firstChild);
  }

  function enhance(root) {
    addCopyButtons(root);
    focusableScrollers(root);
    tableHints(root);
    enhanceTerms(root);
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.target); });
  window.addEventListener("resize", function () { focusableScrollers(document); tableHints(document); });
})();
