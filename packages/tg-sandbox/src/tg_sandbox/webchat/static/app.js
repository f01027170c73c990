// The sandbox's web chat: a Telegram-like client on top of /sandbox/api. It long-polls
// /wait for the world's version and, on every change, re-reads /state and the chats.
// On a narrow screen the chat list and the open chat are two screens (body[data-screen]),
// as in Telegram's mobile apps; on a wide one they stand side by side.

import { $, avatar, colorOf, el, nameOf, toast } from "./dom.js";
import { draftNode, fillDraft, isService, messageNode, summary } from "./messages.js";

const API = "/sandbox/api";
const TYPING_MS = 5000;
const PRIVATE = { kind: "private", chatId: null, threadId: null };
const NARROW = window.matchMedia("(width <= 720px)"); // keep in step with style.css

const app = {
  version: -1,
  bot: null,
  users: [],
  groups: [],
  identity: null,
  open: PRIVATE,
  replyTo: null,
  lastId: new Map(), // chat key -> highest message id seen
  unread: new Map(), // view key -> messages from others not yet looked at
  preview: new Map(), // view key -> last message, one line
  typingUntil: new Map(), // view key -> when "typing…" goes away
  rendered: new Map(), // message id -> { sig, node } of the open view
  renderedView: null,
  drafts: new Map(), // draft id -> node
  hasDrafts: false,
  stickToBottom: true,
  cursors: { sendChatAction: 0, answerCallbackQuery: 0 },
  cursorsReady: false,
  pendingQueries: new Set(), // callback queries this page sent, waiting for the bot's answer
  earlyAnswers: new Map(), // answers read before /press told us the query id
  chatNodes: new Map(), // view key -> chat-list node
  usersSig: "",
  refreshing: null,
  dirty: false,
};

// --- the control API and where things are ----------------------------------------------------

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, init);
  const data = await response.json();
  if (!data.ok) throw new Error(data.error || `request failed (${response.status})`);
  return data.result;
}

function place(open = app.open) {
  if (open.kind === "private") return { user_id: app.identity, bot: app.bot.id };
  return { user_id: app.identity, chat_id: open.chatId };
}

function chatKey(open = app.open) {
  return open.kind === "private" ? `p:${app.identity}` : `g:${open.chatId}`;
}

function viewKey(open = app.open) {
  return open.threadId ? `${chatKey(open)}:${open.threadId}` : chatKey(open);
}

function viewOf(key, message, chat) {
  const thread = chat.is_forum && message.message_thread_id;
  return thread ? `${key}:${thread}` : key;
}

function inSight(key) {
  const chatShown = document.body.dataset.screen === "chat" || !NARROW.matches;
  return chatShown && key === viewKey();
}

function openGroup() {
  return app.groups.find((g) => g.id === app.open.chatId) || null;
}

// --- the open chat -----------------------------------------------------------------------------

const ctx = {
  get identity() { return app.identity; },
  get bot() { return app.bot; },
  onReply: startReply,
  onPress: press,
  onPay: payFor,
  onStop: stopDraft,
  scrollTo(messageId) {
    app.rendered.get(messageId)?.node.scrollIntoView({ block: "center", behavior: "smooth" });
  },
};

function inOpenView(m, chat) {
  return !chat.is_forum || (m.message_thread_id || null) === (app.open.threadId || null);
}

function renderView(view) {
  const list = $("messages");
  if (app.renderedView !== viewKey()) {
    const messages = el("div", { class: "message-stack" });
    list.replaceChildren(messages, el("div", { class: "draft-stack" }));
    app.rendered.clear();
    app.drafts.clear();
    app.renderedView = viewKey();
    app.stickToBottom = true;
  }
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const stick = app.stickToBottom || nearBottom;
  const stack = list.firstChild;
  const keep = new Set();
  let previous = null;
  for (const m of view.messages.filter((message) => inOpenView(message, view.chat))) {
    const sig = `${app.identity}|${JSON.stringify(m)}`;
    keep.add(m.message_id);
    let entry = app.rendered.get(m.message_id);
    if (!entry || entry.sig !== sig) {
      const node = messageNode(m, view.chat, ctx);
      if (entry) entry.node.replaceWith(node);
      entry = { sig, node };
      app.rendered.set(m.message_id, entry);
    }
    const expected = previous ? previous.nextSibling : stack.firstChild;
    if (expected !== entry.node) stack.insertBefore(entry.node, expected);
    previous = entry.node;
  }
  for (const [id, entry] of app.rendered) {
    if (!keep.has(id)) {
      entry.node.remove();
      app.rendered.delete(id);
    }
  }
  renderDrafts(view.drafts || []);
  if (stick) list.scrollTop = list.scrollHeight;
  app.stickToBottom = false;
}

function renderDrafts(drafts) {
  app.hasDrafts = drafts.length > 0;
  const live = new Set(drafts.map((d) => d.draft_id));
  for (const [id, node] of app.drafts) {
    if (!live.has(id)) {
      node.remove();
      app.drafts.delete(id);
    }
  }
  for (const draft of drafts) {
    if (!app.drafts.has(draft.draft_id)) {
      const node = draftNode(draft, ctx);
      app.drafts.set(draft.draft_id, node);
      $("messages").lastChild.append(node);
    }
    fillDraft(app.drafts.get(draft.draft_id), draft);
  }
}

function renderHeader() {
  const group = app.open.kind === "group" ? openGroup() : null;
  const topic = group?.topics.find((t) => t.message_thread_id === app.open.threadId);
  const title = group ? group.title : nameOf(app.bot);
  $("chat-title").textContent = topic ? `${title} › ${topic.name}` : title;
  $("chat-avatar").textContent = title.slice(0, 1).toUpperCase();
  $("chat-avatar").style.background = colorOf(group ? group.id : app.bot?.id);
  const typing = (app.typingUntil.get(viewKey()) || 0) > Date.now();
  $("typing").textContent = `${nameOf(app.bot)} is typing…`;
  $("typing").hidden = !typing;
  $("chat-subtitle").hidden = typing;
  $("chat-subtitle").textContent = !group ? `bot · @${app.bot?.username || ""}`
    : `${group.members.length} members${group.is_forum && !topic ? " · General" : ""}`;
  const me = app.users.find((u) => u.id === app.identity);
  $("composer").placeholder = `Message as ${me ? me.first_name : "…"}`;
}

// --- the chat list and the identity selector ---------------------------------------------------

function listEntries() {
  const entries = [
    { key: `p:${app.identity}`, open: PRIVATE, title: nameOf(app.bot), color: app.bot.id },
  ];
  for (const group of app.groups) {
    const open = { kind: "group", chatId: group.id, threadId: null };
    entries.push({ key: `g:${group.id}`, open, title: group.title, color: group.id });
    for (const topic of group.is_forum ? group.topics : []) {
      const threadId = topic.message_thread_id;
      entries.push({
        key: `g:${group.id}:${threadId}`,
        open: { ...open, threadId },
        title: topic.name,
        topicColor: topic.icon_color,
      });
    }
  }
  return entries;
}

function topicMark(iconColor) {
  const mark = el("div", { class: "topic-mark", text: "#" });
  mark.style.color = `#${Number(iconColor).toString(16).padStart(6, "0")}`;
  return mark;
}

function chatListNode(entry) {
  const topic = entry.topicColor !== undefined;
  const node = el("button", {
    class: topic ? "chat-item topic" : "chat-item",
    testid: topic ? "topic-item" : "chat-item",
  });
  node.type = "button";
  const mark = topic ? topicMark(entry.topicColor) : avatar(entry.color, entry.title);
  node.append(
    mark,
    el("div", { class: "chat-item-text" }, [
      el("div", { class: "chat-item-title", testid: "chat-item-title" }),
      el("div", { class: "chat-item-preview" }),
    ]),
    el("div", { class: "badge", testid: "unread-badge" }),
  );
  node.addEventListener("click", () => openChat(entry.open));
  return node;
}

function renderBackBadge() {
  let unread = 0;
  for (const [key, count] of app.unread) if (key !== viewKey()) unread += count;
  $("back-badge").textContent = unread ? String(unread) : "";
  $("back-badge").hidden = !unread;
}

function renderChatList() {
  renderBackBadge();
  const list = $("chat-list");
  const current = viewKey();
  const keep = new Set();
  let previous = null;
  for (const entry of listEntries()) {
    keep.add(entry.key);
    if (!app.chatNodes.has(entry.key)) app.chatNodes.set(entry.key, chatListNode(entry));
    const node = app.chatNodes.get(entry.key);
    node.querySelector(".chat-item-title").textContent = entry.title;
    node.querySelector(".chat-item-preview").textContent = app.preview.get(entry.key) || "";
    const unread = app.unread.get(entry.key) || 0;
    node.querySelector(".badge").textContent = unread ? String(unread) : "";
    node.querySelector(".badge").hidden = !unread;
    node.classList.toggle("active", entry.key === current);
    node.setAttribute("aria-current", entry.key === current ? "true" : "false");
    const expected = previous ? previous.nextSibling : list.firstChild;
    if (expected !== node) list.insertBefore(node, expected);
    previous = node;
  }
  for (const [key, node] of app.chatNodes) {
    if (!keep.has(key)) {
      node.remove();
      app.chatNodes.delete(key);
    }
  }
}

function renderIdentities() {
  const select = $("identity");
  const sig = JSON.stringify(app.users.map((u) => [u.id, u.first_name]));
  if (sig !== app.usersSig) {
    app.usersSig = sig;
    select.replaceChildren(...app.users.map((u) => {
      const option = el("option", { text: nameOf(u) });
      option.value = String(u.id);
      return option;
    }));
  }
  select.value = String(app.identity);
}

// --- keeping up with the sandbox ---------------------------------------------------------------

function applyState(state) {
  app.bot = state.bots[0] || null;
  app.users = state.users;
  app.groups = state.groups.filter((g) => g.type !== "channel");
  if (!app.users.some((u) => u.id === app.identity)) {
    const you = app.users.find((u) => u.first_name === "You") || app.users[0];
    app.identity = you ? you.id : null;
  }
  if (app.open.kind === "group" && !openGroup()) app.open = PRIVATE;
}

function track(key, view) {
  const seen = app.lastId.get(key);
  let highest = seen || 0;
  for (const m of view.messages) {
    const where = viewOf(key, m, view.chat);
    const line = isService(m) ? summary(m) : `${m.from?.first_name || ""}: ${summary(m)}`;
    app.preview.set(where, line);
    app.preview.set(key, line);
    highest = Math.max(highest, m.message_id);
    const isNew = m.message_id > (seen || 0);
    if (isNew && m.from?.id === app.bot.id) app.typingUntil.delete(where);
    const fromOthers = m.from?.id !== app.identity && !isService(m);
    if (seen !== undefined && isNew && fromOthers && !inSight(where)) {
      app.unread.set(where, (app.unread.get(where) || 0) + 1);
    }
  }
  app.lastId.set(key, highest);
}

async function transcript(method) {
  const since = app.cursors[method];
  const entries = await api("GET", `/transcript?method=${method}&bot=${app.bot.id}&since=${since}`);
  for (const entry of entries) app.cursors[method] = Math.max(app.cursors[method], entry.seq);
  return app.cursorsReady ? entries.filter((entry) => entry.ok) : [];
}

function answered(params) {
  if (params.text) toast(params.text, String(params.show_alert) === "true" ? "alert" : "info");
}

async function readTranscript() {
  for (const { params } of await transcript("sendChatAction")) {
    if (params.action === "cancel") continue;
    const chatId = Number(params.chat_id);
    const key = chatId > 0 ? `p:${chatId}` : `g:${chatId}`;
    const thread = chatId < 0 && params.message_thread_id;
    app.typingUntil.set(thread ? `${key}:${thread}` : key, Date.now() + TYPING_MS);
    setTimeout(renderHeader, TYPING_MS + 50);
  }
  for (const { params } of await transcript("answerCallbackQuery")) {
    const id = String(params.callback_query_id);
    if (app.pendingQueries.delete(id)) answered(params);
    else app.earlyAnswers.set(id, params);
  }
  for (const id of [...app.earlyAnswers.keys()].slice(0, -50)) app.earlyAnswers.delete(id);
  app.cursorsReady = true;
}

async function refreshOnce() {
  applyState(await api("GET", "/state"));
  if (!app.bot || app.identity === null) {
    $("chat-title").textContent = app.bot ? "No people in the sandbox yet" : "No bot yet";
    return;
  }
  renderIdentities();
  await readTranscript(); // before the messages: a reply that came after "typing" ends it
  const chats = [
    { key: `p:${app.identity}`, query: `bot=${app.bot.id}&user_id=${app.identity}` },
    ...app.groups.map((g) => ({ key: `g:${g.id}`, query: `chat_id=${g.id}` })),
  ];
  const openKey = chatKey();
  const views = await Promise.all(chats.map(async ({ key, query }) => {
    const since = key === openKey ? 0 : app.lastId.get(key) || 0;
    return [key, await api("GET", `/chat?${query}&since_id=${since}`)];
  }));
  for (const [key, view] of views) {
    track(key, view);
    if (key === openKey) renderView(view);
  }
  renderChatList();
  renderHeader();
}

function refresh() {
  if (app.refreshing) {
    app.dirty = true;
    return app.refreshing;
  }
  app.refreshing = (async () => {
    do {
      app.dirty = false;
      try {
        await refreshOnce();
      } catch (error) {
        toast(`Could not load the chat: ${error.message}`, "error");
      }
    } while (app.dirty);
    app.refreshing = null;
  })();
  return app.refreshing;
}

function forget() {
  for (const map of [app.lastId, app.unread, app.preview, app.typingUntil]) map.clear();
  app.cursors = { sendChatAction: 0, answerCallbackQuery: 0 };
  app.cursorsReady = false;
  app.renderedView = null;
  cancelReply();
}

function connected(ok) {
  $("connection").textContent = ok ? "connected" : "sandbox unreachable, retrying…";
  $("connection").classList.toggle("offline", !ok);
}

async function live() {
  for (;;) {
    try {
      const timeout = app.hasDrafts ? 3 : 25; // drafts expire without a change to wait for
      const { version } = await api("GET", `/wait?version=${app.version}&timeout=${timeout}`);
      connected(true);
      if (version < app.version) forget(); // the sandbox was reset: ids and cursors restart
      if (version !== app.version || app.hasDrafts) {
        app.version = version;
        await refresh();
      }
    } catch {
      connected(false);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

// --- what the person does ----------------------------------------------------------------------

function showScreen(screen) {
  document.body.dataset.screen = screen;
}

function openChat(open) {
  app.open = open;
  app.unread.delete(viewKey(open));
  cancelReply();
  showScreen("chat");
  app.stickToBottom = true;
  renderChatList();
  renderHeader();
  refresh();
  if (!NARROW.matches) $("composer").focus(); // on a phone that would pop up the keyboard
}

function backToChats() {
  cancelReply();
  showScreen("list");
}

function startReply(m) {
  app.replyTo = m;
  $("reply-bar-title").textContent = `Reply to ${nameOf(m.from)}`;
  $("reply-bar-quote").textContent = summary(m);
  $("reply-bar").hidden = false;
  $("composer").focus();
}

function cancelReply() {
  app.replyTo = null;
  $("reply-bar").hidden = true;
}

async function act(path, body) {
  try {
    return await api("POST", path, body);
  } catch (error) {
    toast(error.message, "error");
    return null;
  } finally {
    refresh();
  }
}

async function send() {
  const composer = $("composer");
  const text = composer.value;
  if (!text.trim() || !app.bot) return;
  const body = { ...place(), text };
  if (app.open.threadId) body.thread_id = app.open.threadId;
  if (app.replyTo) body.reply_to = app.replyTo.message_id;
  composer.value = "";
  resize();
  cancelReply();
  app.stickToBottom = true;
  if ((await act("/send", body)) === null) composer.value = text;
}

async function press(m, data, node) {
  node.classList.add("pressed");
  const pressed = await act("/press", { ...place(), message_id: m.message_id, data });
  if (!pressed) return;
  const id = String(pressed.query_id);
  if (app.earlyAnswers.has(id)) answered(app.earlyAnswers.get(id));
  else app.pendingQueries.add(id);
  app.earlyAnswers.delete(id);
}

async function payFor(m, node) {
  node.disabled = true;
  const outcome = await act("/pay", { ...place(), message_id: m.message_id });
  node.disabled = false;
  if (outcome && !outcome.paid) toast(`Not paid: ${outcome.error_message || "declined"}`, "error");
}

async function stopDraft(draftId, node) {
  node.disabled = true;
  await act("/stop", { user_id: app.identity, bot: app.bot.id, draft_id: draftId });
}

function resize() {
  const composer = $("composer");
  composer.style.height = "auto";
  composer.style.height = `${Math.min(composer.scrollHeight, 160)}px`;
}

function start() {
  $("composer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  $("composer").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    } else if (event.key === "Escape") {
      cancelReply();
    }
  });
  $("composer").addEventListener("input", resize);
  $("reply-cancel").addEventListener("click", cancelReply);
  $("back-button").addEventListener("click", backToChats);
  $("identity").addEventListener("change", (event) => {
    app.identity = Number(event.target.value);
    cancelReply();
    app.renderedView = null;
    refresh();
  });
  live();
}

start();
