// A register import runs on a worker: follow it by asking the server how far it is, moving the
// bar and the counts, and show the finished page (the result, or every bad line) when it ends.
document.addEventListener("DOMContentLoaded", () => {
  const job = document.getElementById("job");
  if (!job) return;
  const progress = document.getElementById("job-progress");
  const text = document.getElementById("job-progress-text");
  const status = document.getElementById("job-status");
  const follow = async () => {
    let answer;
    try {
      const response = await fetch(job.dataset.statusUrl, {headers: {Accept: "application/json"}, cache: "no-store"});
      if (!response.ok) throw new Error(response.statusText);
      answer = await response.json();
    } catch (error) {
      setTimeout(follow, 2000);  // a busy or restarting server: try again a little later
      return;
    }
    progress.value = answer.percent;
    progress.textContent = answer.percent + "%";
    text.textContent = answer.text;
    status.textContent = answer.status_label;
    if (answer.finished) {
      location.reload();
    } else {
      setTimeout(follow, 300);
    }
  };
  follow();
});
