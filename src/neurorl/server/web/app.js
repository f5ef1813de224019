// neurorl web page: play tasks, watch trained agents, look at hippocampal recall.
// Plain JS, no libraries, talks to the /v1 API of the server that served this page.
"use strict";

const $ = (id) => document.getElementById(id);

function showError(msg) {
  const e = $("error");
  e.textContent = msg;
  e.hidden = !msg;
}

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["content-type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
  if (!r.ok) {
    const msg = (data && (data.message || data.detail)) || text || r.statusText;
    const err = new Error(`${method} ${path}: HTTP ${r.status}: ${typeof msg === "string" ? msg : JSON.stringify(msg)}`);
    err.status = r.status;
    throw err;
  }
  return data;
}

async function guarded(fn) {
  showError("");
  try { await fn(); } catch (e) { showError(e.message); }
}

// ------------------------------------------------------------------ tabs
document.querySelectorAll(".tab").forEach((b) => b.addEventListener("click", () => {
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t === b));
  document.querySelectorAll(".panel").forEach((p) => { p.hidden = p.id !== b.dataset.tab; });
  if (b.dataset.tab === "watch") guarded(refreshAgents);
  if (b.dataset.tab === "hip") guarded(refreshModels);
}));

// ------------------------------------------------------------------ play a task as a human
const TASKS = [
  { match: (id) => id === "neurorl/Bandit-dependent-easy-v0", label: "Two-armed bandit (0.9 / 0.1)", kind: "bandit",
    help: "Two arms: one pays 1 with probability 0.9, the other with 0.1. 100 pulls. Keys 1 and 2, or click." },
  { match: (id) => id === "neurorl/Bandit-independent-v0", label: "Bandit, independent arms", kind: "bandit",
    help: "Each arm pays 1 with its own unknown probability. 100 pulls. Number keys or click." },
  { match: (id) => id === "neurorl/Harlow1D-v0", label: "Harlow 1-D", kind: "harlow",
    help: "Move the view with ← and → (or the buttons). Land on the cross (+0.2), then on one of two objects: " +
          "one of them always pays +1, the other −1, whatever side it is on. 6 trials." },
  { match: (id) => id === "neurorl/HarlowVisual-v0", label: "Harlow visual", kind: "harlow",
    help: "Saccade with ← and →. Look at the red cross (+0.2), then at one of two pictures: one always pays +1, " +
          "the other −1, whatever side it is on. 6 trials." },
  { match: (id) => /TwoStep/i.test(id) && !/two-?stage/i.test(id), label: "Two-step task", kind: "twostep",
    help: "Pick action 1 or 2 (keys 1/2). Each usually (80%) leads to its own second state; one second state " +
          "pays often (90%), the other rarely, and they swap now and then. 100 trials." },
];

const play = { session: null, task: null, nActions: 0, total: 0, steps: 0, over: false, busy: false };

async function loadTasks() {
  const envs = (await api("GET", "/v1/envs")).envs.map((e) => e.id);
  const sel = $("play-task");
  sel.innerHTML = "";
  for (const t of TASKS) {
    const id = envs.find(t.match);
    if (!id) continue;
    const o = document.createElement("option");
    o.value = id; o.textContent = t.label; o.dataset.kind = t.kind;
    sel.appendChild(o);
  }
  sel.dispatchEvent(new Event("change"));
}
$("play-task").addEventListener("change", () => {
  const t = TASKS.find((x) => x.match($("play-task").value));
  $("play-help").textContent = t ? t.help : "";
});

function actionLabel(kind, a) {
  if (kind === "harlow") return a === 0 ? "←" : "→";
  return String(a + 1);
}

async function startEpisode() {
  const envId = $("play-task").value;
  $("play-board").dataset.env = "";  // set again once the new episode is ready
  play.over = true;
  play.task = TASKS.find((x) => x.match(envId));
  if (play.session) { try { await api("DELETE", `/v1/sessions/${play.session}`); } catch (_) { /* expired */ } }
  const info = await api("POST", "/v1/sessions", { env_id: envId, seed: Number($("play-seed").value) || 0 });
  play.session = info.session_id;
  play.nActions = info.action_space.n;
  const out = await api("POST", `/v1/sessions/${play.session}/reset`, { render: play.task.kind === "harlow" });
  Object.assign(play, { total: 0, steps: 0, over: false });
  $("play-result").hidden = true;
  $("play-board").hidden = false;
  $("play-history").innerHTML = "";
  $("play-step").textContent = "0"; $("play-last").textContent = "–"; $("play-total").textContent = "0";
  $("play-stage").textContent = play.task.kind === "twostep" ? "first stage: choose" : "";
  const acts = $("play-actions");
  acts.innerHTML = "";
  for (let a = 0; a < play.nActions; a++) {
    const b = document.createElement("button");
    b.id = `action-${a}`; b.textContent = actionLabel(play.task.kind, a);
    b.addEventListener("click", () => guarded(() => act(a)));
    acts.appendChild(b);
  }
  showFrame(out.frames);
  $("play-board").dataset.env = envId;
}

function showFrame(frames) {
  const img = $("play-frame");
  if (frames && frames[0]) { img.src = frames[0]; img.hidden = false; } else { img.hidden = true; }
}

async function act(a) {
  if (!play.session || play.over || play.busy) return;
  play.busy = true;
  try {
    const out = await api("POST", `/v1/sessions/${play.session}/step`, { actions: [a], render: play.task.kind === "harlow" });
    const r = out.reward[0];
    play.steps += 1; play.total = out.episode_returns[0];
    $("play-step").textContent = play.steps;
    $("play-last").textContent = r.toFixed(1);
    $("play-total").textContent = play.total.toFixed(1);
    showFrame(out.frames);
    const li = document.createElement("li");
    li.textContent = actionLabel(play.task.kind, a);
    if (r > 0) li.className = "win"; else if (r < 0) li.className = "loss";
    if (play.task.kind === "twostep") {
      const s = out.info.second_stage_state ? out.info.second_stage_state[0] : null;
      const common = out.info.common ? out.info.common[0] : null;
      if (s !== null) $("play-stage").textContent = `reached S${s + 1} (${common ? "common" : "rare"}), reward ${r}`;
    }
    if (play.task.kind !== "harlow" || r !== 0) $("play-history").appendChild(li);
    if (out.terminated[0] || out.truncated[0]) await finishEpisode();
  } finally { play.busy = false; }
}

async function finishEpisode() {
  play.over = true;
  $("play-result").hidden = false;
  $("play-score").textContent = play.total.toFixed(1);
  $("play-note").textContent = "computing the baselines…";
  const s = await api("GET", `/v1/sessions/${play.session}/score`);
  const body = $("play-baselines").querySelector("tbody");
  body.innerHTML = "";
  const rows = [["you", play.total], ...Object.entries(s.baselines)];
  for (const [name, v] of rows) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td>${name}</td><td>${Number(v).toFixed(2)}</td>`;
    body.appendChild(tr);
  }
  $("play-note").textContent = s.note;
}

$("play-start").addEventListener("click", () => guarded(startEpisode));
document.addEventListener("keydown", (ev) => {
  if ($("play").hidden || !play.session || play.over || ev.target.tagName === "INPUT") return;
  let a = null;
  if (play.task.kind === "harlow") {
    if (ev.key === "ArrowLeft") a = 0;
    if (ev.key === "ArrowRight") a = 1;
  } else if (/^[1-9]$/.test(ev.key)) {
    a = Number(ev.key) - 1;
  }
  if (a !== null && a < play.nActions) { ev.preventDefault(); guarded(() => act(a)); }
});

// ------------------------------------------------------------------ watch a trained agent
const watch = { traj: null, t: 0, timer: null };

async function refreshAgents() {
  const loaded = (await api("GET", "/v1/agents")).agents;
  const shipped = (await api("GET", "/v1/agents/shipped")).shipped;
  const sel = $("watch-agent");
  const keep = sel.value;
  sel.innerHTML = "";
  for (const a of loaded) {
    const o = document.createElement("option");
    o.value = a.agent_id; o.textContent = `${a.agent_id} (${a.env_id})`;
    sel.appendChild(o);
  }
  for (const name of shipped) {
    if (loaded.some((a) => a.source === name)) continue;
    const o = document.createElement("option");
    o.value = "shipped:" + name; o.textContent = `${name} (shipped, not loaded yet)`;
    sel.appendChild(o);
  }
  if (keep) sel.value = keep;
}

async function loadAgent(source) {
  const info = await api("POST", "/v1/agents", { source });
  await refreshAgents();
  $("watch-agent").value = info.agent_id;
  return info.agent_id;
}

async function playAgent() {
  let id = $("watch-agent").value;
  if (!id) throw new Error("no agent: load one first");
  if (id.startsWith("shipped:")) id = await loadAgent(id.slice(8));
  watch.traj = await api("POST", `/v1/agents/${id}/play`,
    { seed: Number($("watch-seed").value) || 0, greedy: $("watch-greedy").checked });
  watch.t = 0;
  $("watch-view").hidden = false;
  $("watch-len").textContent = watch.traj.steps;
  $("watch-slider").max = Math.max(0, watch.traj.steps - 1);
  drawStep();
}

function drawStep() {
  const tr = watch.traj, t = watch.t;
  if (!tr) return;
  $("watch-slider").value = t;
  $("watch-step").textContent = t + 1;
  $("watch-action").textContent = tr.actions[t];
  $("watch-reward").textContent = tr.rewards[t].toFixed(2);
  $("watch-value").textContent = tr.values[t].toFixed(3);
  $("watch-return").textContent = tr.rewards.slice(0, t + 1).reduce((a, b) => a + b, 0).toFixed(2);
  const bars = $("watch-probs");
  bars.innerHTML = "";
  tr.probs[t].forEach((p, a) => {
    const d = document.createElement("div");
    d.className = "bar" + (a === tr.actions[t] ? " chosen" : "");
    d.style.height = `${Math.max(2, p * 150)}px`;
    d.textContent = `a${a}: ${p.toFixed(2)}`;
    d.dataset.prob = p;
    bars.appendChild(d);
  });
}

$("watch-refresh").addEventListener("click", () => guarded(refreshAgents));
$("watch-load").addEventListener("click", () => guarded(() => loadAgent($("watch-source").value.trim())));
$("watch-play").addEventListener("click", () => guarded(playAgent));
$("watch-next").addEventListener("click", () => { if (watch.traj && watch.t < watch.traj.steps - 1) { watch.t++; drawStep(); } });
$("watch-prev").addEventListener("click", () => { if (watch.t > 0) { watch.t--; drawStep(); } });
$("watch-slider").addEventListener("input", () => { watch.t = Number($("watch-slider").value); drawStep(); });
$("watch-run").addEventListener("click", () => {
  if (watch.timer) { clearInterval(watch.timer); watch.timer = null; return; }
  watch.timer = setInterval(() => {
    if (!watch.traj || watch.t >= watch.traj.steps - 1) { clearInterval(watch.timer); watch.timer = null; return; }
    watch.t++; drawStep();
  }, 120);
});

// ------------------------------------------------------------------ hippocampus view
// EC layers: 6x2 pools of 3x4 units, C order of (6, 2, 3, 4) (hippocampus.md §2.1)
function drawEC(el, values) {
  el.innerHTML = "";
  for (let pr = 0; pr < 6; pr++) for (let pc = 0; pc < 2; pc++) {
    const pool = document.createElement("div");
    pool.className = "pool";
    for (let ur = 0; ur < 3; ur++) for (let uc = 0; uc < 4; uc++) {
      const v = values[((pr * 2 + pc) * 3 + ur) * 4 + uc];
      const u = document.createElement("div");
      u.className = "unit";
      const g = Math.round(255 * (1 - Math.max(0, Math.min(1, v))));
      u.style.background = `rgb(${g},${g},${g})`;
      u.dataset.v = v;
      pool.appendChild(u);
    }
    el.appendChild(pool);
  }
}

// CorruptPattern of the original experiment (hippocampus.md §1.4): switch off the first
// int(active * ratio) active units in C order.
function corrupt(p, ratio) {
  const active = p.reduce((a, b) => a + b, 0);
  let k = Math.floor(active * ratio + 1e-9);
  return p.map((v) => { if (v === 1 && k > 0) { k--; return 0; } return v; });
}

async function refreshModels() {
  const models = (await api("GET", "/v1/models")).models;
  const sel = $("hip-model");
  const keep = sel.value;
  sel.innerHTML = "";
  for (const m of models) {
    const o = document.createElement("option");
    o.value = m.name; o.textContent = `${m.name} (${m.num_patterns} patterns, ${m.trained_epochs} epochs${m.busy ? ", busy" : ""})`;
    sel.appendChild(o);
  }
  if (keep && models.some((m) => m.name === keep)) sel.value = keep;
}

function randomPattern() {
  const idx = [...Array(144).keys()];
  for (let i = idx.length - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [idx[i], idx[j]] = [idx[j], idx[i]]; }
  const p = Array(144).fill(0);
  idx.slice(0, 36).forEach((i) => { p[i] = 1; });  // 36 active of 144 (sparsity .75, §1.4)
  return p;
}

async function createDemo() {
  const name = "web-demo-" + Math.random().toString(16).slice(2, 8);
  await api("POST", "/v1/models", { name, seed: 0 });
  await api("PUT", `/v1/models/${name}/patterns`, { patterns: Array.from({ length: 8 }, randomPattern) });
  const job = await api("POST", `/v1/models/${name}/train`, { max_epochs: 5 });
  $("hip-status").textContent = "training…";
  for (;;) {
    const j = await api("GET", `/v1/jobs/${job.job_id}`);
    $("hip-status").textContent = `training: ${j.epochs_done}/${j.epochs_total} epochs (${j.status})`;
    if (j.status !== "queued" && j.status !== "running") break;
    await new Promise((r) => setTimeout(r, 300));
  }
  await refreshModels();
  $("hip-model").value = name;
}

async function recall() {
  const name = $("hip-model").value;
  if (!name) throw new Error("no model: create the demo model first");
  const pats = (await api("GET", `/v1/models/${name}/patterns`)).patterns;
  if (!pats.length) throw new Error(`model ${name} holds no patterns`);
  const i = Math.min(Math.max(0, Number($("hip-index").value) || 0), pats.length - 1);
  $("hip-index").value = i; $("hip-index").max = pats.length - 1;
  const ratio = Number($("hip-ratio").value);
  const cue = corrupt(pats[i], ratio);
  const res = await api("POST", `/v1/models/${name}/test`, { cue, target: pats[i] });
  drawEC($("hip-stored"), pats[i]);
  drawEC($("hip-cue"), cue);
  drawEC($("hip-recall"), res.recall);
  $("hip-result").textContent = `closest stored pattern: #${res.closest_index} (distance ${res.closest_distance}); ` +
    `distance to pattern #${i}: ${res.target_distance}` + (res.closest_index === i ? " — recalled" : " — not recalled");
}

$("hip-ratio").addEventListener("input", () => { $("hip-ratio-val").textContent = $("hip-ratio").value; });
$("hip-refresh").addEventListener("click", () => guarded(refreshModels));
$("hip-demo").addEventListener("click", () => guarded(createDemo));
$("hip-test").addEventListener("click", () => guarded(recall));

guarded(loadTasks);
