/*
 * Control page of a session (/sessions/{id}) and the prepare form (/sessions/new).
 *
 * app.js renders the shared bindings (data-field, data-distribution...) of the snapshots that
 * `/sessions/{id}/stream` sends; this file adds what only the control page shows:
 *   - status classes on [data-control]: status-preparing | status-active | status-stopped
 *     (CSS shows .only-preparing / .only-active / .only-stopped children accordingly);
 *   - the track list: each <tr data-track-row="<track id>"> gets its cells
 *     [data-cell="viewer_score|streamer_score|votes"] and its [data-hist] bars from
 *     snapshot.report.tracks, and the class is-current for snapshot.detail.current_track;
 *   - the notice banner [data-control-notice] from snapshot.notice;
 *   - the streamer's current rating highlighted among the [data-rate] buttons;
 *   - the Spotify player ([data-player]): classes player-playing | player-paused on the root
 *     from snapshot.track.is_playing (neither while unknown), elapsed and total time in
 *     [data-player-elapsed] / [data-player-duration], ticking while playing (app.js moves
 *     the [data-progress] bar);
 *   - the feed of the latest votes ([data-vote-feed], snapshot.latest_votes, newest first),
 *     labels taken from its data-labels; items not seen before get the class is-new;
 *   - the Twitch poll panel ([data-poll-panel], snapshot.poll): choices with counts and
 *     percentages, a countdown from poll.remaining_ms, classes poll-running | poll-ended;
 *   - classes playback-spotify | playback-manual from snapshot.detail.playback (CSS shows
 *     .only-spotify / .only-manual), and the [data-spotify-problem] banner matching
 *     snapshot.detail.spotify_problem ("disconnected" | "unreachable");
 *   - the overlay URL builder ([data-overlay-builder], [data-overlay-url], [data-copy]) and
 *     its preview ([data-overlay-preview], shown on demand by [data-preview-toggle]).
 * Refused commands answer 4xx/5xx with an HTML message: they are swapped in like successes.
 */
(function () {
  "use strict";

  var EMPTY = "\u2013";
  var lang = document.documentElement.lang || "en";
  var countFormat = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
  var timeFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  var states = new WeakMap();
  var wired = new WeakSet();

  function score(value) {
    return window.premiereEcoute.formatScore(value); // app.js: the one rule for scores
  }

  function setText(el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  }

  function renderHistogram(container, distribution, options) {
    if (!container) return;
    var counts = options.map(function (o) { return (distribution && distribution[o]) || 0; });
    var top = Math.max.apply(null, counts.concat([1]));
    options.forEach(function (option, index) {
      var bar = container.querySelector('[data-option="' + CSS.escape(option) + '"] .bar-fill');
      if (bar) bar.style.setProperty("--bar", String(counts[index] / top));
      var holder = bar && bar.parentElement;
      if (holder) holder.title = option + ": " + counts[index];
    });
  }

  function renderTracks(root, state) {
    var report = state.report;
    if (!report || !report.tracks) return;
    var options = (report.scale && report.scale.options) || [];
    var current = state.detail && state.detail.current_track;
    var currentId = state.status === "active" && current ? String(current.track_id) : null;
    report.tracks.forEach(function (track) {
      var row = root.querySelector('[data-track-row="' + track.track_id + '"]');
      if (!row) return;
      setText(row.querySelector('[data-cell="viewer_score"]'), score(track.viewer_score));
      setText(row.querySelector('[data-cell="streamer_score"]'), score(track.streamer_score));
      setText(row.querySelector('[data-cell="votes"]'), countFormat.format(track.votes || 0));
      renderHistogram(row.querySelector("[data-hist]"), track.distribution, options);
      var isCurrent = String(track.track_id) === currentId;
      row.classList.toggle("is-current", isCurrent);
      var play = row.querySelector("[data-play]");
      if (play) play.disabled = isCurrent;
    });
  }

  function clock(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) return EMPTY;
    var seconds = Math.max(0, Math.floor(ms / 1000));
    var minutes = Math.floor(seconds / 60);
    var rest = seconds % 60;
    return minutes + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function elapsedMs(track) {
    if (!track || track.progress_ms === null || track.progress_ms === undefined) return null;
    var elapsed = track.progress_ms;
    if (track.is_playing && track.received_at) elapsed += Date.now() - track.received_at;
    return track.duration_ms ? Math.min(elapsed, track.duration_ms) : elapsed;
  }

  function renderPlayer(root) {
    var state = states.get(root) || {};
    var track = state.track;
    var playing = track ? track.is_playing : null;
    root.classList.toggle("player-playing", playing === true);
    root.classList.toggle("player-paused", playing === false);
    setText(root.querySelector("[data-player-elapsed]"), clock(elapsedMs(track)));
    setText(root.querySelector("[data-player-duration]"), clock(track ? track.duration_ms : null));
  }

  function feedLabels(list) {
    try {
      return JSON.parse(list.getAttribute("data-labels") || "{}");
    } catch (error) {
      return {};
    }
  }

  function feedItem(vote, labels) {
    var item = document.createElement("li");
    item.className = "vote-feed-item" + (vote.is_streamer ? " is-streamer" : "");
    item.setAttribute("data-vote-id", String(vote.id));
    function part(parent, tag, className, text) {
      var el = document.createElement(tag);
      el.className = className;
      el.textContent = text;
      parent.appendChild(el);
      return el;
    }
    var who = vote.is_streamer
      ? labels.streamer || "streamer"
      : vote.viewer_name || (labels.viewer || "viewer {id}").replace("{id}", vote.masked_id || "");
    if (vote.early) item.classList.add("is-early");
    part(item, "span", "feed-who", who);
    part(item, "strong", "feed-value", String(vote.value));
    var meta = part(item, "span", "muted feed-meta", "");
    if (vote.early) {
      part(meta, "span", "badge feed-early", labels.early || "before the start").title = labels.early_title || "";
    } else {
      part(meta, "span", "feed-track", "#" + (vote.track_number || "?") + " " + (vote.track_name || ""));
    }
    part(meta, "span", "badge feed-source", (labels.sources || {})[vote.source] || vote.source);
    var when = part(meta, "time", "feed-time", "");
    if (vote.sent_at) {
      when.setAttribute("datetime", vote.sent_at);
      var date = new Date(vote.sent_at);
      when.textContent = isNaN(date) ? "" : timeFormat.format(date);
    }
    if (!vote.is_streamer && !vote.early && labels.remove_url) {
      var remove = part(item, "button", "button button-small feed-remove", labels.remove || "Remove");
      remove.type = "button";
      remove.title = (labels.remove_title || "").replace("{name}", who);
      remove.setAttribute("data-remove-vote", String(vote.id));
      remove.setAttribute("hx-post", labels.remove_url);
      remove.setAttribute("hx-vals", JSON.stringify({ vote_id: vote.id }));
      remove.setAttribute("hx-target", "#action-feedback");
      remove.setAttribute("hx-confirm", (labels.remove_confirm || "").replace("{name}", who));
    }
    return item;
  }

  function renderFeed(root, state) {
    var list = root.querySelector("[data-vote-feed]");
    if (!list || !Array.isArray(state.latest_votes)) return;
    var votes = state.latest_votes;
    var ids = votes.map(function (v) { return String(v.id) + "@" + v.sent_at; });
    if (list.getAttribute("data-rendered") === ids.join(",")) return;
    var seen = {};
    list.querySelectorAll("[data-vote-id]").forEach(function (el) {
      seen[el.getAttribute("data-vote-id") + "@" + (el.querySelector("time") || el).getAttribute("datetime")] = true;
    });
    var first = !list.hasAttribute("data-rendered");
    var labels = feedLabels(list);
    labels.remove_url = list.getAttribute("data-remove-url");
    var items = votes.map(function (vote, index) {
      var item = feedItem(vote, labels);
      if (!first && !seen[ids[index]]) item.classList.add("is-new");
      return item;
    });
    list.replaceChildren.apply(list, items);
    if (window.htmx) window.htmx.process(list);
    list.setAttribute("data-rendered", ids.join(","));
    var empty = root.querySelector("[data-vote-feed-empty]");
    if (empty) empty.hidden = votes.length > 0;
  }

  function pollLabels(panel) {
    try {
      return JSON.parse(panel.getAttribute("data-poll-labels") || "{}");
    } catch (error) {
      return {};
    }
  }

  function pollRemainingMs(poll) {
    if (!poll || poll.status !== "running") return 0;
    var left = poll.remaining_ms || 0;
    if (poll.received_at) left -= Date.now() - poll.received_at;
    return Math.max(0, left);
  }

  // The poll of the current track: choices with live counts and percentages, a countdown.
  function renderPoll(root) {
    var panel = root.querySelector("[data-poll-panel]");
    if (!panel) return;
    var state = states.get(root) || {};
    var poll = state.poll;
    var polls = state.detail ? state.detail.vote_mode !== "chat" : !panel.hidden;
    panel.hidden = !polls;
    var labels = pollLabels(panel);
    var left = pollRemainingMs(poll);
    var running = !!poll && poll.status === "running" && left > 0;
    panel.classList.toggle("poll-running", running);
    panel.classList.toggle("poll-ended", !!poll && !running);
    setText(panel.querySelector("[data-poll-track]"), poll ? poll.track_name || "" : "");
    var stateText = !poll ? labels.waiting || "" : running ? (labels.ends_in || "{time}").replace("{time}", clock(left)) : labels.ended || "";
    setText(panel.querySelector("[data-poll-state]"), stateText);
    setText(panel.querySelector("[data-poll-total]"), countFormat.format(poll ? poll.total || 0 : 0));
    var list = panel.querySelector("[data-poll-choices]");
    if (!list) return;
    var choices = poll ? poll.choices || [] : [];
    var key = JSON.stringify(choices);
    if (list.getAttribute("data-rendered") === key) return;
    list.setAttribute("data-rendered", key);
    list.replaceChildren.apply(list, choices.map(function (choice) {
      var item = document.createElement("li");
      item.className = "poll-choice";
      item.setAttribute("data-poll-option", choice.option);
      var label = document.createElement("span");
      label.className = "poll-option";
      label.textContent = choice.option;
      var bar = document.createElement("span");
      bar.className = "poll-bar";
      var fill = document.createElement("span");
      fill.className = "poll-bar-fill";
      fill.style.width = String(choice.percent || 0) + "%";
      bar.appendChild(fill);
      var figures = document.createElement("span");
      figures.className = "poll-figures";
      figures.setAttribute("data-poll-percent", "");
      figures.textContent = String(choice.percent || 0) + " % (" + countFormat.format(choice.votes || 0) + ")";
      item.append(label, bar, figures);
      return item;
    }));
  }

  function render(root) {
    var state = states.get(root) || {};
    ["preparing", "active", "stopped"].forEach(function (status) {
      root.classList.toggle("status-" + status, state.status === status);
    });
    var detail = state.detail || {};
    if (detail.playback) {
      root.classList.toggle("playback-spotify", detail.playback === "spotify");
      root.classList.toggle("playback-manual", detail.playback !== "spotify");
    }
    root.querySelectorAll("[data-spotify-problem]").forEach(function (banner) {
      banner.hidden = banner.getAttribute("data-spotify-problem") !== detail.spotify_problem;
    });
    renderPoll(root);
    var notice = root.querySelector("[data-control-notice]");
    if (notice) {
      setText(notice, state.notice || "");
      notice.hidden = !state.notice;
    }
    renderTracks(root, state);
    renderPlayer(root);
    renderFeed(root, state);
    var mine = state.track ? state.track.streamer_score : null;
    root.querySelectorAll("[data-rate]").forEach(function (button) {
      var chosen = mine !== null && mine !== undefined && String(mine) === button.getAttribute("data-rate");
      button.classList.toggle("is-chosen", chosen);
      button.setAttribute("aria-pressed", chosen ? "true" : "false");
    });
  }

  function receive(root, kind, event) {
    var payload;
    try {
      payload = JSON.parse(event.data);
    } catch (error) {
      return; // app.js reports malformed events
    }
    if (payload.track) payload.track.received_at = Date.now();
    if (payload.poll) payload.poll.received_at = Date.now();
    var state = kind === "snapshot" ? payload : Object.assign({}, states.get(root) || {}, payload);
    states.set(root, state);
    render(root);
  }

  document.addEventListener("htmx:sseOpen", function (event) {
    var root = event.target.closest && event.target.closest("[data-control]");
    var source = event.detail && event.detail.source;
    if (!root || !source || wired.has(source)) return;
    wired.add(source);
    source.addEventListener("snapshot", function (e) { receive(root, "snapshot", e); });
    source.addEventListener("update", function (e) { receive(root, "update", e); });
  });

  // A refused command carries its reason in a 4xx/5xx HTML fragment: show it.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr && event.detail.xhr.status;
    if (status >= 400 && event.detail.xhr.responseText) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function overlayUrl(builder) {
    var params = new URLSearchParams();
    builder.querySelectorAll("[data-overlay-param]").forEach(function (field) {
      // An empty idle text means the overlay shows nothing between sessions: leave it out.
      if (field.value !== "") params.set(field.getAttribute("data-overlay-param"), field.value);
    });
    return builder.getAttribute("data-overlay-base") + "?" + params.toString();
  }

  function wireOverlayBuilder(builder) {
    var card = builder.closest(".card") || document;
    var output = card.querySelector("[data-overlay-url]");
    var preview = card.querySelector("[data-overlay-preview]");
    var copy = card.querySelector("[data-copy]");
    var toggle = card.querySelector("[data-preview-toggle]");
    function previewSrc() {
      var url = new URL(overlayUrl(builder));
      return url.pathname + url.search;
    }
    function update() {
      if (output) output.value = overlayUrl(builder);
      // The preview is an overlay too: it is loaded only on demand, so that the count of
      // connected overlays tells the streamer about OBS, not about this page.
      if (preview && !preview.hidden) preview.src = previewSrc();
    }
    builder.addEventListener("change", update);
    builder.addEventListener("input", update);
    if (toggle && preview) {
      toggle.addEventListener("click", function () {
        var show = preview.hidden;
        preview.hidden = !show;
        preview.src = show ? previewSrc() : "about:blank";
        toggle.setAttribute("aria-expanded", String(show));
      });
    }
    if (copy && output) {
      copy.addEventListener("click", function () {
        output.select();
        var done = function () { copy.classList.add("is-copied"); };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(output.value).then(done, function () { document.execCommand("copy"); done(); });
        } else {
          document.execCommand("copy");
          done();
        }
      });
    }
  }

  // Keyboard shortcuts of the control page: N next, P previous, Space play/pause, number
  // keys rate (on a numeric scale the option typed, "1" then "0" within a moment for 10; on a
  // word scale the option at that rank). Never while typing in a field or with a modifier.
  var DIGIT_WAIT_MS = 700;
  var typed = { digits: "", timer: null };

  function visible(el) {
    return !!el && !el.disabled && el.getClientRects().length > 0;
  }

  function press(root, selector) {
    var target = Array.prototype.find.call(root.querySelectorAll(selector), visible);
    if (target) target.click();
    return !!target;
  }

  function rateOptions(root) {
    return Array.prototype.map.call(root.querySelectorAll("[data-rate]"), function (b) {
      return b.getAttribute("data-rate");
    });
  }

  function rate(root, digits) {
    var options = rateOptions(root);
    var numeric = options.every(function (o) { return /^-?\d+$/.test(o); });
    var option = numeric ? digits : options[Number(digits) - 1];
    if (option !== undefined) press(root, '[data-rate="' + CSS.escape(option) + '"]');
  }

  function typing(target) {
    if (!target || !target.closest) return false;
    return !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
  }

  document.addEventListener("keydown", function (event) {
    var root = document.querySelector("[data-control].status-active");
    if (!root || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    var key = event.key;
    if (key === "n" || key === "N") {
      if (press(root, '[data-action="next"]')) event.preventDefault();
    } else if (key === "p" || key === "P") {
      if (press(root, '[data-action="previous"]')) event.preventDefault();
    } else if (key === " " || key === "Spacebar") {
      if (event.target && event.target.closest && event.target.closest("button, a")) return;
      if (press(root, '[data-action="pause"], [data-action="resume"]')) event.preventDefault();
    } else if (/^[0-9]$/.test(key)) {
      event.preventDefault();
      window.clearTimeout(typed.timer);
      typed.digits += key;
      var options = rateOptions(root);
      var longer = options.some(function (o) {
        return o.length > typed.digits.length && o.indexOf(typed.digits) === 0;
      });
      if (longer) {
        typed.timer = window.setTimeout(function () {
          rate(root, typed.digits);
          typed.digits = "";
        }, DIGIT_WAIT_MS);
      } else {
        rate(root, typed.digits);
        typed.digits = "";
      }
    }
  });

  function init() {
    document.querySelectorAll("[data-overlay-builder]").forEach(wireOverlayBuilder);
    // The elapsed time moves between snapshots, like app.js's progress bar.
    window.setInterval(function () {
      document.querySelectorAll("[data-control].player-playing").forEach(renderPlayer);
      document.querySelectorAll("[data-control]").forEach(renderPoll);
    }, 1000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
