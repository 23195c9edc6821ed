// An event's images: click a thumbnail, or "." and "," (outside text fields), to show it large.
(function () {
  "use strict";
  const viewer = document.getElementById("viewer-image");
  const frames = Array.from(document.querySelectorAll("#strip .frame"));
  if (!viewer || !frames.length) return;
  let current = 0;

  function show(index) {
    current = (index + frames.length) % frames.length;
    frames.forEach((frame, i) => frame.classList.toggle("current", i === current));
    viewer.src = frames[current].dataset.preview;
    const original = document.getElementById("viewer-original");
    if (original) original.href = frames[current].dataset.original;
  }
  frames.forEach((frame, index) => frame.addEventListener("click", () => show(index)));
  document.addEventListener("keydown", (event) => {
    if (event.target.matches("input, textarea, select") || event.ctrlKey || event.metaKey) return;
    if (event.key === ".") show(current + 1);
    if (event.key === ",") show(current - 1);
  });
})();
