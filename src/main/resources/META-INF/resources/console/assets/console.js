// Cleargate console: small progressive enhancements. Every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Choosing a custom range when a date is typed, and a preset clears the dates.
  const preset = document.getElementById("preset");
  const from = document.getElementById("from");
  const to = document.getElementById("to");
  if (preset && from && to) {
    [from, to].forEach((el) => el.addEventListener("change", () => { if (el.value) preset.value = "custom"; }));
    preset.addEventListener("change", () => { if (preset.value !== "custom") { from.value = ""; to.value = ""; } });
  }
});

// Playground: one streamed chat completion through the whole pipeline, as the session's principal.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("chat-form");
  if (!form) return;
  const $ = (id) => document.getElementById(id);
  const describe = (verdicts) => (verdicts || []).map((v) => `${v.action || "block"} ${v.category} (${v.rule || v.rule_id || v.id}, ${v.direction || "input"})`).join("; ") || "nothing applied";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("answer").textContent = "";
    $("status").textContent = "sending…";
    ["region", "backend", "verdicts"].forEach((id) => { $(id).textContent = "—"; });
    const response = await fetch("/v1/chat/completions", {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": form.dataset.csrf },
      body: JSON.stringify({ model: $("model").value, stream: true, max_tokens: 128,
        messages: [{ role: "user", content: $("prompt").value }] }),
    });
    $("status").textContent = String(response.status);
    $("region").textContent = response.headers.get("x-cleargate-region") || "—";
    $("backend").textContent = response.headers.get("x-cleargate-backend") || "—";
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      const error = body.error || {};
      $("answer").textContent = error.message || "refused";
      $("verdicts").textContent = error.rules ? describe(error.rules) : (error.code || "—");
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
        const event = buffer.slice(0, cut).trim();
        buffer = buffer.slice(cut + 2);
        if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
        const chunk = JSON.parse(event.slice(6));
        const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
        if (delta && delta.content) $("answer").textContent += delta.content;
        if (chunk.cleargate_moderation) $("verdicts").textContent = describe(chunk.cleargate_moderation.verdicts);
      }
    }
    $("status").textContent += " · complete";
  });
});
