// The web inbox: renders GET /_ringlet/inbox and reads it again whenever the long-poll
// GET /_ringlet/inbox/changes reports a new version. Text is always set with textContent.
"use strict";

const TOKEN_KEY = "ringlet-admin-token";
let version = null;
// What the user opened or closed, by key, so that a live update keeps it so.
const openState = new Map();

function disclosure(key, title, openByDefault) {
  const details = el("details");
  details.dataset.key = key;
  details.open = openState.has(key) ? openState.get(key) : openByDefault;
  details.addEventListener("toggle", () => openState.set(key, details.open));
  details.append(el("summary", title));
  return details;
}

function headers(extra) {
  const h = Object.assign({ "Accept": "application/json" }, extra || {});
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) h["X-Ringlet-Admin-Token"] = token;
  return h;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function setStatus(text) {
  document.getElementById("status").textContent = text;
}

function messageItem(m) {
  const li = el("li");
  li.dataset.messageId = String(m.id);
  li.append(el("span", m.direction, m.direction), " ");
  li.append(el("span", m.from + " → " + [].concat(m.to).join(", "), "meta"), " ");
  li.append(el("q", m.text, "text"), " ");
  let status = m.status;
  if (m.deliveryErrorCode) status += " (" + m.deliveryErrorCode + ")";
  li.append(el("span", status, "status " + m.status), " ");
  li.append(el("time", m.creationTime, "meta"));
  return li;
}

function thread(key, title, messages) {
  const details = disclosure(key, title + " — " + messages.length + " message(s)", true);
  const list = el("ol", null, "messages");
  messages.forEach((m) => list.append(messageItem(m)));
  details.append(list);
  return details;
}

function renderHandsets(handsets) {
  const root = document.getElementById("handsets");
  const known = document.getElementById("known-handsets");
  root.replaceChildren();
  known.replaceChildren();
  if (!handsets.length) root.append(el("p", "No handset has sent or received an SMS yet."));
  handsets.forEach((h) => {
    const option = el("option");
    option.value = h.phoneNumber;
    known.append(option);
    const section = el("section");
    section.dataset.handset = h.phoneNumber;
    section.append(el("h3", h.phoneNumber));
    const byPeer = new Map();
    h.messages.forEach((m) => {
      const peer = m.direction === "Inbound" ? m.from : m.to;
      if (!byPeer.has(peer)) byPeer.set(peer, []);
      byPeer.get(peer).push({
        id: m.id, direction: m.direction, from: m.from, to: m.to, text: m.text,
        status: m.status, creationTime: m.creationTime,
      });
    });
    byPeer.forEach((items, peer) => {
      section.append(thread("handset " + h.phoneNumber + " " + peer, "with " + peer, items));
    });
    root.append(section);
  });
}

function renderAccounts(accounts) {
  const root = document.getElementById("accounts");
  const numbers = document.getElementById("company-numbers");
  root.replaceChildren();
  numbers.replaceChildren();
  accounts.forEach((a) => {
    const section = el("section");
    section.dataset.account = a.id;
    section.append(el("h3", a.name + " (main number " + (a.mainNumber || "none") + ")"));
    if (a.mainNumber) {
      const option = el("option");
      option.value = a.mainNumber;
      numbers.append(option);
    }
    a.extensions.forEach((e) => {
      const label = e.extensionNumber + " " + e.name + " — " + e.type + ", " + e.status +
        (e.phoneNumbers.length ? ", " + e.phoneNumbers.join(", ") : "");
      const ext = disclosure("extension " + e.id, label, e.conversations.length > 0);
      ext.dataset.extension = e.id;
      e.phoneNumbers.forEach((n) => {
        const option = el("option");
        option.value = n;
        numbers.append(option);
      });
      if (!e.conversations.length) ext.append(el("p", "No messages.", "meta"));
      e.conversations.forEach((c) => {
        const title = c.type + " conversation " + c.conversationId + ": " + c.members.join(", ");
        ext.append(thread("conversation " + e.id + " " + c.conversationId, title, c.messages));
      });
      section.append(ext);
    });
    root.append(section);
  });
}

async function load() {
  const response = await fetch("/_ringlet/inbox", { headers: headers() });
  if (response.status === 403) {
    document.getElementById("token-form").hidden = false;
    setStatus("This server needs its admin token.");
    return false;
  }
  if (!response.ok) {
    setStatus("Could not load the inbox (HTTP " + response.status + ").");
    return false;
  }
  const body = await response.json();
  version = body.version;
  renderHandsets(body.handsets);
  renderAccounts(body.accounts);
  setStatus("Up to date; new messages appear as they arrive.");
  return true;
}

async function follow() {
  // Long-poll: each request waits up to 20 s for a change anywhere on the server.
  for (;;) {
    try {
      const query = new URLSearchParams({ version: version || "", wait: "20" });
      const response = await fetch("/_ringlet/inbox/changes?" + query, { headers: headers() });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const body = await response.json();
      if (body.version !== version) await load();
    } catch (error) {
      setStatus("Connection lost (" + error.message + "); retrying…");
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

async function sendFromHandset(event) {
  event.preventDefault();
  const form = event.target;
  const result = document.getElementById("send-result");
  const handset = form.elements.from.value.trim();
  const response = await fetch(
    "/_ringlet/handsets/" + encodeURIComponent(handset) + "/messages",
    {
      method: "POST",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ to: form.elements.to.value.trim(), text: form.elements.text.value }),
    },
  );
  const body = await response.json();
  if (response.ok) {
    result.textContent = body.messageId === null
      ? "Sent; the number's extension is disabled, so it was dropped."
      : "Sent (message " + body.messageId + ").";
    form.elements.text.value = "";
  } else {
    result.textContent = "Refused: " + body.message;
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("handset-form").addEventListener("submit", sendFromHandset);
  document.getElementById("token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, event.target.elements.token.value);
    if (await load()) {
      event.target.hidden = true;
      follow();
    }
  });
  if (await load()) follow();
});
