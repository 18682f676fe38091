// Le Stats Sportif pages: a small client of the public job API and the helpers every page shares.
"use strict";

const LSS = (() => {
  const POLL_FIRST_MS = 25;
  const POLL_MAX_MS = 500;
  const POLL_LIMIT_MS = 60000;

  /** An answer of the API that is not a success, with the reason the service gave. */
  class ApiError extends Error {
    constructor(status, reason) {
      super(reason);
      this.status = status;
    }
  }

  async function request(url, options) {
    const response = await fetch(url, options);
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      throw new ApiError(response.status, `${url}: answer is not JSON (HTTP ${response.status})`);
    }
    if (!response.ok) {
      throw new ApiError(response.status, (body && body.reason) || `HTTP ${response.status}`);
    }
    return body;
  }

  const getJSON = (url) => request(url, { headers: { Accept: "application/json" } });
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Submit one question as a job and return its id. */
  async function submit(endpoint, question, state) {
    const body = state === undefined ? { question } : { question, state };
    const answer = await request(`/api/${encodeURIComponent(endpoint)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    return answer.job_id;
  }

  /** Poll a job until it is done; its answer's data, or an ApiError with its reason. */
  async function poll(jobId) {
    const started = Date.now();
    let wait = POLL_FIRST_MS;
    for (;;) {
      const answer = await getJSON(`/api/get_results/${encodeURIComponent(jobId)}`);
      if (answer.status === "done") return answer.data;
      if (answer.status === "error") throw new ApiError(200, answer.reason);
      if (Date.now() - started > POLL_LIMIT_MS) throw new ApiError(0, `${jobId} still running`);
      await sleep(wait);
      wait = Math.min(wait * 2, POLL_MAX_MS);
    }
  }

  /** Ask a question the way any client does: submit, then poll. Returns {jobId, data}. */
  async function ask(endpoint, question, state) {
    const jobId = await submit(endpoint, question, state);
    return { jobId, data: await poll(jobId) };
  }

  let questionsCache = null;
  /** The nine questions with their direction: [{question, best_is}]. */
  function questions() {
    questionsCache = questionsCache || getJSON("/api/questions").then((body) => body.questions);
    return questionsCache;
  }

  /** The strings of a by-category key, which is Python's str() of a tuple of strings. */
  function parseTupleKey(key) {
    const parts = [];
    let i = key.indexOf("(") + 1;
    while (i < key.length) {
      const quote = key[i];
      if (quote !== "'" && quote !== '"') {
        i += 1;
        continue;
      }
      let text = "";
      i += 1;
      while (i < key.length && key[i] !== quote) {
        if (key[i] === "\\") {
          const next = key[i + 1];
          const simple = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"' };
          if (next in simple) {
            text += simple[next];
            i += 2;
          } else {
            const width = { x: 2, u: 4, U: 8 }[next] || 0;
            text += String.fromCodePoint(parseInt(key.slice(i + 2, i + 2 + width), 16));
            i += 2 + width;
          }
        } else {
          text += key[i];
          i += 1;
        }
      }
      parts.push(text);
      i += 1;
    }
    return parts;
  }

  // -- tables and downloads ------------------------------------------------------------------

  const fixed = (value) => (typeof value === "number" ? value.toFixed(2) : value ?? "no data");

  /**
   * Fill `table` with `rows` (objects). `columns` are {key, label, format?, cell?}: `format`
   * turns a value into text, `cell(td, row)` builds the cell itself (links, marks).
   */
  function renderTable(table, caption, columns, rows) {
    table.replaceChildren();
    const cap = table.createCaption();
    cap.textContent = caption;
    const head = table.createTHead().insertRow();
    for (const column of columns) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = column.label;
      if (column.numeric) th.className = "num";
      head.appendChild(th);
    }
    const body = table.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      if (row._class) tr.className = row._class;
      columns.forEach((column, index) => {
        const cell = document.createElement(index === 0 ? "th" : "td");
        if (index === 0) cell.scope = "row";
        if (column.numeric) cell.className = "num";
        if (column.cell) column.cell(cell, row);
        else cell.textContent = (column.format || fixed)(row[column.key]);
        tr.appendChild(cell);
      });
    }
  }

  function csvField(value) {
    if (value === null || value === undefined) return "";
    const text = String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  /** CSV text of `rows` (objects) with a header of `keys`; numbers at full precision. */
  function toCSV(keys, rows) {
    const lines = [keys.map(csvField).join(",")];
    for (const row of rows) lines.push(keys.map((key) => csvField(row[key])).join(","));
    return lines.join("\r\n") + "\r\n";
  }

  function save(filename, type, text) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  const slug = (text) => text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

  /**
   * Put "Download CSV" and "Download JSON" buttons in `container`; `current()` returns
   * {name, keys, rows, jobs} for what the table shows now (jobs: the API jobs it came from).
   */
  function downloadButtons(container, what, current) {
    container.replaceChildren();
    for (const [format, type] of [["CSV", "text/csv"], ["JSON", "application/json"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `Download ${format}`;
      button.setAttribute("aria-label", `Download ${what} as ${format}`);
      button.addEventListener("click", () => {
        const { name, keys, rows } = current();
        const plain = rows.map((row) => Object.fromEntries(keys.map((key) => [key, row[key] ?? null])));
        const text = format === "CSV" ? toCSV(keys, plain) : JSON.stringify(plain, null, 2) + "\n";
        save(`${slug(name)}.${format.toLowerCase()}`, type, text);
      });
      container.appendChild(button);
    }
    const raw = document.createElement("span");
    raw.className = "raw";
    container.appendChild(raw);
    return (jobs) => {
      // Links to the service's own answers behind the table (JSON, and CSV made by the server).
      raw.replaceChildren();
      if (!jobs || !jobs.length) return;
      raw.append("From the API: ");
      jobs.forEach((jobId, index) => {
        if (index) raw.append(", ");
        const json = document.createElement("a");
        json.href = `/api/get_results/${jobId}`;
        json.textContent = jobId;
        const csv = document.createElement("a");
        csv.href = `/api/get_results/${jobId}?format=csv`;
        csv.textContent = "csv";
        raw.append(json, " (", csv, ")");
      });
    };
  }

  /** Draw a Vega-Lite spec into `element` with the vendored vega-embed (SVG, no remote links). */
  function chart(element, spec) {
    return vegaEmbed(element, spec, {
      renderer: "svg",
      actions: { export: true, source: false, compiled: false, editor: false },
    }).then((result) => result.view);
  }

  function setStatus(text, isError) {
    const status = document.getElementById("status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  /** Fill a question <select> and keep its value in the page's address (?question=). */
  async function questionPicker(select, onChange) {
    const list = await questions();
    const wanted = new URLSearchParams(location.search).get("question");
    select.replaceChildren(
      ...list.map((item) => new Option(item.question, item.question, false, item.question === wanted)),
    );
    select.disabled = false;
    select.addEventListener("change", () => {
      const params = new URLSearchParams(location.search);
      params.set("question", select.value);
      history.replaceState(null, "", `${location.pathname}?${params}`);
      onChange(select.value);
    });
    return list;
  }

  /** A few words for each question, for chart axes; the full text is in the tables. */
  const SHORT = [
    [/overweight/, "Overweight"],
    [/have obesity/, "Obesity"],
    [/no leisure-time/, "No leisure-time activity"],
    [/fruit less/, "Fruit less than daily"],
    [/vegetables less/, "Vegetables less than daily"],
    [/150 minutes.*muscle-strengthening/, "150 min aerobic + muscle"],
    [/at least 150 minutes/, "150 min aerobic"],
    [/at least 300 minutes/, "300 min aerobic"],
    [/muscle-strengthening/, "Muscle-strengthening"],
  ];
  const shortLabel = (question) => (SHORT.find(([pattern]) => pattern.test(question)) || [0, question])[1];

  return {
    ApiError, ask, chart, downloadButtons, fixed, getJSON, parseTupleKey, questionPicker,
    questions, renderTable, setStatus, shortLabel, slug, toCSV,
  };
})();
