/*
 * Vote timeline (/sessions/{id}/timeline), drawn with Chart.js (vendored UMD build, global
 * `Chart`). <canvas data-timeline data-url="..."> loads the timeline JSON:
 *   {duration_s, scale: {kind}, tracks: [{start_s, end_s, track_number, name, vod_link}],
 *    minutes: [{start_s, votes, score}], ...}
 * Bars: votes per minute; line: the running score (numeric scales); one band per track.
 * A track button [data-jump="i"] shows that track's part of the chart (and #track-i on load);
 * (and on a later #track-i link) [data-timeline-reset] shows the whole session again; a click on a band opens the VOD at
 * that track when one is saved. The canvas says its shown range in data-range="min-max".
 */
(function () {
  "use strict";

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function clock(seconds) {
    var total = Math.max(0, Math.floor(seconds));
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var mm = (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
    return h ? (h < 10 ? "0" : "") + h + ":" + mm : mm;
  }

  function withAlpha(color, alpha) {
    var hex = /^#([0-9a-f]{6})$/i.exec(color);
    if (!hex) return color;
    var n = parseInt(hex[1], 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  function trackAt(tracks, x) {
    for (var i = tracks.length - 1; i >= 0; i--) {
      if (tracks[i].start_s <= x) return i;
    }
    return -1;
  }

  function bandsPlugin(state) {
    return {
      id: "trackBands",
      beforeDatasetsDraw: function (chart) {
        var area = chart.chartArea, x = chart.scales.x, ctx = chart.ctx;
        var accent = cssVar("--accent", "#9b6bff");
        ctx.save();
        ctx.beginPath();
        ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
        ctx.clip();
        state.tracks.forEach(function (track, i) {
          var left = x.getPixelForValue(track.start_s), right = x.getPixelForValue(track.end_s);
          ctx.globalAlpha = i === state.selected ? 0.28 : (i % 2 ? 0.07 : 0.14);
          ctx.fillStyle = accent;
          ctx.fillRect(left, area.top, Math.max(1, right - left), area.bottom - area.top);
        });
        ctx.restore();
      },
      afterDatasetsDraw: function (chart) {
        var area = chart.chartArea, x = chart.scales.x, ctx = chart.ctx;
        ctx.save();
        ctx.fillStyle = cssVar("--text", "#1a1d24");
        ctx.font = "bold 12px system-ui, sans-serif";
        state.tracks.forEach(function (track) {
          var left = x.getPixelForValue(track.start_s), right = x.getPixelForValue(track.end_s);
          if (left >= area.left - 1 && right - left > 18 && left < area.right) {
            ctx.fillText(String(track.track_number), left + 4, area.top + 14);
          }
        });
        ctx.restore();
      },
    };
  }

  function init(canvas) {
    var reset = document.querySelector("[data-timeline-reset]");
    var buttons = document.querySelectorAll("[data-jump]");
    var state = { tracks: [], selected: -1, chart: null, duration: 0 };

    function show(min, max) {
      var scale = state.chart.options.scales.x;
      scale.min = min;
      scale.max = max;
      state.chart.update();
      canvas.setAttribute("data-range", Math.round(min) + "-" + Math.round(max));
    }

    function jump(index) {
      var track = state.tracks[index];
      if (!track || !state.chart) return;
      state.selected = index;
      buttons.forEach(function (button) {
        button.setAttribute("aria-current", String(Number(button.getAttribute("data-jump")) === index));
      });
      if (reset) reset.hidden = false;
      show(track.start_s, Math.max(track.end_s, track.start_s + 1));
      canvas.scrollIntoView({ block: "nearest" });
    }

    function whole() {
      state.selected = -1;
      buttons.forEach(function (button) { button.setAttribute("aria-current", "false"); });
      if (reset) reset.hidden = true;
      show(0, Math.max(state.duration, 1));
    }

    function draw(body) {
      state.tracks = body.tracks || [];
      state.duration = body.duration_s || 0;
      var text = cssVar("--muted", "#9aa3b2"), grid = cssVar("--border", "#2a2f3a");
      var minutes = body.minutes || [];
      var datasets = [{
        type: "bar",
        label: canvas.getAttribute("data-votes-label") || "",
        data: minutes.map(function (b) { return { x: b.start_s + 30, y: b.votes }; }),
        backgroundColor: withAlpha(cssVar("--muted", "#9aa3b2"), 0.55),
        yAxisID: "y",
        barPercentage: 1,
        categoryPercentage: 1,
      }];
      var scales = {
        x: {
          type: "linear", min: 0, max: Math.max(state.duration, 1),
          ticks: { color: text, maxTicksLimit: 12, callback: function (v) { return clock(v); } },
          grid: { color: grid },
        },
        y: { beginAtZero: true, ticks: { color: text, precision: 0 }, grid: { color: grid } },
      };
      if (body.scale && body.scale.kind === "numeric") {
        datasets.push({
          type: "line",
          label: canvas.getAttribute("data-score-label") || "",
          data: minutes.filter(function (b) { return b.score !== null; })
            .map(function (b) { return { x: Math.min(b.start_s + 60, state.duration), y: b.score }; }),
          borderColor: cssVar("--accent-strong", "#b794ff"),
          backgroundColor: cssVar("--accent-strong", "#b794ff"),
          borderWidth: 3,
          pointRadius: minutes.length > 60 ? 0 : 2,
          tension: 0.25,
          yAxisID: "y2",
        });
        var options = body.scale.options.map(Number);
        scales.y2 = {
          position: "right", min: Math.min.apply(null, options), max: Math.max.apply(null, options),
          ticks: { color: text }, grid: { drawOnChartArea: false },
        };
      }
      state.chart = new window.Chart(canvas, {
        data: { datasets: datasets },
        plugins: [bandsPlugin(state)],
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          parsing: true,
          plugins: {
            legend: { labels: { color: text } },
            tooltip: {
              callbacks: {
                title: function (items) {
                  if (!items.length) return "";
                  var i = trackAt(state.tracks, items[0].parsed.x);
                  var name = i >= 0 ? state.tracks[i].track_number + ". " + state.tracks[i].name : "";
                  return clock(items[0].parsed.x) + (name ? " · " + name : "");
                },
              },
            },
          },
          scales: scales,
          onClick: function (event) {
            var x = state.chart.scales.x.getValueForPixel(event.x);
            var i = trackAt(state.tracks, x);
            if (i < 0) return;
            var link = state.tracks[i].vod_link;
            if (link) window.open(link, "_blank", "noopener");
            else jump(i);
          },
        },
      });
      canvas.setAttribute("data-range", "0-" + Math.round(Math.max(state.duration, 1)));
      canvas.setAttribute("data-ready", "true");
      fromHash();
    }

    function fromHash() {
      var wanted = /^#track-(\d+)$/.exec(window.location.hash);
      if (wanted) jump(Number(wanted[1]));
    }

    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        var index = Number(button.getAttribute("data-jump"));
        if (history.replaceState) history.replaceState(null, "", "#track-" + index);
        jump(index);
      });
    });
    if (reset) reset.addEventListener("click", whole);
    window.addEventListener("hashchange", function () { if (state.chart) fromHash(); });

    fetch(canvas.getAttribute("data-url"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (body) { if (window.Chart) draw(body); })
      .catch(function (error) {
        console.warn("premiere-ecoute: the timeline could not be loaded", error);
      });
  }

  function start() {
    document.querySelectorAll("canvas[data-timeline]").forEach(init);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
