// vouch dashboard: the only script. "Copy link" buttons copy their input's value; without
// JavaScript (or clipboard access) the link stays selectable in its read-only field.
"use strict";
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  button.addEventListener("click", function () {
    var input = document.getElementById(button.getAttribute("data-copy"));
    var status = button.parentElement.querySelector(".copied");
    if (!input) { return; }
    var done = function () { if (status) { status.textContent = "Copied"; } };
    input.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(done, function () {
        if (status) { status.textContent = "Press Ctrl+C to copy"; }
      });
    } else {
      done();
    }
  });
});
