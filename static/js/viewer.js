// An event's images (templates/sightings/_viewer.html): step through them, play them as a
// sequence, zoom and pan into the original, and lift dark night infrared frames with
// brightness, contrast and gamma that stay set for the session. Keys work on a Russian
// layout too (see usKeys); none are taken while the user types in a field. Styles are set
// through the CSSOM, which the CSP allows.
(function () {
  "use strict";
  const root = document.getElementById("viewer");
  const frames = Array.from(document.querySelectorAll("#strip .frame"));
  if (!root || !frames.length) return;
  const stage = document.getElementById("viewer-frame");
  const image = document.getElementById("viewer-image");
  const byId = (id) => document.getElementById(id);
  const percent = new Intl.NumberFormat(document.documentElement.lang || undefined, { style: "percent" });

  const MAX_SCALE = 8;
  const STORAGE_KEY = "neaspec-viewer";
  const NEUTRAL = { brightness: 1, contrast: 1, gamma: 1 };
  // Measured by eye on the Reconyx night frames of the test data: gamma lifts the shadows
  // where the animal is, contrast puts back what the lift flattens.
  const NIGHT = { brightness: 1.2, contrast: 1.3, gamma: 2.2 };

  let current = 0;
  let view = { scale: 1, x: 0, y: 0 };
  let timer = null;
  const loaded = new Set(); // frames whose original is in the browser's cache
  const settings = Object.assign({}, NEUTRAL, { speed: 2 }, stored());

  function stored() {
    let saved = {};
    try {
      saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY)) || {};
    } catch (error) {
      // storage off or garbled: start neutral
    }
    return Object.fromEntries(Object.entries(saved).filter(([, value]) => Number.isFinite(value)));
  }
  function store() {
    try {
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify(settings));
    } catch (error) {
      // storage off: the settings last as long as the page
    }
  }

  // Stepping and playing

  function show(index) {
    current = (index + frames.length) % frames.length;
    frames.forEach((frame, i) => {
      frame.classList.toggle("current", i === current);
      if (i === current) frame.setAttribute("aria-current", "true");
      else frame.removeAttribute("aria-current");
    });
    const frame = frames[current];
    image.src = view.scale > 1 && loaded.has(current) ? frame.dataset.original : frame.dataset.preview;
    image.alt = frame.dataset.name;
    byId("viewer-original").href = frame.dataset.original;
    byId("viewer-position").textContent = `${current + 1} / ${frames.length}`;
    if (view.scale > 1) loadOriginal();
    else status("");
  }

  function play(on) {
    clearInterval(timer);
    timer = on ? setInterval(() => show(current + 1), 1000 / settings.speed) : null;
    const button = byId("viewer-play");
    button.setAttribute("aria-pressed", String(on));
    byId("viewer-play-label").textContent = on ? root.dataset.pause : root.dataset.play;
  }

  function setSpeed(speed) {
    const options = Array.from(byId("viewer-speed").options).map((o) => Number(o.value));
    settings.speed = options.includes(speed) ? speed : 2;
    byId("viewer-speed").value = String(settings.speed);
    store();
    if (timer) play(true);
  }

  function stepSpeed(direction) {
    const options = Array.from(byId("viewer-speed").options).map((o) => Number(o.value));
    const at = options.indexOf(settings.speed) + direction;
    setSpeed(options[Math.max(0, Math.min(options.length - 1, at))]);
  }

  // Zoom and pan: the image is scaled from its top left corner and moved, never past its edges.

  function status(text) {
    byId("viewer-status").textContent = text;
  }

  function loadOriginal() {
    const index = current;
    if (loaded.has(index)) {
      image.src = frames[index].dataset.original;
      status(root.dataset.full);
      return;
    }
    status(root.dataset.loading);
    const full = new Image();
    full.onload = () => {
      loaded.add(index);
      if (index === current && view.scale > 1) {
        image.src = frames[index].dataset.original;
        status(root.dataset.full);
      }
    };
    // An original the browser cannot show (a TIFF served as a download): keep the preview.
    full.onerror = () => index === current && status(root.dataset.failed);
    full.src = frames[index].dataset.original;
  }

  function zoomAt(scale, px, py) {
    const before = view.scale;
    scale = Math.max(1, Math.min(MAX_SCALE, scale));
    view.x = px - ((px - view.x) * scale) / before;
    view.y = py - ((py - view.y) * scale) / before;
    view.scale = scale;
    place();
    if (scale > 1 && !image.src.endsWith(frames[current].dataset.original)) loadOriginal();
  }

  function zoomCentre(factor) {
    zoomAt(view.scale * factor, stage.clientWidth / 2, stage.clientHeight / 2);
  }

  function pan(dx, dy) {
    view.x += dx;
    view.y += dy;
    place();
  }

  function place() {
    const width = stage.clientWidth;
    const height = stage.clientHeight;
    view.x = Math.min(0, Math.max(width - width * view.scale, view.x));
    view.y = Math.min(0, Math.max(height - height * view.scale, view.y));
    if (view.scale === 1) view = { scale: 1, x: 0, y: 0 };
    image.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
    stage.classList.toggle("zoomed", view.scale > 1);
    byId("viewer-zoom").textContent = percent.format(view.scale);
  }

  function point(event) {
    const box = stage.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  }

  stage.addEventListener("wheel", (event) => {
    event.preventDefault();
    // A touchpad pinch arrives as a wheel with ctrlKey and small steps.
    const rate = event.ctrlKey ? 0.01 : 0.002;
    const at = point(event);
    zoomAt(view.scale * Math.exp(-event.deltaY * rate), at.x, at.y);
  }, { passive: false });

  stage.addEventListener("dblclick", (event) => {
    const at = point(event);
    zoomAt(view.scale >= MAX_SCALE ? 1 : view.scale * 2, at.x, at.y);
  });

  // One pointer drags a zoomed image; two pinch it.
  const pointers = new Map();
  stage.addEventListener("pointerdown", (event) => {
    stage.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, point(event));
  });
  stage.addEventListener("pointermove", (event) => {
    const before = pointers.get(event.pointerId);
    if (!before) return;
    const now = point(event);
    if (pointers.size === 2) {
      const other = Array.from(pointers.entries()).find(([id]) => id !== event.pointerId)[1];
      const ratio = Math.hypot(now.x - other.x, now.y - other.y) /
        (Math.hypot(before.x - other.x, before.y - other.y) || 1);
      zoomAt(view.scale * ratio, (now.x + other.x) / 2, (now.y + other.y) / 2);
    } else if (view.scale > 1) {
      pan(now.x - before.x, now.y - before.y);
    }
    pointers.set(event.pointerId, now);
  });
  const release = (event) => pointers.delete(event.pointerId);
  stage.addEventListener("pointerup", release);
  stage.addEventListener("pointercancel", release);
  window.addEventListener("resize", place);

  // Brightness and contrast are CSS filters; gamma is the SVG filter in the template.

  function adjust(changes) {
    for (const [name, value] of Object.entries(changes)) {
      const input = byId(`viewer-${name}`);
      settings[name] = Math.round(Math.max(Number(input.min), Math.min(Number(input.max), value)) * 10) / 10;
      input.value = String(settings[name]);
    }
    store();
    render();
  }

  function render() {
    for (const func of root.querySelectorAll("#viewer-gamma-filter feComponentTransfer > *")) {
      func.setAttribute("exponent", String(1 / settings.gamma));
    }
    const filters = [];
    if (settings.gamma !== 1) filters.push("url(#viewer-gamma-filter)");
    if (settings.brightness !== 1) filters.push(`brightness(${settings.brightness})`);
    if (settings.contrast !== 1) filters.push(`contrast(${settings.contrast})`);
    image.style.filter = filters.join(" ");
    for (const name of Object.keys(NEUTRAL)) byId(`viewer-${name}`).value = String(settings[name]);
    const night = Object.keys(NIGHT).every((name) => settings[name] === NIGHT[name]);
    byId("viewer-night").setAttribute("aria-pressed", String(night));
  }

  function nightBoost() {
    const on = byId("viewer-night").getAttribute("aria-pressed") === "true";
    adjust(on ? NEUTRAL : NIGHT);
  }

  function nudge(name, step) {
    adjust({ [name]: settings[name] + step });
  }

  for (const name of Object.keys(NEUTRAL)) {
    byId(`viewer-${name}`).addEventListener("input", (event) => adjust({ [name]: Number(event.target.value) }));
  }
  byId("viewer-speed").addEventListener("change", (event) => setSpeed(Number(event.target.value)));

  const actions = {
    previous: () => show(current - 1),
    next: () => show(current + 1),
    play: () => play(!timer),
    "zoom-in": () => zoomCentre(1.5),
    "zoom-out": () => zoomCentre(1 / 1.5),
    "zoom-reset": () => zoomAt(1, 0, 0),
    night: nightBoost,
    "adjust-reset": () => adjust(NEUTRAL),
  };
  root.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) actions[button.dataset.action]();
  });
  frames.forEach((frame, index) => frame.addEventListener("click", () => show(index)));

  const keys = {
    ".": actions.next, ",": actions.previous, " ": actions.play,
    ">": () => stepSpeed(1), "<": () => stepSpeed(-1),
    "+": actions["zoom-in"], "=": actions["zoom-in"], "-": actions["zoom-out"], "0": actions["zoom-reset"],
    "]": () => nudge("brightness", 0.1), "[": () => nudge("brightness", -0.1),
    "}": () => nudge("contrast", 0.1), "{": () => nudge("contrast", -0.1),
    ")": () => nudge("gamma", 0.1), "(": () => nudge("gamma", -0.1),
    i: actions.night, o: actions["adjust-reset"],
    "?": () => { byId("viewer-keys").open = !byId("viewer-keys").open; },
  };
  // The key at the same place on a US keyboard, for layouts whose keys there give other
  // letters (Russian gives "ю" for "."): [unshifted, shifted].
  const usKeys = {
    Period: [".", ">"], Comma: [",", "<"], Equal: ["=", "+"], Minus: ["-", "_"], Digit0: ["0", ")"],
    Digit9: ["9", "("], BracketRight: ["]", "}"], BracketLeft: ["[", "{"], KeyI: ["i", "I"],
    KeyO: ["o", "O"], Slash: ["/", "?"],
  };

  function keyOf(event) {
    if (/^[\x20-\x7e]$/.test(event.key) || !usKeys[event.code]) return event.key;
    return usKeys[event.code][event.shiftKey ? 1 : 0];
  }

  const panSteps = { ArrowLeft: [1, 0], ArrowRight: [-1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target.closest("input, textarea, select, [contenteditable]")) return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    // Space and Enter on a button or link press it; the page keeps that.
    if (event.key === " " && target.closest("button, a, summary")) return;
    const step = panSteps[event.code];
    if (step && view.scale > 1) {
      event.preventDefault(); // the arrows move the zoomed image, not to another event
      pan(step[0] * stage.clientWidth * 0.1, step[1] * stage.clientHeight * 0.1);
      return;
    }
    const action = keys[keyOf(event)];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  adjust({ brightness: settings.brightness, contrast: settings.contrast, gamma: settings.gamma });
  setSpeed(settings.speed);
  place();
})();
