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
