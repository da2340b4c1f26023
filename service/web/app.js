// The page shell: sign-in with an API key (kept in sessionStorage, never in the URL), the
// sections this key's role may use, and switching between them. Each section lives in its
// own module: its listeners are wired when it loads, and `init(me)` (re)starts it for the
// signed-in key the first time it is opened.

import { call, explain, onUnauthorized, session } from "./api.js";
import { byId, say } from "./dom.js";
import * as check from "./check.js";
import * as portfolio from "./portfolio.js";
import * as claims from "./claims.js";
import * as scans from "./scans.js";

const EVERYONE = ["admin", "reviewer", "platform", "creator"];
const SECTIONS = {
  check: { module: check, roles: EVERYONE },
  portfolio: { module: portfolio, roles: ["admin", "creator"] },
  claims: { module: claims, roles: EVERYONE },
  scans: { module: scans, roles: ["admin", "reviewer"] },
};
const opened = new Set();
let me = null;

function allowed(name) {
  return me !== null && SECTIONS[name].roles.includes(me.role);
}

function open(name, focus = true) {
  if (!allowed(name)) name = "check";
  for (const [other] of Object.entries(SECTIONS)) byId(other).hidden = other !== name;
  byId("signin").hidden = true;
  for (const button of byId("nav").querySelectorAll("button")) {
    if (button.dataset.section === name) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  history.replaceState(null, "", `#${name}`);
  if (!opened.has(name)) {
    opened.add(name);
    SECTIONS[name].module.init(me);
  }
  if (focus) byId(`${name}-title`).focus();
}

function start(who) {
  me = who;
  opened.clear(); // sections start afresh for this key
  const whom = who.creator_id ? ` ${who.creator_id}` : "";
  byId("who-text").textContent = `Signed in as ${who.role}${whom} (key ${who.key_id})`;
  byId("who").hidden = false;
  const nav = byId("nav");
  for (const button of nav.querySelectorAll("button")) button.hidden = !allowed(button.dataset.section);
  nav.hidden = false;
  open(window.location.hash.slice(1) || "check", false);
}

function signedOut(message = "") {
  session.clear();
  me = null;
  byId("nav").hidden = true;
  byId("who").hidden = true;
  for (const name of Object.keys(SECTIONS)) byId(name).hidden = true;
  byId("signin").hidden = false;
  say(byId("signin-status"), message, message ? "error" : "info");
}

async function signIn(event) {
  event.preventDefault();
  const input = byId("signin-key");
  const key = input.value.trim();
  if (!/^[\x21-\x7e]+$/.test(key)) {
    const problem = key ? "That is not an API key: keys have no spaces or accented letters." : "Enter your API key first.";
    say(byId("signin-status"), problem, "error");
    input.focus();
    return;
  }
  session.set(key);
  try {
    const who = await call("/v1/me");
    input.value = "";
    say(byId("signin-status"), "");
    start(who);
  } catch (error) {
    session.clear();
    say(byId("signin-status"), explain(error), "error");
    input.focus();
  }
}

async function resume() {
  if (!session.key) return;
  try {
    start(await call("/v1/me"));
  } catch (error) {
    signedOut(explain(error));
  }
}

byId("signin-form").addEventListener("submit", signIn);
byId("sign-out").addEventListener("click", () => {
  session.clear();
  window.location.replace(window.location.pathname); // a fresh page: no previews or results left
});
byId("nav").addEventListener("click", (event) => {
  const name = event.target.closest("button")?.dataset.section;
  if (name) open(name);
});
document.addEventListener("styletrace:open", (event) => open(event.detail));
onUnauthorized((error) => {
  if (me !== null) signedOut(explain(error));
});
resume();
