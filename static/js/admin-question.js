// A question's page in admin shows only the fields its kind uses, and follows a change of kind at once.
// The server already groups the fields for the stored kind (unused ones folded away), so without this
// file the page still works: a new question simply shows every field, each with help saying which
// kinds use it. The kinds each field belongs to come from the page (data-kind-fields on the kind menu).
(function () {
  "use strict";

  function hasValue(row) {
    return Array.prototype.some.call(row.querySelectorAll("input, textarea, select"), function (field) {
      if (field.type === "checkbox") return field.checked;
      if (field.type === "hidden") return false;
      return field.value.trim() !== "";
    });
  }

  function setUp() {
    var kind = document.getElementById("id_kind");
    if (!kind || !kind.dataset.kindFields) return;
    var uses = JSON.parse(kind.dataset.kindFields);
    var main = document.querySelector("fieldset.kind-fields");
    var unused = document.querySelector("fieldset.kind-fields-unused");
    var names = Object.keys(uses).filter(function (name) { return name !== "choices"; });
    // One group, in a fixed order, whose rows show or hide with the kind.
    if (main) {
      names.forEach(function (name) {
        var row = document.querySelector(".form-row.field-" + name);
        if (row) main.appendChild(row);
      });
      var description = main.querySelector(".description");
      if (description) description.hidden = true;
      if (unused) unused.hidden = true;
    }

    function update() {
      var value = kind.value;
      var shown = 0;
      names.forEach(function (name) {
        var row = document.querySelector(".form-row.field-" + name);
        if (!row) return;
        // A field the kind does not use stays visible while it holds something: saving refuses it.
        row.hidden = !(uses[name].indexOf(value) !== -1 || hasValue(row) || row.classList.contains("errors"));
        if (!row.hidden) shown += 1;
      });
      if (main) main.hidden = shown === 0;
      var choices = document.getElementById("choices-group");
      if (choices) {
        var needed = uses.choices.indexOf(value) !== -1;
        var filled = Boolean(choices.querySelector("tr.form-row.has_original"));
        choices.hidden = !(needed || filled || choices.querySelector(".errorlist"));
        var details = choices.querySelector("details");
        if (details && needed) details.open = true;
      }
    }

    kind.addEventListener("change", update);
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
