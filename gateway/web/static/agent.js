// The proposal page's live status: server-sent events when the browser has them, else
// htmx polls the status (its trigger checks window.egwLive); without JavaScript the page
// reloads itself (noscript meta refresh).
(function () {
  "use strict";
  var live = document.getElementById("proposal-live");
  if (!live || !window.EventSource) { return; }
  var source = new EventSource(live.getAttribute("data-events"));
  source.addEventListener("open", function () { window.egwLive = true; });
  source.addEventListener("status", function (event) {
    live.innerHTML = event.data;
    if (window.htmx) { window.htmx.process(live); }
    var status = live.querySelector("[data-status]");
    var state = status ? status.getAttribute("data-status") : "";
    if (["released", "denied", "rejected", "failed", "withdrawn"].indexOf(state) >= 0) {
      source.close();
      window.egwLive = false;
    }
  });
  source.addEventListener("error", function () {
    // The stream ended or broke: let htmx poll instead (EventSource would retry on its own).
    window.egwLive = false;
    source.close();
  });
}());
