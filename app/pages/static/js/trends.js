// A state's trend per question: its pooled value per year with the 95% band, the nation's line
// beside it, the slope and the annual percent changes in words and on the chart, and the numbers
// year by year, withheld years marked.

import { ask, dataset } from "./lss.js";
import * as fmt from "./format.js";
import { draw, exportButtons } from "./charts.js";
import { downloadButtons, note, reliabilityCell, renderTable, valueCell } from "./tables.js";
import { apcLayers, apcSentence } from "./apc.js";

const NATIONAL = "National";
const STATE_COLOUR = "#1f5f9e";
const NATION_COLOUR = "#6b7280";

/** "rising: +0.5 points a year (95% interval 0.4 to 0.6)", or why there is no slope. */
export function trendSentence(data) {
  const slope = data.slope;
  if (!slope) return { trend: "none", text: `No trend: ${data.slope_reason || "too few years"}.` };
  return {
    trend: slope.trend,
    text: `${slope.trend}: ${fmt.slope(slope.per_year)} points a year (95% interval ${fmt.slope(slope.low)} to ` +
      `${fmt.slope(slope.high)}; scatter ${slope.dispersion.toFixed(1)} times what the intervals explain)`,
  };
}

/** The state's band, line and points, and the nation's line, as one layered chart. */
export function trendSpec(state, rows, nationRows, apc) {
  const years = [...new Set([...rows, ...nationRows].map((row) => row.year))];
  const y = { type: "quantitative", scale: { zero: false }, title: "%" };
  const series = { field: "series", type: "nominal", title: null,
    scale: { domain: [state, NATIONAL], range: [STATE_COLOUR, NATION_COLOUR] }, legend: { orient: "top" } };
  const x = { field: "year", type: "quantitative", title: null,
    scale: { domain: [Math.min(...years) - 0.3, Math.max(...years) + 0.3], nice: false },
    axis: { format: "d", values: years, labelOverlap: true } };
  const own = rows.map((row) => ({ ...row, series: state, reliability: row.reliable ? "reliable" : "unreliable" }));
  const nation = nationRows.map((row) => ({ year: row.year, value: row.value, series: NATIONAL }));
  return {
    width: "container",
    height: 180,
    encoding: { x },
    layer: [
      { name: "band", data: { values: own }, mark: { type: "area", color: STATE_COLOUR, opacity: 0.18 },
        encoding: { y: { field: "low", ...y }, y2: { field: "high" } } },
      { name: "nation", data: { values: nation }, mark: { type: "line", strokeDash: [5, 3], point: false },
        encoding: { y: { field: "value", ...y }, color: series } },
      { name: "line", data: { values: own }, mark: { type: "line" }, encoding: { y: { field: "value", ...y }, color: series } },
      ...apcLayers(apc, x),
      {
        name: "points",
        data: { values: own },
        mark: { type: "point", filled: true, size: 55, stroke: STATE_COLOUR, strokeWidth: 1.6 },
        encoding: {
          y: { field: "value", ...y },
          fill: { field: "reliability", type: "nominal", title: null,
            scale: { domain: ["reliable", "unreliable"], range: [STATE_COLOUR, "#ffffff"] },
            legend: { orient: "top", symbolStrokeColor: STATE_COLOUR, labelExpr: "datum.label + ' value'" } },
          tooltip: { field: "tip", type: "nominal" },
          description: { field: "description", type: "nominal" },
        },
      },
    ],
  };
}

const COLUMNS = (state) => [
  { key: "year", label: "Year", format: String },
  { key: "value", label: `${state} (%)`, numeric: true, cell: valueCell },
  { key: "interval", label: "95% interval", numeric: true, format: (_, row) => fmt.interval(row.low, row.high) },
  { key: "sample_size", label: "Respondents", numeric: true, format: fmt.count },
  { key: "reliable", label: "Reliable", cell: reliabilityCell },
  { key: "national", label: "Nation (%)", numeric: true, format: fmt.one },
];
const DOWNLOAD = [
  { key: "year" }, { key: "value", kind: "value" }, { key: "low", kind: "value" }, { key: "high", kind: "value" },
  { key: "sample_size" }, { key: "reliable" }, { key: "unreliable" }, { key: "suppressed" }, { key: "national", kind: "value" },
];

/** The rows of the table: every year of the series, and the missing years saying why. */
function yearRows(data, nationRows) {
  const nation = new Map(nationRows.map((row) => [row.year, row.value]));
  const rows = data.series.map((point) => ({
    ...point, suppressed: false, national: nation.get(point.year) ?? null,
    tip: { Year: String(point.year), "Value (%)": fmt.withInterval(point.value, point.low, point.high),
      Respondents: fmt.count(point.sample_size), Reliable: point.reliable ? "yes" : `no: ${point.unreliable.join("; ")}` },
    description: `${point.year}: ${fmt.one(point.value)}${point.reliable ? "" : " (unreliable)"}`,
  }));
  const withheld = new Set(data.suppressed_years || []);
  for (const year of data.missing_years) {
    rows.push({ year, value: null, low: null, high: null, sample_size: null, reliable: false, unreliable: [],
      suppressed: withheld.has(year), withheld: withheld.has(year), reason: "no usable row this year",
      national: nation.get(year) ?? null });
  }
  return rows.sort((a, b) => a.year - b.year);
}

/**
 * One question's trend into `section`: `item` the question, `membership` its compare_to_national
 * answer (which says whether the state and the nation have rows), `picker` the selection.
 */
export async function drawTrend(section, state, item, membership, picker, current) {
  const short = fmt.shortLabel(item.question);
  const sentence = section.querySelector(".trend-sentence");
  const say = (text) => {
    sentence.hidden = false;
    sentence.dataset.trend = "none";
    sentence.textContent = text;
    section.querySelector(".pair").hidden = true;
  };
  if (!membership) return say(`No rows for this question in ${picker.describe()}.`);
  const entry = membership.data.states[state];
  if (state !== NATIONAL && !entry) return say(`No rows for ${state} on this question.`);
  const nationValue = membership.data.national.value;
  const fields = picker.fields();
  const [mine, nation] = await Promise.all([
    ask("state_trend", item.question, state, fields),
    state !== NATIONAL && typeof nationValue === "number" ? ask("state_trend", item.question, NATIONAL, fields) : null,
  ]);
  if (!current()) return;
  const { data, jobId } = mine;
  const nationRows = nation ? nation.data.series : [];
  const rows = yearRows(data, nationRows);
  const said = trendSentence(data);
  sentence.hidden = false;
  sentence.dataset.trend = said.trend;
  sentence.textContent = said.text;
  section.querySelector(".apc-sentence").textContent = apcSentence(data);
  section.querySelector(".pair").hidden = false;
  const withheld = data.suppressed_years || [];
  const suppressedRows = data.provenance.rows_suppressed;
  const missing = (data.missing_years.length ? ` No value in ${fmt.years(data.missing_years)}.` : "") +
    (withheld.length ? ` Withheld in ${fmt.years(withheld)}: ${fmt.suppressed(suppressedRows, dataset().footnotes)}` : "");
  section.querySelector("figcaption").textContent =
    `${short}, ${state}, ${picker.describe()}: pooled value per year (line) with its 95% interval (band); ` +
    `the nation's value (dashed).${missing}`;
  const title = `${short}: ${state} per year (${picker.describe()})`;
  renderTable(section.querySelector("table"), title, COLUMNS(state), rows);
  const context = { question: item.question, ...picker.context() };
  downloadButtons(section.querySelector(".downloads"), `the trend of ${short}`,
    () => ({ name: `${state} trend ${short}`, context, columns: DOWNLOAD, rows }))([jobId, nation && nation.jobId]);
  const plot = section.querySelector(".plot");
  if (!data.series.length) {
    plot.replaceChildren(note(`No year with a usable value for ${state}.`));
    return;
  }
  const spec = trendSpec(state, rows.filter((row) => typeof row.value === "number"), nationRows, data.apc);
  exportButtons(section.querySelector(".downloads"), `the trend chart of ${short}`,
    () => ({ name: `${state} trend ${short}`, spec, context }));
  await draw(plot, spec);
}
