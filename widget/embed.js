/* Porchlight loader: the launcher now, the chat on first open; embed-api.js when the page has window.Porchlight. */
(function () {
  var w = window, s = document.currentScript, site = s && s.getAttribute("data-site");
  if (!site || w.__porchlight) return;
  var api = w.Porchlight, base = new URL(s.src).origin, key = "porchlight.open." + site,
    a = function (n) { return encodeURIComponent(s.getAttribute("data-" + n) || ""); },
    host = document.createElement("div"), root = host.attachShadow({ mode: "open" }), frame, open = false, title = "Chat",
    h = w.__porchlight = { b: base, s: show, h: host, f: function () { return frame; }, o: function () { return open; } };
  host.id = "porchlight";
  root.innerHTML = "<style>" +
    ".l{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;" +
    "background:#2554c7;color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483646}" +
    ".l:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}" +
    ".b{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;border-radius:10px;background:#d4351c;" +
    "font:700 12px/20px system-ui,sans-serif;padding:0 5px}" +
    ".p{position:fixed;right:20px;bottom:88px;width:370px;height:560px;max-height:calc(100vh - 108px);border:0;" +
    "border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.25);z-index:2147483647;background:#fff}" +
    "@media (max-width:480px){.p{inset:0;width:100%;height:100%;max-height:none;border-radius:0}}" +
    "[hidden]{display:none!important}</style>" +
    "<button class=l aria-label='Open chat' aria-expanded=false><svg width=26 height=26 viewBox='0 0 24 24' " +
    "aria-hidden=true><path fill=currentColor d='M4 4h16v12H7l-3 3z'/></svg><span class=b hidden></span></button>";
  var btn = root.querySelector(".l"), badge = root.querySelector(".b");
  function load() {
    if (frame) return;
    frame = document.createElement("iframe");
    frame.className = "p";
    frame.title = title;
    frame.hidden = true;
    frame.src = base + "/widget/?site=" + encodeURIComponent(site) + "&step=" + a("start-step") +
      "&page=" + encodeURIComponent(location.href) + "&ref=" + encodeURIComponent(document.referrer) +
      "&ticket=" + a("ticket") + "&tt=" + a("ticket-token") + "&id=" + (api ? 1 : "");
    frame.addEventListener("load", tell);
    root.appendChild(frame);
  }
  function tell() { frame.contentWindow && frame.contentWindow.postMessage({ porchlight: "visible", value: open }, base); }
  function show(v) {
    open = v;
    load();
    frame.hidden = !v;
    btn.setAttribute("aria-label", v ? "Close chat" : "Open chat");
    btn.setAttribute("aria-expanded", String(v));
    tell();
    if (v) frame.focus();
    h.v && h.v(v);
  }
  btn.onclick = function () { show(!open); };
  w.addEventListener("message", function (e) {
    if (!frame || e.source !== frame.contentWindow || e.origin !== base || !e.data) return;
    var k = e.data.porchlight, v = e.data.value;
    if (k === "close") { show(false); btn.focus(); }
    else if (k === "unread") { badge.hidden = !v; badge.textContent = v > 9 ? "9+" : v; }
    else if (k === "open") { try { v ? localStorage.setItem(key, "1") : localStorage.removeItem(key); } catch (_) {} }
    if (k === "unread" || k === "open") tell();
    h.m && h.m(k, v);
  });
  (document.body || document.documentElement).appendChild(host);
  // The profile's look; out of hours the page learns it (data-hide-offline hides us).
  fetch(base + "/api/v1/sites/" + encodeURIComponent(site) + "/launcher").then(function (r) {
    return r.json();
  }).then(function (a) {
    var css = "";
    if (/^#[0-9a-fA-F]{6}$/.test(a.colour)) css += ".l{background:" + a.colour + "}";
    if (a.position === "left") css += ".l{right:auto;left:20px}@media (min-width:481px){.p{right:auto;left:20px}}";
    root.querySelector("style").textContent += css;
    if (a.icon) root.querySelector("path").setAttribute("d", a.icon);
    if (a.title) { title = a.title; if (frame) frame.title = title; }
    host.setAttribute("data-online", h.n = a.online);
    if (!a.online && s.hasAttribute("data-hide-offline") && !frame) host.hidden = true;
    w.dispatchEvent(new CustomEvent("porchlight:availability", { detail: { online: a.online } }));
  }, function () {});
  try { if (localStorage.getItem(key)) load(); } catch (_) {}
  if (api) {
    var x = document.createElement("script");
    x.src = base + "/embed-api.js";
    document.head.appendChild(x);
  }
})();
