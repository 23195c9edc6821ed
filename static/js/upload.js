// Sends the chosen files in requests of a few files each, so a card of thousands of images
// goes up over a slow link with a progress bar, and a dropped connection costs one request,
// which is tried again. Without this script the form posts all files at once.
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  if (!form || !window.FormData) return;
  const fileInput = form.querySelector("input[type=file][name=files]");
  const folderInput = document.getElementById("folder-input");
  const dropzone = document.getElementById("dropzone");
  const selection = document.getElementById("selection");
  const bar = document.getElementById("upload-bar");
  const status = document.getElementById("upload-status");
  const MAX_FILES = 20;
  const MAX_BYTES = 64 * 1024 * 1024;
  let chosen = [];  // [{file, path}]
  form.noValidate = true;  // files may come from the folder picker or a drop instead

  function show() {
    const bytes = chosen.reduce((sum, item) => sum + item.file.size, 0);
    selection.textContent = chosen.length + " · " + (bytes / 1048576).toFixed(1) + " MB";
  }
  function add(file, path) { chosen.push({file: file, path: path || file.name}); }

  fileInput.addEventListener("change", () => {
    chosen = chosen.filter((item) => item.fromFolder);
    for (const file of fileInput.files) add(file);
    show();
  });
  folderInput.addEventListener("change", () => {
    for (const file of folderInput.files) {
      chosen.push({file: file, path: file.webkitRelativePath || file.name, fromFolder: true});
    }
    show();
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
    const items = Array.from(event.dataTransfer.items || []);
    const entries = items.map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry());
    if (entries.length && entries.every(Boolean)) {
      Promise.all(entries.map((entry) => walk(entry, ""))).then(show);
    } else {
      for (const file of event.dataTransfer.files) add(file);
      show();
    }
  });

  function groups() {
    const result = [];
    let current = [], bytes = 0;
    for (const item of chosen) {
      if (current.length && (current.length >= MAX_FILES || bytes + item.file.size > MAX_BYTES)) {
        result.push(current); current = []; bytes = 0;
      }
      current.push(item); bytes += item.file.size;
    }
    if (current.length) result.push(current);
    return result;
  }

  function send(group, batch, onProgress) {
    return new Promise((resolve, reject) => {
      const data = new FormData();
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      if (batch) data.append("batch", batch);
      for (const item of group) { data.append("files", item.file, item.file.name); data.append("paths", item.path); }
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (event) => onProgress(event.loaded);
      xhr.onload = () => (xhr.status === 200 ? resolve(JSON.parse(xhr.responseText)) : reject(xhr));
      xhr.onerror = () => reject(xhr);
      xhr.send(data);
    });
  }

  async function sendWithRetry(group, batch, onProgress) {
    for (let attempt = 1; ; attempt++) {
      try { return await send(group, batch, onProgress); } catch (xhr) {
        if (attempt >= 4 || (xhr.status >= 400 && xhr.status < 500)) throw xhr;
        await new Promise((resolve) => setTimeout(resolve, 2000 * attempt));
      }
    }
  }

  form.addEventListener("submit", async (event) => {
    if (!chosen.length) return;  // let the browser show the required-field message
    event.preventDefault();
    const total = chosen.reduce((sum, item) => sum + item.file.size, 0) || 1;
    let done = 0, batch = null, result = null;
    document.getElementById("upload-progress").hidden = false;
    document.getElementById("upload-button").disabled = true;
    try {
      for (const group of groups()) {
        const size = group.reduce((sum, item) => sum + item.file.size, 0);
        result = await sendWithRetry(group, batch, (loaded) => {
          const percent = Math.min(100, Math.round((100 * (done + loaded)) / total));
          bar.value = percent;
          status.textContent = form.dataset.progressLabel + " " + percent + " %";
        });
        batch = result.batch;
        done += size;
      }
      window.location.href = result.url;
    } catch (xhr) {
      status.textContent = form.dataset.failedLabel;
      document.getElementById("upload-button").disabled = false;
      if (result) window.location.href = result.url;
    }
  });
})();
