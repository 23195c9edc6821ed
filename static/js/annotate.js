// Naming events by keyboard alone: n/p (or arrows) move between events, s or / goes to the
// species field, b names the event blank, r names it as the last species, x selects it for
// naming several at once (viewer.js has the image keys, and takes the arrows while an image
// is zoomed). Enter in a field saves and moves on; Esc leaves the field.
(function () {
  "use strict";

  function follow(id) {
    const link = document.getElementById(id);
    if (link) window.location.href = link.href;
  }
  function submit(id) {
    const form = document.getElementById(id);
    if (form) form.requestSubmit(form.querySelector("button[name=then]"));
  }

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const typing = target.matches("input, textarea, select");
    if (typing) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    const actions = {
      ArrowRight: () => follow("next"), n: () => follow("next"),
      ArrowLeft: () => follow("previous"), p: () => follow("previous"),
      b: () => submit("blank-form"), r: () => submit("repeat-form"),
      s: () => document.querySelector(".naming-form.primary .species-input")?.focus(),
      "/": () => document.querySelector(".naming-form.primary .species-input")?.focus(),
      x: () => { const box = document.getElementById("select-current"); if (box) box.checked = !box.checked; },
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });
})();
