// Try it: join a room of one of the organization's solutions with livekit-client (shipped with the page),
// microphone on, and show what the agent publishes: transcripts (lk.transcription) and Escuta's topics.
"use strict";
(function () {
  const form = document.getElementById("try-form");
  if (!form || !window.LivekitClient) return;
  const { Room, RoomEvent, Track, ParticipantKind } = window.LivekitClient;
  const status = document.getElementById("try-status");
  const agentLine = document.getElementById("try-agent");
  const transcript = document.getElementById("try-transcript");
  const events = document.getElementById("try-events");
  const leave = document.getElementById("try-leave");
  const TOPICS = ["escuta.balcao.recomendacao", "escuta.coach.feedback", "escuta.avatar.media", "escuta.avatar.status"];
  let room = null;

  function line(list, cls, parts) {
    const li = document.createElement("li");
    li.className = cls;
    for (const [c, text] of parts) {
      const span = document.createElement("span");
      span.className = c;
      span.textContent = text;
      li.appendChild(span);
    }
    list.appendChild(li);
    return li;
  }
  function clock() { return new Date().toLocaleTimeString(document.documentElement.lang, { hour12: false }); }
  function who(identity) {
    return room && room.localParticipant && identity === room.localParticipant.identity ? form.dataset.you : identity;
  }
  function agents() {
    if (!room) return;
    const present = [...room.remoteParticipants.values()].some((p) => p.kind === ParticipantKind.AGENT);
    agentLine.textContent = present ? form.dataset.agent : form.dataset.noAgent;
    agentLine.dataset.present = present ? "yes" : "no";
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (room) return;
    const slot = form.querySelector('.field-error[data-for="solution"]');
    slot.hidden = true;
    status.textContent = form.dataset.connecting;
    const solution = document.getElementById("try-solution").value;
    const userId = "console" + Math.random().toString(16).slice(2, 8);
    const res = await window.escuta.api("POST", "/token", { solution, clientId: form.dataset.clientId, userId });
    if (!res.ok) {
      slot.textContent = (res.data && res.data.error && res.data.error.message) || "HTTP " + res.status;
      slot.hidden = false;
      status.textContent = form.dataset.left;
      return;
    }
    // Two-PeerConnection signalling: what every LiveKit server version speaks.
    room = new Room({ singlePeerConnection: false });
    room.registerTextStreamHandler("lk.transcription", async (reader, sender) => {
      const attrs = reader.info.attributes || {};
      const text = await reader.readAll();
      if (!text.trim()) return;
      const id = attrs["lk.segment_id"] || reader.info.id;
      const old = transcript.querySelector('[data-segment="' + CSS.escape(id) + '"]');
      const li = line(transcript, "utt", [["at", clock()], ["speaker", who(sender.identity)], ["text", text]]);
      li.dataset.segment = id;
      if (old) old.replaceWith(li);
    });
    for (const topic of TOPICS) {
      room.registerTextStreamHandler(topic, async (reader) => {
        line(events, "", [["at", clock() + " "], ["badge", topic.split(".").pop()], ["text", " " + (await reader.readAll())]]);
      });
    }
    room.on(RoomEvent.ParticipantConnected, agents);
    room.on(RoomEvent.ParticipantDisconnected, agents);
    room.on(RoomEvent.TrackSubscribed, (track) => {
      if (track.kind === Track.Kind.Audio) document.getElementById("try-audio").appendChild(track.attach());
    });
    room.on(RoomEvent.Disconnected, () => {
      room = null;
      status.textContent = form.dataset.left;
      delete status.dataset.room;
      leave.hidden = true;
      document.getElementById("try-join").disabled = false;
    });
    try {
      await room.connect(res.data.url, res.data.token);
      await room.localParticipant.setMicrophoneEnabled(true);
    } catch (e) {
      slot.textContent = String(e && e.message || e);
      slot.hidden = false;
      if (room) await room.disconnect();
      room = null;
      status.textContent = form.dataset.left;
      return;
    }
    status.textContent = form.dataset.connected.replace("{room}", res.data.room).replace("{identity}", res.data.identity);
    status.dataset.room = res.data.room;
    leave.hidden = false;
    document.getElementById("try-join").disabled = true;
    agents();
  });
  leave.addEventListener("click", async () => { if (room) await room.disconnect(); });
})();
