// SimuTrador report glue (inlined into every report): draws the charts described in the
// page's JSON (script#report-data) with uPlot, and makes tables with class "sortable" sortable
// by a click on a header. After drawing a chart it sets data-series (series drawn) and
// data-points (x values given to uPlot) on the chart's element, so tests can check them.
(function () {
  "use strict";
  var holder = document.getElementById("report-data");
  var data = holder ? JSON.parse(holder.textContent) : { charts: [] };
  var utc = function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); };

  function draw(c) {
    var el = document.getElementById(c.id);
    if (!el) { return; }
    var width = Math.max(480, Math.min(el.clientWidth || 960, 1400));
    var series = [{ label: c.x_time ? "Time (UTC)" : (c.x_label || "x") }];
    var arrays = [c.x];
    var scales = { x: { time: !!c.x_time } };
    // Plain-number x (run numbers): whole-number ticks only.
    var axes = [c.x_time ? {} : { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] }];
    c.series.forEach(function (s) {
      var o = { label: s.label, stroke: s.color, scale: s.scale, width: 1.5, spanGaps: true };
      if (s.style === "area") { o.fill = s.color + "33"; }
      if (s.style === "points" || s.style === "rings") {
        // Markers only; rings (hollow, larger) stay visible under a filled marker at the same
        // point, e.g. an exit and the next entry on one bar.
        var ring = s.style === "rings";
        o.paths = function () { return null; };
        o.points = { show: true, space: 0, size: ring ? 12 : 7, width: ring ? 2 : 1,
                     stroke: s.color, fill: ring ? "#ffffff" : s.color };
      } else {
        o.points = { show: false };
      }
      series.push(o);
      arrays.push(s.values);
      if (!scales[s.scale]) {
        scales[s.scale] = { auto: true };
        var first = axes.length === 1;
        axes.push({ scale: s.scale, side: first ? 3 : 1, grid: { show: first }, size: 70,
                    label: s.axis || "" });
      }
    });
    var opts = { width: width, height: c.height, series: series, scales: scales, axes: axes,
                 tzDate: utc, cursor: { sync: { key: "report" } } };
    var plot = new uPlot(opts, arrays, el);
    el.setAttribute("data-series", String(plot.series.length - 1));
    el.setAttribute("data-points", String(plot.data[0].length));
  }

  function sortable(table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, col) {
      th.addEventListener("click", function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var asc = th.getAttribute("data-dir") !== "asc";
        heads.forEach(function (h) { h.removeAttribute("data-dir"); });
        th.setAttribute("data-dir", asc ? "asc" : "desc");
        var key = function (row) {
          var cell = row.cells[col];
          var v = cell ? cell.getAttribute("data-v") : null;
          var text = v !== null ? v : (cell ? cell.textContent : "");
          var num = parseFloat(text);
          return isNaN(num) || v === null && !/^-?[\d.]+$/.test(text) ? text : num;
        };
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          if (x === "" && y !== "") { return 1; }
          if (y === "" && x !== "") { return -1; }
          var r = x < y ? -1 : x > y ? 1 : 0;
          return asc ? r : -r;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  }

  (data.charts || []).forEach(draw);
  document.querySelectorAll("table.sortable").forEach(sortable);
  document.body.setAttribute("data-ready", "1");
})();
