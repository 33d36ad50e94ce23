// The portal works without this script. It adds one thing: scanning a credential's QR
// code with the camera where the browser has a barcode detector (BarcodeDetector).
(function () {
  "use strict";
  var scan = document.getElementById("scan");
  var video = document.getElementById("camera");
  var field = document.getElementById("credential");
  if (!scan || !video || !field || !("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
  scan.hidden = false;
  scan.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream; video.hidden = false; video.play();
      var stop = function () { stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true; };
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length > 0) { field.value = codes[0].rawValue; stop(); document.getElementById("verify").submit(); return; }
          window.requestAnimationFrame(tick);
        }).catch(stop);
      };
      tick();
    });
  });
})();

// The operators' console's charts are images the hub draws from its own metrics: each
// one marked data-refresh="N" is fetched again every N seconds (same origin, no inline
// script: the CSP stays strict). Without this script the page shows them as loaded.
(function () {
  "use strict";
  var charts = document.querySelectorAll("img[data-refresh]");
  Array.prototype.forEach.call(charts, function (img) {
    var every = Math.max(2, parseInt(img.getAttribute("data-refresh"), 10) || 5) * 1000;
    var base = img.getAttribute("src").split("?")[0];
    window.setInterval(function () {
      if (document.hidden) { return; }
      img.setAttribute("src", base + "?t=" + Date.now());
    }, every);
  });
})();
