/* Policies pages: the Rego editor (CodeMirror 5, vendored) and the impact chart
   (Chart.js, vendored). Both enhance what the server already rendered: without this
   file the editor is a plain textarea and the impact is a table. */
(function () {
  "use strict";

  function defineRego(CM) {
    if (!CM.defineSimpleMode || CM.modes.rego) return;
    CM.defineSimpleMode("rego", {
      start: [
        { regex: /#.*/, token: "comment" },
        { regex: /"(?:[^\\"]|\\.)*?(?:"|$)/, token: "string" },
        { regex: /`[^`]*`?/, token: "string" },
        { regex: /\b(?:package|import|default|if|else|not|some|every|in|with|as|contains)\b/, token: "keyword" },
        { regex: /\b(?:true|false|null)\b/, token: "atom" },
        { regex: /\b(?:input|data)\b/, token: "variable-2" },
        { regex: /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b/, token: "number" },
        { regex: /:=|==|!=|<=|>=|[=<>|&+\-*\/%]/, token: "operator" },
        { regex: /[a-zA-Z_][\w]*(?=\s*\()/, token: "def" },
        { regex: /[a-zA-Z_][\w]*/, token: "variable" },
      ],
      meta: { lineComment: "#" },
    });
  }

  function editor() {
    var area = document.getElementById("rego-source");
    if (!area || typeof window.CodeMirror === "undefined") return;
    defineRego(window.CodeMirror);
    var cm = window.CodeMirror.fromTextArea(area, {
      mode: "rego",
      lineNumbers: true,
      matchBrackets: true,
      indentWithTabs: true,
      tabSize: 4,
      indentUnit: 4,
      viewportMargin: Infinity,
      screenReaderLabel: "Source of " + (area.dataset.file || "the policy file"),
      extraKeys: { Tab: false, "Shift-Tab": false }, // keyboard users can leave the editor
    });
    // The scroller is a region keyboard users must be able to reach (axe: scrollable-region-focusable).
    var scroller = cm.getScrollerElement();
    scroller.setAttribute("tabindex", "0");
    scroller.setAttribute("aria-label", "Scroll the source of " + (area.dataset.file || "the file"));
    var line = parseInt(area.dataset.errorLine || "", 10);
    if (line > 0) {
      var index = line - 1;
      cm.addLineClass(index, "background", "cm-error-line");
      var note = document.createElement("div");
      note.className = "cm-error-note";
      note.textContent = "Line " + line + ": " + (area.dataset.errorMessage || "error");
      cm.addLineWidget(index, note, { coverGutter: false });
      cm.scrollIntoView({ line: index, ch: 0 }, 120);
      cm.setCursor({ line: index, ch: 0 });
    } else if (window.location.hash.indexOf("#L") === 0) {
      var target = parseInt(window.location.hash.slice(2), 10) - 1;
      if (target >= 0) {
        cm.addLineClass(target, "background", "cm-target-line");
        cm.scrollIntoView({ line: target, ch: 0 }, 120);
      }
    }
    area.form.addEventListener("submit", function () { cm.save(); });
    window.regoEditor = cm;
  }

  function chart() {
    var canvas = document.getElementById("impact-chart");
    var labels = document.getElementById("impact-data");
    var counts = document.getElementById("impact-counts");
    if (!canvas || !labels || !counts || typeof window.Chart === "undefined") return;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: JSON.parse(labels.textContent).map(function (t) { return t.replace("->", " → "); }),
        datasets: [{ label: "decisions that change", data: JSON.parse(counts.textContent),
                     backgroundColor: "#1565c0" }],
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    canvas.dataset.rendered = "true";
  }

  function start() { editor(); chart(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
