// The dashboard: one question's state means on a US map, or each state against the nation;
// the ranking (or the comparison) and the national figures; over a chosen year range and group.
"use strict";

(() => {
  const atlas = document.currentScript.dataset.atlas;
  const select = document.getElementById("question");
  const colour = document.getElementById("colour");
  const table = document.getElementById("ranking");
  const versusTable = document.getElementById("versus");
  let generation = 0;
  let picker = null;
  let shown = { name: "ranking", keys: [], rows: [] };
  let shownVersus = { name: "compared with the nation", keys: [], rows: [] };
  const showJobs = LSS.downloadButtons(document.getElementById("ranking-downloads"), "the ranking", () => shown);
  const showVersusJobs = LSS.downloadButtons(
    document.getElementById("versus-downloads"), "the comparison with the nation", () => shownVersus);

  /** Colours of the comparison: blue better than the nation, orange worse, yellow similar. */
  const BETTER = "#2166ac";
  const SIMILAR = "#f1d77e";
  const WORSE = "#d6604d";
  const NO_DATA = "#cccccc";
  const VERSUS = ["higher", "similar", "lower"];
  const VERSUS_KEYS = ["location", "value", "low", "high", "sample_size", "z", "p", "p_adjusted",
    "versus", "compared", "reliable", "unreliable"];

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
      href: `/states/${encodeURIComponent(location)}?${stateQuery(question)}`,
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

  /** What "higher" and "lower" mean for this question, for the legend and the table. */
  const meaning = (bestIs) => (bestIs === "lowest" ? { higher: "worse", lower: "better" } : { higher: "better", lower: "worse" });

  function versusRows(question, bestIs, answer, locations, shapes) {
    const words = meaning(bestIs);
    const rows = Object.entries(answer.states).map(([location, item]) => ({
      location,
      value: item.value ?? null,
      low: item.low ?? null,
      high: item.high ?? null,
      sample_size: item.sample_size ?? null,
      z: item.z ?? null,
      p: item.p ?? null,
      p_adjusted: item.p_adjusted ?? null,
      versus: item.versus ?? null,
      compared: words[item.versus] || (item.versus ? "same" : null),
      reliable: item.reliable ?? null,
      unreliable: (item.unreliable || []).join("; "),
      href: `/states/${encodeURIComponent(location)}?${stateQuery(question)}`,
      onMap: shapes.has(location),
    }));
    for (const location of locations) {
      if (location !== "National" && !(location in answer.states)) {
        rows.push({ location, value: null, versus: null, compared: null, reliable: null, unreliable: "",
          href: `/states/${encodeURIComponent(location)}?${stateQuery(question)}`, onMap: shapes.has(location) });
      }
    }
    return rows;
  }

  const VERSUS_COLUMNS = [
    COLUMNS[1],
    { key: "value", label: "Pooled (%)", numeric: true },
    { key: "interval", label: "95% interval", cell: (cell, row) => { cell.textContent = LSS.interval(row.low, row.high); } },
    { key: "sample_size", label: "Sample size", numeric: true, format: (n) => (n === null ? "–" : String(n)) },
    {
      key: "versus",
      label: "Against the nation",
      cell: (cell, row) => {
        if (!row.versus) {
          cell.textContent = "no data";
          return;
        }
        const mark = document.createElement("span");
        mark.className = `mark versus-${row.compared === "same" ? "similar" : row.compared}`;
        mark.textContent = row.versus;
        cell.appendChild(mark);
        if (row.compared !== "same") cell.append(` (${row.compared})`);
      },
    },
    { key: "p_adjusted", label: "p (Holm)", numeric: true, format: (p) => (p === null ? "–" : p < 0.001 ? p.toExponential(1) : p.toFixed(3)) },
    { key: "reliable", label: "Reliable", cell: LSS.reliabilityCell },
  ];

  function versusSpec(rows, bestIs) {
    const words = meaning(bestIs);
    const colours = { better: BETTER, worse: WORSE };
    const label = (versus) => (versus === "similar" ? "similar to the nation" : `${versus}: ${words[versus]} than the nation`);
    const onMap = rows.filter((row) => row.onMap);
    return {
      width: "container",
      height: Math.max(200, Math.round(document.getElementById("map").clientWidth * 0.6)),
      autosize: { type: "fit", contains: "padding" },
      projection: { type: "albersUsa" },
      data: { url: atlas, format: { type: "topojson", feature: "states" } },
      transform: [
        { calculate: "datum.properties.name", as: "location" },
        { filter: { field: "location", oneOf: onMap.map((row) => row.location) } },
        {
          lookup: "location",
          from: {
            data: { values: onMap },
            key: "location",
            fields: ["versus", "value", "low", "high", "reliable", "unreliable", "href"],
          },
        },
        { calculate: "datum.reliable === false ? 'unreliable: ' + datum.unreliable : 'yes'", as: "reliability" },
      ],
      layer: [
        {
          name: "states",
          mark: { type: "geoshape", stroke: "#ffffff", strokeWidth: 0.6, cursor: "pointer", invalid: "show" },
          encoding: {
            color: {
              condition: { test: "!isValid(datum.versus)", value: NO_DATA },
              field: "versus",
              type: "nominal",
              title: "Against the nation",
              scale: { domain: VERSUS, range: VERSUS.map((versus) => (versus === "similar" ? SIMILAR : colours[words[versus]])) },
              legend: {
                orient: "bottom", direction: "vertical",
                labelExpr: `{${VERSUS.map((versus) => `'${versus}': '${label(versus)}'`).join(", ")}}[datum.label]`,
              },
            },
            tooltip: [
              { field: "location", type: "nominal", title: "State" },
              { field: "value", type: "quantitative", title: "Pooled (%)", format: ".2f" },
              { field: "low", type: "quantitative", title: "95% low", format: ".2f" },
              { field: "high", type: "quantitative", title: "95% high", format: ".2f" },
              { field: "versus", type: "nominal", title: "Against the nation" },
              { field: "reliability", type: "nominal", title: "Reliable" },
            ],
            href: { field: "href", type: "nominal" },
            description: { field: "location", type: "nominal" },
          },
        },
        {
          // Unreliable values: the state outlined with a thick dashed line, over its colour.
          name: "unreliable",
          transform: [{ filter: "datum.reliable === false && isValid(datum.value)" }, { calculate: "datum.location + ': unreliable'", as: "label" }],
          mark: { type: "geoshape", filled: false, stroke: "#111111", strokeWidth: 2.2, strokeDash: [4, 2], cursor: "pointer" },
          encoding: {
            tooltip: [
              { field: "location", type: "nominal", title: "State" },
              { field: "reliability", type: "nominal", title: "Reliable" },
            ],
            href: { field: "href", type: "nominal" },
            description: { field: "label", type: "nominal" },
          },
        },
      ],
    };
  }

  /** The query of a state page link: the question and this page's selection. */
  function stateQuery(question) {
    const params = new URLSearchParams(location.search);
    params.delete("colour");
    params.set("question", question);
    return params.toString();
  }

  async function show() {
    const mine = ++generation;
    const question = select.value;
    const list = await LSS.questions();
    const bestIs = list.find((item) => item.question === question).best_is;
    const mode = colour.value;
    const fields = picker.fields();
    const words = meaning(bestIs);
    document.getElementById("direction").textContent = mode === "mean"
      ? `Best is ${bestIs}: on the map, blue is better and orange is worse.`
      : `Best is ${bestIs}: "higher" than the nation is ${words.higher} (${words.higher === "worse" ? "orange" : "blue"}), ` +
        `"lower" is ${words.lower} (${words.lower === "worse" ? "orange" : "blue"}), "similar" is yellow. ` +
        "A dashed black outline marks an unreliable value.";
    document.getElementById("map-caption").textContent = mode === "mean"
      ? `Mean per state, ${picker.describe()}. Hover a state for its value, click it for its page. ` +
        "Territories without a shape on the map are in the ranking."
      : `Each state's pooled value against the nation's, ${picker.describe()}. Dashed outline: unreliable. ` +
        "Hover a state for its numbers, click it for its page. Territories are in the table.";
    LSS.setStatus("Asking the service…");
    try {
      const endpoints = ["states_mean", "best5", "worst5", "global_mean", ...(mode === "national" ? ["compare_to_national"] : [])];
      const [means, best5, worst5, overall, versus] = await Promise.all(
        endpoints.map((endpoint) => LSS.ask(endpoint, question, undefined, fields)),
      );
      if (mine !== generation) return;
      const { locations, shapes } = places;
      const rows = rankRows(question, bestIs, means.data, best5.data, worst5.data, locations, shapes);
      const national = means.data.National;
      document.getElementById("national-mean").textContent = LSS.fixed(national);
      document.getElementById("global-mean").textContent = LSS.fixed(overall.data.global_mean);
      LSS.renderTable(table, `${LSS.shortLabel(question)}: every location, best first (${picker.describe()})`, COLUMNS, rows);
      shown = { name: `ranking ${LSS.shortLabel(question)}`, keys: ["rank", "location", "mean", "mark"], rows };
      showJobs([means.jobId, best5.jobId, worst5.jobId, overall.jobId]);
      const map = document.getElementById("map");
      const pooled = document.getElementById("national-pooled-box");
      pooled.hidden = !versus;
      document.getElementById("versus-section").hidden = !versus;
      document.getElementById("ranking-section").hidden = Boolean(versus); // the comparison takes its place
      if (versus) {
        const nation = versus.data.national;
        document.getElementById("national-pooled").textContent =
          `${LSS.fixed(nation.value)} (${LSS.interval(nation.low, nation.high)})`;
        const compared = versusRows(question, bestIs, versus.data, locations, shapes);
        LSS.renderTable(versusTable, `${LSS.shortLabel(question)} against the nation (${picker.describe()}), lowest first`,
          VERSUS_COLUMNS, compared);
        shownVersus = { name: `${LSS.shortLabel(question)} compared with the nation`, keys: VERSUS_KEYS, rows: compared };
        showVersusJobs([versus.jobId]);
        await LSS.chart(map, versusSpec(compared, bestIs));
      } else {
        await LSS.chart(map, mapSpec(rows, bestIs));
      }
      if (mine !== generation) return;
      map.dataset.mode = mode;
      map.dataset.years = fields.years.join("-");
      map.dataset.group = `${fields.stratification.category} / ${fields.stratification.stratum}`;
      map.dataset.question = question;
      LSS.setStatus(`Showing: ${question} (${picker.describe()})`);
    } catch (error) {
      if (mine === generation) LSS.setStatus(`Could not load the answers: ${error.message}`, true);
    }
  }

  const places = { locations: [], shapes: new Set() };
  const showing = () => show().catch((error) => LSS.setStatus(`Could not load the answers: ${error.message}`, true));

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
      Object.assign(places, { locations, shapes });
      await LSS.questionPicker(select, async (question) => {
        try {
          picker.setYears(await LSS.yearsOf(question));
        } catch (error) {
          LSS.setStatus(`Could not load the years: ${error.message}`, true);
          return;
        }
        showing();
      });
      const [years, strata] = await Promise.all([LSS.yearsOf(select.value), LSS.strataOf(select.value)]);
      picker = LSS.selectionPicker(years, strata, showing);
      colour.value = new URLSearchParams(location.search).get("colour") === "national" ? "national" : "mean";
      colour.addEventListener("change", () => {
        LSS.setParams({ colour: colour.value === "mean" ? null : colour.value });
        showing();
      });
      showing();
    } catch (error) {
      LSS.setStatus(`Could not reach the service: ${error.message}`, true);
    }
  }

  start();
})();
