/* Porchlight page API, loaded by embed.js only when the page defines window.Porchlight:
   Porchlight.open(), .close(), .toggle(), .identify({...}), .setContext(key, entry),
   .clearContext(key), .on(event, fn), .off(event, fn), .destroy(). Calls made through
   the stub before this file loads are replayed in order. See docs/embedding.md. */
(function () {
  var w = window, h = w.__porchlight;
  if (!h || h.api) return;
  var queued = (w.Porchlight && w.Porchlight.q) || [], handlers = {}, identity = null, unread = 0;

  function emit(name, detail) {
    (handlers[name] || []).slice().forEach(function (fn) {
      try { fn(detail); } catch (err) { setTimeout(function () { throw err; }); }
    });
  }
  // Only to the relay's origin: the identity's token goes nowhere else.
  function post(kind, value) {
    var frame = h.f();
    if (frame && frame.contentWindow) frame.contentWindow.postMessage({ porchlight: kind, value: value }, h.b);
  }
  function sendIdentity() {
    post("identify", identity ? { identity: JSON.stringify(identity), token: identity.token } : null);
  }
  // A context value as text: a list becomes lines, an object "key: value" lines.
  function text(value) {
    if (Array.isArray(value)) return value.map(String).join("\n");
    if (value && typeof value === "object") {
      return Object.keys(value).map(function (k) { return k + ": " + value[k]; }).join("\n");
    }
    return value == null ? "" : String(value);
  }
  function entry(key, given) {
    given = given && typeof given === "object" && !Array.isArray(given) && "value" in given ? given : { value: given };
    return { label: String(given.label || key), value: text(given.value) };
  }

  var api = function (method) {
    var fn = api[method];
    if (typeof fn !== "function") throw new Error("Porchlight has no method " + method);
    return fn.apply(api, [].slice.call(arguments, 1));
  };
  api.open = function () { h.s(true); };
  api.close = function () { h.s(false); };
  api.toggle = function () { h.s(!h.o()); };
  // Who the visitor is: {user_id, name, email, company, traits, context, token}.
  api.identify = function (who) {
    who = who || {};
    var next = { context: identity ? identity.context : {} }, traits = who.traits || {};
    if (who.user_id != null) next.user_id = String(who.user_id);
    ["name", "email", "company", "token"].forEach(function (k) { if (who[k] != null) next[k] = String(who[k]); });
    next.traits = {};
    Object.keys(traits).forEach(function (k) { next.traits[k] = text(traits[k]); });
    Object.keys(who.context || {}).forEach(function (k) { next.context[k] = entry(k, who.context[k]); });
    identity = next;
    sendIdentity();
  };
  api.setContext = function (key, value) {
    identity = identity || { context: {} };
    identity.context[key] = entry(key, value);
    sendIdentity();
  };
  api.clearContext = function (key) {
    if (!identity) return;
    if (key === undefined) identity.context = {}; else delete identity.context[key];
    sendIdentity();
  };
  api.on = function (name, fn) {
    (handlers[name] = handlers[name] || []).push(fn);
    if (name === "ready" && h.n !== undefined) fn({ online: h.n });
  };
  api.off = function (name, fn) {
    handlers[name] = (handlers[name] || []).filter(function (f) { return f !== fn; });
  };
  api.destroy = function () {
    h.h.remove();
    handlers = {};
    w.__porchlight = null;
    delete w.Porchlight;
  };

  h.api = api;
  // What the widget says, through the loader (origin and source already checked).
  h.m = function (kind, value) {
    if (kind === "ready") sendIdentity();
    else if (kind === "message") emit("message", { author: value.author, text: value.text });
    else if (kind === "ended") emit("chat-ended", {});
    else if (kind === "unread" && value !== unread) emit("unread", { count: unread = value });
  };
  h.v = function (open) { emit(open ? "open" : "close", {}); };
  w.addEventListener("porchlight:availability", function (e) { emit("ready", { online: e.detail.online }); });
  w.Porchlight = api;
  queued.forEach(function (args) { api.apply(null, args); });
})();
