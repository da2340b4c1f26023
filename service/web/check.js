// "Check an image": drop or choose an image, see the style and content verdicts side by side
// with their calibrated strength in words, the query next to the matched works, the policy
// of each matched creator; then file a claim or download a signed evidence packet.

import { call, explain } from "./api.js";
import { Previews, byId, download, dropZone, fail, h, say, workFigure } from "./dom.js";
import { basisWords, disputeWindow, percent, policyWords, rateWords, verdictWords } from "./words.js";

const SHOWN = 4; // works and creators shown per verdict
const previews = new Previews();
let me = null;
let current = null; // the File last checked

export function init(who) {
  me = who;
  current = null;
  previews.revokeAll();
  byId("check-result").replaceChildren();
  say(byId("check-status"), "");
}

dropZone(byId("check-drop"), byId("check-file"), (files) => check(files[0]));

function imageForm(file, fields = {}) {
  const form = new FormData();
  form.append("image", file);
  for (const [name, value] of Object.entries(fields)) if (value) form.append(name, value);
  return form;
}

async function check(file) {
  current = file;
  previews.revokeAll();
  const out = byId("check-result");
  out.replaceChildren();
  out.setAttribute("aria-busy", "true");
  say(byId("check-status"), `Checking ${file.name}…`);
  try {
    const result = await call("/v1/match", { method: "POST", form: imageForm(file) });
    if (file !== current) return; // a newer check has started
    out.replaceChildren(...render(file, result));
    say(
      byId("check-status"),
      `Checked ${file.name}: style ${verdictWords(result.style.verdict).toLowerCase()}, ` +
        `content ${verdictWords(result.content.verdict).toLowerCase()}.`,
    );
  } catch (error) {
    if (file === current) fail(byId("check-status"), error);
  } finally {
    out.removeAttribute("aria-busy");
  }
}

function render(file, result) {
  const placed = result.content.matches.find((m) => m.verdict !== "none" && m.placement);
  const where = placed ? ` The red outline marks where ${placed.work_id} lies in it.` : "";
  const query = h(
    "figure",
    { class: "query" },
    h(
      "div",
      { class: "placed" },
      h("img", { src: previews.url(file), alt: `Your image, ${file.name}`, class: "thumb" }),
      placed ? outline(placed.placement, result.query) : null,
    ),
    h("figcaption", {
      text: `Your image: ${file.name} (${result.query.width} × ${result.query.height}).${where}`,
    }),
  );
  return [
    h("div", { class: "verdicts" }, query, styleCard(result.style), contentCard(result.content)),
    policyBlock(result.policy),
    actions(file, result),
  ];
}

/** Where verification placed a work in the query: its corners, in the query's pixels, drawn
 * over the query's preview (an SVG of the query's size, so it scales with the picture). */
function outline(corners, query) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${query.width} ${query.height}`);
  svg.setAttribute("class", "outline");
  svg.setAttribute("aria-hidden", "true");
  const shape = document.createElementNS(ns, "polygon");
  shape.setAttribute("points", corners.map(([x, y]) => `${x},${y}`).join(" "));
  svg.append(shape);
  return svg;
}

function verdictCard(id, title, question, part, ...details) {
  return h(
    "article",
    { id, class: "card", "data-verdict": part.verdict, "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title`, text: title }),
    h("p", { class: "question", text: question }),
    h("p", { class: "verdict", text: verdictWords(part.verdict) }),
    h("p", { class: "strength", text: rateWords(part.calibrated) }),
    h("p", { class: "raw", text: `Raw similarity ${part.score.toFixed(2)} (not comparable across models).` }),
    ...details,
  );
}

function styleCard(style) {
  const creators = style.creators.slice(0, SHOWN).map((c) =>
    h(
      "li",
      {},
      h("strong", { text: c.creator_id }),
      `: ${verdictWords(c.verdict).toLowerCase()}`,
      c.verdict !== "none" ? `, ${percent(c.share)} of the style attribution` : "",
      `. ${rateWords(c.calibrated)}`,
      c.verdict !== "none" ? h("span", { class: "basis", text: ` ${basisWords(c)}` }) : null,
    ),
  );
  const generic =
    style.generic_creators > 1
      ? h("p", {
          text: `${style.generic_creators} registered creators clear the "possible" bar: this style is fairly generic.`,
        })
      : null;
  return verdictCard(
    "style-verdict",
    "Style",
    "Does it imitate a registered creator's style?",
    style,
    creators.length ? h("ul", { class: "creators" }, creators) : h("p", { text: "No registered creator is close." }),
    generic,
    gallery("Closest works in this style", style.matches),
  );
}

function contentCard(content) {
  const title = content.verdict === "none" ? "Closest registered works (not copies)" : "Matched works";
  return verdictCard(
    "content-verdict",
    "Content",
    "Is it a copy, or an edited copy, of a registered work?",
    content,
    content.matches.length ? gallery(title, content.matches) : h("p", { text: "No registered work is close." }),
  );
}

/** The keypoint evidence of a match, in words: how many agree, and over how much of the work. */
function placementWords(m) {
  const where =
    m.coverage === null || m.coverage === undefined
      ? ""
      : `, across ${Math.round(m.coverage * 100)}% of the work's detailed regions`;
  const mirror = m.mirrored ? " (the copy is mirrored)" : "";
  return `${m.inliers} keypoints agree on one placement${mirror}${where}.`;
}

function gallery(title, matches) {
  if (!matches.length) return null;
  const figures = matches.slice(0, SHOWN).map((m) =>
    h(
      "li",
      {},
      workFigure(
        m.work_id,
        previews,
        h("span", { text: `${verdictWords(m.verdict)} · ${rateWords(m.calibrated)}` }),
        m.pdq_distance !== null && m.pdq_distance !== undefined
          ? h("span", { text: `Near-identical: perceptual hash distance ${m.pdq_distance}.` })
          : null,
        m.inliers ? h("span", { text: placementWords(m) }) : null,
        m.verdict !== "none" ? h("span", { class: "basis", text: basisWords(m) }) : null,
        ...(m.warnings ?? []).map((w) => h("span", { class: "warning", text: `Registered with a warning: ${w}.` })),
      ),
    ),
  );
  return h("div", {}, h("h3", { text: title }), h("ul", { class: "gallery" }, figures));
}

function policyBlock(policy) {
  const box = h(
    "section",
    { class: "policy", "aria-labelledby": "policy-title" },
    h("h2", { id: "policy-title", text: "Policy that applies" }),
  );
  if (!policy || policy.applies.length === 0) {
    box.append(h("p", { text: "Nothing matched closely enough for a creator's policy to apply." }));
    return box;
  }
  box.append(
    h("p", { class: "resolved", text: `Resolved: ${policyWords(policy.resolved)} (${policy.reason}).` }),
  );
  const byCreator = new Map();
  for (const applied of policy.applies) {
    if (!byCreator.has(applied.creator_id)) byCreator.set(applied.creator_id, []);
    byCreator.get(applied.creator_id).push(applied);
  }
  const items = [...byCreator].map(([creator, list]) =>
    h("li", {}, h("strong", { text: creator }), h("ul", {}, list.map(appliedItem))),
  );
  box.append(h("ul", { class: "policies" }, items));
  return box;
}

function appliedItem(a) {
  const what = a.work_id ? `${a.via} (${a.work_id})` : a.via;
  const extras = [a.licence && `licence: ${a.licence}`, a.credit && `credit: ${a.credit}`].filter(Boolean);
  return h(
    "li",
    {},
    `${policyWords(a.policy, a.revshare_rate)}, via ${what}, ${verdictWords(a.verdict).toLowerCase()}`,
    extras.length ? ` (${extras.join("; ")})` : "",
  );
}

function claimable(result) {
  const creators = [
    ...result.content.matches.filter((m) => m.verdict !== "none").map((m) => m.creator_id),
    ...result.style.creators.filter((c) => c.verdict !== "none").map((c) => c.creator_id),
  ];
  return [...new Set(creators)];
}

function actions(file, result) {
  const status = h("p", { id: "check-action-status", class: "status", role: "status", "aria-live": "polite" });
  const box = h(
    "section",
    { class: "actions", "aria-labelledby": "actions-title" },
    h("h2", { id: "actions-title", text: "What next" }),
  );
  if (["admin", "creator"].includes(me.role)) box.append(claimForm(file, claimable(result), status));
  const packet = h("button", { type: "button", text: "Download evidence packet" });
  packet.addEventListener("click", () => evidence(file, result, packet, status));
  box.append(h("p", {}, packet), status);
  return box;
}

function claimForm(file, creators, status) {
  if (!creators.length) {
    return h("p", { text: "Nothing here matches a creator closely enough to file a claim." });
  }
  const kind = h(
    "select",
    { id: "claim-kind", name: "kind" },
    h("option", { value: "revshare", text: "Revenue share" }),
    h("option", { value: "takedown", text: "Takedown" }),
  );
  const creator =
    me.role === "admin"
      ? h("select", { id: "claim-creator", name: "creator_id" }, creators.map((c) => h("option", { value: c, text: c })))
      : null;
  const submit = h("button", { type: "submit", text: "File a claim" });
  const form = h(
    "form",
    { class: "inline", id: "claim-form" },
    h("label", { for: "claim-kind", text: "Kind of claim" }),
    kind,
    creator ? h("label", { for: "claim-creator", text: "for creator" }) : null,
    creator,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    say(status, "Filing the claim (the image is matched again)…");
    try {
      const fields = { kind: kind.value, creator_id: creator?.value };
      const claim = await call("/v1/claims", { method: "POST", form: imageForm(file, fields) });
      say(
        status,
        `Claim ${claim.claim_id} filed for ${claim.creator_id}: ${claim.status}. ` +
          disputeWindow(claim.dispute_until).words,
      );
      status.append(
        " ",
        h("button", {
          type: "button",
          text: "See it in Claims",
          onclick: () => document.dispatchEvent(new CustomEvent("styletrace:open", { detail: "claims" })),
        }),
      );
    } catch (error) {
      fail(status, error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

async function evidence(file, result, button, status) {
  button.disabled = true;
  say(status, "Building a signed evidence packet (the image is matched again)…");
  try {
    const packet = await call("/v1/evidence", { method: "POST", form: imageForm(file), as: "blob" });
    download(packet, `evidence-${result.query.sha256.slice(0, 12)}.zip`);
    say(status, "Evidence packet downloaded: a zip with the query, the matches and a signed manifest.");
  } catch (error) {
    say(status, explain(error), "error");
  } finally {
    button.disabled = false;
  }
}
