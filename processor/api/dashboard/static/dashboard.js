// The dashboard's live parts: it polls how far the log is decided and, when that moves, fetches the same page
// again and swaps in its [data-live] sections and chart data, so a page stays current without a reload.
// Buttons with data-post send their command (the Graph route) and show the answer in one line.
"use strict";

const POLL_MS = 1000;
let position = null;
const charts = new Map(); // element -> uPlot

function notice(text, bad) {
  const box = document.getElementById("notice");
  box.textContent = text;
  box.className = bad ? "bad shown" : "shown";
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => { box.className = ""; }, 6000);
}

async function refreshSections() {
  const answer = await fetch(location.href, { headers: { Accept: "text/html" }, cache: "no-store" });
  if (!answer.ok) return;
  const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
  for (const section of document.querySelectorAll("[data-live][id]")) {
    const replacement = fresh.getElementById(section.id);
    if (replacement) section.replaceWith(document.importNode(replacement, true));
  }
  for (const element of document.querySelectorAll("[data-chart]")) drawChart(element);
}

async function poll() {
  const status = document.getElementById("live-status");
  try {
    const answer = await fetch("/dashboard/live", { cache: "no-store" });
    if (!answer.ok) throw new Error(String(answer.status));
    const now = (await answer.json()).position;
    if (position !== null && now !== position) await refreshSections();
    position = now;
    status.textContent = "live · #" + now;
    status.className = "live";
  } catch (problem) {
    status.textContent = "offline";
    status.className = "live offline";
  }
  setTimeout(poll, POLL_MS);
}

function chartOptions(element, data) {
  const colours = ["#2563eb", "#9ca3af", "#dc2626"];
  return {
    width: Math.max(element.clientWidth, 280),
    height: 220,
    scales: { x: { time: true } },
    axes: [{}, { size: 60 }],
    series: [{ label: "Day", value: "{YYYY}-{MM}-{DD}" }].concat(data.series.map((line, n) => ({
      label: line.label,
      stroke: line.label === "Users in error" ? colours[2] : colours[n % 2],
      width: 2,
      paths: uPlot.paths.stepped({ align: 1 }),
    }))),
  };
}

async function drawChart(element) {
  try {
    const answer = await fetch(element.dataset.chart, { cache: "no-store" });
    const data = await answer.json();
    if (!answer.ok) { element.textContent = data.error ? data.error.message : "No chart."; return; }
    if (!data.kept) { element.textContent = "This store keeps no decisions log (Kafka mode): no chart."; return; }
    if (!data.ready) { element.textContent = "Reading the log…"; setTimeout(() => drawChart(element), POLL_MS); return; }
    if (!data.x.length) { element.textContent = "Nothing to draw yet."; return; }
    const columns = [data.x].concat(data.series.map((line) => line.values));
    const drawn = charts.get(element);
    if (drawn && element.contains(drawn.root)) { drawn.setData(columns); return; }
    element.textContent = "";
    charts.set(element, new uPlot(chartOptions(element, data), columns, element));
  } catch (problem) {
    element.textContent = "The chart could not be read.";
  }
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-post]");
  if (!button) return;
  button.disabled = true;
  try {
    const answer = await fetch(button.dataset.post, { method: "POST", headers: { Accept: "application/json" } });
    if (answer.ok) {
      notice(button.dataset.done || "Done.", false);
    } else {
      const body = await answer.json().catch(() => ({}));
      notice((body.error && body.error.message) || "Refused: HTTP " + answer.status, true);
    }
    await refreshSections();
  } catch (problem) {
    notice("The server could not be reached.", true);
  } finally {
    button.disabled = false;
  }
});

document.addEventListener("DOMContentLoaded", () => {
  for (const element of document.querySelectorAll("[data-chart]")) drawChart(element);
  poll();
});
