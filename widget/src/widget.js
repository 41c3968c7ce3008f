/*
 * 민원 안내 챗봇 widget: one <script> tag, no build step, no dependencies.
 *
 *   <script src="https://<api>/widget/widget.js" data-title="예시군 민원 안내" defer></script>
 *
 * Options (data-*): api (origin of the chatbot api), title, greeting (text shown
 * before the first answer), color (primary, #rrggbb), position (right|left),
 * storage (session|local). Strings can be overridden with
 * window.MinwonWidgetStrings = {send: "...", ...} before the script loads.
 *
 * Rendering is Shadow-DOM isolated, and every text from the bot, an officer or
 * the resident is written through textContent/DOM nodes (never innerHTML); only
 * line breaks, **bold**, "■ / - " list lines and http(s) links are formatted.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__minwonWidget) return;
  window.__minwonWidget = true;

  var cfg = {
    api: (script.getAttribute("data-api") || new URL(script.src, location.href).origin).replace(/\/$/, ""),
    title: script.getAttribute("data-title") || "민원 안내 챗봇",
    greeting: script.getAttribute("data-greeting") || "",
    color: /^#[0-9a-fA-F]{6}$/.test(script.getAttribute("data-color") || "") ? script.getAttribute("data-color") : "#0b4f9c",
    position: script.getAttribute("data-position") === "left" ? "left" : "right",
    storage: script.getAttribute("data-storage") === "local" ? "local" : "session"
  };
  var T = Object.assign({
    open: "민원 안내 챗봇 열기",
    close: "닫기",
    closeLabel: "상담 창 닫기",
    input: "질문 입력",
    placeholder: "궁금한 민원을 입력해 주세요",
    send: "보내기",
    you: "나",
    bot: "챗봇",
    typing: "답변을 준비하고 있습니다",
    wasHelpful: "도움이 되셨나요?",
    yes: "네",
    no: "아니요",
    helpful: "도움이 되었어요",
    unhelpful: "도움이 되지 않았어요",
    thanks: "의견 감사합니다.",
    reset: "대화 초기화",
    resetConfirm: "지금까지의 대화를 지우고 처음부터 다시 시작할까요?",
    offline: "인터넷 연결이 끊겼습니다. 연결되면 보내지 못한 질문을 자동으로 다시 보냅니다.",
    retrying: "연결을 다시 시도하고 있습니다…",
    // {seconds}: filled in from the server's Retry-After; the message stays queued and is sent then.
    slowDown: "메시지를 너무 빠르게 보내셨습니다. {seconds}초 뒤에 자동으로 보내 드리겠습니다. 잠시만 기다려 주세요.",
    busy: "지금 문의가 많아 답변이 늦어지고 있습니다. 잠시 기다려 주세요. 보내신 메시지는 순서가 되면 자동으로 다시 보내 드립니다.",
    failed: "요청을 처리하지 못했습니다. 잠시 후 다시 시도해 주세요.",
    newWindow: "(새 창)",
    smaller: "글자 작게",
    larger: "글자 크게",
    notice: "안내",
    officer: "상담원",
    waiting: "상담원 연결 대기 중입니다. 대기 순서 {position}번째, 예상 대기 약 {minutes}분",
    active: "{officer} 님과 상담 중입니다",
    cancel: "연결 요청 취소",
    callbackTitle: "전화 상담 요청",
    name: "성함",
    phone: "연락받으실 전화번호",
    phoneHint: "예: 010-1234-5678",
    preferred: "통화 희망 시간",
    preferredHint: "예: 평일 오후 2시 이후",
    question: "문의 내용",
    consentLegend: "개인정보 수집·이용 동의 (필수)",
    consentItems: "수집 항목",
    consentPurpose: "이용 목적",
    consentRetention: "보유 기간",
    consentRefusal: "동의 거부 권리",
    agree: "동의합니다",
    disagree: "동의하지 않습니다",
    chooseConsent: "개인정보 수집·이용 동의 여부를 선택해 주세요.",
    submitCallback: "요청하기",
    cancelCallback: "닫기"
  }, window.MinwonWidgetStrings || {});

  // Preview mode (the curator console): a fixed transcript from a JSON element, nothing stored or sent.
  var preview = readPreview(script.getAttribute("data-preview"));
  var memory = {};
  var store = preview ? { getItem: function (k) { return memory[k] || null; }, setItem: function (k, v) { memory[k] = v; } }
    : cfg.storage === "local" ? window.localStorage : window.sessionStorage;
  var KEY = "minwon.widget.v1";
  var state = preview ? previewState(preview) : load();

  function readPreview(id) {
    if (!id) return null;
    var el = document.getElementById(id);
    try { return el ? JSON.parse(el.textContent || "null") : null; } catch (e) { return null; }
  }
  function previewState(p) {
    var now = Date.now();
    var messages = (p.messages || []).map(function (m, i) {
      return { id: "p" + i, from: m.from === "user" ? "user" : "bot", text: String(m.text || ""), buttons: [], ts: now };
    });
    return { token: null, messages: messages, queue: [], open: true, fontSize: 16, handoff: { state: "bot" }, after: 0 };
  }

  function load() {
    try {
      var saved = JSON.parse(store.getItem(KEY) || "null");
      if (saved && Array.isArray(saved.messages)) return saved;
    } catch (e) { /* a corrupt entry starts a new conversation */ }
    return { token: null, messages: [], queue: [], open: false, fontSize: 16, handoff: { state: "bot" }, after: 0 };
  }
  function save() {
    try { store.setItem(KEY, JSON.stringify(state)); } catch (e) { /* storage full or blocked */ }
  }
  function uid() {
    return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
  }

  var side = cfg.position + ":20px";
  var css = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:'Malgun Gothic','Apple SD Gothic Neo','Noto Sans KR','Noto Sans CJK KR',sans-serif}",
    ".launcher{position:fixed;" + side + ";bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:14px 20px;",
    "background:var(--c);color:#fff;font-size:16px;font-weight:700;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    "button:focus-visible,textarea:focus-visible,a:focus-visible,.log:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}",
    ".panel{position:fixed;" + side + ";bottom:84px;z-index:2147483000;width:min(400px,calc(100vw - 24px));height:min(640px,calc(100vh - 110px));",
    "display:flex;flex-direction:column;background:#fff;color:#1a1a1a;border:1px solid #c8ced6;border-radius:12px;overflow:hidden;",
    "box-shadow:0 8px 28px rgba(0,0,0,.25);font-size:var(--fs);",
    // Korean breaks between eojeol, not inside words ("같은 자 / 리에서"); only a long URL breaks anywhere.
    "word-break:keep-all;overflow-wrap:anywhere}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;gap:6px;background:var(--c);color:#fff;padding:10px 12px}",
    "header h2{margin:0 auto 0 0;font-size:1.05em}",
    "header button{background:transparent;color:#fff;border:1px solid rgba(255,255,255,.7);border-radius:6px;font-size:.85em;padding:4px 8px;cursor:pointer}",
    ".notice{background:#fff4d6;color:#5c4100;border-bottom:1px solid #e6c86e;padding:8px 12px;font-size:.9em}",
    ".notice[hidden]{display:none}",
    ".log{flex:1;overflow-y:auto;padding:12px;background:#f4f6f9;line-height:1.55}",
    ".msg{max-width:90%;margin:8px 0 2px;padding:9px 12px;border-radius:10px}",
    ".msg p{margin:0}.msg p+p{margin-top:.4em}.msg ul{margin:.3em 0;padding-left:1.2em}",
    ".bot{background:#fff;border:1px solid #d5dbe3}",
    ".officer{background:#e6f4ea;border:1px solid #8cc79f}.system{background:#fff4d6;border:1px solid #e6c86e;color:#3d2c00}",
    ".author{display:block;font-size:.8em;font-weight:700;color:#1d5c32;margin-bottom:2px}",
    ".status{display:flex;gap:8px;align-items:center;justify-content:space-between;background:#e6f4ea;color:#13401f;border-bottom:1px solid #8cc79f;padding:8px 12px;font-size:.9em}",
    ".status[hidden]{display:none}.status button{border:1px solid #13401f;background:#fff;color:#13401f;border-radius:6px;padding:3px 8px;cursor:pointer;font-size:1em}",
    ".callback{position:absolute;inset:0;top:48px;background:#fff;overflow-y:auto;padding:12px 14px;z-index:2}",
    ".callback[hidden]{display:none}.callback h3{margin:0 0 8px;font-size:1.05em}",
    ".callback form{display:block;padding:0;border:0;background:transparent}",
    ".callback label,.callback legend{display:block;font-weight:700;margin:10px 0 4px;font-size:.92em}",
    ".callback input[type=text],.callback input[type=tel],.callback textarea{width:100%;padding:8px;border:1px solid #6b7785;border-radius:6px;font-size:1em}",
    ".callback textarea{height:80px;resize:vertical}.callback fieldset{border:1px solid #c8ced6;border-radius:8px;margin:12px 0;padding:4px 10px 10px}",
    ".callback dl{margin:4px 0;font-size:.85em}.callback dt{font-weight:700;margin-top:4px}.callback dd{margin:0}",
    ".callback .choice{display:flex;gap:14px;margin-top:8px}.callback .choice label{font-weight:400;display:inline;margin:0}",
    ".callback .row{display:flex;gap:8px;margin-top:12px}.callback .row button{flex:1;padding:10px;border-radius:8px;font-size:1em;cursor:pointer}",
    ".callback .primary{background:var(--c);color:#fff;border:0}.callback .secondary{background:#fff;color:#1a1a1a;border:1px solid #6b7785}",
    ".callback .err{color:#8a1c1c;font-weight:700;margin:0}.callback .err:empty{display:none}",
    ".user{background:var(--c);color:#fff;margin-left:auto}.user a{color:#fff}",
    ".error{background:#fdecea;border:1px solid #e0b4b4;color:#8a1c1c}",
    ".pending{opacity:.75}",
    ".meta{font-size:.75em;color:#555d68;margin:0 4px 4px}.meta.right{text-align:right}",
    ".buttons{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 8px}",
    ".buttons button{border:1px solid var(--c);background:#fff;color:var(--c);border-radius:16px;padding:6px 12px;font-size:.9em;cursor:pointer;text-align:left}",
    ".feedback{display:flex;gap:6px;align-items:center;margin:0 4px 6px;font-size:.85em;color:#555d68}",
    ".feedback button{border:1px solid #8a94a3;background:#fff;border-radius:14px;padding:2px 10px;cursor:pointer;font-size:1em}",
    ".typing{margin:8px 0;color:#555d68}.typing[hidden]{display:none}",
    ".dot{display:inline-block;width:6px;height:6px;margin-right:3px;border-radius:50%;background:#8a94a3;animation:b 1.2s infinite}",
    ".dot:nth-child(2){animation-delay:.2s}.dot:nth-child(3){animation-delay:.4s}",
    "@keyframes b{0%,80%,100%{opacity:.3}40%{opacity:1}}",
    "@media (prefers-reduced-motion:reduce){.dot{animation:none}}",
    "form{display:flex;gap:6px;padding:10px;border-top:1px solid #d5dbe3;background:#fff}",
    "textarea{flex:1;resize:none;height:46px;padding:10px;border:1px solid #6b7785;border-radius:8px;font-size:1em}",
    "form button{border:0;border-radius:8px;background:var(--c);color:#fff;font-size:1em;font-weight:700;padding:0 16px;cursor:pointer}",
    ".sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (max-width:480px){.panel{left:0;right:0;bottom:0;width:100vw;height:var(--vh,100dvh);border-radius:0;border:0}}"
  ].join("");

  // A custom element with inline !important resets: page rules such as
  // "div{display:none!important}" or "*{all:unset}" cannot reach it.
  var host = document.createElement("minwon-chat-widget");
  host.style.cssText = "all:initial !important;display:block !important;position:static !important;" +
    "width:0 !important;height:0 !important;margin:0 !important;padding:0 !important;border:0 !important;";
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    "<style>" + css + "</style>" +
    '<button class="launcher" type="button" aria-haspopup="dialog" aria-expanded="false"></button>' +
    '<section class="panel" role="dialog" aria-modal="false" hidden>' +
    "<header><h2></h2>" +
    '<button type="button" data-act="smaller"></button><button type="button" data-act="larger"></button>' +
    '<button type="button" data-act="reset"></button><button type="button" data-act="close"></button></header>' +
    '<div class="notice" role="status" hidden></div>' +
    '<div class="status" role="status" hidden><span></span><button type="button" data-act="cancel-handoff"></button></div>' +
    '<section class="callback" hidden aria-labelledby="minwon-cb-title"></section>' +
    '<div class="log" role="log" aria-live="polite" aria-relevant="additions" tabindex="0"></div>' +
    '<div class="typing" hidden><span class="dot" aria-hidden="true"></span><span class="dot" aria-hidden="true"></span>' +
    '<span class="dot" aria-hidden="true"></span><span class="sr-only"></span></div>' +
    '<form><label class="sr-only" for="minwon-input"></label>' +
    '<textarea id="minwon-input" maxlength="1000" autocomplete="off"></textarea>' +
    '<button type="submit"></button></form></section>';
  document.body.appendChild(host);

  var $ = function (sel) { return root.querySelector(sel); };
  var launcher = $(".launcher"), panel = $(".panel"), log = $(".log"), notice = $(".notice");
  var typing = $(".typing"), form = $("form"), input = $("textarea");
  var statusBar = $(".status"), callbackBox = $(".callback");
  if (!state.handoff) state.handoff = { state: "bot" };
  if (!state.after) state.after = 0;
  host.style.setProperty("--c", cfg.color);
  panel.style.setProperty("--fs", state.fontSize + "px");
  launcher.innerHTML =
    '<svg aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 24 24" style="vertical-align:-4px;margin-right:6px">' +
    '<path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';
  launcher.appendChild(document.createTextNode(cfg.title));
  $("h2").textContent = cfg.title;
  panel.setAttribute("aria-label", cfg.title);
  $('[data-act="close"]').textContent = T.close;
  $('[data-act="close"]').setAttribute("aria-label", T.closeLabel);
  $('[data-act="reset"]').textContent = T.reset;
  // 2.5.3 Label in Name: a speech-input user says what they see ("가 플러스"), so the
  // accessible name starts with the visible text and the words come after it.
  $('[data-act="smaller"]').textContent = "가-";
  $('[data-act="smaller"]').setAttribute("aria-label", "가- " + T.smaller);
  $('[data-act="larger"]').textContent = "가+";
  $('[data-act="larger"]').setAttribute("aria-label", "가+ " + T.larger);
  $(".typing .sr-only").textContent = T.typing;
  $("label").textContent = T.input;
  input.placeholder = T.placeholder;
  $("form button").textContent = T.send;
  $('[data-act="cancel-handoff"]').textContent = T.cancel;

  /* ---------- safe formatting: text -> DOM nodes ---------- */
  function inline(parent, text) {
    var parts = text.split(/(\*\*[^*]+\*\*|https?:\/\/[^\s<>"')]+)/g);
    parts.forEach(function (part) {
      if (!part) return;
      if (/^\*\*[^*]+\*\*$/.test(part)) {
        var b = document.createElement("strong");
        b.textContent = part.slice(2, -2);
        parent.appendChild(b);
      } else if (/^https?:\/\//.test(part)) {
        var a = document.createElement("a");
        a.href = part;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.textContent = part;
        var hint = document.createElement("span");
        hint.className = "sr-only";
        hint.textContent = " " + T.newWindow;
        a.appendChild(hint);
        parent.appendChild(a);
      } else {
        parent.appendChild(document.createTextNode(part));
      }
    });
  }
  function formatted(text) {
    var frag = document.createDocumentFragment();
    var list = null;
    String(text).split("\n").forEach(function (line) {
      var item = /^\s*(■|-|•|\*)\s+(.*)$/.exec(line);
      if (item) {
        if (!list) { list = document.createElement("ul"); frag.appendChild(list); }
        var li = document.createElement("li");
        inline(li, item[2]);
        list.appendChild(li);
        return;
      }
      list = null;
      if (!line.trim()) return;
      var p = document.createElement("p");
      inline(p, line);
      frag.appendChild(p);
    });
    return frag;
  }
  function clock(ts) {
    var d = new Date(ts);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  /* ---------- rendering ---------- */
  function render(m) {
    var wrap = document.createElement("div");
    wrap.setAttribute("data-id", m.id);
    var bubble = document.createElement("div");
    bubble.className = "msg " + m.from + (m.pending ? " pending" : "");
    var who = document.createElement("span");
    who.className = "sr-only";
    var label = { user: T.you, officer: m.author || T.officer, system: T.notice }[m.from] || T.bot;
    who.textContent = label + ": ";
    bubble.appendChild(who);
    if (m.from === "officer") {
      var author = document.createElement("span");
      author.className = "author";
      author.setAttribute("aria-hidden", "true");
      author.textContent = m.author || T.officer;
      bubble.appendChild(author);
    }
    bubble.appendChild(formatted(m.text));
    wrap.appendChild(bubble);
    var meta = document.createElement("div");
    meta.className = "meta" + (m.from === "user" ? " right" : "");
    var time = document.createElement("time");
    time.dateTime = new Date(m.ts).toISOString();
    time.textContent = clock(m.ts);
    meta.appendChild(time);
    wrap.appendChild(meta);
    if (m.buttons && m.buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      m.buttons.forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", function () {
          if (b.action) act(b.action); else ask(b.payload, b.title);
        });
        row.appendChild(button);
      });
      wrap.appendChild(row);
    }
    if (m.from === "bot" && m.answer) wrap.appendChild(feedbackRow(m));
    return wrap;
  }
  function feedbackRow(m) {
    var row = document.createElement("div");
    row.className = "feedback";
    if (m.feedback !== undefined) {
      row.textContent = T.thanks;
      return row;
    }
    var prompt = document.createElement("span");
    prompt.textContent = T.wasHelpful;
    row.appendChild(prompt);
    // Text, not emoji: many county PCs have no colour-emoji font.
    [[true, T.yes, T.helpful], [false, T.no, T.unhelpful]].forEach(function (f) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = f[1];
      button.setAttribute("aria-label", f[1] + ", " + f[2]); // the visible word first (2.5.3)
      button.addEventListener("click", function () { sendFeedback(m, f[0], row); });
      row.appendChild(button);
    });
    return row;
  }
  function redraw() {
    log.textContent = "";
    state.messages.forEach(function (m) { log.appendChild(render(m)); });
    log.scrollTop = log.scrollHeight;
  }
  function add(m) {
    state.messages.push(m);
    save();
    log.appendChild(render(m));
    log.scrollTop = log.scrollHeight;
  }
  function replace(m) {
    var old = log.querySelector('[data-id="' + m.id + '"]');
    if (old) old.replaceWith(render(m));
    save();
  }

  /* ---------- sending, queue and reconnect ---------- */
  var sending = false, backoff = 0, retryTimer = null, busyWait = false;

  function ask(text, shown) {
    if (preview || !text || !text.trim()) return;
    var id = uid();
    var m = { id: id, from: "user", text: shown || text, ts: Date.now(), pending: true };
    add(m);
    state.queue.push({ id: id, text: text });
    save();
    pump();
  }
  function pump() {
    if (sending || !state.queue.length) return;
    var item = state.queue[0];
    sending = true;
    typing.hidden = false;
    fetch(cfg.api + "/api/v1/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session: state.token, text: item.text, client_id: item.id })
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; }, function () {
        return { status: response.status, body: {} };
      });
    }).then(function (result) {
      if (result.status >= 500 && result.status !== 503) throw new Error("server");
      if (result.status === 503 && (result.body.busy || result.body.retry)) {
        // The bot is busy (or its database restarting) and nothing was stored: keep the message queued
        // (same client_id), keep the waiting dots up, and send it again when the server says.
        if (result.body.session) state.token = result.body.session;
        showNotice(result.body.detail || T.busy);
        busyWait = true;
        backoff = Math.max(1, Number(result.body.retry_after) || 3) * 1000;
        clearTimeout(retryTimer);
        retryTimer = setTimeout(function () { backoff = 0; busyWait = false; showNotice(""); pump(); }, backoff);
        return;
      }
      if (result.status === 429) {
        // Refused before it was stored: keep it queued (same client_id) and send it when allowed.
        if (result.body.session) state.token = result.body.session;
        var wait = Math.max(1, Number(result.body.retry_after) || 5);
        showNotice(T.slowDown.replace("{seconds}", String(wait)));
        backoff = wait * 1000;
        clearTimeout(retryTimer);
        retryTimer = setTimeout(function () { backoff = 0; showNotice(""); pump(); }, backoff);
        return;
      }
      state.queue.shift();
      markSent(item.id);
      if (result.body.session) state.token = result.body.session;
      backoff = 0;
      showNotice("");
      var replies = result.body.messages || [];
      if (result.status !== 200 && !replies.length) {
        add({ id: uid(), from: "error", text: result.body.detail || T.failed, ts: Date.now() });
      } else {
        replies.forEach(function (msg) { addServer(msg, !item.silent); });
      }
      if (result.body.handoff) setHandoff(result.body.handoff);
      save();
    }).catch(function () {
      // Network loss: keep the message queued (same client_id, so the server
      // answers it once even if the first request did arrive) and retry.
      showNotice(navigator.onLine === false ? T.offline : T.retrying);
      backoff = Math.min(backoff ? backoff * 2 : 1000, 30000);
      clearTimeout(retryTimer);
      retryTimer = setTimeout(pump, backoff);
    }).then(function () {
      sending = false;
      typing.hidden = !busyWait;
      if (state.queue.length && !backoff) pump();
    });
  }
  function addServer(msg, feedback) {
    // Live events and replies can carry the same stored message: show it once.
    if (msg.id && state.messages.some(function (m) { return m.sid === msg.id; })) return;
    if (msg.id) state.after = Math.max(state.after || 0, msg.id);
    var from = msg.sender === "officer" || msg.sender === "system" ? msg.sender : "bot";
    add({
      id: uid(), sid: msg.id || null, from: from, author: msg.author || null, text: msg.text || "",
      buttons: msg.buttons || [], ts: msg.at ? Date.parse(msg.at) : Date.now(),
      answer: from === "bot" && feedback !== false && !(msg.buttons && msg.buttons.length) && state.messages.length > 1
    });
  }

  /* ---------- handoff: queue, officer, callback ---------- */
  var listening = false, listenBackoff = 0;
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return values[k] !== undefined ? values[k] : ""; });
  }
  function setHandoff(h) {
    state.handoff = h || { state: "bot" };
    save();
    var text = "";
    if (state.handoff.state === "waiting") {
      text = fill(T.waiting, { position: state.handoff.position || 1, minutes: state.handoff.estimate_minutes || 5 });
    } else if (state.handoff.state === "active") {
      text = fill(T.active, { officer: state.handoff.officer || T.officer });
    }
    statusBar.querySelector("span").textContent = text;
    statusBar.hidden = !text;
    $('[data-act="cancel-handoff"]').hidden = state.handoff.state !== "waiting";
    if (state.handoff.state !== "bot") listen();
  }
  function post(path, body) {
    return fetch(cfg.api + path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (b) { return { status: r.status, body: b }; }); });
  }
  function listen() {
    // Long poll for the officer's messages while a handoff is open; survives api restarts.
    if (listening || !state.token) return;
    listening = true;
    post("/api/v1/events", { session: state.token, after: state.after || 0, wait: 25 }).then(function (r) {
      if (r.status !== 200) throw new Error("events " + r.status);
      listenBackoff = 0;
      showNotice("");
      (r.body.messages || []).forEach(function (msg) { addServer(msg, false); });
      listening = false;
      setHandoff(r.body.handoff);
    }).catch(function () {
      listening = false;
      listenBackoff = Math.min(listenBackoff ? listenBackoff * 2 : 1000, 30000);
      if (state.handoff.state !== "bot") {
        showNotice(navigator.onLine === false ? T.offline : T.retrying);
        setTimeout(listen, listenBackoff);
      }
    });
  }
  function act(action) {
    if (preview) return;
    if (action === "callback") { openCallback(); return; }
    if (!state.token) return;
    var path = action === "cancel_handoff" ? "/api/v1/handoff/cancel" : "/api/v1/handoff";
    post(path, { session: state.token }).then(function (r) {
      if (r.status !== 200) {
        add({ id: uid(), from: "error", text: r.body.detail || T.failed, ts: Date.now() });
        return;
      }
      (r.body.messages || []).forEach(function (msg) { addServer(msg, false); });
      setHandoff(r.body.handoff);
    }).catch(function () {
      add({ id: uid(), from: "error", text: T.failed, ts: Date.now() });
    });
  }
  function field(id, labelText, type, hint) {
    var label = document.createElement("label");
    label.setAttribute("for", id);
    label.textContent = labelText;
    var control = document.createElement(type === "textarea" ? "textarea" : "input");
    if (type !== "textarea") control.type = type;
    control.id = id;
    control.name = id;
    if (hint) control.placeholder = hint;
    return [label, control];
  }
  function openCallback() {
    var query = state.token ? "?session=" + encodeURIComponent(state.token) : "";
    fetch(cfg.api + "/api/v1/callback/form" + query).then(function (r) { return r.json(); }).then(function (info) {
      renderCallback(info);
    }).catch(function () {
      add({ id: uid(), from: "error", text: T.failed, ts: Date.now() });
    });
  }
  function renderCallback(info) {
    var c = info.consent;
    callbackBox.textContent = "";
    var f = document.createElement("form");
    f.noValidate = true;
    var h = document.createElement("h3");
    h.id = "minwon-cb-title";
    h.textContent = T.callbackTitle;
    f.appendChild(h);
    var err = document.createElement("p");
    err.className = "err";
    err.setAttribute("role", "alert");
    f.appendChild(err);
    var name = field("minwon-cb-name", T.name, "text");
    var phone = field("minwon-cb-phone", T.phone, "tel", T.phoneHint);
    var pref = field("minwon-cb-time", T.preferred, "text", T.preferredHint);
    var q = field("minwon-cb-question", T.question, "textarea");
    name[1].autocomplete = "name";
    phone[1].autocomplete = "tel";
    q[1].value = info.question || "";
    [name, phone, pref, q].forEach(function (pair) { f.appendChild(pair[0]); f.appendChild(pair[1]); });
    var fs = document.createElement("fieldset");
    var legend = document.createElement("legend");
    legend.textContent = T.consentLegend;
    fs.appendChild(legend);
    var dl = document.createElement("dl");
    [[T.consentItems, c.items], [T.consentPurpose, c.purpose], [T.consentRetention, c.retention], [T.consentRefusal, c.refusal]]
      .forEach(function (pair) {
        var dt = document.createElement("dt"); dt.textContent = pair[0];
        var dd = document.createElement("dd"); dd.textContent = pair[1];
        dl.appendChild(dt); dl.appendChild(dd);
      });
    fs.appendChild(dl);
    var choice = document.createElement("div");
    choice.className = "choice";
    [["yes", T.agree], ["no", T.disagree]].forEach(function (opt) {
      var wrap = document.createElement("span");
      var radio = document.createElement("input");
      radio.type = "radio"; radio.name = "consent"; radio.value = opt[0]; radio.id = "minwon-cb-consent-" + opt[0];
      var l = document.createElement("label");
      l.setAttribute("for", radio.id); l.textContent = opt[1];
      wrap.appendChild(radio); wrap.appendChild(l);
      choice.appendChild(wrap);
    });
    fs.appendChild(choice);
    f.appendChild(fs);
    var row = document.createElement("div");
    row.className = "row";
    var submit = document.createElement("button");
    submit.type = "submit"; submit.className = "primary"; submit.textContent = T.submitCallback;
    var cancel = document.createElement("button");
    cancel.type = "button"; cancel.className = "secondary"; cancel.textContent = T.cancelCallback;
    cancel.addEventListener("click", closeCallback);
    row.appendChild(submit); row.appendChild(cancel);
    f.appendChild(row);
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      var picked = f.querySelector('input[name="consent"]:checked');
      if (!picked) { err.textContent = T.chooseConsent; f.querySelector('input[name="consent"]').focus(); return; }
      submit.disabled = true;
      post("/api/v1/callback", {
        session: state.token, consent: picked.value === "yes", name: name[1].value, phone: phone[1].value,
        preferred_time: pref[1].value, question: q[1].value
      }).then(function (r) {
        submit.disabled = false;
        if (r.status !== 200) { err.textContent = r.body.detail || T.failed; return; }
        var shown = r.body.messages || [];
        if (shown.length) shown.forEach(function (msg) { addServer(msg, false); });
        else add({ id: uid(), from: "system", text: r.body.detail, ts: Date.now() });
        closeCallback();
      }).catch(function () { submit.disabled = false; err.textContent = T.failed; });
    });
    callbackBox.appendChild(f);
    callbackBox.hidden = false;
    name[1].focus();
  }
  function closeCallback() {
    callbackBox.hidden = true;
    callbackBox.textContent = "";
    input.focus();
  }

  function markSent(id) {
    state.messages.forEach(function (m) {
      if (m.id === id && m.pending) { delete m.pending; replace(m); }
    });
  }
  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }
  window.addEventListener("online", function () { backoff = 0; clearTimeout(retryTimer); pump(); });
  window.addEventListener("offline", function () { showNotice(T.offline); });

  function sendFeedback(m, helpful, row) {
    m.feedback = helpful;
    save();
    row.replaceWith(feedbackRow(m));
    fetch(cfg.api + "/api/v1/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session: state.token, helpful: helpful, answer: m.text })
    }).catch(function () { /* feedback is best effort */ });
  }

  /* ---------- open, close, reset, font size ---------- */
  function greet() {
    if (preview) return;
    if (cfg.greeting) add({ id: uid(), from: "bot", text: cfg.greeting, ts: Date.now() });
    state.queue.push({ id: uid(), text: "안녕하세요", silent: true });
    save();
    pump();
  }
  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    state.open = true;
    save();
    if (!state.messages.length && !state.queue.length) greet();
    input.focus();
  }
  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    save();
    launcher.focus();
  }
  function reset() {
    if (preview) return;
    if (!window.confirm(T.resetConfirm)) return;
    if (state.handoff && state.handoff.state === "waiting" && state.token) {
      post("/api/v1/handoff/cancel", { session: state.token }).catch(function () { /* best effort */ });
    }
    state = { token: null, messages: [], queue: [], open: true, fontSize: state.fontSize, handoff: { state: "bot" }, after: 0 };
    setHandoff(state.handoff);
    save();
    redraw();
    greet();
    input.focus();
  }
  function font(delta) {
    state.fontSize = Math.max(14, Math.min(24, state.fontSize + delta));
    panel.style.setProperty("--fs", state.fontSize + "px");
    save();
  }

  launcher.addEventListener("click", function () { panel.hidden ? open() : close(); });
  root.addEventListener("click", function (e) {
    var control = e.target.closest && e.target.closest("[data-act]");
    if (!control) return;
    var name = control.getAttribute("data-act");
    if (name === "close") close();
    else if (name === "reset") reset();
    else if (name === "smaller") font(-2);
    else if (name === "larger") font(2);
    else if (name === "cancel-handoff") act("cancel_handoff");
  });
  panel.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    if (!callbackBox.hidden) closeCallback(); else close();
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    if (!text.trim()) return;
    input.value = "";
    ask(text);
  });
  input.addEventListener("keydown", function (e) {
    // Enter while a Hangul syllable is still composing would send half a word
    // (and then the finished syllable again): wait for composition to end.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  // Keep the input above the on-screen keyboard on phones.
  if (window.visualViewport) {
    var fit = function () { host.style.setProperty("--vh", window.visualViewport.height + "px"); };
    window.visualViewport.addEventListener("resize", fit);
    fit();
  }

  if (preview) form.hidden = true;
  redraw();
  if (state.open) { panel.hidden = false; launcher.setAttribute("aria-expanded", "true"); }
  if (state.queue.length) pump();
  setHandoff(state.handoff);
})();
