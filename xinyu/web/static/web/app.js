// Behaviour for every page, kept out of the templates: the Content-Security-Policy allows
// scripts from this site's static files only (no inline script, no onclick="...").
(function () {
  "use strict";

  // Print buttons: <button type="button" data-print>.
  document.addEventListener("click", function (e) {
    var button = e.target instanceof Element ? e.target.closest("[data-print]") : null;
    if (button) {
      e.preventDefault();
      window.print();
    }
  });

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  ready(function () {
    // Answering: pressing an option twice (a slow connection) must not send two answers:
    // disable the buttons once one is pressed; the server stores one row per question anyway.
    var answer = document.getElementById("answer-form");
    if (answer) {
      answer.addEventListener("submit", function (e) {
        var chosen = e.submitter;
        setTimeout(function () {
          e.target.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        }, 0);
        if (chosen) chosen.classList.add("chosen");
      });
    }

    // New campaign: tick all / no grade, or a range. Without JavaScript the grade range
    // (from … to) does the same on the server.
    var box = document.querySelector("#campaign-form #grades");
    if (box) {
      var ticks = box.querySelectorAll("input[name=target_grades]");
      var tick = function (test) {
        ticks.forEach(function (t) { t.checked = test(parseInt(t.value, 10)); });
      };
      box.querySelector("[data-js-only]").hidden = false;
      box.querySelector("[data-grades=all]").addEventListener("click", function () { tick(function () { return true; }); });
      box.querySelector("[data-grades=none]").addEventListener("click", function () { tick(function () { return false; }); });
      var from = box.querySelector("[name=grade_from]");
      var to = box.querySelector("[name=grade_to]");
      var range = function () {
        var low = parseInt(from.value || to.value, 10);
        var high = parseInt(to.value || from.value, 10);
        if (!isNaN(low) && !isNaN(high)) tick(function (g) { return low <= g && g <= high; });
      };
      from.addEventListener("change", range);
      to.addEventListener("change", range);
    }
  });
})();
