// Sends a card's files over the tus protocol (sightings/resumable.py) with tus-js-client: a
// few files at a time, each in chunks of a few MB, so a dropped connection costs at most the
// chunk in flight, and a file cut off (even by a closed browser) goes on from where it stopped
// when the same file is chosen again. Without this script the form posts all files at once.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form || !window.tus || !tus.isSupported || !window.interpolate) return;
  const fileInput = form.querySelector("input[type=file][name=files]");
  const folderInput = document.getElementById("folder-input");
  const dropzone = document.getElementById("dropzone");
  const selection = document.getElementById("selection");
  const button = document.getElementById("upload-button");
  const retryButton = document.getElementById("retry-button");
  const list = document.getElementById("file-list");
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  const createUrl = form.dataset.createUrl;
  // Three files at a time keep a slow link busy between one file's chunks; more only
  // split the same bandwidth.
  const PARALLEL = 3;
  // A chunk is what a dropped connection may cost; 4 MB takes about 30 s at 1 Mbit/s.
  const CHUNK_BYTES = 4 * 1024 * 1024;
  // About five minutes of waiting, with back-off, before a file is listed as failed.
  const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000, 60000, 60000, 60000];
  const storage = urlStorage();
  let items = [];  // {file, path, sent, state, row}
  let batch = null;
  dropzone.classList.add("enhanced");
  form.noValidate = true;  // files may come from the folder picker or a drop instead

  // What was chosen.

  function add(file, path) {
    path = path || file.name;
    if (items.some((item) => item.path === path && item.file.size === file.size)) return;
    items.push({file: file, path: path, sent: 0, counted: null, state: "waiting", row: null});
  }
  function megabytes(bytes) {
    return interpolate(gettext("%(size)s MB"), {size: (bytes / 1e6).toFixed(1)}, true);
  }
  function total() { return items.reduce((sum, item) => sum + item.file.size, 0); }
  function showSelection() {
    const text = ngettext("%(count)s file chosen, %(size)s", "%(count)s files chosen, %(size)s",
                          items.length);
    selection.textContent = interpolate(text, {count: items.length, size: megabytes(total())}, true);
  }
  fileInput.addEventListener("change", () => {
    for (const file of fileInput.files) add(file);
    showSelection();
  });
  folderInput.addEventListener("change", () => {
    for (const file of folderInput.files) add(file, file.webkitRelativePath);
    showSelection();
  });

  function walk(entry, prefix) {
    return new Promise((resolve) => {
      if (entry.isFile) {
        entry.file((file) => { add(file, prefix + file.name); resolve(); }, () => resolve());
      } else if (entry.isDirectory) {
        const reader = entry.createReader();
        const all = [];
        const more = () => reader.readEntries((entries) => {
          if (!entries.length) {
            Promise.all(all.map((e) => walk(e, prefix + entry.name + "/"))).then(resolve);
          } else { all.push(...entries); more(); }
        }, () => resolve());
        more();
      } else { resolve(); }
    });
  }
  ["dragenter", "dragover"].forEach((type) => dropzone.addEventListener(type, (event) => {
    event.preventDefault(); dropzone.classList.add("over");
  }));
  dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
  dropzone.addEventListener("drop", (event) => {
    event.preventDefault();
    dropzone.classList.remove("over");
    const entries = Array.from(event.dataTransfer.items || [])
      .map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry());
    if (entries.length && entries.every(Boolean)) {
      Promise.all(entries.map((entry) => walk(entry, ""))).then(showSelection);
    } else {
      for (const file of event.dataTransfer.files) add(file);
      showSelection();
    }
  });

  // Where tus-js-client keeps each file's upload address (localStorage, so it outlives the
  // page), indexed once: its own storage reads every key for every file (10^8 reads for a
  // card of 10,000), and a full storage must not stop an upload, only its resuming.

  function urlStorage() {
    const PREFIX = "tus::";
    const index = new Map();
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (!key.startsWith(PREFIX)) continue;
      try {
        const upload = JSON.parse(localStorage.getItem(key));
        upload.urlStorageKey = key;
        const fingerprint = key.slice(PREFIX.length, key.lastIndexOf("::"));
        index.set(fingerprint, (index.get(fingerprint) || []).concat([upload]));
      } catch (error) { /* not one of ours */ }
    }
    return {
      findAllUploads: () => Promise.resolve([].concat(...index.values())),
      findUploadsByFingerprint: (fingerprint) => Promise.resolve(index.get(fingerprint) || []),
      removeUpload(key) {
        localStorage.removeItem(key);
        for (const [fingerprint, uploads] of index) {
          index.set(fingerprint, uploads.filter((upload) => upload.urlStorageKey !== key));
        }
        return Promise.resolve();
      },
      addUpload(fingerprint, upload) {
        const key = PREFIX + fingerprint + "::" + Math.round(Math.random() * 1e12);
        try { localStorage.setItem(key, JSON.stringify(upload)); } catch (error) {
          return Promise.resolve(null);
        }
        upload.urlStorageKey = key;
        index.set(fingerprint, (index.get(fingerprint) || []).concat([upload]));
        return Promise.resolve(key);
      },
      forget(prefix) {
        for (const [fingerprint, uploads] of index) {
          if (!fingerprint.startsWith(prefix)) continue;
          uploads.forEach((upload) => localStorage.removeItem(upload.urlStorageKey));
          index.delete(fingerprint);
        }
      },
      index: index,
    };
  }
  function fingerprint(item) {
    // The deployment's address, the user (a field laptop is shared, and an upload answers
    // only its owner), where in the card, and the file as the system knows it.
    return [createUrl, form.dataset.user, item.path, item.file.size, item.file.lastModified].join("|");
  }

  // The list of files, and what is sent.

  function row(item) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "file-name";
    name.textContent = item.path;
    const bar = document.createElement("progress");
    bar.max = item.file.size || 1;
    bar.value = 0;
    bar.setAttribute("aria-label", item.path);
    const state = document.createElement("span");
    state.className = "file-state";
    li.append(name, bar, state);
    item.row = {li: li, bar: bar, state: state};
    show(item, "waiting");
    return li;
  }
  const STATES = {
    waiting: () => gettext("waiting"),
    sending: () => gettext("sending"),
    resuming: () => gettext("going on from where it stopped"),
    sent: () => gettext("sent"),
    failed: () => gettext("failed"),
  };
  function show(item, state, reason) {
    item.state = state;
    item.row.li.className = "file-" + state;
    item.row.state.textContent = STATES[state]() + (reason ? ": " + reason : "");
  }

  function reasonOf(error) {
    const status = error.originalResponse ? error.originalResponse.getStatus() : 0;
    if (status === 413) return gettext("The file is larger than this site accepts.");
    if (status === 403) return gettext("The server refused it: you may have been logged out. Log in again and choose the same files.");
    if (status >= 400 && status < 500) return gettext("The server refused it.");
    return gettext("The connection was lost. Try again, or choose the same files later: what was sent is kept.");
  }
  function shouldRetry(error) {
    // tus-js-client's own rule, without giving up while the browser says it is offline: a
    // field link comes back, and the delays above wait for it.
    const status = error.originalResponse ? error.originalResponse.getStatus() : 0;
    return !(status >= 400 && status < 500) || status === 409 || status === 423;
  }

  function send(item) {
    return new Promise((resolve) => {
      const upload = new tus.Upload(item.file, {
        endpoint: createUrl,
        chunkSize: CHUNK_BYTES,
        retryDelays: RETRY_DELAYS,
        metadata: {filename: item.file.name, path: item.path, batch: String(batch)},
        headers: {"X-CSRFToken": csrf},
        fingerprint: () => Promise.resolve(fingerprint(item)),
        urlStorage: storage,
        // Kept until the whole card is sent: choosing it again skips the files already sent.
        removeFingerprintOnSuccess: false,
        onShouldRetry: shouldRetry,
        onProgress: (sent) => progress(item, sent),
        onSuccess: () => { progress(item, item.file.size); show(item, "sent"); resolve(); },
        onError: (error) => { show(item, "failed", reasonOf(error)); resolve(); },
      });
      upload.findPreviousUploads().then((previous) => {
        if (previous.length) {
          upload.resumeFromPreviousUpload(previous[0]);
          show(item, "resuming");
        } else {
          show(item, "sending");
        }
        upload.start();
      });
    });
  }

  // Overall progress, speed and time left.

  const meter = {started: 0, samples: []};  // samples: [time, bytes actually transferred]
  function progress(item, sent) {
    // The first figure of each attempt is where the server stood (a resumed file, or one
    // sent in full before): it counts as sent, not as speed.
    if (item.counted !== null && sent > item.counted) {
      meter.samples.push([Date.now(), sent - item.counted]);
    }
    item.counted = sent;
    item.sent = sent;
    item.row.bar.value = sent;
    if (item.state === "waiting") show(item, "sending");
    summary();
  }
  function speed() {
    // Bytes per second over the last 10 s: what a slow link does now, not on average.
    const since = Date.now() - 10000;
    meter.samples = meter.samples.filter(([time]) => time >= since);
    const bytes = meter.samples.reduce((sum, [, count]) => sum + count, 0);
    const seconds = Math.min(10, (Date.now() - meter.started) / 1000);
    return seconds > 1 ? bytes / seconds : 0;
  }
  function timeLeft(seconds) {
    if (seconds < 60) {
      const count = Math.max(1, Math.round(seconds));
      return interpolate(ngettext("about %(count)s second left", "about %(count)s seconds left", count), {count: count}, true);
    }
    if (seconds < 5400) {
      const count = Math.round(seconds / 60);
      return interpolate(ngettext("about %(count)s minute left", "about %(count)s minutes left", count), {count: count}, true);
    }
    const count = Math.round(seconds / 3600);
    return interpolate(ngettext("about %(count)s hour left", "about %(count)s hours left", count), {count: count}, true);
  }
  function summary() {
    const bytes = total(), sent = items.reduce((sum, item) => sum + item.sent, 0);
    const done = items.filter((item) => item.state === "sent").length;
    const parts = [
      interpolate(ngettext("%(done)s of %(count)s file sent", "%(done)s of %(count)s files sent", items.length),
                  {done: done, count: items.length}, true),
      interpolate(gettext("%(sent)s of %(total)s"), {sent: megabytes(sent), total: megabytes(bytes)}, true),
    ];
    const rate = speed();
    if (rate > 0 && sent < bytes) {
      parts.push(interpolate(gettext("%(speed)s/s"), {speed: megabytes(rate)}, true));
      parts.push(timeLeft((bytes - sent) / rate));
    }
    const failed = items.filter((item) => item.state === "failed").length;
    if (failed) {
      parts.push(interpolate(ngettext("%(count)s file failed", "%(count)s files failed", failed), {count: failed}, true));
    }
    document.getElementById("upload-bar").value = bytes ? Math.floor((100 * sent) / bytes) : 100;
    document.getElementById("upload-status").textContent = parts.join(" · ");
  }

  // The card: one batch, the files three at a time, then the batch page.

  async function getBatch() {
    // A card chosen again goes on in the batch it was started in.
    for (const item of items) {
      const previous = (storage.index.get(fingerprint(item)) || [])[0];
      if (previous && previous.metadata && previous.metadata.batch) {
        const id = previous.metadata.batch;
        return {batch: id, url: form.dataset.batchPage.replace("/0/", "/" + id + "/")};
      }
    }
    for (let attempt = 0; attempt < 6; attempt++) {
      let response = null;
      try {
        response = await fetch(form.dataset.batchUrl, {
          method: "POST", headers: {"X-CSRFToken": csrf, Accept: "application/json"},
        });
      } catch (error) { /* no connection: try again */ }
      if (response && response.ok) return response.json();
      if (response && response.status < 500) break;
      await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** attempt));
    }
    throw new Error("no batch");
  }

  async function sendAll(chosen) {
    const queue = chosen.slice();
    const worker = async () => { while (queue.length) await send(queue.shift()); };
    // Also while no byte moves: a stalled link shows its speed falling and no time left.
    const ticking = setInterval(summary, 1000);
    await Promise.all(Array.from({length: PARALLEL}, worker));
    clearInterval(ticking);
    const failed = items.filter((item) => item.state === "failed").length;
    retryButton.hidden = !failed;
    document.getElementById("upload-done").hidden = false;
    summary();
    if (!failed) {
      storage.forget(createUrl + "|" + form.dataset.user + "|");
      window.location.href = document.getElementById("batch-link").href;
    }
  }

  form.addEventListener("submit", async (event) => {
    if (!items.length) return;  // the plain form says a file is needed
    event.preventDefault();
    button.disabled = true;
    document.getElementById("upload-progress").hidden = false;
    const rows = document.createDocumentFragment();
    items.forEach((item) => rows.append(row(item)));
    list.replaceChildren(rows);
    meter.started = Date.now();
    summary();
    try {
      const created = await getBatch();
      batch = created.batch;
      document.getElementById("batch-link").href = created.url;
    } catch (error) {
      document.getElementById("upload-status").textContent = gettext("The upload could not start: check your connection and try again.");
      button.disabled = false;
      return;
    }
    sendAll(items);
  });
  retryButton.addEventListener("click", () => {
    retryButton.hidden = true;
    const failed = items.filter((item) => item.state === "failed");
    failed.forEach((item) => { item.counted = null; show(item, "waiting"); });
    meter.started = Date.now();
    sendAll(failed);
  });
})();
