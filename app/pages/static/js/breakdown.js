// A state's value by group, one category at a time: every stratum pooled over the selected years
// with its interval and respondents (the service's disparities), the nation's value beside it,
// the gap to the best stratum, withheld strata marked; "Data not reported" apart.

import { ask, dataset } from "./lss.js";
import * as fmt from "./format.js";
import { draw, exportButtons } from "./charts.js";
import { downloadButtons, mark, note, reliabilityCell, renderTable, valueCell } from "./tables.js";

const NATIONAL = "National";
const NOT_REPORTED = "Data not reported";
const ROLES = ["reference (best)", "other groups", "not reported"];

/** Bars of each stratum's value with interval whiskers and the nation's value as a tick. */
export function breakdownSpec(state, category, rows) {
  const valued = rows.filter((row) => typeof row.value === "number");
  const nation = rows.filter((row) => typeof row.national === "number");
  const y = { field: "stratum", type: "nominal", sort: rows.map((row) => row.stratum), title: null, axis: { labelLimit: 200 } };
  const x = { type: "quantitative", title: `${category}: value (%)` };
  return {
    width: "container",
    encoding: { y },
    layer: [
      {
        name: "bars",
        data: { values: valued },
        mark: { type: "bar", height: { band: 0.6 } },
        encoding: {
          x: { field: "value", ...x },
          color: { field: "role", type: "nominal", title: null,
            scale: { domain: ROLES, range: ["#5b2a86", "#7fb3dd", "#d5d9de"] }, legend: { orient: "top" } },
          opacity: { condition: { test: "datum.reliable === false", value: 0.45 }, value: 1 },
          tooltip: { field: "tip", type: "nominal" },
          description: { field: "description", type: "nominal" },
        },
      },
      { name: "whiskers", data: { values: valued }, mark: { type: "rule", color: "#1d232b", strokeWidth: 1.5 },
        encoding: { x: { field: "low", ...x }, x2: { field: "high" } } },
      ...(nation.length ? [{ name: "nation", data: { values: nation }, mark: { type: "tick", color: "#111111", thickness: 2.5, bandSize: 18 },
        encoding: { x: { field: "national", ...x } } }] : []),
    ],
  };
}

const COLUMNS = (state) => [
  {
    key: "stratum", label: "Group",
    cell: (cell, row) => {
      cell.textContent = row.stratum;
      if (row.reference) cell.append(" ", mark("reference", "reference"));
      if (row.stratum === NOT_REPORTED) cell.append(" ", note("(apart: never the reference)"));
    },
  },
  { key: "value", label: `${state} (%)`, numeric: true, cell: valueCell },
  { key: "interval", label: "95% interval", numeric: true, format: (_, row) => fmt.interval(row.low, row.high) },
  {
    key: "years_used", label: "Years",
    cell: (cell, row) => {
      cell.textContent = typeof row.value === "number" ? fmt.years(row.years_used) : "–";
      if (row.yearsDiffer) cell.append(" ", mark("differ", `nation: ${fmt.years(row.national_years)}`));
    },
  },
  { key: "sample_size", label: "Respondents", numeric: true, format: fmt.count },
  { key: "gap", label: "Gap to the reference", numeric: true,
    format: (gap, row) => (typeof gap === "number" ? `${fmt.signed(gap)} (${fmt.interval(row.gap_low, row.gap_high)})` : "–") },
  { key: "national", label: "Nation (%)", numeric: true, format: fmt.one },
  { key: "reliable", label: "Reliable", cell: reliabilityCell },
];
const DOWNLOAD = [
  { key: "category" }, { key: "stratum" }, { key: "reference" }, { key: "value", kind: "value" }, { key: "low", kind: "value" },
  { key: "high", kind: "value" }, { key: "years_used" }, { key: "sample_size" }, { key: "rows_suppressed" },
  { key: "gap", kind: "value" }, { key: "gap_low", kind: "value" }, { key: "gap_high", kind: "value" },
  { key: "ratio", kind: "p" }, { key: "reliable" }, { key: "unreliable" }, { key: "reason" }, { key: "national", kind: "value" },
  { key: "national_years" },
];

function strataRows(data, nation, category) {
  const national = new Map(((nation && nation.strata) || []).map((item) => [item.stratum, item]));
  const of = (item) => national.get(item.stratum) || { value: null, years_used: [] };
  return data.strata.map((item) => ({
    ...item,
    category,
    unreliable: item.unreliable || [],
    reference: item.stratum === data.reference,
    national: of(item).value ?? null,
    national_years: of(item).years_used,
    yearsDiffer: typeof item.value === "number" && typeof of(item).value === "number" &&
      !fmt.sameYears(item.years_used, of(item).years_used),
    role: item.stratum === data.reference ? ROLES[0] : item.stratum === NOT_REPORTED ? ROLES[2] : ROLES[1],
    description: typeof item.value === "number" ? `${item.stratum}: ${fmt.one(item.value)}` : `${item.stratum}: no value`,
    tip: typeof item.value === "number"
      ? { Group: item.stratum, "Value (%)": fmt.withInterval(item.value, item.low, item.high), Years: fmt.years(item.years_used),
        Respondents: fmt.count(item.sample_size), Reliable: item.reliable ? "yes" : `no: ${item.unreliable.join("; ")}` }
      : null,
  }));
}

/** One category's section: its sentence, chart, table and downloads. */
async function category(section, state, question, name, fields, nationHasRows, current) {
  const short = fmt.shortLabel(question);
  const [mine, nation] = await Promise.all([
    ask("disparities", question, state, { ...fields, category: name }),
    nationHasRows && state !== NATIONAL ? ask("disparities", question, NATIONAL, { ...fields, category: name }) : null,
  ]);
  if (!current()) return;
  const { data } = mine;
  const rows = strataRows(data, nation && nation.data, name);
  const sentence = section.querySelector(".trend-sentence");
  sentence.hidden = false;
  const withheld = rows.filter((row) => row.rows_suppressed).length;
  const counted = data.provenance.rows_suppressed;
  sentence.textContent = data.reference
    ? `Best group: ${data.reference}.` + (counted ? ` ${fmt.suppressed(counted, dataset().footnotes)}` : "")
    : `No reference group: ${data.reference_reason}.` + (withheld ? ` ${fmt.suppressed(counted, dataset().footnotes)}` : "");
  const pair = section.querySelector(".pair");
  pair.hidden = !rows.length;
  if (!rows.length) return;
  const title = `${name}: ${short}`;
  renderTable(section.querySelector("table"), `${title} (${state}, ${fields.years.join("–")})`, COLUMNS(state), rows);
  const context = { question, years: fmt.span(fields.years), group: `${name}, every group` };
  const buttons = section.querySelector(".downloads");
  downloadButtons(buttons, `${name}: ${short}`, () => ({ name: `${state} ${name} ${short}`, context, columns: DOWNLOAD, rows }))(
    [mine.jobId, nation && nation.jobId]);
  const plot = section.querySelector(".plot");
  if (!rows.some((row) => typeof row.value === "number")) {
    plot.replaceChildren(note(`No group of ${name} has a usable value for ${state}.`));
    return;
  }
  section.querySelector("figcaption").textContent =
    `${state}, ${fmt.span(fields.years)}: bars are pooled values, whiskers their 95% intervals, black ticks the nation's ` +
    "values; faded bars are unreliable.";
  const spec = breakdownSpec(state, name, rows);
  exportButtons(buttons, `the chart of ${name}`, () => ({ name: `${state} ${name} ${short}`, spec, context }));
  await draw(plot, spec);
}

/**
 * Every category of `question` (but Total) in `container`: `cover` says which categories it has,
 * `membership` (its compare_to_national answer) whether the state and the nation have rows.
 */
export async function drawBreakdown(container, block, state, question, cover, membership, picker, current) {
  container.replaceChildren();
  if (!membership) {
    container.append(note(`No rows for this question in ${picker.describe({ group: false })}.`));
    return;
  }
  if (state !== NATIONAL && !membership.data.states[state]) {
    container.append(note(`No rows for ${state} on this question.`));
    return;
  }
  // The nation has rows in a category only if it has any for the question in these years.
  const nationHasRows = typeof membership.data.national.value === "number";
  const fields = picker.fields({ group: false });
  const categories = cover.categories.map((entry) => entry.category).filter((name) => name !== "Total");
  await Promise.all(categories.map((name) => {
    const section = block(container, `by-${fmt.slug(name)}`, `${name}: ${fmt.shortLabel(question)}`, "Bar chart");
    section.dataset.category = name;
    return category(section, state, question, name, fields, nationHasRows, current);
  }));
}
