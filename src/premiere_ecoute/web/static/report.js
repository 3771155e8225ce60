/*
 * Report page (/sessions/{id}/report): the running average of the chat's ratings, drawn with
 * Chart.js (vendored UMD build, global `Chart`).
 *
 * <canvas data-running-average data-series-url="..."> loads `<url>?per=vote|minute`, which
 * answers {"per": "vote", "series": [{"at": ISO time, "average": 7.2, "votes": 12}, ...]}.
 * Buttons [data-series-per="vote|minute"] switch between one point per vote and per minute.
 */
(function () {
  "use strict";

  var lang = document.documentElement.lang || "en";
  var timeFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function labels(series, per) {
    return series.map(function (point) {
      return per === "minute" ? timeFormat.format(new Date(point.at)) : String(point.votes);
    });
  }

  function draw(canvas, chart, series, per) {
    var data = {
      labels: labels(series, per),
      datasets: [{
        label: canvas.getAttribute("data-label") || "",
        data: series.map(function (point) { return point.average; }),
        borderColor: cssVar("--accent-strong", "#b794ff"),
        backgroundColor: cssVar("--accent", "#9b6bff"),
        pointRadius: series.length > 60 ? 0 : 3,
        tension: 0.25,
      }],
    };
    if (chart) {
      chart.data = data;
      chart.update();
      return chart;
    }
    var text = cssVar("--muted", "#9aa3b2");
    var grid = cssVar("--border", "#2a2f3a");
    return new window.Chart(canvas, {
      type: "line",
      data: data,
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          // Averages read as every score on screen: one decimal (app.js's one rule).
          tooltip: { callbacks: { label: function (item) {
            return window.premiereEcoute.formatScore(item.parsed.y);
          } } },
        },
        scales: {
          x: { ticks: { color: text, maxTicksLimit: 12 }, grid: { color: grid } },
          y: { ticks: { color: text, callback: function (value) {
            return window.premiereEcoute.formatScore(value);
          } }, grid: { color: grid } },
        },
      },
    });
  }

  function init(canvas) {
    var section = canvas.closest("section") || document;
    var empty = section.querySelector("[data-chart-empty]");
    var buttons = section.querySelectorAll("[data-series-per]");
    var chart = null;

    function load(per) {
      buttons.forEach(function (button) {
        button.setAttribute("aria-pressed", String(button.getAttribute("data-series-per") === per));
      });
      fetch(canvas.getAttribute("data-series-url") + "?per=" + encodeURIComponent(per), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (body) {
          var series = body.series || [];
          if (empty) empty.hidden = series.length > 0;
          canvas.parentElement.hidden = series.length === 0;
          if (series.length && window.Chart) chart = draw(canvas, chart, series, per);
        })
        .catch(function (error) {
          console.warn("premiere-ecoute: the running average could not be loaded", error);
        });
    }

    buttons.forEach(function (button) {
      button.addEventListener("click", function () { load(button.getAttribute("data-series-per")); });
    });
    load("vote");
  }

  function start() {
    document.querySelectorAll("canvas[data-running-average]").forEach(init);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
