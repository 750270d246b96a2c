// smoothseg viewer page: start a job, poll its progress, show results in NiiVue.
"use strict";

const $ = (sel) => document.querySelector(sel);
const NV = window.niivue;
// CT windows as [width, level] in HU.
const WINDOWS = { abdomen: [400, 40], liver: [150, 30], bone: [1800, 400] };
const VIEWS = {
  axial: NV.SLICE_TYPE.AXIAL, coronal: NV.SLICE_TYPE.CORONAL,
  sagittal: NV.SLICE_TYPE.SAGITTAL, multi: NV.SLICE_TYPE.MULTIPLANAR,
  render: NV.SLICE_TYPE.RENDER,
};
const OVERLAYS = { liver: { colormap: "green", index: 1 }, tumor: { colormap: "red", index: 2 } };
const state = { info: null, job: null, window: "abdomen", volumes: {} };
const nv = new NV.Niivue({
  backColor: [0, 0, 0, 1], crosshairColor: [0.25, 0.6, 1, 1], show3Dcrosshair: true,
  multiplanarShowRender: NV.SHOW_RENDER.NEVER, isColorbar: false, isRadiologicalConvention: true,
  loadingText: "",  // the page says what to do while no scan is shown (#viewer-empty)
});
window.smoothseg = { nv, state };

function showError(text) {
  const box = $("#error");
  box.textContent = text || "";
  box.hidden = !text;
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
  if (!response.ok) {
    throw new Error((body && body.error) || `the server answered ${response.status}`);
  }
  return body;
}

// Upload with XMLHttpRequest, which reports upload progress (fetch does not).
function uploadFile(file) {
  $("#progress-box").hidden = false;
  const mib = (file.size / 1048576).toFixed(1);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/upload?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      $("#progress").value = e.loaded / e.total;
      $("#progress-text").textContent = `uploading ${file.name} (${mib} MiB)`;
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else reject(new Error((xhr.response && xhr.response.error) || `the server answered ${xhr.status}`));
    };
    xhr.onerror = () => reject(new Error("the upload failed: the smoothseg server cannot be reached"));
    xhr.send(file);
  });
}

function setBusy(busy) {
  document.querySelectorAll("#examples button, #upload").forEach((b) => { b.disabled = busy; });
}

function fileUrl(name) {
  return `/api/jobs/${state.job}/files/${encodeURIComponent(name)}`;
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

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

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

function fmt(value, digits) {
  return value === null || value === undefined ? "-" : Number(value).toFixed(digits);
}

async function showResult(job) {
  const r = job.result;
  $("#results-empty").hidden = true;
  $("#results").hidden = false;
  $("#disclaimer").textContent = r.disclaimer || "";
  $("#disclaimer").hidden = !r.disclaimer;
  $("#result-title").textContent =
    `${job.title}: ${r.input.shape.join(" x ")} voxels at ${r.input.spacing_mm.join(" x ")} mm ` +
    `(${r.input.format}, ${r.input.orientation}); ${r.seconds} s`;
  $("#liver-ml").textContent = `${fmt(r.liver_ml, 1)} mL`;
  $("#tumor-ml").textContent = `${fmt(r.tumor_ml, 2)} mL`;
  $("#tlvr").textContent = fmt(r.tlvr, 4);
  $("#lesion-count").textContent = String(r.lesion_count);
  const warnings = $("#warnings");
  warnings.replaceChildren(...r.warnings.map((w) => {
    const li = document.createElement("li"); li.textContent = w; return li;
  }));
  const body = $("#lesions tbody");
  body.replaceChildren(...r.lesions.map((lesion) => lesionRow(lesion)));
  const downloads = $("#downloads");
  downloads.replaceChildren(...r.downloads.map((d) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = fileUrl(d.name); a.textContent = d.label; a.download = d.name;
    a.dataset.file = d.name;
    li.append(a); return li;
  }));
  if (r.status !== "ok") {
    showError("No liver was found in this scan, so there is nothing to measure. Check that it " +
      "is an abdominal CT that covers the liver" + (r.warnings.length ? ` (${r.warnings.join("; ")})` : "") + ".");
  }
  await loadViewer(r.volumes);
}

function lesionRow(lesion) {
  const tr = document.createElement("tr");
  tr.tabIndex = 0;
  tr.title = `jump to lesion ${lesion.index} (RAS ${lesion.centroid_ras_mm.join(", ")} mm)`;
  for (const text of [lesion.index, fmt(lesion.volume_ml, 2), fmt(lesion.longest_axial_diameter_mm, 1),
    fmt(lesion.max_3d_diameter_mm, 1), fmt(lesion.mean_hu, 0)]) {
    const td = document.createElement("td"); td.textContent = String(text); tr.append(td);
  }
  const jump = () => jumpTo(lesion.centroid_ras_mm);
  tr.addEventListener("click", jump);
  tr.addEventListener("keydown", (e) => { if (e.key === "Enter") jump(); });
  return tr;
}

async function loadViewer(volumes) {
  document.body.dataset.viewer = "loading";
  $("#viewer-empty").hidden = true;
  const list = [{ url: fileUrl(volumes.ct), name: "ct.nii.gz", colormap: "gray" }];
  state.volumes = { ct: 0 };
  for (const [structure, spec] of Object.entries(OVERLAYS)) {
    if (!volumes[structure]) continue;
    state.volumes[structure] = list.length;
    list.push({ url: fileUrl(volumes[structure]), name: `${structure}.nii.gz`,
      colormap: spec.colormap, cal_min: 0.5, cal_max: 1, opacity: overlayOpacity(structure) });
  }
  await nv.loadVolumes(list);
  for (const [structure, index] of Object.entries(state.volumes)) {
    if (structure === "ct") continue;
    const volume = nv.volumes[index];
    volume.cal_min = 0.5;
    volume.cal_max = 1;
    nv.setColormap(volume.id, OVERLAYS[structure].colormap);
  }
  setWindow(state.window);
  applyOverlays();
  // The crosshair is drawn from the start: say where it is instead of "crosshair: -".
  const mm = nv.frac2mm(nv.scene.crosshairPos);
  state.crosshair = `crosshair: ${describe(mm, valueAt(mm))}`;
  $("#readout").textContent = state.crosshair;
  document.body.dataset.viewer = "ready";
}

function overlayOpacity(structure) {
  const on = $(`[data-structure=${structure}]`).checked;
  return on ? Number($(`[data-opacity=${structure}]`).value) : 0;
}

function applyOverlays() {
  for (const structure of Object.keys(OVERLAYS)) {
    const index = state.volumes[structure];
    if (index !== undefined && nv.volumes[index]) nv.setOpacity(index, overlayOpacity(structure));
  }
}

function setWindow(name) {
  state.window = name;
  document.querySelectorAll("[data-window]").forEach((b) => b.classList.toggle("on", b.dataset.window === name));
  if (!nv.volumes.length) return;
  const [width, level] = WINDOWS[name];
  nv.volumes[0].cal_min = level - width / 2;
  nv.volumes[0].cal_max = level + width / 2;
  nv.updateGLVolume();
}

function setView(name) {
  document.querySelectorAll("[data-view]").forEach((b) => b.classList.toggle("on", b.dataset.view === name));
  nv.setSliceType(VIEWS[name]);
}

function jumpTo(mm) {
  if (!nv.volumes.length) return;
  nv.scene.crosshairPos = nv.mm2frac([mm[0], mm[1], mm[2]]);
  nv.createOnLocationChange();
  nv.drawScene();
}

function describe(mm, hu) {
  const xyz = Array.from(mm).slice(0, 3).map((v) => v.toFixed(1)).join(", ");
  return `${xyz} mm (RAS), ${Number.isFinite(hu) ? Math.round(hu) : "-"} HU`;
}

function valueAt(mm) {
  const ct = nv.volumes[0];
  const vox = ct.mm2vox(Array.from(mm).slice(0, 3));
  const dims = ct.hdr.dims;
  for (let i = 0; i < 3; i++) {
    const v = Math.round(vox[i]);
    if (v < 0 || v >= dims[i + 1]) return NaN;
  }
  return ct.getValue(vox[0], vox[1], vox[2]);
}

nv.onLocationChange = (data) => {
  if (!nv.volumes.length) return;
  state.crosshair = `crosshair: ${describe(data.mm, valueAt(data.mm))}`;
  $("#readout").textContent = state.crosshair;
};

function hover(event) {
  if (!nv.volumes.length) return;
  const dpr = nv.uiData && nv.uiData.dpr ? nv.uiData.dpr : window.devicePixelRatio || 1;
  const frac = nv.canvasPos2frac([event.offsetX * dpr, event.offsetY * dpr]);
  if (frac[0] < 0) { $("#readout").textContent = state.crosshair || "crosshair: -"; return; }
  const mm = nv.frac2mm(frac);
  $("#readout").textContent = `cursor: ${describe(mm, valueAt(mm))}`;
}

async function init() {
  await nv.attachTo("viewer");
  $("#viewer").addEventListener("mousemove", hover);
  $("#viewer").addEventListener("mouseleave", () => {
    $("#readout").textContent = state.crosshair || "crosshair: -";
  });
  document.querySelectorAll("[data-view]").forEach((b) => b.addEventListener("click", () => setView(b.dataset.view)));
  document.querySelectorAll("[data-window]").forEach((b) => b.addEventListener("click", () => setWindow(b.dataset.window)));
  document.querySelectorAll("[data-structure], [data-opacity]").forEach((el) => el.addEventListener("input", applyOverlays));
  $("#upload").addEventListener("click", () => {
    const file = $("#file").files[0];
    if (!file) { showError("Choose a scan file first."); return; }
    if (state.info && file.size > state.info.max_upload_mb * 1024 * 1024) {
      showError(`${file.name}: the file is larger than the upload limit of ${state.info.max_upload_mb} MiB.`);
      return;
    }
    start(() => uploadFile(file));
  });
  $("#forget").addEventListener("click", async () => {
    await api("/api/session", { method: "DELETE" });
    window.location.reload();
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
  $("#examples").replaceChildren(...state.info.examples.map((example) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.example = example.id;
    button.textContent = example.title;
    const small = document.createElement("small");
    small.textContent = example.description;
    button.append(small);
    button.addEventListener("click", () => start(() => api(`/api/examples/${example.id}`, { method: "POST" })));
    li.append(button); return li;
  }));
  document.body.dataset.ready = "true";
}

init();
