// Follows a Camtrap DP export or import run by a worker; once it is finished the page is
// loaded again, so the server renders the download link, what was imported, or the failure.
(function () {
  "use strict";
  const section = document.getElementById("job-progress");
  if (!section || section.dataset.finished === "true") return;
  const state = document.getElementById("job-state");
  const bar = document.getElementById("job-bar");

  async function poll() {
    try {
      const response = await fetch(section.dataset.url, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const progress = await response.json();
        if (progress.finished) {
          window.location.reload();
          return;
        }
        state.textContent = progress.state_label;
        // An import says no numbers: its bar stays one that only moves.
        if (progress.total !== undefined) {
          bar.max = progress.total || 1;
          bar.value = progress.done;
        }
      }
    } catch (error) {
      // A dropped connection: asked again at the next tick.
    }
    window.setTimeout(poll, 2000);
  }
  window.setTimeout(poll, 2000);
})();
