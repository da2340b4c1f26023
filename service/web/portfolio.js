// "My portfolio": upload works (one request per file, with a progress bar and per-file
// results), set consent terms, list registered works, and remove one or all of them with the
// signed receipt shown. A creator key manages its own portfolio; an admin names a creator.

import { call, workPath } from "./api.js";
import { Previews, byId, download, dropZone, fail, h, say, workFigure } from "./dom.js";
import { dateWords } from "./words.js";

const LISTED = 500; // works listed at most
const previews = new Previews();
let creator = null;
let works = [];

export function init(me) {
  creator = null;
  const admin = me.role === "admin";
  byId("portfolio-creator-form").hidden = !admin;
  byId("portfolio-body").hidden = true;
  byId("receipt").replaceChildren();
  byId("upload-results").replaceChildren();
  say(byId("portfolio-status"), admin ? "Name the creator whose portfolio to manage." : "");
  if (!admin) openPortfolio(me.creator_id);
}

async function openPortfolio(creatorId) {
  creator = creatorId;
  byId("portfolio-title").textContent = `Portfolio of ${creatorId}`;
  byId("portfolio-body").hidden = false;
  byId("remove-all-confirm").hidden = true;
  say(byId("portfolio-status"), "");
  await Promise.all([loadTerms(), loadWorks()]);
}

// --- uploads ---------------------------------------------------------------------------

async function upload(files) {
  const progress = byId("upload-progress");
  const status = byId("upload-status");
  const results = byId("upload-results");
  results.replaceChildren();
  progress.max = files.length;
  progress.value = 0;
  let failed = 0;
  for (const [i, file] of files.entries()) {
    say(status, `Uploading ${i + 1} of ${files.length}: ${file.name}…`);
    try {
      results.append(await uploadOne(file));
    } catch (error) {
      failed += 1;
      results.append(failedItem(file, error));
    }
    progress.value = i + 1;
  }
  const done = files.length - failed;
  const summary = `Uploaded ${done} of ${files.length} file${files.length === 1 ? "" : "s"}`;
  say(status, failed ? `${summary}; ${failed} failed (see below).` : `${summary}.`, failed ? "error" : "info");
  await loadWorks();
}

async function uploadOne(file) {
  const form = new FormData();
  form.append("image", file);
  form.append("creator_id", creator);
  const work = await call("/v1/works", { method: "POST", form });
  const what = work.created ? "registered as" : "already registered as";
  return h(
    "li",
    { "data-kind": "ok" },
    `${file.name}: ${what} `,
    h("code", { text: work.work_id }),
    work.warnings.length ? h("ul", {}, work.warnings.map((w) => h("li", { class: "warning", text: `Warning: ${w}` }))) : null,
  );
}

function failedItem(file, error) {
  const li = h("li", { "data-kind": "error" }, `${file.name}: `);
  const reason = h("span");
  fail(reason, error);
  li.append(reason);
  return li;
}

// --- consent terms ---------------------------------------------------------------------

async function loadTerms() {
  try {
    const { terms } = await call(`/v1/terms/creators/${encodeURIComponent(creator)}`);
    byId("terms-policy").value = terms.policy;
    byId("terms-rate").value = terms.revshare_rate ? String(+(terms.revshare_rate * 100).toFixed(8)) : "";
    byId("terms-training").checked = terms.training_allowed;
    byId("terms-licence").value = terms.licence;
    byId("terms-licence-url").value = terms.licence_url;
    byId("terms-credit").value = terms.credit;
    syncRate();
    say(byId("terms-status"), "");
  } catch (error) {
    fail(byId("terms-status"), error);
  }
}

function syncRate() {
  const revshare = byId("terms-policy").value === "revshare";
  byId("terms-rate").disabled = !revshare;
  byId("terms-rate").required = revshare;
}

async function saveTerms(event) {
  event.preventDefault();
  const policy = byId("terms-policy").value;
  const rate = Number.parseFloat(byId("terms-rate").value);
  const terms = {
    policy,
    revshare_rate: policy === "revshare" ? rate / 100 : null,
    training_allowed: byId("terms-training").checked,
    licence: byId("terms-licence").value.trim(),
    licence_url: byId("terms-licence-url").value.trim(),
    credit: byId("terms-credit").value.trim(),
  };
  const status = byId("terms-status");
  try {
    await call(`/v1/terms/creators/${encodeURIComponent(creator)}`, { method: "PUT", json: terms });
    say(status, "Terms saved: they apply from the very next match.");
  } catch (error) {
    fail(status, error);
  }
}

// --- works and removal -----------------------------------------------------------------

async function loadWorks() {
  const list = byId("works-list");
  try {
    const answer = await call("/v1/works", { query: { creator_id: creator, limit: LISTED } });
    works = answer.works;
  } catch (error) {
    fail(byId("portfolio-status"), error);
    return;
  }
  previews.revokeAll();
  const more = works.length === LISTED ? ` (the first ${LISTED})` : "";
  byId("works-title").textContent = `Registered works: ${works.length}${more}`;
  list.replaceChildren(...works.map(workItem));
  if (!works.length) list.append(h("li", { class: "empty", text: "No registered works." }));
  byId("remove-all").disabled = !works.length;
}

function workItem(work) {
  const remove = h("button", {
    type: "button",
    text: "Remove",
    "aria-label": `Remove ${work.work_id}`,
    onclick: () => removeOne(work, remove),
  });
  return h(
    "li",
    {},
    workFigure(work.work_id, previews, h("span", { text: `registered ${dateWords(work.registered_at)}` })),
    remove,
  );
}

async function removeOne(work, button) {
  button.disabled = true;
  try {
    const answer = await call(`/v1/works/${workPath(work.work_id)}`, { method: "DELETE" });
    showReceipt(answer.receipt);
    await loadWorks();
  } catch (error) {
    fail(byId("portfolio-status"), error);
    button.disabled = false;
  }
}

function askRemoveAll() {
  byId("remove-all-question").textContent =
    `Remove all ${works.length} works of ${creator}? They stop matching at once and their ` +
    "originals are deleted. This cannot be undone.";
  byId("remove-all-confirm").hidden = false;
  byId("remove-all-no").focus();
}

async function removeAll() {
  byId("remove-all-confirm").hidden = true;
  try {
    const answer = await call(`/v1/creators/${encodeURIComponent(creator)}/works`, { method: "DELETE" });
    showReceipt(answer.receipt);
    await loadWorks();
  } catch (error) {
    fail(byId("portfolio-status"), error);
  }
}

function showReceipt(receipt) {
  const body = receipt.body;
  const n = body.removed.length;
  const ids = body.removed.map((w) => w.work_id).join(", ");
  const json = JSON.stringify(receipt, null, 2);
  const save = h("button", {
    type: "button",
    text: "Download receipt",
    onclick: () => download(new Blob([json], { type: "application/json" }), `${body.receipt_id}.json`),
  });
  byId("receipt").replaceChildren(
    h("h2", { text: "Removal receipt" }),
    h("p", {
      class: "receipt-summary",
      text:
        `Removed ${n} work${n === 1 ? "" : "s"} (${ids || "none"}) on ${dateWords(body.issued_at)}. ` +
        `Receipt ${body.receipt_id}, signed by the service's ${receipt.signature.alg} key ` +
        `${receipt.signature.key_id}; check it offline with \`styletrace verify\`.`,
    }),
    h("details", {}, h("summary", { text: "Signed receipt (JSON)" }), h("pre", { text: json })),
    save,
  );
}

byId("portfolio-creator-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = byId("portfolio-creator").value.trim();
  if (value) openPortfolio(value);
});
dropZone(byId("upload-drop"), byId("upload-files"), upload);
byId("terms-policy").addEventListener("change", syncRate);
byId("terms-form").addEventListener("submit", saveTerms);
byId("remove-all").addEventListener("click", askRemoveAll);
byId("remove-all-yes").addEventListener("click", removeAll);
byId("remove-all-no").addEventListener("click", () => {
  byId("remove-all-confirm").hidden = true;
  byId("remove-all").focus();
});
