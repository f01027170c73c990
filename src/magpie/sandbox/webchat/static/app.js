// Magpie sandbox web chat: a Telegram-like client on top of /sandbox/api.
// Message text is untrusted (it is model output): it reaches the DOM only as text nodes.
"use strict";

const API = "/sandbox/api";
const TYPING_MS = 5000;
const SERVICE_KEYS = [
  "new_chat_members", "left_chat_member", "new_chat_title", "group_chat_created",
  "supergroup_chat_created", "migrate_to_chat_id", "migrate_from_chat_id", "pinned_message",
  "forum_topic_created", "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened",
  "successful_payment", "refunded_payment",
];
const MEDIA_LABELS = {
  photo: "🖼 Photo", video: "🎬 Video", voice: "🎤 Voice message", audio: "🎵 Audio",
  document: "📄 File", sticker: "Sticker", animation: "GIF", video_note: "⏺ Video message",
  location: "📍 Location", contact: "👤 Contact", poll: "📊 Poll", dice: "🎲 Dice",
};
const SAFE_SCHEMES = ["http:", "https:", "mailto:", "tel:", "tg:"];

const app = {
  version: -1,
  bot: null,
  users: [],
  groups: [],
  identity: null,
  open: { kind: "private", chatId: null, threadId: null },
  replyTo: null,
  lastId: new Map(), // chat key -> highest message id seen
  unread: new Map(), // view key -> messages from others not yet looked at
  preview: new Map(), // view key -> last message summary
  rendered: new Map(), // message id -> { sig, node } in the open view
  renderedView: null,
  drafts: new Map(), // draft id -> node
  hasDrafts: false,
  stickToBottom: true,
  cursors: { sendChatAction: 0, answerCallbackQuery: 0 },
  cursorsReady: false,
  typingUntil: new Map(), // view key -> time the indicator goes away
  pendingQueries: new Set(),
  chatNodes: new Map(), // view key -> chat-list node
  usersSig: "",
  refreshing: null,
  dirty: false,
};

const $ = (id) => document.getElementById(id);

// --- small DOM helpers -----------------------------------------------------------------------

function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.class) node.className = options.class;
  if (options.testid) node.dataset.testid = options.testid;
  if (options.text !== undefined) node.textContent = options.text;
  if (options.title) node.title = options.title;
  for (const child of children) if (child) node.append(child);
  return node;
}

function nameOf(user) {
  if (!user) return "Unknown";
  return user.last_name ? `${user.first_name} ${user.last_name}` : user.first_name;
}

function colorOf(id) {
  const palette = ["#e17076", "#7bc862", "#e5ca77", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb"];
  return palette[Math.abs(Number(id) || 0) % palette.length];
}

function avatar(id, label) {
  const node = el("div", { class: "avatar", text: (label || "?").slice(0, 1).toUpperCase() });
  node.style.background = colorOf(id);
  return node;
}

function clock(seconds) {
  const date = new Date(seconds * 1000);
  return `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
}

function toast(text, kind = "info") {
  const node = el("div", { class: `toast toast-${kind}`, testid: "toast", text });
  $("toasts").append(node);
  setTimeout(() => node.remove(), kind === "alert" ? 8000 : 4000);
}

// --- the control API -------------------------------------------------------------------------

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
  return chat.is_forum && message.message_thread_id ? `${key}:${message.message_thread_id}` : key;
}

function openGroup() {
  return app.groups.find((g) => g.id === app.open.chatId) || null;
}

// --- entities: UTF-16 offsets map one to one onto JavaScript string indices ------------------

function safeUrl(raw, addScheme) {
  let text = String(raw || "").trim();
  if (addScheme && !/^[a-z][a-z0-9+.-]*:/i.test(text)) text = `http://${text}`;
  try {
    const url = new URL(text);
    return SAFE_SCHEMES.includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function link(href) {
  const node = el("a", { class: "link" });
  if (href) {
    node.href = href;
    node.target = "_blank";
    node.rel = "noopener noreferrer";
  }
  return node;
}

function entityNode(entity, slice) {
  switch (entity.type) {
    case "bold": return { outer: el("strong") };
    case "italic": return { outer: el("em") };
    case "underline": return { outer: el("u") };
    case "strikethrough": return { outer: el("s") };
    case "code": return { outer: el("code", { class: "inline-code" }) };
    case "pre": {
      const code = el("code");
      const pre = el("pre", { class: "pre" });
      if (entity.language) {
        code.className = `language-${entity.language}`;
        pre.dataset.language = entity.language;
        pre.append(el("div", { class: "pre-language", text: entity.language }));
      }
      pre.append(code);
      return { outer: pre, inner: code };
    }
    case "text_link": return { outer: link(safeUrl(entity.url, false)) };
    case "url": return { outer: link(safeUrl(slice, true)) };
    case "email": return { outer: link(safeUrl(`mailto:${slice}`, false)) };
    case "phone_number": return { outer: link(safeUrl(`tel:${slice.replace(/[^+\d]/g, "")}`)) };
    case "spoiler": {
      const node = el("span", { class: "spoiler", testid: "spoiler", title: "show" });
      node.addEventListener("click", () => node.classList.add("revealed"));
      return { outer: node };
    }
    case "blockquote": return { outer: el("blockquote", { class: "quote" }) };
    case "expandable_blockquote": {
      const node = el("blockquote", { class: "quote expandable" });
      node.addEventListener("click", () => node.classList.toggle("expanded"));
      return { outer: node };
    }
    case "mention": case "text_mention": case "hashtag": case "cashtag": case "bot_command":
      return { outer: el("span", { class: `entity-${entity.type}` }) };
    default: return { outer: el("span") };
  }
}

function build(parent, text, start, end, entities) {
  let position = start;
  let i = 0;
  while (i < entities.length) {
    const entity = entities[i];
    const from = Math.max(entity.offset, position);
    const to = Math.min(entity.offset + entity.length, end);
    let j = i + 1;
    while (j < entities.length && entities[j].offset < to) j += 1;
    if (to > from) {
      if (from > position) parent.append(text.slice(position, from));
      const { outer, inner } = entityNode(entity, text.slice(from, to));
      build(inner || outer, text, from, to, entities.slice(i + 1, j));
      parent.append(outer);
      position = to;
    }
    i = Math.max(j, i + 1);
  }
  if (position < end) parent.append(text.slice(position, end));
}

function formatted(text, entities) {
  const fragment = document.createDocumentFragment();
  const valid = (entities || [])
    .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  build(fragment, String(text || ""), 0, String(text || "").length, valid);
  return fragment;
}

// --- one message -----------------------------------------------------------------------------

function isService(message) {
  return SERVICE_KEYS.some((key) => key in message);
}

function serviceText(m) {
  const who = nameOf(m.from);
  if (m.new_chat_members) {
    const names = m.new_chat_members.map(nameOf);
    const self = m.new_chat_members.length === 1 && m.new_chat_members[0].id === m.from?.id;
    return self ? `${who} joined the group` : `${who} added ${names.join(", ")}`;
  }
  if (m.left_chat_member) {
    return m.left_chat_member.id === m.from?.id
      ? `${who} left the group` : `${who} removed ${nameOf(m.left_chat_member)}`;
  }
  if (m.forum_topic_created) return `${who} created the topic “${m.forum_topic_created.name}”`;
  if (m.forum_topic_edited) return `${who} edited the topic`;
  if (m.forum_topic_closed) return `${who} closed the topic`;
  if (m.forum_topic_reopened) return `${who} reopened the topic`;
  if (m.new_chat_title) return `${who} renamed the group to “${m.new_chat_title}”`;
  if (m.pinned_message) return `${who} pinned a message`;
  if (m.group_chat_created || m.supergroup_chat_created) return `${who} created the group`;
  if (m.successful_payment) return `${who} paid ${amount(m.successful_payment)}`;
  if (m.refunded_payment) return `${amount(m.refunded_payment)} refunded to ${who}`;
  return "The group changed";
}

function amount(money) {
  return money.currency === "XTR" ? `⭐️${money.total_amount}` : `${money.total_amount} ${money.currency}`;
}

function summary(m) {
  if (isService(m)) return serviceText(m);
  const kind = Object.keys(MEDIA_LABELS).find((key) => key in m);
  const text = m.text || m.caption || (m.invoice ? `🧾 ${m.invoice.title}` : "");
  return [kind ? MEDIA_LABELS[kind] : "", text].filter(Boolean).join(" ") || "Message";
}

function replyQuote(target) {
  const quote = el("div", { class: "reply-quote", testid: "reply-quote" }, [
    el("div", { class: "reply-quote-name", text: nameOf(target.from) }),
    el("div", { class: "reply-quote-text", text: summary(target) }),
  ]);
  quote.style.borderColor = colorOf(target.from?.id);
  quote.addEventListener("click", () => {
    const node = app.rendered.get(target.message_id)?.node;
    if (node) node.scrollIntoView({ block: "center", behavior: "smooth" });
  });
  return quote;
}

function mediaNode(m) {
  const kind = Object.keys(MEDIA_LABELS).find((key) => key in m);
  if (!kind) return null;
  const detail = m[kind] && m[kind].file_name ? ` · ${m[kind].file_name}` : "";
  return el("div", { class: `media media-${kind}`, testid: "media", text: MEDIA_LABELS[kind] + detail });
}

function invoiceNode(m) {
  const invoice = m.invoice;
  const card = el("div", { class: "invoice", testid: "invoice" }, [
    el("div", { class: "invoice-title", text: invoice.title }),
    el("div", { class: "invoice-description", text: invoice.description || "" }),
    el("div", { class: "invoice-amount", text: amount(invoice) }),
  ]);
  const rows = m.reply_markup?.inline_keyboard || [];
  if (!rows.some((row) => row.some((button) => button.pay))) {
    const pay = el("button", { class: "pay-button", testid: "pay-button", text: `Pay ${amount(invoice)}` });
    pay.type = "button";
    pay.addEventListener("click", () => payFor(m, pay));
    card.append(pay);
  }
  return card;
}

function keyboardNode(m) {
  const rows = m.reply_markup?.inline_keyboard;
  if (!rows || !rows.length) return null;
  const keyboard = el("div", { class: "keyboard", testid: "inline-keyboard" });
  for (const row of rows) {
    const line = el("div", { class: "keyboard-row" });
    for (const spec of row) line.append(buttonNode(m, spec));
    keyboard.append(line);
  }
  return keyboard;
}

function buttonNode(m, spec) {
  const button = el("button", { class: "inline-button", testid: "inline-button", text: spec.text });
  button.type = "button";
  if (spec.callback_data !== undefined) {
    button.addEventListener("click", () => press(m, spec.callback_data, button));
  } else if (spec.pay) {
    button.dataset.testid = "pay-button";
    button.addEventListener("click", () => payFor(m, button));
  } else if (spec.url && safeUrl(spec.url, false)) {
    button.classList.add("url-button");
    button.addEventListener("click", () => window.open(safeUrl(spec.url, false), "_blank", "noopener"));
  } else if (spec.copy_text) {
    button.addEventListener("click", () => navigator.clipboard?.writeText(spec.copy_text.text));
  } else {
    button.disabled = true;
    button.title = "not available in the sandbox";
  }
  return button;
}

function messageNode(m, chat) {
  if (isService(m)) {
    const node = el("div", { class: "service", testid: "service-message" }, [
      el("span", { text: serviceText(m) }),
    ]);
    node.dataset.messageId = m.message_id;
    return node;
  }
  const own = m.from && m.from.id === app.identity;
  const row = el("div", { class: `row ${own ? "own" : "other"}`, testid: "message" });
  row.dataset.messageId = m.message_id;
  row.dataset.sender = m.from ? m.from.first_name : "";
  if (!own && chat.type !== "private") row.append(avatar(m.from?.id, m.from?.first_name));
  const bubble = el("div", { class: "bubble" });
  const sender = el("div", { class: "sender", testid: "message-sender", text: nameOf(m.from) });
  sender.style.color = own ? "" : colorOf(m.from?.id);
  bubble.append(sender);
  if (m.forward_origin) bubble.append(el("div", { class: "forwarded", text: forwardedFrom(m) }));
  const target = m.reply_to_message;
  if (target && !(m.is_topic_message && target.message_id === m.message_thread_id)) {
    bubble.append(replyQuote(target));
  }
  const media = mediaNode(m);
  if (media) bubble.append(media);
  const text = m.text ?? m.caption;
  if (text) {
    const body = el("div", { class: "message-text", testid: "message-text" });
    body.append(formatted(text, m.text !== undefined ? m.entities : m.caption_entities));
    bubble.append(body);
  }
  if (m.invoice) bubble.append(invoiceNode(m));
  const meta = el("div", { class: "meta" });
  if (m.edit_date) meta.append(el("span", { class: "edited", testid: "edited", text: "edited" }));
  meta.append(el("span", { class: "time", text: clock(m.date) }));
  bubble.append(meta);
  const reply = el("button", { class: "reply-button", testid: "reply-button", title: "reply", text: "↩" });
  reply.type = "button";
  reply.addEventListener("click", () => startReply(m));
  const stack = el("div", { class: "stack" }, [bubble, keyboardNode(m)]);
  row.append(stack, reply);
  return row;
}

function forwardedFrom(m) {
  const origin = m.forward_origin;
  const who = origin.sender_user ? nameOf(origin.sender_user)
    : origin.sender_user_name || origin.chat?.title || "someone";
  return `Forwarded from ${who}`;
}

// --- the open chat ---------------------------------------------------------------------------

function inOpenView(m, chat) {
  if (!chat.is_forum) return true;
  return (m.message_thread_id || null) === (app.open.threadId || null);
}

function renderView(view) {
  const list = $("messages");
  const key = viewKey();
  if (app.renderedView !== key) {
    list.replaceChildren(
      el("div", { class: "message-stack", testid: "message-stack" }),
      el("div", { class: "draft-stack" }),
    );
    app.rendered.clear();
    app.drafts.clear();
    app.renderedView = key;
    app.stickToBottom = true;
  }
  const atBottom = app.stickToBottom || list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const stack = list.firstChild;
  const keep = new Set();
  let previous = null;
  for (const m of view.messages.filter((msg) => inOpenView(msg, view.chat))) {
    const sig = `${app.identity}|${JSON.stringify(m)}`;
    keep.add(m.message_id);
    let entry = app.rendered.get(m.message_id);
    if (!entry || entry.sig !== sig) {
      const node = messageNode(m, view.chat);
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
  if (atBottom) list.scrollTop = list.scrollHeight;
  app.stickToBottom = false;
}

function renderDrafts(drafts) {
  const stack = $("messages").lastChild;
  app.hasDrafts = drafts.length > 0;
  const live = new Set(drafts.map((d) => d.draft_id));
  for (const [id, node] of app.drafts) {
    if (!live.has(id)) {
      node.remove();
      app.drafts.delete(id);
    }
  }
  for (const draft of drafts) {
    let node = app.drafts.get(draft.draft_id);
    if (!node) {
      node = draftNode(draft);
      app.drafts.set(draft.draft_id, node);
      stack.append(node);
    }
    const sig = JSON.stringify(draft);
    if (node.dataset.sig !== sig) {
      node.dataset.sig = sig;
      const text = node.querySelector(".message-text");
      text.replaceChildren(draft.text ? formatted(draft.text, draft.entities) : "Thinking…");
      text.classList.toggle("thinking", !draft.text);
      node.querySelector(".stop-button").hidden = !draft.can_stop;
    }
  }
}

function draftNode(draft) {
  const stop = el("button", { class: "stop-button", testid: "stop-button", text: "■ Stop" });
  stop.type = "button";
  stop.addEventListener("click", () => stopDraft(draft.draft_id, stop));
  const sender = el("div", { class: "sender", text: nameOf(app.bot) });
  sender.style.color = colorOf(app.bot?.id);
  const bubble = el("div", { class: "bubble draft-bubble" }, [
    sender,
    el("div", { class: "message-text", testid: "draft-text" }),
    el("div", { class: "draft-foot" }, [el("span", { class: "caret", text: "writing…" }), stop]),
  ]);
  const row = el("div", { class: "row other draft", testid: "draft" }, [el("div", { class: "stack" }, [bubble])]);
  row.dataset.draftId = draft.draft_id;
  return row;
}

function renderHeader() {
  const group = app.open.kind === "group" ? openGroup() : null;
  const topic = group?.topics.find((t) => t.message_thread_id === app.open.threadId);
  const title = group ? group.title : nameOf(app.bot);
  $("chat-title").textContent = topic ? `${group.title} › ${topic.name}` : title;
  const avatarNode = $("chat-avatar");
  avatarNode.textContent = title.slice(0, 1).toUpperCase();
  avatarNode.style.background = colorOf(group ? group.id : app.bot?.id);
  const typing = (app.typingUntil.get(viewKey()) || 0) > Date.now();
  $("typing").textContent = `${nameOf(app.bot)} is typing…`;
  $("typing").hidden = !typing;
  const subtitle = $("chat-subtitle");
  subtitle.hidden = typing;
  if (group) subtitle.textContent = `${group.members.length} members${group.is_forum && !topic ? " · General" : ""}`;
  else subtitle.textContent = `bot · @${app.bot?.username || ""}`;
  const me = app.users.find((u) => u.id === app.identity);
  $("composer").placeholder = `Message as ${me ? me.first_name : "…"}`;
}

// --- the chat list ---------------------------------------------------------------------------

function listEntries() {
  const entries = [{ key: `p:${app.identity}`, open: { kind: "private", chatId: null, threadId: null },
    title: nameOf(app.bot), id: app.bot.id, testid: "chat-item" }];
  for (const group of app.groups) {
    const open = { kind: "group", chatId: group.id, threadId: null };
    entries.push({ key: `g:${group.id}`, open, title: group.title, id: group.id, testid: "chat-item" });
    for (const topic of group.is_forum ? group.topics : []) {
      entries.push({
        key: `g:${group.id}:${topic.message_thread_id}`,
        open: { ...open, threadId: topic.message_thread_id },
        title: topic.name, id: topic.icon_color, testid: "topic-item",
      });
    }
  }
  return entries;
}

function topicMark(iconColor) {
  const mark = el("div", { class: "topic-mark", text: "#" });
  mark.style.color = `#${Number(iconColor || 0).toString(16).padStart(6, "0")}`;
  return mark;
}

function chatListNode(entry) {
  const node = el("button", { class: entry.testid === "topic-item" ? "chat-item topic" : "chat-item", testid: entry.testid });
  node.type = "button";
  node.append(
    entry.testid === "topic-item" ? topicMark(entry.id) : avatar(entry.id, entry.title),
    el("div", { class: "chat-item-text" }, [
      el("div", { class: "chat-item-title", testid: "chat-item-title" }),
      el("div", { class: "chat-item-preview" }),
    ]),
    el("div", { class: "badge", testid: "unread-badge" }),
  );
  node.addEventListener("click", () => openChat(entry.open));
  return node;
}

function renderChatList() {
  const list = $("chat-list");
  const current = viewKey();
  let previous = null;
  const keep = new Set();
  for (const entry of listEntries()) {
    keep.add(entry.key);
    let node = app.chatNodes.get(entry.key);
    if (!node) {
      node = chatListNode(entry);
      app.chatNodes.set(entry.key, node);
    }
    node.querySelector(".chat-item-title").textContent = entry.title;
    node.querySelector(".chat-item-preview").textContent = app.preview.get(entry.key) || "";
    const unread = app.unread.get(entry.key) || 0;
    const badge = node.querySelector(".badge");
    badge.textContent = unread ? String(unread) : "";
    badge.hidden = !unread;
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

// --- keeping up with the sandbox -------------------------------------------------------------

function applyState(state) {
  app.bot = state.bots[0] || null;
  app.users = state.users;
  app.groups = state.groups.filter((g) => g.type !== "channel");
  if (!app.users.some((u) => u.id === app.identity)) {
    const you = app.users.find((u) => u.first_name === "You") || app.users[0];
    app.identity = you ? you.id : null;
  }
  if (app.open.kind === "group" && !openGroup()) app.open = { kind: "private", chatId: null, threadId: null };
}

function track(key, view) {
  const seen = app.lastId.get(key);
  let highest = seen || 0;
  for (const m of view.messages) {
    const where = viewOf(key, m, view.chat);
    const line = `${isService(m) ? "" : `${m.from?.first_name || ""}: `}${summary(m)}`;
    app.preview.set(where, line);
    app.preview.set(key, line);
    if (m.message_id > highest) highest = m.message_id;
    const mine = m.from?.id === app.identity;
    if (seen !== undefined && m.message_id > seen && !mine && !isService(m) && where !== viewKey()) {
      app.unread.set(where, (app.unread.get(where) || 0) + 1);
    }
    if (m.from?.id === app.bot.id && m.message_id > (seen || 0)) app.typingUntil.delete(where);
  }
  app.lastId.set(key, highest);
}

async function readTranscript() {
  const actions = await api("GET", `/transcript?method=sendChatAction&bot=${app.bot.id}&since=${app.cursors.sendChatAction}`);
  const answers = await api("GET", `/transcript?method=answerCallbackQuery&bot=${app.bot.id}&since=${app.cursors.answerCallbackQuery}`);
  for (const entry of actions) {
    app.cursors.sendChatAction = Math.max(app.cursors.sendChatAction, entry.seq);
    if (!app.cursorsReady || !entry.ok || entry.params.action === "cancel") continue;
    const chatId = Number(entry.params.chat_id);
    const thread = entry.params.message_thread_id;
    const key = chatId > 0 ? `p:${chatId}` : `g:${chatId}`;
    const where = thread && chatId < 0 ? `${key}:${thread}` : key;
    app.typingUntil.set(where, Date.now() + TYPING_MS);
    setTimeout(renderHeader, TYPING_MS + 50);
  }
  for (const entry of answers) {
    app.cursors.answerCallbackQuery = Math.max(app.cursors.answerCallbackQuery, entry.seq);
    const id = String(entry.params.callback_query_id);
    if (!app.pendingQueries.delete(id) || !entry.params.text) continue;
    toast(entry.params.text, String(entry.params.show_alert) === "true" ? "alert" : "info");
  }
  app.cursorsReady = true;
}

async function refreshOnce() {
  applyState(await api("GET", "/state"));
  if (!app.bot || app.identity === null) {
    $("chat-title").textContent = app.bot ? "No people in the sandbox yet" : "No bot in the sandbox yet";
    return;
  }
  renderIdentities();
  const chats = [{ key: `p:${app.identity}`, query: `bot=${app.bot.id}&user_id=${app.identity}` },
    ...app.groups.map((g) => ({ key: `g:${g.id}`, query: `chat_id=${g.id}` }))];
  await readTranscript(); // before the messages: a reply that came after "typing" ends it
  const openKey = chatKey();
  const views = await Promise.all(chats.map((c) => {
    const since = c.key === openKey ? 0 : app.lastId.get(c.key) || 0;
    return api("GET", `/chat?${c.query}&since_id=${since}`).then((view) => [c.key, view]);
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

async function live() {
  for (;;) {
    try {
      const timeout = app.hasDrafts ? 3 : 25; // drafts expire without a change to wait for
      const { version } = await api("GET", `/wait?version=${app.version}&timeout=${timeout}`);
      $("connection").textContent = "connected";
      $("connection").classList.remove("offline");
      if (version !== app.version || app.hasDrafts) {
        app.version = version;
        await refresh();
      }
    } catch {
      $("connection").textContent = "sandbox unreachable, retrying…";
      $("connection").classList.add("offline");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

// --- what the person does --------------------------------------------------------------------

function openChat(open) {
  app.open = open;
  app.unread.delete(viewKey(open));
  cancelReply();
  renderChatList();
  renderHeader();
  refresh();
  $("composer").focus();
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
  try {
    await api("POST", "/send", body);
  } catch (error) {
    composer.value = text;
    toast(error.message, "error");
  }
  refresh();
}

async function press(m, data, button) {
  button.classList.add("pressed");
  try {
    const { query_id: queryId } = await api("POST", "/press", { ...place(), message_id: m.message_id, data });
    app.pendingQueries.add(String(queryId));
  } catch (error) {
    toast(error.message, "error");
  }
  refresh();
}

async function payFor(m, button) {
  button.disabled = true;
  try {
    const outcome = await api("POST", "/pay", { ...place(), message_id: m.message_id });
    toast(outcome.paid ? "Payment done" : `Payment failed: ${outcome.error_message || "declined"}`,
      outcome.paid ? "info" : "error");
  } catch (error) {
    toast(error.message, "error");
  }
  button.disabled = false;
  refresh();
}

async function stopDraft(draftId, button) {
  button.disabled = true;
  try {
    await api("POST", "/stop", { user_id: app.identity, bot: app.bot.id, draft_id: draftId });
  } catch (error) {
    toast(error.message, "error");
  }
  refresh();
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
  $("identity").addEventListener("change", (event) => {
    app.identity = Number(event.target.value);
    cancelReply();
    app.renderedView = null;
    refresh();
  });
  live();
}

start();
