// The filter pickers: a search box narrows each list of choices; one picker is open at a time,
// and Escape or a click elsewhere closes it. Without this script they are plain checkbox lists.
(function () {
  "use strict";
  const pickers = Array.from(document.querySelectorAll("details[data-picker]"));
  const folded = (text) => text.normalize("NFKD").toLocaleLowerCase();

  pickers.forEach((picker) => {
    const search = picker.querySelector(".picker-search");
    const options = Array.from(picker.querySelectorAll(".options li"));
    if (options.length > 8) search.hidden = false;
    search.addEventListener("input", () => {
      const wanted = folded(search.value.trim());
      options.forEach((li) => { li.hidden = wanted !== "" && !folded(li.textContent).includes(wanted); });
    });
    // Enter in the search box would submit the whole form half-chosen: pick the first match.
    search.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const first = options.find((li) => !li.hidden);
      if (first) first.querySelector("input").click();
    });
    picker.addEventListener("toggle", () => {
      if (!picker.open) return;
      pickers.forEach((other) => { if (other !== picker) other.open = false; });
      (search.hidden ? picker.querySelector(".options input") : search)?.focus();
    });
    picker.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && picker.open) {
        picker.open = false;
        picker.querySelector("summary").focus();
      }
    });
  });
  document.addEventListener("click", (event) => {
    pickers.forEach((picker) => { if (picker.open && !picker.contains(event.target)) picker.open = false; });
  });
})();
