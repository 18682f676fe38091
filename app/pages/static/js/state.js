// A state's page: its mean per question against the national figure, each question's trend, its
// breakdown by category and the disparities within one; over a chosen year range and group.
"use strict";

(() => {
  const state = document.getElementById("state-name").dataset.state;
  const NATIONAL = "National";
  const CATEGORIES = ["Age (years)", "Education", "Gender", "Income", "Race/Ethnicity"];
  const select = document.getElementById("question");
  const byCategory = document.getElementById("disparity-category");
  const TREND_KEYS = ["year", "value", "low", "high", "sample_size", "reliable", "unreliable"];
  const DISPARITY_KEYS = ["stratum", "reference", "value", "low", "high", "sample_size", "gap", "gap_low",
    "gap_high", "ratio", "reliable", "unreliable"];
  let generation = 0;
  let breakdownGeneration = 0;
  let trendGeneration = 0;
  let disparityGeneration = 0;
  let picker = null;

  /** The state's answer and the national one for `endpoint`; a location without data gives null. */
  async function pair(endpoint, question, fields) {
    const one = (location) =>
      LSS.ask(endpoint, question, location, fields).catch((error) => {
        if (error.status === 400) return { jobId: null, data: null };
        throw error;
      });
    const mine = await one(state);
    return [mine, state === NATIONAL ? mine : await one(NATIONAL)];
  }

  const value = (answer, location) => (answer.data ? answer.data[location] : null);
  const jobsOf = (answers) => [...new Set(answers.map((answer) => answer.jobId).filter(Boolean))];

  /** Grouped horizontal bars: `label` on the y axis, one bar per series. */
  function barsSpec(values, label, title) {
    return {
      width: "container",
      data: { values },
      transform: [{ filter: "isValid(datum.mean)" }],
      mark: { type: "bar", tooltip: true },
      encoding: {
        y: { field: label, type: "nominal", sort: null, title: null, axis: { labelLimit: 180 } },
        yOffset: { field: "series", type: "nominal", sort: [state, NATIONAL] },
        x: { field: "mean", type: "quantitative", title },
        color: {
          field: "series", type: "nominal", title: null, sort: [state, NATIONAL],
          scale: { range: ["#1f77b4", "#a0a0a0"] }, legend: { orient: "top" },
        },
        description: { field: label, type: "nominal" },
      },
    };
  }

  const long = (rows, label) =>
    rows.flatMap((row) => [
      { [label]: row[label], series: state, mean: row.state_mean },
      ...(state === NATIONAL ? [] : [{ [label]: row[label], series: NATIONAL, mean: row.national_mean }]),
    ]);

  /** A chart with its table of numbers beside it and the table's download buttons: the section. */
  function block(container, id, title, kind = "Bar chart") {
    const section = document.createElement("section");
    section.className = "category";
    section.setAttribute("aria-labelledby", `${id}-title`);
    section.innerHTML = `<h3 id="${id}-title"></h3><p class="trend-sentence" hidden></p><div class="pair">
      <figure class="chart"><div class="plot" role="img"></div><figcaption></figcaption></figure>
      <div class="numbers"><div class="downloads"></div>
      <div class="scroll" tabindex="0" role="region"><table id="${id}"></table></div></div></div>`;
    section.querySelector("h3").textContent = title;
    section.querySelector(".plot").setAttribute("aria-label", `${kind}: ${title}`);
    section.querySelector(".scroll").setAttribute("aria-label", `Numbers: ${title}`);
    container.appendChild(section);
    return section;
  }

  async function compare(list) {
    const mine = ++generation;
    const fields = picker.fields();
    const answers = await Promise.all(list.map((item) => pair("state_mean", item.question, fields)));
    if (mine !== generation) return;
    const rows = list.map((item, index) => {
      const [mine, national] = answers[index];
      const own = value(mine, state);
      const nat = value(national, NATIONAL);
      const difference = own !== null && nat !== null ? own - nat : null;
      const better = difference === null || difference === 0 ? "" :
        (difference < 0) === (item.best_is === "lowest") ? "better" : "worse";
      return { question: item.question, short: LSS.shortLabel(item.question), best_is: item.best_is,
        state_mean: own, national_mean: nat, difference, compared: better };
    });
    const columns = [
      {
        key: "question", label: "Question",
        cell: (cell, row) => {
          cell.textContent = row.short;
          cell.title = row.question;
        },
      },
      { key: "state_mean", label: `${state} (%)`, numeric: true },
      { key: "national_mean", label: "National (%)", numeric: true },
      { key: "difference", label: "Difference", numeric: true },
      { key: "best_is", label: "Best is", format: String },
      { key: "compared", label: "Against national", format: String },
    ];
    LSS.renderTable(document.getElementById("compare"), `${state} and the national mean (${picker.describe()})`, columns, rows);
    const keys = ["question", "best_is", "state_mean", "national_mean", "difference"];
    const showJobs = LSS.downloadButtons(document.getElementById("compare-downloads"),
      "the comparison", () => ({ name: `${state} against national`, keys, rows }));
    showJobs(jobsOf(answers.flat()));
    await LSS.chart(document.getElementById("compare-chart"), barsSpec(long(rows, "short"), "short", "Mean (%)"));
    if (mine === generation) document.getElementById("compare").dataset.years = fields.years.join("-");
  }

  async function breakdown(question) {
    const mine = ++breakdownGeneration;
    const container = document.getElementById("breakdown");
    LSS.setStatus("Asking the service for the breakdown…");
    const answers = await pair("state_mean_by_category", question, picker.fields({ group: false }));
    if (mine !== breakdownGeneration) return;
    const means = [state, NATIONAL].map((location, index) => {
      const byKey = new Map();
      const data = value(answers[index], location) || {};
      for (const [key, mean] of Object.entries(data)) byKey.set(LSS.parseTupleKey(key).join("\u0000"), mean);
      return byKey;
    });
    const strata = [...means[0].keys()].map((key) => key.split("\u0000"));
    container.replaceChildren();
    for (const category of CATEGORIES) {
      const rows = strata.filter(([cat]) => cat === category).map(([cat, stratum]) => {
        const key = `${cat}\u0000${stratum}`;
        return { category: cat, stratum, state_mean: means[0].get(key) ?? null,
          national_mean: means[1].get(key) ?? null };
      });
      const id = `by-${LSS.slug(category)}`;
      const title = `${category}: ${LSS.shortLabel(question)}`;
      const section = block(container, id, title);
      if (!rows.length) {
        section.querySelector(".pair").textContent = "No data for this category.";
        continue;
      }
      LSS.renderTable(section.querySelector("table"), title, [
        { key: "stratum", label: category, format: String },
        { key: "state_mean", label: `${state} (%)`, numeric: true },
        { key: "national_mean", label: "National (%)", numeric: true },
      ], rows);
      const keys = ["category", "stratum", "state_mean", "national_mean"];
      LSS.downloadButtons(section.querySelector(".downloads"), title,
        () => ({ name: `${state} ${category} ${LSS.shortLabel(question)}`, keys, rows }))(jobsOf(answers));
      await LSS.chart(section.querySelector(".plot"), barsSpec(long(rows, "stratum"), "stratum", "Mean (%)"));
    }
    if (mine === breakdownGeneration) {
      container.dataset.question = question;
      LSS.setStatus(`Showing ${state} (${picker.describe()}); breakdown of: ${question}`);
    }
  }

  const signed = (x) => `${x >= 0 ? "+" : "-"}${Math.abs(x).toFixed(2)}`;

  /** "rising: +0.53 points a year (95% interval 0.43 to 0.63)", or why there is no slope. */
  function trendSentence(data) {
    const slope = data.slope;
    if (!slope) return { trend: "none", text: `No trend: ${data.slope_reason || "too few years"}.` };
    return {
      trend: slope.trend,
      text: `${slope.trend}: ${signed(slope.per_year)} points a year (95% interval ${slope.low.toFixed(2)} to ${slope.high.toFixed(2)})`,
    };
  }

  /** The pooled value per year as a line with points, its 95% interval as a band; hollow: unreliable. */
  function trendSpec(rows) {
    const colour = "#1f77b4";
    const values = rows.map((row) => ({ ...row, reliability: row.reliable ? "reliable" : "unreliable" }));
    const years = rows.map((row) => row.year);
    const y = { type: "quantitative", scale: { zero: false }, title: "%" };
    return {
      width: "container",
      height: 170,
      data: { values },
      encoding: {
        x: {
          field: "year", type: "quantitative", title: null,
          scale: { domain: [Math.min(...years) - 0.3, Math.max(...years) + 0.3], nice: false },
          axis: { format: "d", values: years, labelOverlap: true },
        },
      },
      layer: [
        {
          name: "band",
          mark: { type: "area", color: colour, opacity: 0.2 },
          encoding: { y: { field: "low", ...y }, y2: { field: "high" } },
        },
        { name: "line", mark: { type: "line", color: colour }, encoding: { y: { field: "value", ...y } } },
        {
          name: "points",
          mark: { type: "point", filled: true, size: 55, stroke: colour, strokeWidth: 1.6 },
          encoding: {
            y: { field: "value", ...y },
            fill: {
              field: "reliability", type: "nominal", title: null,
              scale: { domain: ["reliable", "unreliable"], range: [colour, "#ffffff"] },
              legend: { orient: "top", symbolStrokeColor: colour, labelExpr: "datum.label + ' value'" },
            },
            tooltip: [
              { field: "year", type: "quantitative", title: "Year", format: "d" },
              { field: "value", type: "quantitative", title: "Pooled (%)", format: ".2f" },
              { field: "low", type: "quantitative", title: "95% low", format: ".2f" },
              { field: "high", type: "quantitative", title: "95% high", format: ".2f" },
              { field: "sample_size", type: "quantitative", title: "Sample size" },
              { field: "reliability", type: "nominal", title: "Reliable" },
              { field: "unreliable", type: "nominal", title: "Why not" },
            ],
            description: { field: "description", type: "nominal" },
          },
        },
      ],
    };
  }

  const TREND_COLUMNS = [
    { key: "year", label: "Year", format: String },
    { key: "value", label: "Pooled (%)", numeric: true },
    { key: "interval", label: "95% interval", cell: (cell, row) => { cell.textContent = LSS.interval(row.low, row.high); } },
    { key: "sample_size", label: "Sample size", numeric: true, format: (n) => (n === null ? "–" : String(n)) },
    { key: "reliable", label: "Reliable", cell: LSS.reliabilityCell },
  ];

  /** One question's trend: the sentence, the chart, the table and its downloads. */
  async function trend(section, item, fields, mine) {
    const short = LSS.shortLabel(item.question);
    const sentence = section.querySelector(".trend-sentence");
    let answer;
    try {
      answer = await LSS.ask("state_trend", item.question, state, fields);
    } catch (error) {
      if (error.status !== 400) throw error;
      // A year range or group this question has no rows for: say so in its place.
      if (mine !== trendGeneration) return;
      sentence.hidden = false;
      sentence.dataset.trend = "none";
      sentence.textContent = `No answer for this selection: ${error.message}`;
      section.querySelector(".pair").hidden = true;
      section.dataset.done = "true";
      return;
    }
    if (mine !== trendGeneration) return;
    const { data, jobId } = answer;
    const rows = data.series.map((point) => ({
      year: point.year, value: point.value, low: point.low, high: point.high, sample_size: point.sample_size,
      reliable: point.reliable, unreliable: (point.unreliable || []).join("; "),
      description: `${point.year}: ${point.value.toFixed(2)}${point.reliable ? "" : " (unreliable)"}`,
    }));
    const said = trendSentence(data);
    sentence.hidden = false;
    sentence.dataset.trend = said.trend;
    sentence.textContent = said.text;
    section.querySelector(".pair").hidden = false;
    const missing = data.missing_years.length ? ` No usable row in ${data.missing_years.join(", ")}.` : "";
    section.querySelector("figcaption").textContent =
      `${short}, ${state}, ${picker.describe()}: pooled value per year (line), 95% interval (band); ` +
      `filled points reliable, hollow points unreliable.${missing}`;
    const title = `the trend of ${short}`;
    LSS.renderTable(section.querySelector("table"), `${short}: ${state} per year (${picker.describe()})`, TREND_COLUMNS, rows);
    LSS.downloadButtons(section.querySelector(".downloads"), title,
      () => ({ name: `${state} trend ${short}`, keys: TREND_KEYS, rows }))([jobId]);
    if (rows.length) await LSS.chart(section.querySelector(".plot"), trendSpec(rows));
    else section.querySelector(".plot").replaceChildren("No year with a usable value.");
    if (mine === trendGeneration) section.dataset.done = "true";
  }

  /** Every question's trend, each drawn as soon as its answer is in. */
  async function trends(list) {
    const mine = ++trendGeneration;
    const fields = picker.fields();
    const container = document.getElementById("trends");
    delete container.dataset.years;
    container.replaceChildren();
    const sections = list.map((item, index) => {
      const section = block(container, `trend-${index + 1}`, LSS.shortLabel(item.question), "Trend chart");
      section.dataset.question = item.question;
      section.querySelector("h3").title = item.question;
      return section;
    });
    await Promise.all(list.map((item, index) => trend(sections[index], item, fields, mine)));
    if (mine === trendGeneration) container.dataset.years = fields.years.join("-");
  }

  /** Bars of each stratum's pooled value with interval whiskers; the reference bar stands out. */
  function disparitySpec(rows, category) {
    return {
      width: "container",
      data: { values: rows },
      encoding: { y: { field: "stratum", type: "nominal", sort: null, title: null, axis: { labelLimit: 180 } } },
      layer: [
        {
          name: "bars",
          mark: { type: "bar", tooltip: true },
          encoding: {
            x: { field: "value", type: "quantitative", title: `${category}: pooled value (%)` },
            color: {
              field: "role", type: "nominal", title: null,
              scale: { domain: ["reference (best)", "other strata"], range: ["#6b3fa0", "#9ecae1"] },
              legend: { orient: "top" },
            },
            opacity: { condition: { test: "datum.reliable === false", value: 0.45 }, value: 1 },
            description: { field: "description", type: "nominal" },
          },
        },
        {
          name: "whiskers",
          mark: { type: "rule", color: "#1d232b", strokeWidth: 1.5 },
          encoding: { x: { field: "low", type: "quantitative" }, x2: { field: "high" } },
        },
      ],
    };
  }

  const DISPARITY_COLUMNS = [
    {
      key: "stratum", label: "Stratum",
      cell: (cell, row) => {
        cell.textContent = row.stratum;
        if (row.reference) cell.append(" ", Object.assign(document.createElement("span"), { className: "mark reference", textContent: "reference" }));
      },
    },
    { key: "value", label: "Pooled (%)", numeric: true },
    { key: "interval", label: "95% interval", cell: (cell, row) => { cell.textContent = LSS.interval(row.low, row.high); } },
    { key: "gap", label: "Gap (points)", numeric: true },
    { key: "gap_interval", label: "Gap 95% interval", cell: (cell, row) => { cell.textContent = LSS.interval(row.gap_low, row.gap_high); } },
    { key: "ratio", label: "Ratio", numeric: true },
    { key: "reliable", label: "Reliable", cell: LSS.reliabilityCell },
  ];

  /** The disparities of the chosen category in this state, for `question`. */
  async function disparityView(question) {
    const mine = ++disparityGeneration;
    const category = byCategory.value;
    const container = document.getElementById("disparities");
    delete container.dataset.question;
    const short = LSS.shortLabel(question);
    const title = `Disparities by ${category}: ${short}`;
    let answer;
    try {
      answer = await LSS.ask("disparities", question, state, { ...picker.fields({ group: false }), category });
    } catch (error) {
      if (error.status !== 400) throw error;
      if (mine !== disparityGeneration) return;
      container.replaceChildren(`No answer for this selection: ${error.message}`);
      Object.assign(container.dataset, { question, category });
      return;
    }
    if (mine !== disparityGeneration) return;
    const { data, jobId } = answer;
    const rows = data.strata.filter((item) => item.value !== null && item.value !== undefined).map((item) => ({
      stratum: item.stratum, reference: item.stratum === data.reference, value: item.value, low: item.low,
      high: item.high, sample_size: item.sample_size, gap: item.gap, gap_low: item.gap_low, gap_high: item.gap_high,
      ratio: item.ratio, reliable: item.reliable, unreliable: (item.unreliable || []).join("; "),
      role: item.stratum === data.reference ? "reference (best)" : "other strata",
      description: `${item.stratum}: ${item.value.toFixed(2)}`,
    }));
    container.replaceChildren();
    const section = block(container, "disparities-table", title);
    section.querySelector("h3").title = question;
    section.querySelector("figcaption").textContent =
      `${state}, ${picker.describe({ group: false })}: bars are pooled values, whiskers their 95% intervals; ` +
      `the reference (${data.reference}) is the best stratum for this question. Faded bars are unreliable.`;
    LSS.renderTable(section.querySelector("table"), `${title} (${state}, ${picker.describe({ group: false })})`, DISPARITY_COLUMNS, rows);
    LSS.downloadButtons(section.querySelector(".downloads"), `the disparities by ${category}`,
      () => ({ name: `${state} disparities ${category} ${short}`, keys: DISPARITY_KEYS, rows }))([jobId]);
    await LSS.chart(section.querySelector(".plot"), disparitySpec(rows, category));
    if (mine === disparityGeneration) Object.assign(container.dataset, { question, category });
  }


  async function start() {
    try {
      const list = await LSS.questions();
      const [yearLists, strata] = await Promise.all([
        Promise.all(list.map((item) => LSS.yearsOf(item.question))),
        LSS.strataOf(list[0].question),
      ]);
      const years = [...new Set(yearLists.flat())].sort((a, b) => a - b);
      const everything = () =>
        Promise.all([compare(list), trends(list), breakdown(select.value), disparityView(select.value)])
          .catch((error) => LSS.setStatus(`Could not load the answers: ${error.message}`, true));
      picker = LSS.selectionPicker(years, strata, everything);
      await LSS.questionPicker(select, (question) =>
        Promise.all([breakdown(question), disparityView(question)])
          .catch((error) => LSS.setStatus(`Could not load the breakdown: ${error.message}`, true)));
      const wanted = new URLSearchParams(location.search).get("by");
      byCategory.replaceChildren(...CATEGORIES.map((name) => new Option(name, name, false, name === wanted)));
      byCategory.disabled = false;
      byCategory.addEventListener("change", () => {
        LSS.setParams({ by: byCategory.value });
        disparityView(select.value)
          .catch((error) => LSS.setStatus(`Could not load the disparities: ${error.message}`, true));
      });
      await everything();
    } catch (error) {
      LSS.setStatus(`Could not load the answers: ${error.message}`, true);
    }
  }

  start();
})();
