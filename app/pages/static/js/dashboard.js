// The dashboard: one question's state means on a US map, the ranking and the national figures.
"use strict";

(() => {
  const atlas = document.currentScript.dataset.atlas;
  const select = document.getElementById("question");
  const table = document.getElementById("ranking");
  let generation = 0;
  let shown = { name: "ranking", keys: [], rows: [] };
  const showJobs = LSS.downloadButtons(document.getElementById("ranking-downloads"), "the ranking", () => shown);

  const COLUMNS = [
    { key: "rank", label: "Rank", numeric: true, format: (rank) => (rank === null ? "–" : String(rank)) },
    {
      key: "location",
      label: "Location",
      cell: (cell, row) => {
        const link = document.createElement("a");
        link.href = row.href;
        link.textContent = row.location;
        cell.appendChild(link);
        if (row.location === "National") cell.append(" (national figure)");
        if (!row.onMap) cell.append(" ", Object.assign(document.createElement("small"), { textContent: "not on the map" }));
      },
    },
    { key: "mean", label: "Mean (%)", numeric: true },
    {
      key: "mark",
      label: "Mark",
      cell: (cell, row) => {
        if (!row.mark) return;
        const mark = document.createElement("span");
        mark.className = `mark ${row.mark.split(" ")[0]}`;
        mark.textContent = row.mark;
        cell.appendChild(mark);
      },
    },
  ];

  /** The ranking, best first, every location included (those without a mean last). */
  function rankRows(question, bestIs, means, best5, worst5, locations, shapes) {
    const ranked = Object.entries(means).sort(([a, x], [b, y]) =>
      bestIs === "lowest" ? x - y || a.localeCompare(b) : y - x || a.localeCompare(b),
    );
    for (const location of locations) if (!(location in means)) ranked.push([location, null]);
    return ranked.map(([location, mean], index) => ({
      rank: mean === null ? null : index + 1,
      location,
      mean,
      mark: location in best5 ? "best 5" : location in worst5 ? "worst 5" : "",
      href: `/states/${encodeURIComponent(location)}?question=${encodeURIComponent(question)}`,
      onMap: shapes.has(location),
      _class: location === "National" ? "national" : "",
    }));
  }

  function mapSpec(rows, bestIs) {
    return {
      width: "container",
      height: Math.max(200, Math.round(document.getElementById("map").clientWidth * 0.6)),
      autosize: { type: "fit", contains: "padding" },
      projection: { type: "albersUsa" },
      data: { url: atlas, format: { type: "topojson", feature: "states" } },
      transform: [
        { calculate: "datum.properties.name", as: "location" },
        { filter: { field: "location", oneOf: rows.filter((row) => row.onMap).map((row) => row.location) } },
        { lookup: "location", from: { data: { values: rows }, key: "location", fields: ["mean", "rank", "href"] } },
      ],
      mark: { type: "geoshape", stroke: "#ffffff", strokeWidth: 0.6, cursor: "pointer", invalid: "show" },
      encoding: {
        color: {
          condition: { test: "!isValid(datum.mean)", value: "#cccccc" },
          field: "mean",
          type: "quantitative",
          title: "Mean (%)",
          scale: { scheme: "blueorange", reverse: bestIs === "highest" },
          legend: { orient: "bottom", direction: "horizontal", gradientLength: 200 },
        },
        tooltip: [
          { field: "location", type: "nominal", title: "State" },
          { field: "mean", type: "quantitative", title: "Mean (%)", format: ".2f" },
          { field: "rank", type: "quantitative", title: "Rank" },
        ],
        href: { field: "href", type: "nominal" },
        description: { field: "location", type: "nominal" },
      },
    };
  }

  async function show(question, list, locations, shapes) {
    const mine = ++generation;
    const bestIs = list.find((item) => item.question === question).best_is;
    document.getElementById("direction").textContent =
      `Best is ${bestIs}: on the map, blue is better and orange is worse.`;
    LSS.setStatus("Asking the service…");
    try {
      const [means, best5, worst5, overall] = await Promise.all(
        ["states_mean", "best5", "worst5", "global_mean"].map((endpoint) => LSS.ask(endpoint, question)),
      );
      if (mine !== generation) return;
      const rows = rankRows(question, bestIs, means.data, best5.data, worst5.data, locations, shapes);
      const national = means.data.National;
      document.getElementById("national-mean").textContent = LSS.fixed(national);
      document.getElementById("global-mean").textContent = LSS.fixed(overall.data.global_mean);
      LSS.renderTable(table, `${LSS.shortLabel(question)}: every location, best first`, COLUMNS, rows);
      shown = { name: `ranking ${LSS.shortLabel(question)}`, keys: ["rank", "location", "mean", "mark"], rows };
      showJobs([means.jobId, best5.jobId, worst5.jobId, overall.jobId]);
      await LSS.chart(document.getElementById("map"), mapSpec(rows, bestIs));
      if (mine !== generation) return;
      document.getElementById("map").dataset.question = question;
      LSS.setStatus(`Showing: ${question}`);
    } catch (error) {
      if (mine === generation) LSS.setStatus(`Could not load the answers: ${error.message}`, true);
    }
  }

  async function start() {
    try {
      const [{ states: locations }, topology] = await Promise.all([
        LSS.getJSON("/api/states"),
        fetch(atlas).then((response) => response.json()),
      ]);
      const shapes = new Set(topology.objects.states.geometries.map((shape) => shape.properties.name));
      // albersUsa draws the 50 states and DC only; the territories are listed, not drawn.
      for (const name of ["Puerto Rico", "Guam", "United States Virgin Islands", "American Samoa",
        "Commonwealth of the Northern Mariana Islands"]) shapes.delete(name);
      const list = await LSS.questionPicker(select, (question) => show(question, list, locations, shapes));
      show(select.value, list, locations, shapes);
    } catch (error) {
      LSS.setStatus(`Could not reach the service: ${error.message}`, true);
    }
  }

  start();
})();
