// The language menu switches as soon as a language is picked; without JavaScript, its
// button (in <noscript>) does. A file of its own: the Content-Security-Policy allows no
// inline handler.
(function () {
  "use strict";
  const menu = document.getElementById("language");
  if (menu) menu.addEventListener("change", () => menu.form.submit());
})();
