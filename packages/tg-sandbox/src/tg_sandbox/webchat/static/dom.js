// Small DOM helpers. Text goes in through textContent only: message text is untrusted.

export const $ = (id) => document.getElementById(id);

const PALETTE = ["#e17076", "#7bc862", "#e5ca77", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb"];

export function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.class) node.className = options.class;
  if (options.testid) node.dataset.testid = options.testid;
  if (options.text !== undefined) node.textContent = options.text;
  if (options.title) node.title = options.title;
  for (const child of children) if (child) node.append(child);
  return node;
}

export function button(options, onClick) {
  const node = el("button", options);
  node.type = "button";
  if (onClick) node.addEventListener("click", onClick);
  return node;
}

export function nameOf(user) {
  if (!user) return "Unknown";
  return user.last_name ? `${user.first_name} ${user.last_name}` : user.first_name;
}

export function colorOf(id) {
  return PALETTE[Math.abs(Number(id) || 0) % PALETTE.length];
}

export function avatar(id, label) {
  const node = el("div", { class: "avatar", text: (label || "?").slice(0, 1).toUpperCase() });
  node.style.background = colorOf(id);
  return node;
}

export function clock(seconds) {
  const date = new Date(seconds * 1000);
  const two = (n) => String(n).padStart(2, "0");
  return `${two(date.getHours())}:${two(date.getMinutes())}`;
}

export function toast(text, kind = "info") {
  const node = el("div", { class: `toast toast-${kind}`, testid: "toast", text });
  $("toasts").append(node);
  setTimeout(() => node.remove(), kind === "alert" ? 8000 : 4000);
}
