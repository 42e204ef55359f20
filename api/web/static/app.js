// Light progressive enhancement; every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Sign-up: start from the browser's own time zone.
  const zone = document.querySelector('form[action="/app/signup"] #timezone');
  if (zone && (!zone.value || zone.value === "UTC")) {
    try { zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { /* keep UTC */ }
  }

  // Forms that destroy something ask first.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // Copy buttons next to secret URLs and client configurations.
  document.querySelectorAll("button[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      try {
        await navigator.clipboard.writeText(source.textContent);
        button.textContent = "Copied";
      } catch (e) {
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "Selected: press Ctrl+C";
      }
    });
  });

  // Chat: stream the answer (Server-Sent Events over fetch) instead of waiting for a page.
  const chat = document.getElementById("chat-form");
  const log = document.getElementById("chat-log");
  if (chat && log && window.fetch && window.TextDecoder) {
    chat.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(chat);
      const question = String(data.get("message") || "").trim();
      if (!question) return;
      const you = document.createElement("div");
      you.className = "chat-turn you";
      you.textContent = question;
      const reply = document.createElement("div");
      reply.className = "chat-turn assistant pre";
      log.append(you, reply);
      chat.querySelector("textarea").value = "";
      const button = chat.querySelector("button");
      button.disabled = true;
      try {
        const response = await fetch(chat.action, {
          method: "POST", body: new URLSearchParams(data), credentials: "same-origin",
          headers: { Accept: "text/event-stream" },
        });
        if (!response.ok || !response.body) {
          reply.textContent = "The assistant could not answer (" + response.status + ").";
          return;
        }
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const name = (block.match(/^event: (.*)$/m) || [])[1];
            const body = (block.match(/^data: (.*)$/m) || [])[1];
            if (!name || !body) continue;
            const payload = JSON.parse(body);
            if (name === "session") chat.elements.session_id.value = payload.session_id;
            else if (name === "delta") reply.textContent += payload.text;
            else if (name === "message") reply.textContent = payload.text;
            else if (name === "error") reply.textContent = payload.reason;
          }
        }
      } finally {
        button.disabled = false;
      }
    });
  }
});
