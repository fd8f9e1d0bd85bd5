// Gatehouse admin pages: the few things htmx does not do by itself. Every
// page works without this file: the copy buttons stay hidden, and links that
// would open a dialog open a page instead. It is a file, not inline script,
// because the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  // announce says text to screen readers through the page's live region.
  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  // Copy buttons: data-copy names the id of the field whose value they copy.
  function copyValue(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    var text = field.value !== undefined ? field.value : field.textContent;
    var done = function () {
      // The button keeps its name; a mark beside it shows, and the live
      // region says, that it worked.
      var mark = button.nextElementSibling;
      if (!mark || !mark.classList.contains("copy-done")) {
        mark = document.createElement("span");
        mark.className = "copy-done";
        mark.setAttribute("aria-hidden", "true");
        mark.textContent = "Copied";
        button.insertAdjacentElement("afterend", mark);
      }
      mark.hidden = false;
      announce("Copied " + (button.getAttribute("data-copy-name") || "the value") + " to the clipboard.");
      window.setTimeout(function () { mark.hidden = true; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { selectAndCopy(field, done); });
    } else {
      selectAndCopy(field, done);
    }
  }

  function selectAndCopy(field, done) {
    if (field.select) field.select();
    try {
      if (document.execCommand("copy")) { done(); return; }
    } catch (e) { /* fall through */ }
    announce("Select the value and copy it with your keyboard.");
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest ? e.target.closest("button[data-copy]") : null;
    if (button) {
      e.preventDefault();
      copyValue(button);
    }
  });

  function showCopyButtons(root) {
    var buttons = root.querySelectorAll("button[data-copy][hidden]");
    for (var i = 0; i < buttons.length; i++) buttons[i].hidden = false;
  }

  // The dialog: htmx swaps a page's content into it; this opens it as a
  // modal, and puts focus back where it was when it closes.
  var opener = null;
  document.addEventListener("htmx:beforeRequest", function (e) {
    var target = e.detail.target;
    if (target && target.id === "dialog") opener = document.activeElement;
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    // A refusal in the dialog (409, 422, ...) is a page to show, not an error.
    if (e.detail.target && e.detail.target.id === "dialog" && e.detail.xhr.status >= 400) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    var target = e.detail.target;
    showCopyButtons(target);
    if (target && target.id === "dialog" && !target.open) {
      target.showModal();
      var first = target.querySelector("[autofocus], input:not([type=hidden]), textarea, select, button");
      if (first) first.focus();
    }
  });
  // Without an answer, follow the link or send the form the old way.
  function fallBack(e) {
    var elt = e.detail.elt;
    if (!elt || !e.detail.target || e.detail.target.id !== "dialog") return;
    if (elt.href) window.location.href = elt.href;
  }
  document.addEventListener("htmx:sendError", fallBack);

  document.addEventListener("DOMContentLoaded", function () {
    showCopyButtons(document);
    var dialog = document.getElementById("dialog");
    if (dialog) {
      dialog.addEventListener("close", function () {
        dialog.innerHTML = "";
        if (opener && opener.focus) opener.focus();
        opener = null;
      });
    }
  });
})();
