/*
 * 민원 안내 챗봇 widget: one <script> tag, no build step, no dependencies.
 *   <script src="https://.../widget/widget.js" data-api="https://..." data-title="예시군 민원 안내" defer></script>
 * Styles live in a Shadow DOM so the host page and the widget cannot break each other.
 * All bot, officer and resident text is rendered with textContent (never innerHTML).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__minwonWidget) return;
  window.__minwonWidget = true;

  var apiBase = (script.getAttribute("data-api") || new URL(script.src).origin).replace(/\/$/, "");
  var title = script.getAttribute("data-title") || "민원 안내 챗봇";
  var storage = script.getAttribute("data-storage") === "local" ? window.localStorage : window.sessionStorage;
  var TOKEN_KEY = "minwon.session";

  var css = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:'Malgun Gothic','Apple SD Gothic Neo','Noto Sans KR','Noto Sans CJK KR',sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:14px 20px;",
    "background:#0b4f9c;color:#fff;font-size:16px;font-weight:700;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".launcher:focus-visible,button:focus-visible,textarea:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:min(380px,calc(100vw - 24px));height:min(600px,calc(100vh - 110px));",
    "display:flex;flex-direction:column;background:#fff;color:#1a1a1a;border:1px solid #c8ced6;border-radius:12px;overflow:hidden;box-shadow:0 8px 28px rgba(0,0,0,.25)}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;justify-content:space-between;background:#0b4f9c;color:#fff;padding:12px 14px}",
    "header h2{margin:0;font-size:17px}",
    "header button{background:transparent;color:#fff;border:1px solid rgba(255,255,255,.6);border-radius:6px;font-size:14px;padding:4px 10px;cursor:pointer}",
    ".log{flex:1;overflow-y:auto;padding:12px;background:#f4f6f9;font-size:15px;line-height:1.55}",
    ".msg{max-width:88%;margin:6px 0;padding:9px 12px;border-radius:10px;white-space:pre-wrap;word-break:break-word}",
    ".bot{background:#fff;border:1px solid #d5dbe3}",
    ".user{background:#0b4f9c;color:#fff;margin-left:auto}",
    ".error{background:#fdecea;border:1px solid #e0b4b4;color:#8a1c1c}",
    ".buttons{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 8px}",
    ".buttons button{border:1px solid #0b4f9c;background:#fff;color:#0b4f9c;border-radius:16px;padding:6px 12px;font-size:14px;cursor:pointer;text-align:left}",
    "form{display:flex;gap:6px;padding:10px;border-top:1px solid #d5dbe3;background:#fff}",
    "textarea{flex:1;resize:none;height:44px;padding:10px;border:1px solid #8a94a3;border-radius:8px;font-size:15px}",
    "form button{border:0;border-radius:8px;background:#0b4f9c;color:#fff;font-size:15px;font-weight:700;padding:0 16px;cursor:pointer}",
    "form button:disabled{background:#6b7785}",
    ".sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;height:100dvh;border-radius:0}}"
  ].join("");

  var host = document.createElement("div");
  host.setAttribute("data-minwon-widget", "");
  var root = host.attachShadow({ mode: "open" });
  root.innerHTML =
    '<style>' + css + '</style>' +
    '<button class="launcher" type="button" aria-haspopup="dialog" aria-expanded="false"></button>' +
    '<section class="panel" role="dialog" aria-modal="false" hidden>' +
    '<header><h2></h2><button type="button" class="close" aria-label="상담 창 닫기">닫기</button></header>' +
    '<div class="log" role="log" aria-live="polite" aria-relevant="additions" tabindex="0"></div>' +
    '<form><label class="sr-only" for="minwon-input">질문 입력</label>' +
    '<textarea id="minwon-input" maxlength="1000" placeholder="궁금한 민원을 입력해 주세요" autocomplete="off"></textarea>' +
    '<button type="submit">보내기</button></form></section>';
  document.body.appendChild(host);

  var launcher = root.querySelector(".launcher");
  var panel = root.querySelector(".panel");
  var log = root.querySelector(".log");
  var form = root.querySelector("form");
  var input = root.querySelector("textarea");
  var sendButton = root.querySelector("form button");
  launcher.innerHTML =
    '<svg aria-hidden="true" focusable="false" width="20" height="20" viewBox="0 0 24 24" style="vertical-align:-4px;margin-right:6px">' +
    '<path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';
  launcher.appendChild(document.createTextNode(title));
  root.querySelector("h2").textContent = title;
  panel.setAttribute("aria-label", title);
  var greeted = false;
  var busy = false;

  function addMessage(kind, text, buttons) {
    var bubble = document.createElement("div");
    bubble.className = "msg " + kind;
    var who = document.createElement("span");
    who.className = "sr-only";
    who.textContent = kind === "user" ? "나: " : "챗봇: ";
    bubble.appendChild(who);
    bubble.appendChild(document.createTextNode(text));
    log.appendChild(bubble);
    if (buttons && buttons.length) {
      var row = document.createElement("div");
      row.className = "buttons";
      buttons.forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", function () { send(b.payload, b.title); });
        row.appendChild(button);
      });
      log.appendChild(row);
    }
    log.scrollTop = log.scrollHeight;
  }

  function send(text, shown, silent) {
    if (busy || !text || !text.trim()) return;
    busy = true;
    sendButton.disabled = true;
    if (!silent) addMessage("user", shown || text);
    fetch(apiBase + "/api/v1/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session: storage.getItem(TOKEN_KEY), text: text })
    })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (result.body.session) storage.setItem(TOKEN_KEY, result.body.session);
        if (!result.ok) {
          addMessage("error", result.body.detail || "요청을 처리하지 못했습니다. 다시 시도해 주세요.");
          return;
        }
        (result.body.messages || []).forEach(function (m) { addMessage("bot", m.text || "", m.buttons); });
      })
      .catch(function () {
        addMessage("error", "인터넷 연결이 원활하지 않습니다. 연결을 확인한 뒤 다시 보내 주세요.");
      })
      .then(function () {
        busy = false;
        sendButton.disabled = false;
      });
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    if (!greeted) {
      greeted = true;
      send("안녕하세요", "", true); // the bot's welcome, without a fake resident bubble
    }
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () { panel.hidden ? open() : close(); });
  root.querySelector(".close").addEventListener("click", close);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") close(); });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (e) {
    // Enter while a Hangul syllable is still composing would send half a word.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
})();
