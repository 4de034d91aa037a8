// The review queue, live over server-sent events (one stream per page, /ui/review/events):
// the navigation badge counts what waits; on the queue page, replies that arrive are
// appended (last page only) and replies decided elsewhere show their outcome. While the
// stream is down, htmx polls the badge and the waiting line (their triggers check
// window.egwReviewLive); without JavaScript a reload shows the current queue.
(function () {
  "use strict";
  if (!window.EventSource) { return; }
  var list = document.getElementById("review-list");
  var line = document.getElementById("waiting");
  var known = line ? line.getAttribute("data-waiting") + "/" + line.getAttribute("data-since") : "";
  var busy = false;
  var again = false;

  function isWaiting(article) {
    var status = article.querySelector("[data-status]");
    return Boolean(status && status.getAttribute("data-status") === "pending_review" &&
      !article.querySelector(".htmx-request"));
  }

  function waitingIds() {
    var ids = [];
    list.querySelectorAll("article.review-item").forEach(function (article) {
      if (isWaiting(article)) { ids.push(article.id.replace("proposal-", "")); }
    });
    return ids.slice(0, 50);
  }

  function apply(html) {
    var box = document.createElement("template");
    box.innerHTML = html;
    var last = Number(list.getAttribute("data-last") || 0);
    box.content.querySelectorAll("article.review-item").forEach(function (article) {
      var old = document.getElementById(article.id);
      if (old) {
        // Replace only a reply still shown as waiting that this page is not deciding itself
        // (its own answer, with the officer's message, is swapped in by htmx).
        if (!isWaiting(old)) { return; }
        old.replaceWith(article);
      } else {
        list.appendChild(article);
        last = Math.max(last, Number(article.id.replace("proposal-", "")));
      }
      if (window.htmx) { window.htmx.process(article); }
    });
    list.setAttribute("data-last", String(last));
    var empty = document.getElementById("review-empty");
    if (empty && list.querySelector("article.review-item")) { empty.remove(); }
    return last;
  }

  function swapLine(since) {
    return fetch("/ui/review/waiting?since=" + since, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        var current = document.getElementById("waiting");
        if (!html || !current) { return; }
        current.outerHTML = html;
        if (window.htmx) { window.htmx.process(document.getElementById("waiting")); }
      });
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    var url = "/ui/review/rows?ids=" + waitingIds().join(",");
    if (list.hasAttribute("data-last-page")) { url += "&after=" + list.getAttribute("data-last"); }
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) {
        var last = apply(html);
        var current = document.getElementById("waiting");
        var since = list.hasAttribute("data-last-page") ? last : current.getAttribute("data-since");
        return swapLine(since);
      })
      .catch(function () { /* the next event or the fallback poll tries again */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  var source = new EventSource("/ui/review/events");
  source.addEventListener("open", function () { window.egwReviewLive = true; });
  source.addEventListener("error", function () {
    // Down (EventSource retries by itself) or refused (it gives up): htmx polls meanwhile.
    window.egwReviewLive = false;
  });
  source.addEventListener("queue", function (event) {
    window.egwReviewLive = true;
    var state = JSON.parse(event.data);
    var badge = document.getElementById("review-badge");
    if (badge && badge.firstChild) {
      badge.firstChild.nodeValue = String(state.waiting);
      badge.classList.toggle("empty", !state.waiting);
    }
    var seen = state.waiting + "/" + state.newest;
    if (list && line && seen !== known) {
      known = seen;
      refresh();
    }
  });
}());
