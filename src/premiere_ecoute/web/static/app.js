/*
 * Live pages (public page, control page, OBS overlay): renders session state pushed over SSE.
 *
 * Any element with both `data-live` and `sse-connect="<url>"` (htmx-ext-sse opens the stream and
 * reconnects with backoff) receives two event types, each carrying JSON:
 *   "snapshot"  the full state, sent when a stream (re)connects;
 *   "update"    a partial state: each top-level key it carries replaces the stored one.
 *
 * State contract (every key optional; null shows as "–"):
 * {
 *   "active": true,                          // false: no session -> idle view
 *   "status": "active",                      // "preparing" | "active" | "stopped"
 *   "votes_open": true,
 *   "scale":   {"kind": "numeric", "options": ["0", "1", ..., "10"]},
 *   "album":   {"name": "...", "artist": "...", "cover_url": "https://..."},
 *   "track":   {"id": 42, "number": 3, "total": 12, "name": "...", "artist": "...",
 *               "progress_ms": 61000,
 *               "duration_ms": 210000, "is_playing": true, "viewer_score": 7.25,
 *               "streamer_score": 8, "votes": 41, "distribution": {"0": 0, ..., "10": 3}},
 *   "session": {"viewer_score": 7.1, "streamer_score": 7.8, "votes": 320, "voters": 58},
 *   "overlays": 2,
 *   "final":   {"album": {...}, "viewer_score": 7.1, "streamer_score": 7.8, "votes": 320,
 *               "voters": 58, "top": {"name": "...", "viewer_score": 9.1} | null,
 *               "bottom": {...} | null, "report_url": "/sessions/4/report", "ends_in_s": 59.2}
 *                                            // only for a while after a stop (final scene)
 * }
 *
 * Bindings inside the live element:
 *   data-field="track.name"            text content (data-format="score" | "count" for numbers)
 *   data-field-src="album.cover_url"   image source; hidden while empty (data-placeholder:
 *                                      an element shown instead while there is no source)
 *   data-field-href="final.report_url" link target; hidden while empty
 *   data-count="track.votes"           a count in words: data-one / data-other hold the
 *                                      sentence ("{n} vote" / "{n} votes", from ngettext),
 *                                      chosen by the page language's plural rule
 *   data-progress="track"              width from progress_ms / duration_ms, ticking while playing
 *   data-distribution="track.distribution"  one bar per option
 *   data-vote-options                  vote buttons rebuilt from scale.options (data-vote-url)
 * Classes on the live element: is-loading, is-idle / is-active, is-final (the final scene
 * after a stop), votes-open / votes-closed, is-connected / is-disconnected (CSS shows .when-*
 * children accordingly); for a few seconds: track-changed (a new track) and show-result (a
 * track's votes closed: [data-result-name] / [data-result-score] hold its final score).
 */
(function () {
  "use strict";

  var EMPTY = "\u2013";
  var lang = document.documentElement.lang || "en";
  var scoreFormat = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var countFormat = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  var plurals = new Intl.PluralRules(lang);
  var states = new WeakMap();
  var timers = new WeakMap();
  var MOMENT_MS = 4000;
  var wiredSources = new WeakSet();

  function lookup(state, path) {
    return path.split(".").reduce(function (value, key) {
      return value === null || value === undefined ? undefined : value[key];
    }, state);
  }

  // The one rule for a score on screen (core/display.py): one decimal, half up, applied to
  // the number's shortest decimal writing (as Python's Decimal(str(x))), so 6.65 -> 6.7 and
  // 6.75 -> 6.8 here exactly as on pages rendered by the server.
  function roundScore(value) {
    var text = String(Math.abs(value));
    if (text.indexOf("e") >= 0) return Math.round(value * 10) / 10;
    var parts = text.split(".");
    var digits = (parts[1] || "") + "00";
    var tenths = Number(parts[0]) * 10 + Number(digits[0]) + (Number(digits[1]) >= 5 ? 1 : 0);
    return (value < 0 ? -tenths : tenths) / 10;
  }

  function formatScore(value) {
    if (value === null || value === undefined || value === "") return EMPTY;
    return typeof value === "number" ? scoreFormat.format(roundScore(value)) : String(value);
  }
  window.premiereEcoute = { formatScore: formatScore, roundScore: roundScore };

  function formatValue(value, format) {
    if (value === null || value === undefined || value === "") return EMPTY;
    if (typeof value === "number") {
      if (format === "score") return formatScore(value);
      if (format === "count") return countFormat.format(value);
    }
    return String(value);
  }

  function renderDistribution(container, distribution, options) {
    var keys = options && options.length ? options : Object.keys(distribution || {});
    var counts = keys.map(function (key) { return (distribution && distribution[key]) || 0; });
    var max = Math.max.apply(null, counts.concat([1]));
    var rows = keys.map(function (key, index) {
      var row = document.createElement("div");
      row.className = "bar";
      var fill = document.createElement("span");
      fill.className = "bar-fill";
      fill.style.setProperty("--bar", String(counts[index] / max));
      var label = document.createElement("span");
      label.className = "bar-label";
      label.textContent = key;
      var count = document.createElement("span");
      count.className = "bar-count";
      count.textContent = countFormat.format(counts[index]);
      row.append(fill, label, count);
      return row;
    });
    container.replaceChildren.apply(container, rows);
  }

  function renderVoteButtons(container, options) {
    var current = Array.prototype.map.call(container.querySelectorAll("button"), function (b) {
      return b.textContent;
    });
    if (!options || current.join("\u0000") === options.join("\u0000")) return;
    var url = container.getAttribute("data-vote-url");
    var buttons = options.map(function (option) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "vote-button";
      button.textContent = option;
      button.setAttribute("hx-post", url);
      button.setAttribute("hx-vals", JSON.stringify({ value: option }));
      button.setAttribute("hx-target", "#vote-feedback");
      button.setAttribute("hx-swap", "innerHTML");
      return button;
    });
    container.replaceChildren.apply(container, buttons);
    if (window.htmx) window.htmx.process(container);
  }

  function progressRatio(track) {
    if (!track || !track.duration_ms) return 0;
    var elapsed = track.progress_ms || 0;
    if (track.is_playing && track.received_at) elapsed += Date.now() - track.received_at;
    return Math.max(0, Math.min(1, elapsed / track.duration_ms));
  }

  function render(root) {
    var state = states.get(root) || {};
    var active = state.active === true;
    var final = !active && !!state.final;
    var classes = root.classList;
    classes.remove("is-loading");
    classes.toggle("is-active", active);
    classes.toggle("is-idle", !active && !final);
    classes.toggle("is-final", final);
    classes.toggle("is-ranked", final && !!lookup(state, "final.top"));
    classes.toggle("is-ranked-bottom", final && !!lookup(state, "final.bottom"));
    classes.toggle("votes-open", active && state.votes_open === true);
    classes.toggle("votes-closed", active && state.votes_open !== true);

    root.querySelectorAll("[data-field]").forEach(function (el) {
      var value = lookup(state, el.getAttribute("data-field"));
      el.textContent = formatValue(value, el.getAttribute("data-format"));
    });
    root.querySelectorAll("[data-count]").forEach(function (el) {
      var n = lookup(state, el.getAttribute("data-count"));
      var known = typeof n === "number";
      var form = known && plurals.select(n) === "one" ? "data-one" : "data-other";
      var text = (el.getAttribute(form) || "{n}").replace("{n}", known ? countFormat.format(n) : EMPTY);
      if (el.textContent !== text) el.textContent = text;
    });
    root.querySelectorAll("[data-field-src]").forEach(function (el) {
      var src = lookup(state, el.getAttribute("data-field-src"));
      if (src) {
        if (el.getAttribute("src") !== src) el.setAttribute("src", src);
        el.hidden = el.getAttribute("data-broken") === src;
      } else {
        el.hidden = true;
      }
    });
    root.querySelectorAll("[data-placeholder]").forEach(function (el) {
      var path = el.getAttribute("data-placeholder");
      var src = lookup(state, path);
      var image = root.querySelector('[data-field-src="' + path + '"]');
      el.hidden = !!src && !(image && image.getAttribute("data-broken") === src);
    });
    root.querySelectorAll("[data-field-href]").forEach(function (el) {
      var href = lookup(state, el.getAttribute("data-field-href"));
      if (href) el.setAttribute("href", href);
      el.hidden = !href;
    });
    root.querySelectorAll("[data-distribution]").forEach(function (el) {
      var options = lookup(state, "scale.options");
      renderDistribution(el, lookup(state, el.getAttribute("data-distribution")), options);
    });
    root.querySelectorAll("[data-vote-options]").forEach(function (el) {
      renderVoteButtons(el, lookup(state, "scale.options"));
    });
    renderProgress(root);
  }

  function renderProgress(root) {
    var state = states.get(root) || {};
    root.querySelectorAll("[data-progress]").forEach(function (el) {
      var ratio = progressRatio(lookup(state, el.getAttribute("data-progress")));
      el.style.width = (ratio * 100).toFixed(2) + "%";
    });
  }

  function receive(root, kind, event) {
    var payload;
    try {
      payload = JSON.parse(event.data);
    } catch (error) {
      console.warn("premiere-ecoute: ignored a malformed " + kind + " event", error);
      return;
    }
    if (payload.track) payload.track.received_at = Date.now();
    var before = states.get(root);
    var state = kind === "snapshot" ? payload : Object.assign({}, before || {}, payload);
    states.set(root, state);
    render(root);
    if (before) markMoments(root, before, state);
  }

  // Short moments of the show: a new track, and a track's votes closing with its final score.
  function markMoments(root, before, after) {
    var was = before.active ? before.track : null;
    var now = after.active ? after.track : null;
    if (was && now && was.number !== now.number) {
      flash(root, "track-changed");
      showResult(root, was);
    } else if (was && now && before.votes_open === true && after.votes_open === false) {
      showResult(root, now);
    }
  }

  function showResult(root, track) {
    if (!root.querySelector("[data-result-score]")) return;
    root.querySelectorAll("[data-result-name]").forEach(function (el) {
      el.textContent = track.name || "";
    });
    root.querySelectorAll("[data-result-score]").forEach(function (el) {
      el.textContent = formatValue(track.viewer_score, "score");
    });
    flash(root, "show-result");
  }

  function flash(root, name) {
    var pending = timers.get(root) || {};
    window.clearTimeout(pending[name]);
    root.classList.remove(name);
    void root.offsetWidth; // restart the CSS animation
    root.classList.add(name);
    pending[name] = window.setTimeout(function () { root.classList.remove(name); }, MOMENT_MS);
    timers.set(root, pending);
  }

  // htmx-ext-sse creates a new EventSource on every reconnect and announces it with sseOpen.
  document.addEventListener("htmx:sseOpen", function (event) {
    var root = event.target.closest("[data-live]");
    var source = event.detail && event.detail.source;
    if (!root) return;
    root.classList.add("is-connected");
    root.classList.remove("is-disconnected");
    // The browser's own reconnect reuses the EventSource and fires sseOpen again: wire it once.
    if (!source || wiredSources.has(source)) return;
    wiredSources.add(source);
    source.addEventListener("snapshot", function (e) { receive(root, "snapshot", e); });
    source.addEventListener("update", function (e) { receive(root, "update", e); });
  });

  function disconnected(root) {
    root.classList.remove("is-connected");
    root.classList.add("is-disconnected");
  }

  document.addEventListener("htmx:sseError", function (event) {
    var root = event.target.closest && event.target.closest("[data-live]");
    if (root) disconnected(root);
  });

  // A vote from the public page names the track it shows (the one the viewer hears, with the
  // stream delay): the server refuses it rather than count it for another track.
  document.addEventListener("htmx:configRequest", function (event) {
    var source = event.detail && event.detail.elt;
    if (!source || !source.closest || !source.closest("[data-vote-options]")) return;
    var root = source.closest("[data-live]");
    var track = root && (states.get(root) || {}).track;
    if (track && track.id !== undefined && track.id !== null) {
      event.detail.parameters.track_id = String(track.id);
    }
  });

  // A stream that closes (a deployment, the server's stream cap, a network blip) is routine:
  // the browser reconnects by itself. htmx-ext-sse would log each of these as an error
  // ("[object Event]"), so its handler only hears a stream the browser gave up on (CLOSED),
  // and then with a readable message; the routine case just marks the page disconnected.
  var sourceRoots = new WeakMap();
  document.addEventListener("htmx:sseOpen", function (event) {
    var root = event.target.closest("[data-live]");
    if (root && event.detail && event.detail.source) sourceRoots.set(event.detail.source, root);
  });

  function quietEventSource(url) {
    var source = new EventSource(url);
    var handler = null;
    Object.defineProperty(source, "onerror", {
      configurable: true,
      get: function () { return handler; },
      set: function (fn) { handler = fn; },
    });
    source.addEventListener("error", function (event) {
      if (source.readyState === EventSource.CLOSED) {
        if (handler) handler(new Error("live stream closed by the server; reconnecting"));
        return;
      }
      var root = sourceRoots.get(source);
      if (root) disconnected(root);
      event.stopImmediatePropagation();
    });
    return source;
  }

  function installQuietStreams() {
    if (window.htmx) window.htmx.createEventSource = quietEventSource;
  }
  installQuietStreams();
  document.addEventListener("DOMContentLoaded", installQuietStreams);

  // A cover that cannot be loaded gives way to its placeholder.
  document.addEventListener("error", function (event) {
    var el = event.target;
    if (!el || el.tagName !== "IMG" || !el.hasAttribute("data-field-src")) return;
    var root = el.closest("[data-live]");
    el.setAttribute("data-broken", el.getAttribute("src") || "");
    if (root) render(root);
  }, true);

  // Track progress moves between server updates without a message per second.
  window.setInterval(function () {
    document.querySelectorAll("[data-live].is-active").forEach(renderProgress);
  }, 1000);
})();
