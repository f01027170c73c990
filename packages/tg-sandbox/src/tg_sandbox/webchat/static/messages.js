// One message, service line or streaming draft as DOM nodes. `ctx` carries who is looking
// (identity, bot) and what the buttons do (onReply, onPress, onPay, onStop, scrollTo).

import { avatar, button, clock, colorOf, el, nameOf } from "./dom.js";
import { formatted, safeUrl } from "./entities.js";

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

export function isService(m) {
  return SERVICE_KEYS.some((key) => key in m);
}

function amount(money) {
  const { currency, total_amount: total } = money;
  return currency === "XTR" ? `⭐️${total}` : `${total} ${currency}`;
}

function serviceText(m) {
  const who = nameOf(m.from);
  if (m.new_chat_members) {
    const joined = m.new_chat_members.length === 1 && m.new_chat_members[0].id === m.from?.id;
    const names = m.new_chat_members.map(nameOf).join(", ");
    return joined ? `${who} joined the group` : `${who} added ${names}`;
  }
  if (m.left_chat_member) {
    const left = m.left_chat_member.id === m.from?.id;
    return left ? `${who} left the group` : `${who} removed ${nameOf(m.left_chat_member)}`;
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

function mediaKind(m) {
  return Object.keys(MEDIA_LABELS).find((key) => key in m);
}

export function summary(m) {
  if (isService(m)) return serviceText(m);
  const kind = mediaKind(m);
  const text = m.text || m.caption || (m.invoice ? `🧾 ${m.invoice.title}` : "");
  return [kind ? MEDIA_LABELS[kind] : "", text].filter(Boolean).join(" ") || "Message";
}

function replyQuote(target, ctx) {
  const quote = el("div", { class: "reply-quote", testid: "reply-quote" }, [
    el("div", { class: "reply-quote-name", text: nameOf(target.from) }),
    el("div", { class: "reply-quote-text", text: summary(target) }),
  ]);
  quote.style.borderColor = colorOf(target.from?.id);
  quote.addEventListener("click", () => ctx.scrollTo(target.message_id));
  return quote;
}

function mediaNode(m) {
  const kind = mediaKind(m);
  if (!kind) return null;
  const name = m[kind]?.file_name ? ` · ${m[kind].file_name}` : "";
  return el("div", { class: "media", testid: "media", text: MEDIA_LABELS[kind] + name });
}

function hasPayButton(m) {
  return (m.reply_markup?.inline_keyboard || []).some((row) => row.some((b) => b.pay));
}

function invoiceNode(m, ctx) {
  const card = el("div", { class: "invoice", testid: "invoice" }, [
    el("div", { class: "invoice-title", text: m.invoice.title }),
    el("div", { class: "invoice-description", text: m.invoice.description || "" }),
    el("div", { class: "invoice-amount", text: amount(m.invoice) }),
  ]);
  if (!hasPayButton(m)) {
    const text = `Pay ${amount(m.invoice)}`;
    const pay = button({ class: "pay-button", testid: "pay-button", text });
    pay.addEventListener("click", () => ctx.onPay(m, pay));
    card.append(pay);
  }
  return card;
}

function inlineButton(m, spec, ctx) {
  const node = button({ class: "inline-button", testid: "inline-button", text: spec.text });
  const url = spec.url && safeUrl(spec.url);
  if (spec.callback_data !== undefined) {
    node.addEventListener("click", () => ctx.onPress(m, spec.callback_data, node));
  } else if (spec.pay) {
    node.dataset.testid = "pay-button";
    node.addEventListener("click", () => ctx.onPay(m, node));
  } else if (url) {
    node.addEventListener("click", () => window.open(url, "_blank", "noopener"));
  } else if (spec.copy_text) {
    node.addEventListener("click", () => navigator.clipboard?.writeText(spec.copy_text.text));
  } else {
    node.disabled = true;
    node.title = "not available in the sandbox";
  }
  return node;
}

function keyboardNode(m, ctx) {
  const rows = m.reply_markup?.inline_keyboard;
  if (!rows || !rows.length) return null;
  const lines = rows.map((row) =>
    el("div", { class: "keyboard-row" }, row.map((spec) => inlineButton(m, spec, ctx))));
  return el("div", { class: "keyboard", testid: "inline-keyboard" }, lines);
}

function forwardedFrom(origin) {
  const who = origin.sender_user ? nameOf(origin.sender_user)
    : origin.sender_user_name || origin.chat?.title || "someone";
  return `Forwarded from ${who}`;
}

function bubbleNode(m, own, ctx) {
  const bubble = el("div", { class: "bubble" });
  const sender = el("div", { class: "sender", testid: "message-sender", text: nameOf(m.from) });
  if (!own) sender.style.color = colorOf(m.from?.id);
  bubble.append(sender);
  if (m.forward_origin) {
    bubble.append(el("div", { class: "forwarded", text: forwardedFrom(m.forward_origin) }));
  }
  const target = m.reply_to_message;
  const topicRoot = m.is_topic_message && target?.message_id === m.message_thread_id;
  if (target && !topicRoot) bubble.append(replyQuote(target, ctx));
  const media = mediaNode(m);
  if (media) bubble.append(media);
  const text = m.text ?? m.caption;
  if (text) {
    const body = el("div", { class: "message-text", testid: "message-text" });
    body.append(formatted(text, m.text !== undefined ? m.entities : m.caption_entities));
    bubble.append(body);
  }
  if (m.invoice) bubble.append(invoiceNode(m, ctx));
  const meta = el("div", { class: "meta" });
  if (m.edit_date) meta.append(el("span", { class: "edited", testid: "edited", text: "edited" }));
  meta.append(el("span", { class: "time", text: clock(m.date) }));
  bubble.append(meta);
  return bubble;
}

export function messageNode(m, chat, ctx) {
  if (isService(m)) {
    const line = el("div", { class: "service", testid: "service-message" }, [
      el("span", { text: serviceText(m) }),
    ]);
    line.dataset.messageId = m.message_id;
    return line;
  }
  const own = m.from?.id === ctx.identity;
  const row = el("div", { class: `row ${own ? "own" : "other"}`, testid: "message" });
  row.dataset.messageId = m.message_id;
  row.dataset.sender = m.from?.first_name || "";
  if (!own && chat.type !== "private") row.append(avatar(m.from?.id, m.from?.first_name));
  const reply = button(
    { class: "reply-button", testid: "reply-button", title: "reply", text: "↩" },
    () => ctx.onReply(m),
  );
  row.append(el("div", { class: "stack" }, [bubbleNode(m, own, ctx), keyboardNode(m, ctx)]), reply);
  return row;
}

export function draftNode(draft, ctx) {
  const stop = button({ class: "stop-button", testid: "stop-button", text: "■ Stop" });
  stop.addEventListener("click", () => ctx.onStop(draft.draft_id, stop));
  const sender = el("div", { class: "sender", text: nameOf(ctx.bot) });
  sender.style.color = colorOf(ctx.bot?.id);
  const bubble = el("div", { class: "bubble draft-bubble" }, [
    sender,
    el("div", { class: "message-text", testid: "draft-text" }),
    el("div", { class: "draft-foot" }, [el("span", { class: "caret", text: "writing…" }), stop]),
  ]);
  const row = el("div", { class: "row other draft", testid: "draft" }, [
    el("div", { class: "stack" }, [bubble]),
  ]);
  row.dataset.draftId = draft.draft_id;
  return row;
}

export function fillDraft(node, draft) {
  const sig = JSON.stringify(draft);
  if (node.dataset.sig === sig) return;
  node.dataset.sig = sig;
  const text = node.querySelector(".message-text");
  text.replaceChildren(draft.text ? formatted(draft.text, draft.entities) : "Thinking…");
  text.classList.toggle("thinking", !draft.text);
  node.querySelector(".stop-button").hidden = !draft.can_stop;
}
