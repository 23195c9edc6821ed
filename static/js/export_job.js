// Follows a Camtrap DP export built by a worker; once it is finished the page is loaded
// again, so the server renders the download link or the failure.
(function () {
  "use strict";
  const section = document.getElementById("export-progress");
  if (!section || section.dataset.finished === "true") return;
  const state = document.getElementById("export-state");
  const bar = document.getElementById("export-bar");

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
        bar.max = progress.total || 1;
        bar.value = progress.done;
      }
    } catch (error) {
      // A dropped connection: asked again at the next tick.
    }
    window.setTimeout(poll, 2000);
  }
  window.setTimeout(poll, 2000);
})();
