/*
 * Copy buttons (report page): <button data-copy="#selector" data-copied="Copied"> copies the
 * text of the element the selector names, and says so on the button for a moment.
 * No inline script: this file is loaded with `defer`.
 */
(function () {
  "use strict";

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (error) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  function init(button) {
    var label = button.textContent;
    button.addEventListener("click", function () {
      var source = document.querySelector(button.getAttribute("data-copy"));
      if (!source) return;
      copy(source.textContent).then(function () {
        button.textContent = button.getAttribute("data-copied") || label;
        button.setAttribute("data-copy-done", "true");
        window.setTimeout(function () { button.textContent = label; }, 2000);
      }).catch(function (error) {
        console.warn("premiere-ecoute: copy failed", error);
      });
    });
  }

  function start() {
    document.querySelectorAll("button[data-copy]").forEach(init);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
