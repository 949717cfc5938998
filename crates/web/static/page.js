// vouch hosted verification page: progressive enhancement only. Every step works as a plain
// form without this file; it adds camera capture and follows processing without reloads.
(function () {
  "use strict";

  // Processing: poll the page's status endpoint, then show the outcome.
  var status = document.querySelector("[data-poll]");
  if (status) {
    var url = status.getAttribute("data-poll");
    var tick = function () {
      fetch(url, { cache: "no-store", credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (s && s.settled) {
            window.location.reload();
          } else {
            window.setTimeout(tick, 1000);
          }
        })
        .catch(function () { window.setTimeout(tick, 2000); });
    };
    window.setTimeout(tick, 1000);
  }

  // Camera capture for each image input, where the browser can use a camera.
  var media = navigator.mediaDevices;
  if (!media || !media.getUserMedia || typeof DataTransfer === "undefined") {
    return;
  }
  var inputs = document.querySelectorAll("input[type=file][data-capture]");
  Array.prototype.forEach.call(inputs, function (input) {
    var box = document.createElement("div");
    box.className = "camera";
    var open = document.createElement("button");
    open.type = "button";
    open.className = "secondary";
    open.textContent = "Use camera";
    open.setAttribute("aria-describedby", input.id + "-label");
    box.appendChild(open);
    var note = document.createElement("p");
    note.setAttribute("role", "status");
    note.className = "hint";
    box.appendChild(note);
    input.parentNode.appendChild(box);

    open.addEventListener("click", function () {
      var facing = input.getAttribute("data-capture") === "user" ? "user" : "environment";
      media.getUserMedia({ video: { facingMode: facing }, audio: false }).then(function (stream) {
        var video = document.createElement("video");
        video.setAttribute("playsinline", "");
        video.setAttribute("aria-label", "Camera preview");
        video.muted = true;
        video.srcObject = stream;
        var take = document.createElement("button");
        take.type = "button";
        take.className = "primary";
        take.textContent = "Take photo";
        var cancel = document.createElement("button");
        cancel.type = "button";
        cancel.className = "secondary";
        cancel.textContent = "Cancel";
        var row = document.createElement("div");
        row.className = "actions";
        row.appendChild(take);
        row.appendChild(cancel);
        box.insertBefore(video, note);
        box.insertBefore(row, note);
        open.hidden = true;
        video.play();
        take.focus();
        var stop = function () {
          stream.getTracks().forEach(function (t) { t.stop(); });
          video.remove();
          row.remove();
          open.hidden = false;
          open.focus();
        };
        cancel.addEventListener("click", stop);
        take.addEventListener("click", function () {
          var canvas = document.createElement("canvas");
          canvas.width = video.videoWidth || 1280;
          canvas.height = video.videoHeight || 720;
          canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
          canvas.toBlob(function (blob) {
            if (blob) {
              var dt = new DataTransfer();
              dt.items.add(new File([blob], input.name + ".jpg", { type: "image/jpeg" }));
              input.files = dt.files;
              note.textContent = "Photo taken.";
            }
            stop();
          }, "image/jpeg", 0.9);
        });
      }).catch(function () {
        note.textContent = "The camera is not available. Choose a file instead.";
      });
    });
  });
})();
