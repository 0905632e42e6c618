// The passport form's portrait preview: the chosen file, shown in the data page's 35:45 frame
// (cropped the way the page prints it). Read in the browser; nothing is sent before submit.
"use strict";
(function () {
  const input = document.getElementById("f-photo");
  const preview = document.getElementById("photo-preview");
  if (!input || !preview) return;
  input.addEventListener("change", function () {
    const file = input.files && input.files[0];
    if (!file) {
      preview.hidden = true;
      preview.removeAttribute("src");
      return;
    }
    const reader = new FileReader();
    reader.addEventListener("load", function () {
      preview.src = reader.result;
      preview.hidden = false;
    });
    reader.readAsDataURL(file);
  });
})();
