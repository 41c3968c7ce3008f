/* Officer console: long-polls the queue or one conversation; every change carries the CSRF token. */
(function () {
  "use strict";
  var page = document.currentScript.getAttribute("data-page");
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var LABELS = { resident: "민원인", bot: "챗봇", officer: "상담원", system: "안내" };

  function el(tag, content, cls) {
    var node = document.createElement(tag);
    if (content !== undefined && content !== null) node.textContent = content;
    if (cls) node.className = cls;
    return node;
  }
  function time(iso) {
    var d = new Date(iso);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      if (r.status === 401) { location.href = "/console/login?next=" + encodeURIComponent(location.pathname); }
      return r.json().then(function (b) { return { status: r.status, body: b }; });
    });
  }
  function poll(url, handle) {
    // Long poll; on network loss retry with a short backoff.
    var delay = 1000;
    function again(next) {
      fetch(next(), { credentials: "same-origin" }).then(function (r) {
        if (r.status === 401) { location.href = "/console/login?next=" + encodeURIComponent(location.pathname); return null; }
        return r.json();
      }).then(function (body) {
        if (body) { handle(body); delay = 1000; again(next); }
      }).catch(function () { setTimeout(function () { again(next); }, delay); delay = Math.min(delay * 2, 15000); });
    }
    again(url);
  }
  // 유사도 is the question-to-phrasing cosine similarity (0-1), not the fused ranking score.
  function similarity(c) {
    return typeof c.similarity === "number" ? "유사도 " + c.similarity.toFixed(2) : "유사도 기록 없음";
  }
  function contextSummary(ctx) {
    if (!ctx || !ctx.candidates) return "-";
    if (!ctx.candidates.length) return "찾은 안내 없음";
    var best = ctx.candidates[0];
    return best.question + " (" + similarity(best) + (ctx.confident ? ", 답변함" : ", 확신 없음") + ")";
  }

  if (page === "queue") {
    var rows = document.getElementById("queue-rows"), status = document.getElementById("queue-status");
    var version = -1, lastWaiting = -1;
    poll(function () { return "/console/api/queue?since=" + version + "&wait=" + (version < 0 ? 0 : 25); }, function (q) {
      version = q.version;
      document.getElementById("new-tickets").textContent = q.new_tickets;
      document.getElementById("open-state").textContent = q.open ? "운영 중" : "운영 시간 외";
      rows.textContent = "";
      if (!q.items.length) {
        var empty = el("tr"); var td = el("td", "대기 중인 상담이 없습니다."); td.colSpan = 6; empty.appendChild(td); rows.appendChild(empty);
      }
      var waiting = 0;
      q.items.forEach(function (item) {
        var tr = el("tr");
        tr.setAttribute("data-handoff", item.id);
        if (item.state === "waiting") waiting++;
        tr.appendChild(el("td", item.position ? item.position + "번" : "-"));
        tr.appendChild(el("td", item.state === "waiting" ? "대기 중" : (item.mine ? "내가 상담 중" : item.officer + " 상담 중")));
        tr.appendChild(el("td", time(item.requested_at)));
        tr.appendChild(el("td", item.question));
        tr.appendChild(el("td", contextSummary(item.context)));
        var act = el("td");
        var link = el("a", item.state === "waiting" ? "열기 / 맡기" : "열기");
        link.href = "/console/handoffs/" + item.id;
        act.appendChild(link);
        tr.appendChild(act);
        rows.appendChild(tr);
      });
      if (lastWaiting >= 0 && waiting !== lastWaiting) status.textContent = "대기 중인 상담 " + waiting + "건";
      lastWaiting = waiting;
    });
  }

  if (page === "handoff") {
    var list = document.getElementById("transcript");
    var id = list.getAttribute("data-handoff");
    var after = 0;
    var accept = document.getElementById("accept"), ret = document.getElementById("return"), end = document.getElementById("end");
    var form = document.getElementById("reply"), text = document.getElementById("reply-text"), notice = document.getElementById("notice");
    var STATES = { waiting: "대기 중", active: "상담 중", ended: "종료됨", cancelled: "민원인이 취소함", timed_out: "대기 시간 초과" };

    function show(msg) { notice.textContent = msg || ""; notice.hidden = !msg; }
    function controls(s) {
      document.getElementById("state").textContent = (STATES[s.state] || s.state) + (s.officer ? " (" + s.officer + ")" : "");
      accept.hidden = s.state !== "waiting";
      var mine = s.state === "active" && s.mine;
      ret.hidden = end.hidden = form.hidden = !mine;
    }
    function renderContext(ctx) {
      var box = document.getElementById("context");
      if (!ctx) return;
      box.textContent = "";
      box.appendChild(el("p", "질문: " + ctx.question));
      var ul = el("ul");
      (ctx.candidates || []).forEach(function (c) { ul.appendChild(el("li", c.question + " — " + similarity(c))); });
      if (!ctx.candidates || !ctx.candidates.length) ul.appendChild(el("li", "찾은 안내 없음"));
      box.appendChild(ul);
      box.appendChild(el("p", ctx.confident ? "챗봇이 이 안내로 답변했습니다." : "챗봇이 확신하지 못해 답변하지 않았습니다."));
    }
    function renderNotes(notes) {
      var box = document.getElementById("internal-notes");
      if (!box || !notes) return;
      box.textContent = "";
      if (!notes.length) { box.appendChild(el("p", "관련 항목의 내부 메모가 없습니다.")); return; }
      notes.forEach(function (n) {
        box.appendChild(el("h3", n.id + " " + n.question));
        box.appendChild(el("p", n.notes, "text"));
      });
    }
    poll(function () { return "/console/api/handoffs/" + id + "/events?after=" + after + "&wait=" + (after ? 25 : 0); }, function (b) {
      b.messages.forEach(function (m) {
        after = Math.max(after, m.id);
        var li = el("div", null, m.sender);
        li.appendChild(el("span", (m.sender === "officer" && m.author ? m.author : LABELS[m.sender] || m.sender) + " " + time(m.at), "who"));
        li.appendChild(el("span", m.text, "text"));
        list.appendChild(li);
      });
      list.scrollTop = list.scrollHeight;
      renderContext(b.context);
      renderNotes(b.internal_notes);
      controls(b);
    });
    accept.addEventListener("click", function () {
      post("/console/api/handoffs/" + id + "/accept").then(function (r) {
        if (r.status !== 200) { show(r.body.detail); return; }
        show(""); text.focus();
      });
    });
    function finish(how) {
      post("/console/api/handoffs/" + id + "/finish", { how: how }).then(function (r) {
        if (r.status !== 200) show(r.body.detail); else location.href = "/console";
      });
    }
    ret.addEventListener("click", function () { finish("returned"); });
    end.addEventListener("click", function () { finish("ended"); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var value = text.value;
      if (!value.trim()) return;
      post("/console/api/handoffs/" + id + "/messages", { text: value }).then(function (r) {
        if (r.status !== 201) { show(r.body.detail); return; }
        show(""); text.value = ""; text.focus();
      }).catch(function () { show("전송하지 못했습니다. 연결을 확인하고 다시 보내 주세요."); });
    });
    text.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); form.requestSubmit(); }
    });
  }

  if (page === "kb-review") {
    // The answer-change check takes a few seconds: run it in the background and show its progress.
    Array.prototype.forEach.call(document.querySelectorAll(".check-form"), function (checkForm) {
      checkForm.addEventListener("submit", function (e) {
        e.preventDefault();
        var box = checkForm.previousElementSibling;
        var button = checkForm.querySelector("button");
        button.disabled = true;
        box.textContent = "";
        var progress = el("p", "확인을 시작했습니다…");
        progress.setAttribute("role", "status");
        box.appendChild(progress);
        var done = false;
        fetch(checkForm.action, { method: "POST", credentials: "same-origin", body: new FormData(checkForm) })
          .then(function () { done = true; location.reload(); })
          .catch(function () { done = true; progress.textContent = "확인하지 못했습니다. 다시 시도해 주세요."; button.disabled = false; });
        (function tick() {
          if (done) return;
          fetch(box.getAttribute("data-check"), { credentials: "same-origin" }).then(function (r) { return r.json(); })
            .then(function (c) {
              if (c.status === "running" && c.total) progress.textContent = "확인 중… " + c.done + "/" + c.total;
              setTimeout(tick, 1000);
            }).catch(function () { setTimeout(tick, 2000); });
        })();
      });
    });
  }
})();
