// Message entities as DOM nodes. Telegram counts offsets in UTF-16 code units, and so do
// JavaScript strings, so offsets index the text directly. Nothing here parses HTML.

import { el } from "./dom.js";

const SAFE_SCHEMES = ["http:", "https:", "mailto:", "tel:", "tg:"];
const PLAIN_CLASSES = ["mention", "text_mention", "hashtag", "cashtag", "bot_command"];

export function safeUrl(raw, addScheme = false) {
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

function pre(language) {
  const code = el("code");
  const node = el("pre", { class: "pre" });
  if (language) {
    code.className = `language-${language}`;
    node.dataset.language = language;
    node.append(el("div", { class: "pre-language", text: language }));
  }
  node.append(code);
  return { outer: node, inner: code };
}

function toggled(node, className) {
  node.addEventListener("click", () => node.classList.toggle(className));
  return node;
}

function entityNode(entity, slice) {
  switch (entity.type) {
    case "bold": return { outer: el("strong") };
    case "italic": return { outer: el("em") };
    case "underline": return { outer: el("u") };
    case "strikethrough": return { outer: el("s") };
    case "code": return { outer: el("code", { class: "inline-code" }) };
    case "pre": return pre(entity.language);
    case "text_link": return { outer: link(safeUrl(entity.url)) };
    case "url": return { outer: link(safeUrl(slice, true)) };
    case "email": return { outer: link(safeUrl(`mailto:${slice}`)) };
    case "phone_number": return { outer: link(safeUrl(`tel:${slice.replace(/[^+\d]/g, "")}`)) };
    case "spoiler":
      return { outer: toggled(el("span", { class: "spoiler", testid: "spoiler" }), "revealed") };
    case "blockquote": return { outer: el("blockquote", { class: "quote" }) };
    case "expandable_blockquote":
      return { outer: toggled(el("blockquote", { class: "quote expandable" }), "expanded") };
    default:
      return { outer: el("span", { class: PLAIN_CLASSES.includes(entity.type) ? "entity" : "" }) };
  }
}

// Entities nest but never cross: sorted by start (longest first), each one owns the entities
// that start inside it. A malformed one that crosses its parent's end is clipped there.
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

export function formatted(text, entities) {
  const value = String(text || "");
  const valid = (entities || [])
    .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  const fragment = document.createDocumentFragment();
  build(fragment, value, 0, value.length, valid);
  return fragment;
}
