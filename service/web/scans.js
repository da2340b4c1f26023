// "Scans" (admins and reviewers): start a background scan of a folder under the server's scan
// root or of an uploaded manifest, watch its progress, browse its hits with previews of the
// scanned image and the matched work, list its errors, and export the results as CSV.

import { call } from "./api.js";
import { Previews, byId, download, fail, h, keyedImage, say, workFigure } from "./dom.js";
import { dateWords, policyWords, rateWords, verdictWords } from "./words.js";

const POLL_MS = 1000;
const PAGE = 50;
const previews = new Previews();
let timer = null;

export function init() {
  stopWatching();
  previews.revokeAll();
  byId("scan-hits").replaceChildren();
  say(byId("scan-status"), "");
  refresh();
}

function stopWatching() {
  if (timer !== null) clearTimeout(timer);
  timer = null;
}

async function refresh() {
  try {
    const { scan_root: enabled, jobs } = await call("/v1/scans");
    for (const el of byId("scan-form").elements) el.disabled = !enabled;
    if (!enabled) {
      say(
        byId("scan-status"),
        "Scans are off on this server: an operator sets STYLETRACE_SCAN_ROOT to the folder scans may read.",
        "error",
      );
    }
    byId("scan-jobs").replaceChildren(jobs.length ? h("div", { class: "table-wrap" }, jobTable(jobs)) : "");
  } catch (error) {
    fail(byId("scan-status"), error);
  }
}

function progressWords(job) {
  if (job.status === "queued") return "Waiting for an earlier scan to finish…";
  if (job.status === "running") {
    const doing = job.total === null ? "Listing images…" : `Scanning: ${job.scanned} of ${job.total} images…`;
    return job.message ? `${doing} ${job.message[0].toUpperCase()}${job.message.slice(1)}.` : doing;
  }
  if (job.status === "done") {
    const outside = job.outside_root ? ` Left out ${job.outside_root} linked from outside the scan root.` : "";
    const repeated = job.repeated ? ` Left out ${job.repeated} listed again.` : "";
    return `Done: ${job.scanned} images scanned${errorWords(job)}.${notImagesWords(job)}${outside}${repeated}`;
  }
  return `${job.status === "failed" ? "Failed" : "Interrupted"}: ${job.message}`;
}

// The images that could not be scanned, by error code: ", 2 could not be (file_not_found 1, invalid_image 1)"
function errorWords(job) {
  const counts = Object.entries(job.summary.errors ?? {});
  const total = counts.reduce((n, [, e]) => n + e.count, 0);
  if (!total) return ", none failed";
  return `, ${total} could not be (${counts.map(([code, e]) => `${code} ${e.count}`).join(", ")})`;
}

// A folder's files left out as not images, by suffix: " Left out 3 files that are not images (.heic 1, .txt 2)."
function notImagesWords(job) {
  const counts = Object.entries(job.not_images ?? {});
  const total = counts.reduce((n, [, count]) => n + count, 0);
  if (!total) return "";
  const kinds = counts.map(([suffix, count]) => `${suffix} ${count}`).join(", ");
  const what = total === 1 ? "1 file that is not an image" : `${total} files that are not images`;
  return ` Left out ${what} (${kinds}).`;
}

function jobTable(jobs) {
  const rows = jobs.map((job) =>
    h(
      "tr",
      {},
      h("td", { text: dateWords(job.created_at) }),
      h("td", { text: job.source }),
      h("td", { text: progressWords(job) }),
      h(
        "td",
        {},
        h("button", { type: "button", text: "Show hits", onclick: () => showRows(job.job_id, "hits") }),
        " ",
        h("button", { type: "button", text: "Export CSV", onclick: () => exportCsv(job.job_id) }),
        ...(["interrupted", "failed"].includes(job.status)
          ? [" ", h("button", { type: "button", text: "Resume", onclick: () => act(job.job_id, "resume") })]
          : []),
        ...(["queued", "running"].includes(job.status)
          ? [" ", h("button", { type: "button", text: "Cancel", onclick: () => act(job.job_id, "cancel") })]
          : []),
      ),
    ),
  );
  return h(
    "table",
    {},
    h("caption", { text: "Recent scans" }),
    h("thead", {}, h("tr", {}, ["Started", "What", "Progress", "Results"].map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, rows),
  );
}

async function start(event) {
  event.preventDefault();
  const folder = byId("scan-folder").value.trim();
  const manifest = byId("scan-manifest").files[0];
  const status = byId("scan-status");
  if (Boolean(folder) === Boolean(manifest)) {
    say(status, "Give either a folder or a manifest (one of them).", "error");
    return;
  }
  const form = new FormData();
  if (folder) form.append("folder", folder);
  else form.append("manifest", manifest);
  try {
    const job = await call("/v1/scans", { method: "POST", form });
    byId("scan-manifest").value = "";
    watch(job.job_id);
  } catch (error) {
    fail(status, error);
  }
}

// Resume an interrupted or failed scan, or cancel a queued or running one (a running one
// stops after the images in hand, and can be resumed); then follow it.
async function act(jobId, action) {
  try {
    await call(`/v1/scans/${encodeURIComponent(jobId)}/${action}`, { method: "POST" });
    watch(jobId);
  } catch (error) {
    fail(byId("scan-status"), error);
  }
}

async function watch(jobId, first = true) {
  stopWatching();
  const progress = byId("scan-progress");
  try {
    const job = await call(`/v1/scans/${encodeURIComponent(jobId)}`);
    progress.max = Math.max(job.total ?? 1, 1);
    progress.value = job.scanned;
    const finished = !["queued", "running"].includes(job.status);
    say(byId("scan-status"), progressWords(job), ["failed", "interrupted"].includes(job.status) ? "error" : "info");
    if (!finished) {
      if (first) await refresh(); // the table lists it, with its Cancel button
      timer = setTimeout(() => watch(jobId, false), POLL_MS);
      return;
    }
    await refresh();
    if (job.status === "done") await showRows(jobId, "hits");
  } catch (error) {
    fail(byId("scan-status"), error);
  }
}

async function showRows(jobId, show, offset = 0) {
  const box = byId("scan-hits");
  try {
    const answer = await call(`/v1/scans/${encodeURIComponent(jobId)}/rows`, {
      query: { show, offset, limit: PAGE },
    });
    if (offset === 0) {
      previews.revokeAll();
      const other = show === "hits" ? "errors" : "hits";
      box.replaceChildren(
        h("h2", { id: "scan-rows-title", text: show === "hits" ? `Hits: ${answer.total}` : `Errors: ${answer.total}` }),
        h("p", {}, h("button", { type: "button", text: `Show ${other}`, onclick: () => showRows(jobId, other) })),
        h("ul", { class: "scan-rows", "aria-labelledby": "scan-rows-title" }),
      );
    }
    const list = box.querySelector(".scan-rows");
    list.append(...answer.rows.map(show === "hits" ? hitItem : errorItem));
    box.querySelector(".more")?.remove();
    const shown = offset + answer.rows.length;
    if (shown < answer.total) {
      box.append(h("button", { type: "button", class: "more", text: "Show more", onclick: () => showRows(jobId, show, shown) }));
    }
  } catch (error) {
    if (offset === 0) {
      previews.revokeAll();
      box.replaceChildren(); // another job's rows must not stand under this job's error
    }
    fail(byId("scan-status"), error);
  }
}

function hitItem(row) {
  const scanned = keyedImage("/v1/scans/preview", { path: row.path }, `Scanned image ${row.path}`, previews);
  const content = row.content_work_id
    ? workFigure(row.content_work_id, previews, h("span", { text: `Content: ${verdictWords(row.content_verdict)}` }))
    : null;
  return h(
    "li",
    { class: "scan-hit" },
    h("figure", { class: "work" }, scanned, h("figcaption", {}, h("code", { text: row.path }))),
    content,
    h(
      "div",
      {},
      h("p", { text: `Content: ${verdictWords(row.content_verdict)}. ${rateWords(row.content_calibrated)}` }),
      h("p", {
        text: `Style: ${verdictWords(row.style_verdict)}${row.style_creator_id ? ` (${row.style_creator_id})` : ""}. ${rateWords(row.style_calibrated)}`,
      }),
      row.policy && row.policy !== "none" ? h("p", { text: `Policy: ${policyWords(row.policy)}.` }) : null,
    ),
  );
}

function errorItem(row) {
  return h("li", {}, h("code", { text: row.path }), " ", h("code", { text: row.error_code || "error" }), `: ${row.error}`);
}

async function exportCsv(jobId) {
  try {
    const blob = await call(`/v1/scans/${encodeURIComponent(jobId)}/results.csv`, { as: "blob" });
    download(blob, `${jobId}.csv`);
    say(byId("scan-status"), "Results exported as CSV.");
  } catch (error) {
    fail(byId("scan-status"), error);
  }
}

byId("scan-form").addEventListener("submit", start);
