// A long register file takes a while to upload and check: show how far the upload is, then
// that the server is checking it. Without JavaScript the form posts as usual.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-upload-progress]")) {
    const progress = document.getElementById(form.dataset.uploadProgress);
    const text = document.getElementById(progress.id + "-text");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const request = new XMLHttpRequest();
      progress.closest(".progress-row").hidden = false;
      request.upload.addEventListener("progress", (step) => {
        if (!step.lengthComputable) return;
        progress.value = Math.round((step.loaded / step.total) * 100);
        text.textContent = progress.value + "%";
      });
      request.upload.addEventListener("load", () => {
        progress.removeAttribute("value");  // indeterminate while the server checks the lines
        text.textContent = progress.dataset.doneText;
      });
      request.addEventListener("load", () => {
        // The answer is a whole page: the console again after a redirect (then its address
        // replaces the form's), or the form with its errors at the page the reader was on.
        if (new URL(request.responseURL).pathname !== new URL(form.action).pathname) {
          history.replaceState(null, "", request.responseURL);
        }
        document.open();
        document.write(request.responseText);
        document.close();
      });
      request.addEventListener("error", () => form.submit());
      request.open("POST", form.action);
      request.send(new FormData(form));
    });
  }
});
