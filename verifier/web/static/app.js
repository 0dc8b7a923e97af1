/* Progressive enhancement of the upload form: drag & drop, one request per file,
   server-rendered result cards inserted as they arrive. Without JavaScript the
   form posts to "/" and the server renders the same cards.
   With bulk jobs on (form data-jobs), a ZIP or more than data-job-threshold files
   that fit in one request go to POST /api/v1/jobs: a progress bar follows
   GET /api/v1/jobs/<id>, and one table row per report is added in submission
   order from /results?start=K (issue 14). */
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
  var jobsUrl = form.getAttribute("data-jobs");
  var jobThreshold = Number(form.getAttribute("data-job-threshold")) || 20;
  var maxBytes = Number(form.getAttribute("data-max-bytes")) || 0;
  var jobTemplate = document.getElementById("job-template");
  var jobs = [];
  var POLL_MS = 600;
  var MAX_POLL_FAILURES = 8;

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

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, key) {
      return values.hasOwnProperty(key) ? String(values[key]) : all;
    });
  }

  function isZip(file) {
    return /\.zip$/i.test(file.name) || file.type === "application/zip" ||
      file.type === "application/x-zip-compressed";
  }

  // A job only for what one request may carry (jobs share /api/v1/verify limits);
  // anything larger keeps one request per file.
  function wantsJob(files) {
    if (!jobsUrl || !jobTemplate) { return false; }
    var size = 0;
    var zip = false;
    for (var i = 0; i < files.length; i += 1) {
      size += files[i].size + 512;  // + the multipart headers of the part
      zip = zip || isZip(files[i]);
    }
    return (zip || files.length > jobThreshold) && (!maxBytes || size <= maxBytes);
  }

  function Job(files) {
    var box = jobTemplate.content.firstElementChild.cloneNode(true);
    this.files = files;
    this.s = jobTemplate.dataset;
    this.box = box;
    this.bar = box.querySelector(".job-progress");
    this.status = box.querySelector(".job-status");
    this.rows = box.querySelector("tbody");
    this.shown = 0;
    this.failures = 0;
    this.stopped = false;
    this.id = null;
    results.appendChild(box);
    this.status.textContent = this.s.uploading;
    box.setAttribute("aria-busy", "true");
  }

  Job.prototype.query = function (url, extra) {
    var u = new URL(url, window.location.href);
    u.searchParams.set("lang", lang);
    if (extra) { u.searchParams.set("start", String(extra)); }
    return u.toString();
  };

  Job.prototype.submit = function () {
    var job = this;
    var body = new FormData();
    job.files.forEach(function (f) { body.append("file", f, f.name); });
    fetch(job.query(jobsUrl), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (resp) {
      return resp.json().then(function (data) {
        if (resp.status === 202) {
          job.id = data.job_id;
          job.statusUrl = data.status_url;
          job.bar.max = data.total || 1;
          job.status.textContent = job.s.queued;
          job.tick();
        } else if (resp.status === 503) {
          job.fallBack();  // the queue is away: verify one request per file as without jobs
        } else {
          job.fail(job.s.failed, resp.status, data.detail || data.error);
        }
      }, function () { job.fail(job.s.failed, resp.status, resp.statusText); });
    }).catch(function (e) { job.fail(job.s.failed, 0, String(e)); });
  };

  Job.prototype.fallBack = function () {
    this.stop();
    this.box.remove();
    perFile(this.files);
  };

  Job.prototype.later = function () {
    var job = this;
    if (!job.stopped) { job.timer = window.setTimeout(function () { job.tick(); }, POLL_MS); }
  };

  Job.prototype.tick = function () {
    var job = this;
    if (job.stopped) { return; }
    fetch(job.query(job.statusUrl), {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (resp) {
      if (resp.status === 404) {
        return job.fail(job.s.expired, 404, "");
      }
      if (!resp.ok) { return job.retry(resp.status, resp.statusText); }
      return resp.json().then(function (st) {
        job.failures = 0;
        job.progress(st);
        if (st.done > job.shown) { return job.fetchRows(st); }
        if (st.status === "done" && job.shown >= st.total) { return job.finish(st); }
        job.later();
      });
    }).catch(function (e) { job.retry(0, String(e)); });
  };

  Job.prototype.fetchRows = function (st) {
    var job = this;
    return fetch(job.query(st.results_url, job.shown), {
      credentials: "same-origin", headers: { "Accept": "application/x-ndjson" }
    }).then(function (resp) {
      if (resp.status === 404) { return job.fail(job.s.expired, 404, ""); }
      if (!resp.ok) { return job.retry(resp.status, resp.statusText); }
      return resp.text().then(function (text) {
        text.split("\n").forEach(function (line) {
          if (line) { job.row(JSON.parse(line)); }
        });
        if (st.status === "done" && job.shown >= st.total) { return job.finish(st); }
        job.later();
      });
    });
  };

  Job.prototype.progress = function (st) {
    this.bar.max = st.total || 1;
    this.bar.value = st.done;
    this.status.textContent = fill(st.status === "done" ? this.s.done : this.s.progress,
                                   { done: st.done, total: st.total });
  };

  var VERDICT = { TOTAL_PASSED: "passed", TOTAL_FAILED: "failed", INDETERMINATE: "indeterminate" };

  Job.prototype.row = function (r) {
    var css = VERDICT[r.indication] || "indeterminate";
    var rec = r.record || {};
    var tr = el("tr", "row-" + css);
    this.shown += 1;
    tr.setAttribute("data-file", r.file);
    tr.setAttribute("data-indication", r.indication);
    tr.setAttribute("data-subindication", r.subindication || "");
    tr.appendChild(el("td", "num", String(this.shown)));
    var file = el("td", "file");
    r.file.split("/").forEach(function (part, i) {  // a long ZIP path breaks after "/"
      if (i) { file.appendChild(document.createTextNode("/")); file.appendChild(el("wbr")); }
      file.appendChild(document.createTextNode(part));
    });
    tr.appendChild(file);
    var verdict = el("td", "verdict-cell");
    verdict.appendChild(el("span", "badge badge-" + css,
      this.s["label" + css.charAt(0).toUpperCase() + css.slice(1)]));
    tr.appendChild(verdict);
    tr.appendChild(el("td", "student", rec.student || "—"));
    tr.appendChild(el("td", "school", rec.school || "—"));
    tr.appendChild(el("td", "school-year", rec.school_year || "—"));
    tr.appendChild(el("td", "details", r.message || ""));
    this.rows.appendChild(tr);
  };

  Job.prototype.finish = function (st) {
    var counts = st.counts || {};
    var line = this.box.querySelector(".job-counts");
    line.textContent = fill(this.s.counts, {
      passed: counts.TOTAL_PASSED || 0, failed: counts.TOTAL_FAILED || 0,
      indeterminate: counts.INDETERMINATE || 0
    });
    line.hidden = false;
    var csv = this.box.querySelector(".job-csv");
    var nd = this.box.querySelector(".job-ndjson");
    csv.href = this.query(st.results_url + "?format=csv");
    csv.setAttribute("download", "hocba-" + this.id + ".csv");
    nd.href = this.query(st.results_url);
    nd.setAttribute("download", "hocba-" + this.id + ".jsonl");
    this.box.querySelector(".job-downloads").hidden = false;
    this.box.classList.add("job-finished");
    this.stop();
  };

  Job.prototype.retry = function (status, detail) {
    this.failures += 1;
    if (this.failures >= MAX_POLL_FAILURES) {
      this.fail(this.s.lost, status, detail);
    } else {
      this.later();
    }
  };

  Job.prototype.fail = function (what, status, detail) {
    var box = this.box.querySelector(".job-error");
    var text = what;
    if (status || detail) {
      text += " (" + this.s.error + (status ? " " + status : "") + ")" +
        (detail ? ": " + detail : "");
    }
    box.textContent = text;
    box.hidden = false;
    if (!this.id) {  // refused at submission: no progress to show
      this.bar.hidden = true;
      this.status.hidden = true;
    }
    this.box.classList.add("job-failed");
    this.stop();
  };

  Job.prototype.stop = function () {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.box.removeAttribute("aria-busy");
  };

  // "Clear results" also deletes the job on the server: its reports describe pupils.
  Job.prototype.discard = function () {
    this.stop();
    if (this.id) {
      fetch(this.statusUrl, { method: "DELETE", credentials: "same-origin" })
        .catch(function () { return null; });
    }
  };

  function perFile(files) {
    for (var i = 0; i < files.length; i += 1) {
      queue.push({ file: files[i], card: placeholder(files[i]) });
    }
    next();
  }

  function handle(files) {
    if (!files || !files.length) { return; }
    files = Array.prototype.slice.call(files);
    clear.hidden = false;
    if (wantsJob(files)) {
      var job = new Job(files);
      jobs.push(job);
      job.submit();
    } else {
      perFile(files);
    }
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
    jobs.forEach(function (job) { job.discard(); });
    jobs = [];
    results.textContent = "";
    clear.hidden = true;
  });
}());
