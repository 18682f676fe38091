// Le Stats Sportif pages: a small client of the public job API and the helpers every page shares.
"use strict";

const LSS = (() => {
  const POLL_FIRST_MS = 25;
  const POLL_MAX_MS = 500;
  const POLL_LIMIT_MS = 60000;
  /** Seconds a POST asks the server to hold it for the answer (Prefer: wait, SPEC §14). */
  const WAIT_S = 5;

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

  /**
   * Submit one question as a job: `extra` holds the optional fields (years, stratification,
   * category). The POST asks the server to hold it until the job is done (Prefer: wait); the
   * answer is {jobId, done, data} when it was, else {jobId} and the job must be polled.
   */
  async function submit(endpoint, question, state, extra) {
    const body = { question, ...(state === undefined ? {} : { state }), ...(extra || {}) };
    const answer = await request(`/api/${encodeURIComponent(endpoint)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", Prefer: `wait=${WAIT_S}` },
      body: JSON.stringify(body),
    });
    if (answer.status === "error") throw new ApiError(200, answer.reason);
    return { jobId: answer.job_id, done: answer.status === "done", data: answer.data };
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

  /**
   * Ask a question the way any client does: submit, then poll unless the server already
   * answered. `extra`: optional fields of the body. Returns {jobId, data}.
   */
  async function ask(endpoint, question, state, extra) {
    const submitted = await submit(endpoint, question, state, extra);
    if (submitted.done) return { jobId: submitted.jobId, data: submitted.data };
    return { jobId: submitted.jobId, data: await poll(submitted.jobId) };
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

  /** A reliability cell: "yes", or a mark saying "unreliable" with the rules broken as its title. */
  function reliabilityCell(cell, row) {
    if (row.reliable !== false) {
      cell.textContent = row.reliable === true ? "yes" : "–";
      return;
    }
    const mark = document.createElement("span");
    mark.className = "mark unreliable";
    mark.textContent = "unreliable";
    if (row.unreliable) mark.title = row.unreliable;
    cell.appendChild(mark);
  }

  /** "low to high", two decimals, for a 95% interval. */
  const interval = (low, high) =>
    typeof low === "number" && typeof high === "number" ? `${low.toFixed(2)} to ${high.toFixed(2)}` : "–";

  /**
   * A text cell a spreadsheet would run as a formula (it begins with =, +, -, @, a tab or a CR)
   * gets a leading ' (the data may come from anywhere); numbers, negative ones too, stay numbers.
   */
  function neutralised(value) {
    if (typeof value !== "string" || !/^[=+\-@\t\r]/.test(value)) return value;
    return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) ? value : `'${value}`;
  }

  function csvField(value) {
    if (value === null || value === undefined) return "";
    const text = String(neutralised(value));
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

  // -- the selection: a year range and a group, kept in the page's address -------------------

  const TOTAL = ["Total", "Total"];
  const cached = (cache, key, make) => {
    if (!cache.has(key)) cache.set(key, make().catch((error) => { cache.delete(key); throw error; }));
    return cache.get(key);
  };
  /** A 400 (a question the loaded dataset has no data for): null; anything else is thrown. */
  const noData = (error) => {
    if (error.status === 400) return null;
    throw error;
  };
  const yearsCache = new Map();
  const strataCache = new Map();

  /** The years a question has rows in, ascending: those of the nation's state_trend answer. */
  function yearsOf(question) {
    return cached(yearsCache, question, async () => {
      const answer = await ask("state_trend", question, "National").catch(noData);
      if (!answer) return [];
      const { data } = answer;
      const years = new Set([...data.series.map((point) => point.year), ...data.missing_years]);
      return [...years].sort((a, b) => a - b);
    });
  }

  /** [[category, stratum]...] a question has values for (the nation's breakdown), Total first. */
  function strataOf(question) {
    return cached(strataCache, question, async () => {
      const answer = await ask("state_mean_by_category", question, "National").catch(noData);
      const pairs = Object.keys((answer && answer.data.National) || {}).map(parseTupleKey);
      return [TOTAL, ...pairs.filter(([category]) => category !== "Total")];
    });
  }

  /** Change some of the address's query parameters (null removes one), keeping the others. */
  function setParams(changes) {
    const params = new URLSearchParams(location.search);
    for (const [name, value] of Object.entries(changes)) {
      if (value === null || value === undefined) params.delete(name);
      else params.set(name, value);
    }
    const query = params.toString();
    history.replaceState(null, "", query ? `${location.pathname}?${query}` : location.pathname);
  }

  const param = (name) => new URLSearchParams(location.search).get(name);

  function fillSelect(select, options, wanted) {
    select.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
    const values = options.map(([value]) => value);
    select.value = values.includes(wanted) ? wanted : values[0];
    select.disabled = false;
  }

  /**
   * The year range and group controls (#year-from, #year-to, #category, #stratum): filled from
   * `years` and `strata`, set from the address (?from=&to=&category=&stratum=), which they keep
   * up to date. `onChange()` runs after each choice. Returns {fields(), describe(), setYears()}.
   */
  function selectionPicker(years, strata, onChange) {
    const from = document.getElementById("year-from");
    const to = document.getElementById("year-to");
    const category = document.getElementById("category");
    const stratum = document.getElementById("stratum");
    const categories = [...new Set(strata.map(([name]) => name))];

    function setYears(list, wantedFrom, wantedTo) {
      const options = list.map((year) => [String(year), String(year)]);
      // A wanted year the list lacks moves to the nearest year inside the range.
      const nearest = (wanted, fallback, up) => {
        if (wanted === null || wanted === undefined || Number.isNaN(Number(wanted))) return fallback;
        const inside = list.filter((year) => (up ? year >= Number(wanted) : year <= Number(wanted)));
        return inside.length ? (up ? inside[0] : inside[inside.length - 1]) : fallback;
      };
      fillSelect(from, options, String(nearest(wantedFrom, list[0], true)));
      fillSelect(to, options, String(nearest(wantedTo, list[list.length - 1], false)));
      if (Number(from.value) > Number(to.value)) to.value = from.value;
    }

    function setStrata(wanted) {
      const names = strata.filter(([name]) => name === category.value).map(([, name]) => [name, name]);
      fillSelect(stratum, names, wanted);
    }

    function remember() {
      const full = from.value === from.options[0].value && to.value === to.options[to.options.length - 1].value;
      const total = category.value === TOTAL[0] && stratum.value === TOTAL[1];
      setParams({
        from: full ? null : from.value,
        to: full ? null : to.value,
        category: total ? null : category.value,
        stratum: total ? null : stratum.value,
      });
    }

    setYears(years, param("from"), param("to"));
    fillSelect(category, categories.map((name) => [name, name]), param("category") || TOTAL[0]);
    setStrata(param("stratum"));
    from.addEventListener("change", () => {
      if (Number(from.value) > Number(to.value)) to.value = from.value;
      remember();
      onChange();
    });
    to.addEventListener("change", () => {
      if (Number(from.value) > Number(to.value)) from.value = to.value;
      remember();
      onChange();
    });
    category.addEventListener("change", () => {
      setStrata(null);
      remember();
      onChange();
    });
    stratum.addEventListener("change", () => {
      remember();
      onChange();
    });

    return {
      /** The optional fields every request of the page carries ({group: false}: years only). */
      fields({ group = true } = {}) {
        const body = { years: [Number(from.value), Number(to.value)] };
        if (group) body.stratification = { category: category.value, stratum: stratum.value };
        return body;
      },
      /** The selection in words, for captions and the status line. */
      describe({ group = true } = {}) {
        const span = from.value === to.value ? from.value : `${from.value}–${to.value}`;
        return group ? `${span}, ${category.value} / ${stratum.value}` : span;
      },
      /** A new list of years (another question's), keeping the chosen range where it can. */
      setYears(list) {
        setYears(list, from.value, to.value);
        remember();
      },
    };
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
    interval, questions, reliabilityCell, renderTable, selectionPicker, setParams, setStatus, shortLabel, slug, strataOf,
    toCSV, yearsOf,
  };
})();
