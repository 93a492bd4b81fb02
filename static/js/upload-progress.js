// A long register file takes a while to upload: show how far the upload is. The server then
// answers at once with the import's own page, which follows the worker. Without JavaScript the
// form posts as usual.
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
        text.textContent = progress.dataset.doneText;
      });
      request.addEventListener("load", () => {
        // Redirected to the import's page: go there, so its own script follows the import.
        if (request.status < 400 && new URL(request.responseURL).pathname !== new URL(form.action).pathname) {
          location.assign(request.responseURL);
          return;
        }
        // The form again with its errors, at the page the reader was on.
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
