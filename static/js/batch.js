// Refreshes the batch's processing counts and its failed files until all are done.
(function () {
  "use strict";
  const section = document.getElementById("progress");
  if (!section || section.dataset.done === "true") return;
  const rows = document.getElementById("failed-rows");
  const retryAll = document.getElementById("retry-all");

  function render(progress) {
    for (const [state, count] of Object.entries(progress.states)) {
      document.getElementById("count-" + state).textContent = count;
    }
    for (const count of ["truncated", "duplicates", "retried"]) {
      document.getElementById("count-" + count).textContent = progress[count];
    }
    document.getElementById("count-skipped").textContent = progress.skipped;
    document.getElementById("workers-silent").hidden = progress.done || !progress.workers_silent;
    const bar = document.getElementById("processing-bar");
    bar.hidden = !progress.total;
    bar.max = progress.total || 1;
    bar.value = progress.states.processed + progress.states.failed;
    if (progress.failed.length) {
      rows.replaceChildren(...progress.failed.map((media) => {
        const row = document.createElement("tr");
        const file = document.createElement("td");
        const link = document.createElement("a");
        link.href = section.dataset.mediaUrl.replace("/0/", "/" + media.id + "/");
        link.textContent = (media.folder ? media.folder + "/" : "") + media.name;
        file.append(link);
        const reason = document.createElement("td");
        // Site admins alone are sent the technical detail.
        reason.textContent = media.reason + (media.detail ? " (" + media.detail + ")" : "");
        row.append(file, reason);
        return row;
      }));
      if (retryAll) retryAll.hidden = false;
    }
  }

  async function poll() {
    try {
      const response = await fetch(section.dataset.url, {headers: {Accept: "application/json"}});
      if (response.ok) {
        const progress = await response.json();
        render(progress);
        if (progress.done) {
          document.getElementById("processing-status").textContent = section.dataset.doneLabel;
          return;
        }
      }
    } catch (error) { /* a dropped connection: try again at the next tick */ }
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 1000);
})();
