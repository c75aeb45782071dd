// autan web page: no build step. Everything from the server is shown with textContent, never
// parsed as HTML, so an answer or a document cannot inject markup or scripts into the page.
"use strict";
const $ = (id) => document.getElementById(id);
let thread = null;
let pendingRun = null;

function headers() {
  const h = { "content-type": "application/json" };
  const key = $("key").value.trim();
  if (key) h.authorization = "Bearer " + key;
  return h;
}

function item(list, text, cls) {
  const li = document.createElement("li");
  li.textContent = text;
  if (cls) li.className = cls;
  $(list).appendChild(li);
  return li;
}

function bubble(role, text) {
  const div = document.createElement("div");
  div.className = "msg " + role;
  div.textContent = text;
  $("messages").appendChild(div);
  $("messages").scrollTop = $("messages").scrollHeight;
  return div;
}

async function api(path, body) {
  const r = await fetch(path, body === undefined ? { headers: headers() }
    : { method: "POST", headers: headers(), body: JSON.stringify(body) });
  const data = await r.json();
  if (!r.ok) throw new Error(data.error ? data.error.message : "HTTP " + r.status);
  return data;
}

// A run report is a static HTML page behind the API key: fetch it with the key, open it as a blob.
async function openReport(path) {
  const r = await fetch(path, { headers: headers() });
  if (!r.ok) return;
  const blob = new Blob([await r.text()], { type: "text/html" });
  window.open(URL.createObjectURL(blob), "_blank", "noopener");
}

function reportButton(parent, path) {
  const b = document.createElement("button");
  b.type = "button"; b.textContent = "report"; b.className = "run-report";
  b.addEventListener("click", () => openReport(path).catch(() => {}));
  parent.appendChild(b);
}

// POST a streamed run and hand each server-sent event to onEvent(kind, data).
async function streamRun(path, body, onEvent) {
  const r = await fetch(path, { method: "POST", headers: headers(),
                                body: JSON.stringify({ ...body, stream: true }) });
  if (!r.ok) {
    const data = await r.json().catch(() => ({}));
    throw new Error(data.error ? data.error.message : "HTTP " + r.status);
  }
  const reader = r.body.getReader();
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
      let kind = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) kind = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) onEvent(kind, JSON.parse(data));
    }
  }
}

function showSources(sources) {
  $("sources").replaceChildren();
  for (const s of sources || []) {
    const where = s.source + (s.start ? ":" + s.start + "-" + s.end : "");
    item("sources", "[" + s.id + "] " + where + " — " + (s.text || "").slice(0, 200));
  }
}

function handler(answer) {
  let streamed = "";
  return (kind, data) => {
    if (kind === "token") { streamed += data.text; answer.textContent = streamed; }
    else if (kind === "tool_call") item("trace", "→ " + data.name + " " + JSON.stringify(data.args));
    else if (kind === "tool_result") {
      const ok = data.result && data.result.ok;
      const shown = ok ? JSON.stringify(data.result).slice(0, 200) : JSON.stringify(data.result.error);
      item("trace", (ok ? "✓ " : "✗ ") + data.name + ": " + shown, ok ? "ok" : "fail");
    } else if (kind === "guard") {
      item("flags", "⚑ " + data.stage + " " + data.action + " by " + data.rail + ": "
        + (data.reasons || []).join("; "), "flag");
    } else if (kind === "interrupt") {
      const calls = (data.calls || []).map((c) => c.name + " " + JSON.stringify(c.args));
      $("held").textContent = calls.join(", ") || data.message || "a held step";
      answer.textContent = "waiting for your approval…";
    } else if (kind === "answer") {
      if (!data.streamed || data.revised) answer.textContent = data.text;
      showSources(data.sources);
    } else if (kind === "end") {
      pendingRun = data.status === "interrupted" ? data.run_id : null;
      $("approval").hidden = !pendingRun;  // shown once the run id is known
      if (data.status === "failed") { answer.className = "msg error"; answer.textContent = data.error; }
      answer.dataset.status = data.status;
      if (data.run_id) reportButton(answer, "/v1/runs/" + data.run_id + "/report");
    }
  };
}

async function ask(event) {
  event.preventDefault();
  const text = $("question").value.trim();
  if (!text) return;
  $("question").value = "";
  bubble("user", text);
  const answer = bubble("assistant", "…");
  $("trace").replaceChildren(); $("flags").replaceChildren(); $("sources").replaceChildren();
  $("send").disabled = true;  // one run at a time on a thread
  try {
    if (!thread) thread = (await api("/v1/threads", {})).thread_id;
    await streamRun("/v1/threads/" + thread + "/runs", { input: text }, handler(answer));
  } catch (err) {
    answer.className = "msg error";
    answer.textContent = String(err.message || err);
  } finally {
    $("send").disabled = false;
  }
}

async function decide(decision) {
  $("approval").hidden = true;
  if (!pendingRun) return;
  const answer = bubble("assistant", decision === "approve" ? "approved…" : "denied…");
  $("send").disabled = true;
  try {
    await streamRun("/v1/runs/" + pendingRun + "/resume", { decision }, handler(answer));
  } catch (err) {
    answer.className = "msg error";
    answer.textContent = String(err.message || err);
  } finally {
    $("send").disabled = false;
  }
}

async function refreshRuns() {
  try {
    const names = (await api("/v1/automations")).automations;
    $("automations").replaceChildren();
    for (const name of names) {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = "▶ " + name; b.dataset.name = name;
      b.addEventListener("click", async () => { await api("/v1/automations/" + name + "/runs", { vars: {} }).catch(() => {}); refreshRuns(); });
      $("automations").appendChild(b);
    }
    const runs = (await api("/v1/automations/runs")).runs;
    $("automation-runs").replaceChildren();
    for (const r of runs) {
      const li = item("automation-runs", r.run_id + " " + r.name + ": " + r.status, r.status === "done" ? "ok" : "");
      li.dataset.run = r.run_id;
      reportButton(li, "/v1/automations/runs/" + r.run_id + "/report");
      if (r.status === "waiting") {
        for (const decision of ["approve", "deny"]) {
          const b = document.createElement("button");
          b.type = "button"; b.textContent = decision; b.className = "run-" + decision;
          b.addEventListener("click", async () => {
            await api("/v1/automations/runs/" + r.run_id + "/resume", { decision }).catch(() => {});
            refreshRuns();
          });
          li.appendChild(b);
        }
      }
    }
  } catch (err) {
    $("automation-runs").replaceChildren();
    item("automation-runs", String(err.message || err), "fail");
  }
}

async function start() {
  $("key").value = localStorage.getItem("autan-key") || "";
  $("key").addEventListener("change", () => { localStorage.setItem("autan-key", $("key").value.trim()); refreshRuns(); });
  $("ask").addEventListener("submit", ask);
  $("approve").addEventListener("click", () => decide("approve"));
  $("deny").addEventListener("click", () => decide("deny"));
  $("new-thread").addEventListener("click", () => { thread = null; $("messages").replaceChildren(); });
  $("refresh-runs").addEventListener("click", refreshRuns);
  try {
    const h = await api("/healthz");
    $("status").textContent = "model " + h.model;
    document.body.dataset.ready = "yes";
  } catch (err) {
    $("status").textContent = "server unreachable";
  }
  refreshRuns();
}

start();
