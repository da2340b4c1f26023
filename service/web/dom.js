// Small DOM helpers shared by the page sections: building elements (text is always set as
// text, never parsed as HTML), status messages, drop zones, downloads and work previews
// fetched with the key (an <img> cannot send an Authorization header, so previews are blobs).

import { call, explain, workPath } from "./api.js";

/** An element with attributes (`text` sets its text, `on<event>` adds a listener). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") el.textContent = value;
    else if (name === "class") el.className = value;
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export const byId = (id) => document.getElementById(id);

/** Show a message in a status element; kind "error" styles it as one. */
export function say(el, text, kind = "info") {
  el.textContent = text;
  el.dataset.kind = kind;
}

/** Show an API (or network) error in a status element. */
export function fail(el, error) {
  say(el, explain(error), "error");
}

/** Wire a drop zone around a file input: dropped or chosen files go to `onFiles`. */
export function dropZone(zone, input, onFiles) {
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length) onFiles(files);
  });
  input.addEventListener("change", () => {
    const files = [...input.files];
    input.value = ""; // choosing the same file again still fires "change"
    if (files.length) onFiles(files);
  });
}

/** Save a blob as a file download. */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Object URLs made for one rendering, revoked together when it is replaced. */
export class Previews {
  constructor() {
    this.urls = [];
  }

  url(blob) {
    const url = URL.createObjectURL(blob);
    this.urls.push(url);
    return url;
  }

  revokeAll() {
    this.urls.forEach((url) => URL.revokeObjectURL(url));
    this.urls = [];
  }
}

// Previews share the server's few decoding workers with matches: a long portfolio fetches
// them a few at a time instead of queueing hundreds of requests at once.
const MAX_PREVIEW_FETCHES = 4;
let fetching = 0;
const waiting = [];

function fewAtATime(task) {
  return new Promise((resolve, reject) => {
    const run = () => {
      fetching += 1;
      task()
        .then(resolve, reject)
        .finally(() => {
          fetching -= 1;
          waiting.shift()?.();
        });
    };
    if (fetching < MAX_PREVIEW_FETCHES) run();
    else waiting.push(run);
  });
}

/** An image fetched with the key (an element with a note until it loads, or if it cannot). */
export function keyedImage(path, query, alt, previews) {
  const img = h("img", { alt, class: "thumb", hidden: true });
  const note = h("span", { class: "thumb placeholder", text: "loading preview…" });
  fewAtATime(() => call(path, { query, as: "blob" }))
    .then((blob) => {
      img.src = previews.url(blob);
      img.hidden = false;
      note.remove();
    })
    .catch((error) => {
      note.textContent = error.status === 403 ? "no preview for this key" : "no preview";
      note.title = explain(error);
    });
  return [img, note];
}

/** A figure whose image is the work's preview, fetched with the key; a note if not visible. */
export function workFigure(workId, previews, ...caption) {
  const image = keyedImage(`/v1/thumbnails/${workPath(workId)}`, { size: 256 }, `Preview of ${workId}`, previews);
  return h("figure", { class: "work" }, image, h("figcaption", {}, h("code", { text: workId }), ...caption));
}
