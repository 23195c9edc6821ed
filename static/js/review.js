// The review queue from the keyboard: j/k or the arrow keys move between sightings, a, r and
// x approve, return and reject the current one (or the selected ones, if any), c goes to its
// comment and space selects it. Returning needs a comment: r with none opens the comment box,
// and Enter there returns it. Without this script every button still works.
(function () {
  "use strict";
  const cards = Array.from(document.querySelectorAll("[data-review-card]"));
  if (!cards.length) return;
  const bulk = document.getElementById("bulk");
  const bulkComment = document.getElementById("bulk-comment");
  let current = 0;

  const typing = (target) => target.closest("input[type=text], input[type=search], textarea, select, details[open]");
  const selected = () => cards.filter((card) => card.querySelector("[data-select]").checked);

  function show(index) {
    current = Math.max(0, Math.min(cards.length - 1, index));
    cards.forEach((card, i) => card.classList.toggle("current", i === current));
    cards[current].focus();
    cards[current].scrollIntoView({ block: "nearest" });
  }

  function decide(key) {
    const several = selected().length > 0;
    const form = several ? bulk : cards[current].querySelector("form");
    const comment = several ? bulkComment : cards[current].querySelector("[data-comment]");
    if (key === "r" && !comment.value.trim()) {
      comment.dataset.then = "r";
      comment.focus();
      return;
    }
    const status = { a: "approved", r: "returned", x: "rejected" }[key];
    const button = form.querySelector(`button[name=status][value=${status}]`);
    if (button && !button.disabled) button.click();
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.matches("[data-comment], #bulk-comment")) {
      if (event.key === "Escape") { target.blur(); show(current); }
      if (event.key === "Enter" && !event.shiftKey && target.dataset.then) {
        event.preventDefault();
        delete target.dataset.then;
        decide("r");
      }
      return;
    }
    if (typing(target)) return;
    const card = cards[current];
    switch (event.key) {
      case "j": case "ArrowDown": show(current + 1); break;
      case "k": case "ArrowUp": show(current - 1); break;
      case "a": case "r": case "x": decide(event.key); break;
      case "c": card.querySelector("[data-comment]").focus(); break;
      case " ": card.querySelector("[data-select]").click(); break;
      default: return;
    }
    event.preventDefault();
  });
  cards.forEach((card, i) => card.addEventListener("focusin", () => {
    current = i;
    cards.forEach((other, j) => other.classList.toggle("current", j === current));
  }));
  cards[0].classList.add("current");
})();
