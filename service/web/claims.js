// "Claims": list and filter claims, see each one's status, matches, history and dispute
// window, and act on it as the key's role allows (service/claims.py MOVES): a platform
// disputes within the window, the claimant withdraws, a reviewer upholds or rejects once the
// claim is disputed or its window has closed. The server decides; the page offers what fits.

import { call } from "./api.js";
import { byId, download, fail, h, say } from "./dom.js";
import { dateWords, disputeWindow, percent, rateWords, upperWords, verdictWords } from "./words.js";

const MOVES = {
  dispute: { label: "Dispute", from: ["open"], roles: ["platform", "admin"] },
  withdraw: { label: "Withdraw", from: ["open", "disputed"], roles: ["creator", "admin"] },
  uphold: { label: "Uphold", from: ["open", "disputed"], roles: ["reviewer", "admin"] },
  reject: { label: "Reject", from: ["open", "disputed"], roles: ["reviewer", "admin"] },
};
const KINDS = { revshare: "Revenue-share", takedown: "Takedown" };
const PAGE = 50; // claims per page; "Show more claims" reads the next
let me = null;

export function init(who) {
  me = who;
  byId("claims-creator-field").hidden = who.role === "creator";
  byId("claims-list").replaceChildren();
  show();
}

/** The actions this key may take on this claim now. */
function possibleMoves(claim) {
  const { open } = disputeWindow(claim.dispute_until);
  return Object.entries(MOVES).filter(([action, move]) => {
    if (!move.roles.includes(me.role) || !move.from.includes(claim.status)) return false;
    if (action === "dispute") return open;
    if (action === "uphold" || action === "reject") return claim.status === "disputed" || !open;
    return true;
  });
}

// The next page continues the filters its first page was read with (not what the form says
// now), and its button goes as it is pressed, so a second press cannot read a page twice.
async function show(event, more = null) {
  event?.preventDefault();
  const status = byId("claims-status-line");
  const filters = more?.filters ?? { status: byId("claims-status").value, limit: PAGE };
  if (!more && me.role !== "creator") filters.creator_id = byId("claims-creator").value.trim();
  const query = more ? { ...filters, after: more.after } : filters;
  say(status, "Loading claims…");
  try {
    const { claims, next_after: next } = await call("/v1/claims", { query });
    const list = byId("claims-list");
    if (more) list.append(...claims.map(claimCard));
    else list.replaceChildren(...claims.map(claimCard));
    const shown = list.querySelectorAll("article.claim").length;
    if (next) {
      const button = h("button", { type: "button", class: "more", text: "Show more claims" });
      button.onclick = () => {
        button.remove();
        show(null, { filters, after: next });
      };
      list.append(button);
    }
    const words = `${shown} claim${shown === 1 ? "" : "s"}${next ? " so far; more below" : ""}.`;
    say(status, shown ? words : "No claims match.");
  } catch (error) {
    fail(status, error);
  }
}

function claimCard(claim) {
  const card = h(
    "article",
    { class: "card claim", id: `claim-${claim.claim_id}`, "data-status": claim.status },
    h("h2", { text: `${KINDS[claim.kind] ?? claim.kind} claim ${claim.claim_id}` }),
    h("p", { class: "claim-status" }, "Status: ", h("strong", { text: claim.status })),
    h("p", { text: `For ${claim.creator_id}, filed ${dateWords(claim.created_at)} by ${claim.claimant}.` }),
    h("p", { class: "window", text: stage(claim) }),
    h("h3", { text: "What matched" }),
    h("ul", {}, claim.matched.map(matchedItem)),
    h("h3", { text: "History" }),
    h("ol", { class: "history" }, claim.events.map(eventItem)),
  );
  card.append(actions(claim, card));
  return card;
}

/** Where the claim stands: its dispute window while open, else who decides or decided. */
function stage(claim) {
  if (claim.status === "open") return disputeWindow(claim.dispute_until).words;
  if (claim.status === "disputed") return "Disputed: a reviewer decides.";
  return `Closed: ${claim.status}.`;
}

function matchedItem(m) {
  const what = m.via === "content" ? `copy of ${m.work_id}` : `style of ${m.creator_id} (${percent(m.share)} share)`;
  const alone = upperWords(m.upper); // claims filed before `upper` existed have none
  const counts = alone ? ` ${alone[0].toUpperCase()}${alone.slice(1)}.` : "";
  return h("li", { text: `${verdictWords(m.verdict)}: ${what}. ${rateWords(m.calibrated)}${counts}` });
}

function eventItem(e) {
  const move = e.from_status ? `${e.from_status} → ${e.to_status}` : e.to_status;
  return h("li", { text: `${dateWords(e.at)}, ${e.actor}: ${move}${e.reason ? ` (${e.reason})` : ""}` });
}

function actions(claim, card) {
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const packet = h("button", { type: "button", text: "Download evidence" });
  packet.addEventListener("click", () => evidence(claim, status));
  const box = h("div", { class: "claim-actions" }, packet);
  const moves = possibleMoves(claim);
  if (moves.length) {
    const reasonId = `reason-${claim.claim_id}`;
    const reason = h("input", { id: reasonId, maxlength: 2000, autocomplete: "off" });
    box.append(
      h("label", { for: reasonId, text: "Reason, for the record" }),
      reason,
      ...moves.map(([action, move]) =>
        h("button", { type: "button", text: move.label, onclick: () => act(claim, action, reason, card, status) }),
      ),
    );
  } else if (claim.status === "open" && ["reviewer", "admin"].includes(me.role)) {
    box.append(h("p", { text: "A decision waits until the claim is disputed or its window closes." }));
  }
  box.append(status);
  return box;
}

async function act(claim, action, reasonInput, card, status) {
  const reason = reasonInput.value.trim();
  if (!reason) {
    say(status, "Give a reason first: it is kept in the claim's history.", "error");
    reasonInput.focus();
    return;
  }
  try {
    const moved = await call(`/v1/claims/${encodeURIComponent(claim.claim_id)}/${action}`, {
      method: "POST",
      json: { reason },
    });
    const fresh = claimCard(moved);
    card.replaceWith(fresh);
    say(fresh.querySelector(".status"), `Claim ${moved.claim_id} is now ${moved.status}.`);
    fresh.querySelector("h2").setAttribute("tabindex", "-1");
    fresh.querySelector("h2").focus();
  } catch (error) {
    fail(status, error);
  }
}

async function evidence(claim, status) {
  try {
    const blob = await call(`/v1/claims/${encodeURIComponent(claim.claim_id)}/evidence`, { as: "blob" });
    download(blob, `${claim.claim_id}.zip`);
    say(status, "Evidence packet downloaded.");
  } catch (error) {
    fail(status, error);
  }
}

byId("claims-filter").addEventListener("submit", show);
