// The trainer's tap list (training/session.html): a tap marks present / absent without
// reloading the page; without JavaScript the forms post and the page reloads (same result).
(function () {
  "use strict";
  var list = document.querySelector("[data-list=attendance]");
  if (!list || !window.fetch) return;
  var counter = document.querySelector("[data-present-count]");
  list.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("tap")) return;
    event.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.action || window.location.href, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" },
      credentials: "same-origin",
    })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        var item = form.closest("li");
        item.classList.toggle("is-present", data.present);
        form.querySelector("input[name=present]").value = data.present ? "0" : "1";
        button.dataset.present = data.present ? "1" : "0";
        form.querySelector(".tap-state").textContent = data.present ? list.dataset.present : list.dataset.absent;
        if (counter) counter.textContent = data.count;
      })
      .catch(function () { form.submit(); })
      .finally(function () { button.disabled = false; });
  });
})();
