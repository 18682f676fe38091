// The job monitor: counts by status and the latest jobs, refreshed in place every few seconds.

import { getJSON, setStatus } from "./lss.js";
import { shortLabel } from "./format.js";
import { downloadButtons, renderTable } from "./tables.js";

{
  const INTERVAL_MS = 2000;
  const LIMIT = 50;
  const pause = document.getElementById("pause");
  let paused = false;
  let timer = null;
  let shown = [];
  const KEYS = ["job_id", "endpoint", "question", "state", "status", "accepted", "started", "finished", "reason"];
  downloadButtons(document.getElementById("jobs-downloads"), "the latest jobs", () => ({
    name: "latest jobs",
    context: null, // not numbers of the data: no question, years or source to name
    columns: KEYS.map((key) => ({ key })),
    rows: shown,
  }));
  document.getElementById("interval").textContent = String(INTERVAL_MS / 1000);

  const time = (stamp) => (stamp ? stamp.replace("T", " ").replace("Z", "") : "–");
  const took = (from, to) => (from && to ? `${Date.parse(to) - Date.parse(from)} ms` : "–");

  const COLUMNS = [
    {
      key: "job_id", label: "Job",
      cell: (cell, row) => {
        const link = document.createElement("a");
        link.href = `/api/get_results/${encodeURIComponent(row.job_id)}`;
        link.textContent = row.job_id;
        cell.appendChild(link);
      },
    },
    { key: "endpoint", label: "Endpoint", format: String },
    { key: "question", label: "Question", format: (q) => (q ? shortLabel(q) : "–") },
    { key: "state", label: "State", format: (s) => s ?? "–" },
    {
      key: "status", label: "Status",
      cell: (cell, row) => {
        cell.textContent = row.status;
        cell.className = `status-${row.status}`;
        if (row.reason) cell.title = row.reason;
      },
    },
    { key: "accepted", label: "Accepted (UTC)", format: time },
    { key: "started", label: "Started", format: time },
    { key: "finished", label: "Finished", format: time },
    { key: "took", label: "Took", numeric: true, format: String },
  ];

  async function refresh() {
    try {
      const body = await getJSON(`/api/jobs/recent?limit=${LIMIT}`);
      for (const status of ["running", "done", "error"]) {
        document.getElementById(`count-${status}`).textContent = String(body.counts[status] ?? 0);
      }
      shown = body.jobs.map((job) => ({ ...job, took: took(job.started, job.finished) }));
      renderTable(document.getElementById("jobs"), `The ${shown.length} latest jobs`, COLUMNS, shown);
      const now = new Date();
      const updated = document.getElementById("updated");
      updated.dateTime = now.toISOString();
      updated.textContent = now.toISOString().replace("T", " ").slice(0, 19);
      setStatus(`${shown.length} latest jobs shown`);
      document.body.dataset.ready = "true";
    } catch (error) {
      setStatus(`Could not read the jobs: ${error.message}`, true);
    } finally {
      if (!paused) timer = setTimeout(refresh, INTERVAL_MS);
    }
  }

  pause.addEventListener("click", () => {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    pause.textContent = paused ? "Resume" : "Pause";
    clearTimeout(timer);
    if (!paused) refresh();
  });

  refresh();
}
