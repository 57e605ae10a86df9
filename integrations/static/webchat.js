// Tiếng Dân web chat client. Every visible text comes from the server-rendered catalog
// (#tiengdan-i18n); the frame format is in /work/shared/DESIGN.md ("GET /webchat/ws").
(function () {
  "use strict";

  var T = JSON.parse(document.getElementById("tiengdan-i18n").textContent || "{}");
  function t(key) { return T[key] || ""; }

  var USER_KEY = "tiengdan.webchat.user";
  var MAX_PHOTO_BYTES = 6 * 1024 * 1024;   // larger photos are scaled down before sending
  var MAX_PHOTO_SIDE = 2048;
  var MAX_VOICE_MS = 120000;

  var logEl = document.getElementById("log");
  var statusEl = document.getElementById("status");
  var form = document.getElementById("form");
  var input = document.getElementById("text");
  var photoInput = document.getElementById("photo");
  var voiceBtn = document.getElementById("voice");
  var locationBtn = document.getElementById("location");

  function newId(length) {
    var alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    var bytes = new Uint8Array(length);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) { out += alphabet[bytes[i] % alphabet.length]; }
    return out;
  }

  function storedUser() {
    try { return window.localStorage.getItem(USER_KEY); } catch (e) { return null; }
  }

  var firstVisit = false;
  var userId = storedUser();
  if (!userId || !/^[A-Za-z0-9_-]{1,64}$/.test(userId)) {
    userId = "w" + newId(20);
    firstVisit = true;
    try { window.localStorage.setItem(USER_KEY, userId); } catch (e) { /* private mode: one visit only */ }
  }

  var lang = document.documentElement.lang || "vi";
  var ws = null;
  var queue = [];          // frames waiting for a connection
  var retryMs = 1000;
  var frameCounter = 0;
  var pendingButtons = [];
  var retryTimer = null;
  var typingEl = null;
  var typingTimer = null;
  var TYPING_MAX_MS = 30000;
  var placeholder = input.placeholder;

  function setStatus(key, cls) {
    var atBottom = logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < 4;
    statusEl.textContent = t(key);
    statusEl.className = "status " + (cls || "");
    if (atBottom) { scrollDown(); } // the band takes room: keep the newest message in view
  }

  function scrollDown() { logEl.scrollTop = logEl.scrollHeight; }

  // The newest message in view; one taller than the chat shows its start (the question), not its end.
  function reveal(el) {
    var top = el.getBoundingClientRect().top - logEl.getBoundingClientRect().top;
    if (el.offsetHeight > logEl.clientHeight - 16) {
      logEl.scrollTop += top - 8;
    } else {
      scrollDown();
    }
  }

  function bubble(who, text, extraClass) {
    var el = document.createElement("div");
    el.className = "msg " + who + (extraClass ? " " + extraClass : "");
    var label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = (who === "me" ? t("web.you") : t("web.bot")) + ": ";
    el.appendChild(label);
    var body = document.createElement("p");
    body.textContent = text;
    el.appendChild(body);
    logEl.insertBefore(el, typingEl && typingEl.parentNode === logEl ? typingEl : null);
    reveal(el);
    return el;
  }

  function stopTyping() {
    window.clearTimeout(typingTimer);
    if (typingEl && typingEl.parentNode) { typingEl.parentNode.removeChild(typingEl); }
  }

  // Three dots while an answer is on its way; a slow network must not look like a dead page.
  function startTyping() {
    if (!typingEl) {
      typingEl = document.createElement("div");
      typingEl.className = "msg bot typing";
      typingEl.setAttribute("role", "img");
      typingEl.setAttribute("aria-label", t("web.waiting"));
      var dots = document.createElement("span");
      dots.className = "dots";
      for (var i = 0; i < 3; i++) { dots.appendChild(document.createElement("i")); }
      typingEl.appendChild(dots);
    }
    window.clearTimeout(typingTimer);
    logEl.appendChild(typingEl);
    scrollDown();
    typingTimer = window.setTimeout(stopTyping, TYPING_MAX_MS);
  }

  function disableOldButtons() {
    pendingButtons.forEach(function (b) { b.disabled = true; });
    pendingButtons = [];
  }

  function askLocation() {
    locationBtn.disabled = true;
    navigator.geolocation.getCurrentPosition(function (pos) {
      locationBtn.disabled = false;
      locationBtn.classList.remove("attention");
      bubble("me", t("web.sent_location"));
      send({ location: { lat: pos.coords.latitude, lon: pos.coords.longitude } });
    }, function () {
      locationBtn.disabled = false;
      bubble("bot", t("web.location_denied"), "error");
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  // The bot asks where: offer the phone's position right in the message (like Telegram's keyboard button).
  function locationChoice(box) {
    var rowEl = document.createElement("div");
    rowEl.className = "button-row";
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "choice locate";
    btn.textContent = t("web.location_share");
    btn.addEventListener("click", askLocation);
    rowEl.appendChild(btn);
    box.insertBefore(rowEl, box.firstChild);
    pendingButtons.push(btn);
  }

  function showFrame(frame) {
    stopTyping();
    if (frame.error) {
      bubble("bot", frame.text || "", "error");
      return;
    }
    var el = bubble("bot", frame.text || "");
    if (frame.image) {
      var img = document.createElement("img");
      img.src = frame.image;
      img.alt = "";
      img.loading = "lazy";
      el.appendChild(img);
    }
    var rows = Array.isArray(frame.buttons) ? frame.buttons : [];
    var offerLocation = Boolean(frame.request_location) && !locationBtn.hidden;
    var locateMarker = Array.from(t("web.location_share"))[0] || "";
    var locateButton = null;
    if (rows.length || offerLocation) {
      disableOldButtons();
      el.classList.add("has-buttons");
      var box = document.createElement("div");
      box.className = "buttons";
      rows.forEach(function (row) {
        var rowEl = document.createElement("div");
        rowEl.className = "button-row";
        row.forEach(function (b) {
          var btn = document.createElement("button");
          btn.type = "button";
          btn.className = "choice";
          btn.textContent = b.label;
          if (offerLocation && !locateButton && locateMarker && String(b.label).indexOf(locateMarker) === 0) {
            // The bot's own "📍 send location" choice: on the web it asks the phone for its position.
            locateButton = btn;
            btn.className = "choice locate";
            btn.addEventListener("click", askLocation);
          } else {
            btn.addEventListener("click", function () {
              bubble("me", b.label);
              disableOldButtons();
              send({ payload: b.payload });
            });
          }
          rowEl.appendChild(btn);
          pendingButtons.push(btn);
        });
        box.appendChild(rowEl);
      });
      if (offerLocation && !locateButton) { locationChoice(box); }
      el.appendChild(box);
    }
    locationBtn.classList.toggle("attention", offerLocation);
    // A phone number is asked for: the keypad opens with digits (the web has no contact button).
    input.inputMode = frame.request_contact ? "tel" : "text";
    input.placeholder = frame.request_contact ? t("web.phone_placeholder") : placeholder;
    reveal(el);
  }

  function send(frame) {
    frameCounter += 1;
    frame.id = Date.now().toString(36) + "-" + frameCounter + "-" + newId(6);
    queue.push(JSON.stringify(frame));
    startTyping();
    flush();
  }

  function flush() {
    while (ws && ws.readyState === 1 && queue.length) {
      ws.send(queue.shift());
    }
  }

  function connect() {
    window.clearTimeout(retryTimer);
    retryTimer = null;
    if (ws && (ws.readyState === 0 || ws.readyState === 1)) { return; }
    var proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    var url = proto + "//" + window.location.host + "/webchat/ws?user=" + encodeURIComponent(userId) +
      "&lang=" + encodeURIComponent(lang);
    setStatus("web.status.connecting");
    ws = new WebSocket(url);
    ws.addEventListener("open", function () {
      retryMs = 1000;
      setStatus("web.status.online", "online");
      if (firstVisit) {
        firstVisit = false;
        queue.unshift(JSON.stringify({ text: "/start", id: "start-" + newId(8) }));
      }
      flush();
    });
    ws.addEventListener("message", function (event) {
      try { showFrame(JSON.parse(event.data)); } catch (e) { /* ignore a frame we cannot read */ }
    });
    ws.addEventListener("close", function () {
      stopTyping();
      setStatus("web.status.offline", "offline");
      window.clearTimeout(retryTimer);
      retryTimer = window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    });
  }

  // Back online or back to the tab (a phone waking up): try now instead of waiting for the timer.
  function retrySoon() {
    if (ws && ws.readyState === 3) { retryMs = 1000; connect(); }
  }
  window.addEventListener("online", retrySoon);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { retrySoon(); }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    bubble("me", text);
    send({ text: text });
    input.value = "";
    input.focus();
  });

  // The on-screen keyboard shrinks the page: keep the newest message above it.
  if (window.visualViewport) {
    window.visualViewport.addEventListener("resize", function () {
      if (document.activeElement === input) { scrollDown(); }
    });
  }

  // --- photo ---------------------------------------------------------------------------
  function readAsDataUrl(blob, done) {
    var reader = new FileReader();
    reader.onload = function () { done(String(reader.result)); };
    reader.readAsDataURL(blob);
  }

  function shrink(file, done) {
    var img = new Image();
    var url = URL.createObjectURL(file);
    img.onload = function () {
      var scale = Math.min(1, MAX_PHOTO_SIDE / Math.max(img.width, img.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(img.width * scale);
      canvas.height = Math.round(img.height * scale);
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      done(canvas.toDataURL("image/jpeg", 0.85));
    };
    img.onerror = function () { URL.revokeObjectURL(url); done(null); };
    img.src = url;
  }

  photoInput.addEventListener("change", function () {
    var file = photoInput.files && photoInput.files[0];
    photoInput.value = "";
    if (!file) { return; }
    var sendPhoto = function (dataUrl) {
      if (!dataUrl) { bubble("bot", t("web.photo_failed"), "error"); return; }
      var mine = bubble("me", t("web.sent_photo"));
      var thumb = document.createElement("img");
      thumb.alt = "";
      thumb.src = dataUrl;
      thumb.addEventListener("load", function () { scrollDown(); });
      thumb.addEventListener("error", function () { mine.removeChild(thumb); }); // e.g. HEIC: no preview
      mine.appendChild(thumb);
      send({ photo: dataUrl });
    };
    if (file.size > MAX_PHOTO_BYTES) { shrink(file, sendPhoto); } else { readAsDataUrl(file, sendPhoto); }
  });

  // --- voice ---------------------------------------------------------------------------
  var recorder = null;
  var chunks = [];
  var stopTimer = null;

  function pickMime() {
    var options = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus", "audio/mp4"];
    for (var i = 0; i < options.length; i++) {
      if (window.MediaRecorder.isTypeSupported && window.MediaRecorder.isTypeSupported(options[i])) {
        return options[i];
      }
    }
    return "";
  }

  function stopRecording() {
    if (recorder && recorder.state !== "inactive") { recorder.stop(); }
  }

  if (window.MediaRecorder && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    voiceBtn.hidden = false;
    voiceBtn.addEventListener("click", function () {
      if (recorder && recorder.state === "recording") { stopRecording(); return; }
      navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
        var mime = pickMime();
        recorder = mime ? new MediaRecorder(stream, { mimeType: mime }) : new MediaRecorder(stream);
        chunks = [];
        recorder.addEventListener("dataavailable", function (e) { if (e.data.size) { chunks.push(e.data); } });
        recorder.addEventListener("stop", function () {
          window.clearTimeout(stopTimer);
          stream.getTracks().forEach(function (track) { track.stop(); });
          voiceBtn.textContent = t("web.voice");
          voiceBtn.classList.remove("recording");
          var blob = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
          if (!blob.size) { return; }
          readAsDataUrl(blob, function (dataUrl) {
            bubble("me", t("web.sent_voice"));
            send({ voice: dataUrl });
          });
        });
        recorder.start();
        voiceBtn.textContent = t("web.voice_stop");
        voiceBtn.classList.add("recording");
        stopTimer = window.setTimeout(stopRecording, MAX_VOICE_MS);
      }).catch(function () {
        bubble("bot", t("web.voice_denied"), "error");
      });
    });
  }

  // --- location ------------------------------------------------------------------------
  if (navigator.geolocation) {
    locationBtn.hidden = false;
    locationBtn.addEventListener("click", askLocation);
  }

  connect();
})();
