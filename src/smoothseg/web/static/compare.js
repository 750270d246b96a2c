// smoothseg compare page: upload two time points, run the response job, show both scans in two
// NiiVue viewers whose crosshairs follow each other through the registration.
"use strict";

const $ = (sel) => document.querySelector(sel);
const NV = window.niivue;
const WINDOWS = { abdomen: [400, 40], liver: [150, 30], bone: [1800, 400] };
const VIEWS = {
  axial: NV.SLICE_TYPE.AXIAL, coronal: NV.SLICE_TYPE.CORONAL,
  sagittal: NV.SLICE_TYPE.SAGITTAL, multi: NV.SLICE_TYPE.MULTIPLANAR,
};
const TIMEPOINTS = ["baseline", "followup"];
const ROLES = ["baseline", "followup", "arterial_baseline", "arterial_followup"];
const LAYERS = {
  liver: { colormap: "green", opacity: 0.4 },
  tumor: { colormap: "red", opacity: 0.8 },
  lesions: { colormap: "gray", opacity: 0 }, // match numbers, read for the readout only
};
const state = { info: null, job: null, result: null, link: "registration", syncing: false,
  window: "abdomen", view: "axial", moves: 0 };
const viewers = {};
for (const role of TIMEPOINTS) {
  viewers[role] = {
    role, layers: {}, mm: null,
    nv: new NV.Niivue({
      backColor: [0, 0, 0, 1], crosshairColor: [0.25, 0.6, 1, 1], isColorbar: false,
      multiplanarShowRender: NV.SHOW_RENDER.NEVER, isRadiologicalConvention: true,
      loadingText: "",
    }),
  };
}
window.smoothsegCompare = { viewers, state, mapPoint };

function showError(text) {
  $("#error").textContent = text || "";
  $("#error").hidden = !text;
}

async function api(url, options) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", ...options });
  } catch (err) {
    throw new Error("the smoothseg server cannot be reached (is `smoothseg serve` running?)");
  }
  let body = null;
  try { body = await response.json(); } catch (err) { body = null; }
  if (!response.ok) throw new Error((body && body.error) || `the server answered ${response.status}`);
  return body;
}

// One time point's file, with upload progress (XMLHttpRequest reports it; fetch does not).
function uploadInput(role, file) {
  $("#progress-box").hidden = false;
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/api/compare/inputs/${role}?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      $("#progress").value = e.loaded / e.total;
      $("#progress-text").textContent = `uploading ${file.name} (${role.replace("_", " ")})`;
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else reject(new Error((xhr.response && xhr.response.error) || `the server answered ${xhr.status}`));
    };
    xhr.onerror = () => reject(new Error("the upload failed: the smoothseg server cannot be reached"));
    xhr.send(file);
  });
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }
function fmt(value, digits) {
  return value === null || value === undefined ? "-" : Number(value).toFixed(digits);
}
function fileUrl(name) { return `/api/jobs/${state.job}/files/${encodeURIComponent(name)}`; }

function chosenFiles() {
  const files = {};
  for (const role of ROLES) {
    const file = $(`#file-${role}`).files[0];
    if (file) files[role] = file;
  }
  if (!files.baseline || !files.followup) throw new Error("Choose a baseline and a follow-up first.");
  if (!files.arterial_baseline !== !files.arterial_followup) {
    throw new Error("Give both arterial phases (baseline and follow-up) or neither.");
  }
  const limit = state.info ? state.info.max_upload_mb * 1048576 : Infinity;
  for (const file of Object.values(files)) {
    if (file.size > limit) throw new Error(`${file.name}: the file is larger than the upload limit of ${state.info.max_upload_mb} MiB.`);
  }
  return files;
}

function setBusy(busy) {
  document.querySelectorAll("#compare, [data-compare-example]").forEach((b) => { b.disabled = busy; });
}

async function start(request) {
  showError("");
  setBusy(true);
  try {
    const job = await request();
    state.job = job.id;
    await poll();
  } catch (err) {
    showError(err.message);
    $("#progress-box").hidden = true;  // no "uploading ..." left over a refused upload
    $("#progress-text").textContent = "";
  } finally {
    setBusy(false);
  }
}

async function uploadAndCompare() {
  const files = chosenFiles();
  try { await api("/api/compare/inputs", { method: "DELETE" }); } catch (err) { /* no session yet */ }
  for (const [role, file] of Object.entries(files)) await uploadInput(role, file);
  return api("/api/compare", { method: "POST" });
}

async function poll() {
  $("#progress-box").hidden = false;
  for (;;) {
    const job = await api(`/api/jobs/${state.job}`);
    $("#progress").value = job.progress;
    $("#progress-text").textContent = `${job.title}: ${job.message} (${job.elapsed_s} s)`;
    if (job.state === "failed") throw new Error(job.error);
    if (job.state === "done") { await showResult(job); return; }
    await sleep(400);
  }
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = String(text);
  if (className) td.className = className;
  return td;
}

function showCategories(r) {
  const rows = [];
  for (const c of r.categories) {
    const tr = document.createElement("tr");
    tr.dataset.criterion = c.key;
    const change = c.change_pct === null ? "-" : `${c.change_pct > 0 ? "+" : ""}${c.change_pct} %`;
    tr.append(cell(c.criterion), cell(c.category, `category cat-${c.category.replace(/\W/g, "")}`),
      cell(`${c.baseline_sum} ${c.unit}`), cell(`${c.followup_sum} ${c.unit}`), cell(change));
    const rule = document.createElement("tr");
    rule.className = "rule";
    rule.dataset.rule = c.key;
    const td = cell(`${c.category}: ${c.rule}`);
    td.colSpan = 5;
    rule.append(td);
    rows.push(tr, rule);
  }
  $("#categories tbody").replaceChildren(...rows);
}

function diameters(lesions) {
  if (!lesions.length) return "-";
  return lesions.map((l) => fmt(l.diameter_mm, 1) +
    (l.viable_diameter_mm === null ? "" : ` (${fmt(l.viable_diameter_mm, 1)})`)).join(", ");
}

function volumes(lesions) {
  return lesions.length ? lesions.map((l) => fmt(l.volume_ml, 2)).join(", ") : "-";
}

function lesionRow(row) {
  const tr = document.createElement("tr");
  tr.tabIndex = 0;
  tr.dataset.number = row.number;
  const target = row.targets.includes("recist") ? " T" : "";
  const match = row.kind === "matched" ? `matched (${fmt(row.confidence, 2)})` : row.kind;
  tr.append(cell(`${row.number}${target}`), cell(match), cell(diameters(row.baseline)),
    cell(diameters(row.followup)), cell(volumes(row.baseline)), cell(volumes(row.followup)));
  tr.title = `lesion #${row.number}: jump both viewers to it`;
  const jump = () => jumpToLesion(row);
  tr.addEventListener("click", jump);
  tr.addEventListener("keydown", (e) => { if (e.key === "Enter") jump(); });
  return tr;
}

async function showResult(job) {
  const r = job.result;
  state.result = r;
  $("#results-empty").hidden = true;
  $("#results").hidden = false;
  $("#disclaimer").textContent = r.disclaimer || "";
  $("#disclaimer").hidden = !r.disclaimer;
  showCategories(r);
  const reg = r.registration;
  $("#registration-note").textContent = `Liver overlap (Dice) before / after registration: ` +
    `${fmt(reg.liver_dice_before, 3)} / ${fmt(reg.liver_dice_after, 3)}; ${r.seconds} s.`;
  $("#compare-warnings").replaceChildren(...r.warnings.map((w) => {
    const li = document.createElement("li"); li.textContent = w; return li;
  }));
  $("#compare-lesions tbody").replaceChildren(...r.lesions.map(lesionRow));
  $("#downloads").replaceChildren(...r.downloads.map((d) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = fileUrl(d.name); a.textContent = d.label; a.download = d.name; a.dataset.file = d.name;
    li.append(a); return li;
  }));
  for (const role of TIMEPOINTS) {
    const tp = r.timepoints[role];
    $(`#title-${role}`).textContent = `${role === "baseline" ? "Baseline" : "Follow-up"}: ` +
      `${tp.label} (${tp.source === "scan" ? "segmented here" : "uploaded result"}, ` +
      `${tp.lesion_count} lesion${tp.lesion_count === 1 ? "" : "s"})`;
  }
  document.body.dataset.compare = "loading";
  await Promise.all(TIMEPOINTS.map((role) => loadViewer(viewers[role], r.volumes[role])));
  const first = r.lesions.find((row) => row.baseline.length && row.followup.length) || r.lesions[0];
  if (first) jumpToLesion(first);
  document.body.dataset.compare = "ready";
}

async function loadViewer(viewer, files) {
  const nv = viewer.nv;
  const list = [{ url: fileUrl(files.ct), name: files.ct, colormap: "gray" }];
  viewer.layers = { ct: 0 };
  for (const [layer, spec] of Object.entries(LAYERS)) {
    if (!files[layer]) continue;
    viewer.layers[layer] = list.length;
    list.push({ url: fileUrl(files[layer]), name: files[layer], colormap: spec.colormap,
      cal_min: 0.5, cal_max: layer === "lesions" ? 255 : 1, opacity: layerOpacity(layer) });
  }
  await nv.loadVolumes(list);
  for (const [layer, index] of Object.entries(viewer.layers)) {
    if (layer === "ct") continue;
    nv.volumes[index].cal_min = 0.5;
    nv.volumes[index].cal_max = layer === "lesions" ? 255 : 1;
    nv.setColormap(nv.volumes[index].id, LAYERS[layer].colormap);
  }
  nv.setSliceType(VIEWS[state.view]);
  setWindow(state.window);
  applyOverlays();
}

function layerOpacity(layer) {
  const box = $(`[data-structure=${layer}]`);
  return box && box.checked ? LAYERS[layer].opacity : 0;
}

function applyOverlays() {
  for (const viewer of Object.values(viewers)) {
    for (const [layer, index] of Object.entries(viewer.layers)) {
      if (layer !== "ct" && viewer.nv.volumes[index]) viewer.nv.setOpacity(index, layerOpacity(layer));
    }
  }
}

function setWindow(name) {
  state.window = name;
  document.querySelectorAll("[data-window]").forEach((b) => b.classList.toggle("on", b.dataset.window === name));
  const [width, level] = WINDOWS[name];
  for (const { nv } of Object.values(viewers)) {
    if (!nv.volumes.length) continue;
    nv.volumes[0].cal_min = level - width / 2;
    nv.volumes[0].cal_max = level + width / 2;
    nv.updateGLVolume();
  }
}

function setView(name) {
  state.view = name;
  document.querySelectorAll("[data-view]").forEach((b) => b.classList.toggle("on", b.dataset.view === name));
  for (const { nv } of Object.values(viewers)) nv.setSliceType(VIEWS[name]);
}

// A point of one time point in the other's scanner coordinates (RAS mm).
function mapPoint(fromRole, mm) {
  const p = Array.from(mm).slice(0, 3);
  if (state.link !== "registration" || !state.result) return p;
  const reg = state.result.registration;
  const m = fromRole === "baseline" ? reg.baseline_to_followup : reg.followup_to_baseline;
  return [0, 1, 2].map((i) => m[i][0] * p[0] + m[i][1] * p[1] + m[i][2] * p[2] + m[i][3]);
}

// Put a viewer's crosshair at ``mm`` (clamped to its scan); its readout notes when clamped.
function moveTo(viewer, mm) {
  const nv = viewer.nv;
  if (!nv.volumes.length) return;
  const frac = nv.mm2frac(mm);
  viewer.outside = Array.from(frac).slice(0, 3).some((f) => f < 0 || f > 1);
  nv.scene.crosshairPos = [0, 1, 2].map((i) => Math.min(1, Math.max(0, frac[i])));
  nv.createOnLocationChange();
  nv.drawScene();
}

function jumpToLesion(row) {
  const b = row.baseline.length ? row.baseline[0].centroid_ras_mm : null;
  const f = row.followup.length ? row.followup[0].centroid_ras_mm : null;
  state.syncing = true;
  try {
    moveTo(viewers.baseline, b || mapPoint("followup", f));
    moveTo(viewers.followup, f || mapPoint("baseline", b));
  } finally {
    state.syncing = false;
  }
}

function readout(viewer, data) {
  const values = data.values || [];
  const at = (layer) => {
    const index = viewer.layers[layer];
    return index === undefined || !values[index] ? NaN : values[index].value;
  };
  const hu = at("ct");
  const lesion = Math.round(at("lesions"));
  const xyz = viewer.mm.map((v) => v.toFixed(1)).join(", ");
  let text = `crosshair: ${xyz} mm (RAS), ${Number.isFinite(hu) ? Math.round(hu) : "-"} HU`;
  if (lesion > 0) text += `, lesion #${lesion}`;
  if (viewer.outside) text += " (the linked point lies outside this scan)";
  $(`#readout-${viewer.role}`).textContent = text;
}

function onMove(viewer) {
  return (data) => {
    if (!viewer.nv.volumes.length) return;
    viewer.mm = Array.from(data.mm).slice(0, 3);
    if (!state.syncing) viewer.outside = false;
    readout(viewer, data);
    if (state.syncing) return;
    state.moves += 1;
    if (state.link === "off" || !state.result) return;
    const other = viewers[viewer.role === "baseline" ? "followup" : "baseline"];
    state.syncing = true;
    try {
      moveTo(other, mapPoint(viewer.role, viewer.mm));
    } finally {
      state.syncing = false;
    }
  };
}

async function init() {
  for (const viewer of Object.values(viewers)) {
    await viewer.nv.attachTo(`viewer-${viewer.role}`);
    viewer.nv.onLocationChange = onMove(viewer);
  }
  document.querySelectorAll("[data-view]").forEach((b) => b.addEventListener("click", () => setView(b.dataset.view)));
  document.querySelectorAll("[data-window]").forEach((b) => b.addEventListener("click", () => setWindow(b.dataset.window)));
  document.querySelectorAll("[data-structure]").forEach((el) => el.addEventListener("input", applyOverlays));
  $("#link").addEventListener("change", () => { state.link = $("#link").value; });
  $("#compare").addEventListener("click", () => start(uploadAndCompare));
  document.querySelectorAll("[data-compare-example]").forEach((b) => b.addEventListener("click",
    () => start(() => api(`/api/compare/examples/${b.dataset.compareExample}`, { method: "POST" }))));
  $("#forget").addEventListener("click", async () => {
    try { await api("/api/session", { method: "DELETE" }); } finally { window.location.reload(); }
  });
  try {
    state.info = await api("/api/info");
  } catch (err) {
    showError(err.message);
    return;
  }
  $("#limit").textContent = `${state.info.max_upload_mb} MiB`;
  if (state.info.disclaimer) {
    $("#model-note").textContent = state.info.disclaimer;
    $("#model-note").hidden = false;
  }
  document.body.dataset.ready = "true";
}

init();
