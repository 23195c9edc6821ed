// The number of sightings found is counted by a second request, so the page shows at once.
(function () {
  "use strict";
  const label = document.getElementById("result-count");
  if (!label) return;
  fetch(label.dataset.url, {headers: {Accept: "application/json"}})
    .then((response) => response.json())
    // "65 sightings", counted in the page's language and its plural forms by the server.
    .then((data) => { label.textContent = data.label; });
})();
