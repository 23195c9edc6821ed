// The team page: says when deployments whose clock or gap changed have their events worked
// out again, without reloading the page (and losing what is typed in its forms).
(function () {
  "use strict";
  const section = document.getElementById("locations");
  if (!section || !document.querySelector(".regrouping")) return;

  async function poll() {
    try {
      const response = await fetch(section.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const pending = new Set((await response.json()).regrouping);
        for (const badge of document.querySelectorAll(".regrouping")) {
          if (pending.has(Number(badge.dataset.deployment))) continue;
          badge.classList.replace("badge-warn", "badge-ok");
          badge.classList.remove("regrouping");
          badge.textContent = section.dataset.doneLabel;
        }
      }
    } catch (error) {
      // A dropped connection: the next poll tries again.
    }
    if (document.querySelector(".regrouping")) setTimeout(poll, 2000);
  }
  setTimeout(poll, 2000);
})();
