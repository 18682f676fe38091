// A state's page: its mean per question against the national figure, and its breakdown by category.
"use strict";

(() => {
  const state = document.getElementById("state-name").dataset.state;
  const NATIONAL = "National";
  const CATEGORIES = ["Age (years)", "Education", "Gender", "Income", "Race/Ethnicity"];
  const select = document.getElementById("question");
  let generation = 0;

  /** The state's answer and the national one for `endpoint`; a location without data gives null. */
  async function pair(endpoint, question) {
    const one = (location) =>
      LSS.ask(endpoint, question, location).catch((error) => {
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

  /** A table of numbers beside a chart, with its download buttons; returns the job-link setter. */
  function block(container, id, title) {
    const section = document.createElement("section");
    section.className = "category";
    section.setAttribute("aria-labelledby", `${id}-title`);
    section.innerHTML = `<h3 id="${id}-title"></h3><div class="pair"><figure class="chart">
      <div class="plot" role="img"></div></figure><div class="numbers"><div class="downloads"></div>
      <div class="scroll" tabindex="0" role="region"><table id="${id}"></table></div></div></div>`;
    section.querySelector("h3").textContent = title;
    section.querySelector(".plot").setAttribute("aria-label", `Bar chart: ${title}`);
    section.querySelector(".scroll").setAttribute("aria-label", `Numbers: ${title}`);
    container.appendChild(section);
    return section;
  }

  async function compare(list) {
    const answers = await Promise.all(list.map((item) => pair("state_mean", item.question)));
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
    LSS.renderTable(document.getElementById("compare"), `${state} and the national mean`, columns, rows);
    const keys = ["question", "best_is", "state_mean", "national_mean", "difference"];
    const showJobs = LSS.downloadButtons(document.getElementById("compare-downloads"),
      "the comparison", () => ({ name: `${state} against national`, keys, rows }));
    showJobs(jobsOf(answers.flat()));
    await LSS.chart(document.getElementById("compare-chart"), barsSpec(long(rows, "short"), "short", "Mean (%)"));
  }

  async function breakdown(question) {
    const mine = ++generation;
    const container = document.getElementById("breakdown");
    LSS.setStatus("Asking the service for the breakdown…");
    const answers = await pair("state_mean_by_category", question);
    if (mine !== generation) return;
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
    if (mine === generation) {
      container.dataset.question = question;
      LSS.setStatus(`Showing ${state}; breakdown of: ${question}`);
    }
  }

  async function start() {
    try {
      const list = await LSS.questionPicker(select, (question) =>
        breakdown(question).catch((error) => LSS.setStatus(`Could not load the breakdown: ${error.message}`, true)));
      await Promise.all([compare(list), breakdown(select.value)]);
    } catch (error) {
      LSS.setStatus(`Could not load the answers: ${error.message}`, true);
    }
  }

  start();
})();
