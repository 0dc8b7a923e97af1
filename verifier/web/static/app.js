/* Progressive enhancement of the upload form: drag & drop, one request per file,
   server-rendered result cards inserted as they arrive. Without JavaScript the
   form posts to "/" and the server renders the same cards. */
(function () {
  "use strict";
  var form = document.getElementById("upload");
  if (!form || !window.fetch || !window.FormData) { return; }
  document.documentElement.classList.add("js");
  var input = document.getElementById("file-input");
  var drop = document.getElementById("drop");
  var results = document.getElementById("results");
  var clear = document.getElementById("clear");
  var lang = form.querySelector("input[name=lang]").value;
  var endpoint = new URL(form.getAttribute("action"), window.location.href);
  endpoint.search = "";
  endpoint.searchParams.set("fragment", "1");
  endpoint.searchParams.set("lang", lang);
  var queue = [];
  var active = 0;
  var PARALLEL = 3;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }

  function placeholder(file) {
    var card = el("article", "card pending");
    card.setAttribute("data-file", file.name);
    card.appendChild(el("p", "file", file.name));
    card.appendChild(el("p", "checking", results.getAttribute("data-checking")));
    results.appendChild(card);
    return card;
  }

  function showError(card, file, status, detail) {
    var err = el("article", "card error-card");
    err.setAttribute("data-file", file.name);
    err.setAttribute("data-error", String(status));
    err.appendChild(el("p", "file", file.name));
    err.appendChild(el("p", "message",
      results.getAttribute("data-error") + (status ? " " + status : "") + ": " + detail));
    card.replaceWith(err);
  }

  function send(job) {
    var file = job.file;
    var card = job.card;
    var body = new FormData();
    body.append("file", file, file.name);
    active += 1;
    fetch(endpoint.toString(), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "text/html" }
    }).then(function (resp) {
      if (resp.ok) {
        return resp.text().then(function (html) {
          var tpl = document.createElement("template");
          tpl.innerHTML = html;
          card.replaceWith(tpl.content);
        });
      }
      return resp.json().then(function (e) {
        showError(card, file, resp.status, e.detail || e.error);
      }, function () {
        showError(card, file, resp.status, resp.statusText);
      });
    }).catch(function (e) {
      showError(card, file, 0, String(e));
    }).then(function () {
      active -= 1;
      next();
    });
  }

  function next() {
    while (active < PARALLEL && queue.length) { send(queue.shift()); }
  }

  function handle(files) {
    if (!files || !files.length) { return; }
    for (var i = 0; i < files.length; i += 1) {
      queue.push({ file: files[i], card: placeholder(files[i]) });
    }
    clear.hidden = false;
    next();
  }

  input.addEventListener("change", function () {
    handle(Array.prototype.slice.call(input.files));
    input.value = "";
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    handle(Array.prototype.slice.call(input.files));
    input.value = "";
  });
  ["dragenter", "dragover"].forEach(function (name) {
    drop.addEventListener(name, function (ev) {
      ev.preventDefault();
      drop.classList.add("over");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    drop.addEventListener(name, function () { drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (ev) {
    ev.preventDefault();
    handle(ev.dataTransfer && ev.dataTransfer.files);
  });
  // A file dropped beside the zone must not replace the page.
  window.addEventListener("dragover", function (ev) { ev.preventDefault(); });
  window.addEventListener("drop", function (ev) { ev.preventDefault(); });
  clear.addEventListener("click", function () {
    results.textContent = "";
    clear.hidden = true;
  });
}());
