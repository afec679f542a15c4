// The console's few behaviours: type-ahead and live results on the search page, copy an answer,
// keyboard shortcuts. Plain DOM, no framework, nothing loaded from outside.
(function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf-token"]');
  window.kbCsrf = csrf ? csrf.content : "";

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    var area = document.createElement("textarea");  // http on an intranet address is not a secure context
    area.value = text; area.setAttribute("readonly", ""); area.style.position = "fixed"; area.style.opacity = "0";
    document.body.appendChild(area); area.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
    return Promise.resolve();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    copyText(source.innerText).then(function () {
      button.textContent = "已复制"; button.setAttribute("data-copied", "1");
      setTimeout(function () { button.textContent = button.getAttribute("data-label") || "复制答案"; }, 1500);
    });
  });

  function typing(event) {
    var t = event.target;
    return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    if (event.key === "/") {
      var box = document.getElementById("q");
      if (box) { event.preventDefault(); box.focus(); box.select(); }
    } else if (event.key === "c") {
      var copy = document.querySelector("[data-copy]");
      if (copy) { event.preventDefault(); copy.click(); }
    } else if (event.key === "u") {
      var used = document.getElementById("used-button");
      if (used) { event.preventDefault(); used.click(); }
    }
  });

  // Search page: results and suggestions follow the keystrokes; the latest keystroke wins.
  var box = document.getElementById("q");
  var results = document.getElementById("results");
  var list = document.getElementById("suggestions");
  if (!box || !results) return;
  var pending = null, suggesting = null, selected = -1;

  function render(html) { results.innerHTML = html; }

  function refresh() {
    var q = box.value.trim();
    if (pending) pending.abort();
    pending = new AbortController();
    var url = results.getAttribute("data-url") + "?q=" + encodeURIComponent(q);
    fetch(url, {signal: pending.signal, headers: {"X-Requested-With": "fetch"}})
      .then(function (r) { if (r.status === 401 || r.redirected) { location.reload(); return ""; } return r.text(); })
      .then(function (html) { if (html !== undefined) { render(html); history.replaceState(null, "", "?q=" + encodeURIComponent(q)); } })
      .catch(function () {});
    suggest(q);
  }

  function suggest(q) {
    if (!list) return;
    if (suggesting) suggesting.abort();
    if (!q) { list.hidden = true; return; }
    suggesting = new AbortController();
    fetch(list.getAttribute("data-url") + "?prefix=" + encodeURIComponent(q), {signal: suggesting.signal})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        list.innerHTML = ""; selected = -1;
        (body.suggestions || []).forEach(function (text) {
          var item = document.createElement("li");
          item.textContent = text; item.setAttribute("role", "option");
          item.addEventListener("mousedown", function (e) { e.preventDefault(); choose(text); });
          list.appendChild(item);
        });
        list.hidden = !list.children.length;
      }).catch(function () {});
  }

  function choose(text) { box.value = text; list.hidden = true; refresh(); }

  box.addEventListener("input", refresh);
  box.addEventListener("keydown", function (event) {
    if (!list || list.hidden) return;
    var items = list.children;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      selected = (selected + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      for (var i = 0; i < items.length; i++) items[i].setAttribute("aria-selected", i === selected ? "true" : "false");
    } else if (event.key === "Enter" && selected >= 0) {
      event.preventDefault(); choose(items[selected].textContent);
    } else if (event.key === "Escape") {
      list.hidden = true;
    }
  });
  box.addEventListener("blur", function () { if (list) setTimeout(function () { list.hidden = true; }, 150); });
})();
