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

  function setStatus(key, cls) {
    statusEl.textContent = t(key);
    statusEl.className = "status " + (cls || "");
  }

  function scrollDown() { logEl.scrollTop = logEl.scrollHeight; }

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
    logEl.appendChild(el);
    scrollDown();
    return el;
  }

  function disableOldButtons() {
    pendingButtons.forEach(function (b) { b.disabled = true; });
    pendingButtons = [];
  }

  function showFrame(frame) {
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
    if (rows.length) {
      disableOldButtons();
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
          btn.addEventListener("click", function () {
            bubble("me", b.label);
            disableOldButtons();
            send({ payload: b.payload });
          });
          rowEl.appendChild(btn);
          pendingButtons.push(btn);
        });
        box.appendChild(rowEl);
      });
      el.appendChild(box);
    }
    if (frame.request_location && !locationBtn.hidden) {
      locationBtn.classList.add("attention");
    }
    scrollDown();
  }

  function send(frame) {
    frameCounter += 1;
    frame.id = Date.now().toString(36) + "-" + frameCounter + "-" + newId(6);
    queue.push(JSON.stringify(frame));
    flush();
  }

  function flush() {
    while (ws && ws.readyState === 1 && queue.length) {
      ws.send(queue.shift());
    }
  }

  function connect() {
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
      setStatus("web.status.offline", "offline");
      window.setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 30000);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    bubble("me", text);
    send({ text: text });
    input.value = "";
    input.focus();
  });

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
      bubble("me", t("web.sent_photo"));
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
    locationBtn.addEventListener("click", function () {
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
    });
  }

  connect();
})();
