// A state's page: its value per question against the nation's (compare_to_national's verdict),
// each question's trend beside the nation's, and its values by group; over a chosen year range
// and group. Questions that have no rows in the selection are said so, never asked.

import { ask, questions, setStatus } from "./lss.js";
import * as fmt from "./format.js";
import { draw, exportButtons } from "./charts.js";
import { covered, covers, questionPicker, selectionPicker, union } from "./selection.js";
import { downloadButtons, mark, reliabilityCell, renderTable, valueCell, verdictCell } from "./tables.js";
import { drawTrend } from "./trends.js";
import { drawBreakdown } from "./breakdown.js";

const state = document.getElementById("state-name").dataset.state;
const NATIONAL = "National";
const select = document.getElementById("question");
let picker = null;
let list = [];
let coverage = [];
const generations = { all: 0, compare: 0, trends: 0, breakdown: 0 };

/** A heading, a sentence, a chart with its caption and its table: one section of the page. */
function block(container, id, title, kind) {
  const section = document.createElement("section");
  section.className = "category";
  section.setAttribute("aria-labelledby", `${id}-title`);
  section.innerHTML = `<h3 id="${id}-title"></h3><p class="trend-sentence" hidden></p><p class="apc-sentence"></p><div class="pair">
    <figure class="chart"><div class="plot" role="img"></div><figcaption></figcaption></figure>
    <div class="numbers"><div class="downloads"></div>
    <div class="scroll" tabindex="0" role="region"><table id="${id}" class="stacking"></table></div></div></div>`;
  section.querySelector("h3").textContent = title;
  section.querySelector(".plot").setAttribute("aria-label", `${kind}: ${title}`);
  section.querySelector(".scroll").setAttribute("aria-label", `Numbers: ${title}`);
  container.appendChild(section);
  return section;
}

/** Each question's compare_to_national over the page's selection (null: it has no rows there). */
function memberships(fields) {
  return Promise.all(list.map((item, index) =>
    (covers(coverage[index], fields) ? ask("compare_to_national", item.question, undefined, fields) : Promise.resolve(null))));
}

/** The state's bars and the nation's, each with its interval, a row per question. */
function compareSpec(rows) {
  const values = rows.flatMap((row) => [
    ...(typeof row.value === "number" ? [{ short: row.short, series: state, value: row.value, low: row.low, high: row.high, tip: row.tip }] : []),
    ...(state !== NATIONAL && typeof row.national === "number"
      ? [{ short: row.short, series: NATIONAL, value: row.national, low: row.national_low, high: row.national_high, tip: row.nationTip }] : []),
  ]);
  const series = [state, ...(state === NATIONAL ? [] : [NATIONAL])];
  const x = { type: "quantitative", title: "Value (%)" };
  return {
    width: "container",
    data: { values },
    encoding: {
      y: { field: "short", type: "nominal", sort: rows.map((row) => row.short), title: null, axis: { labelLimit: 200 } },
      yOffset: { field: "series", type: "nominal", sort: series, scale: { domain: series } },
    },
    layer: [
      { name: "bars", mark: { type: "bar" }, encoding: {
        x: { field: "value", ...x },
        color: { field: "series", type: "nominal", title: null, scale: { domain: series, range: ["#1f5f9e", "#9aa3ad"] }, legend: { orient: "top" } },
        tooltip: { field: "tip", type: "nominal" },
      } },
      { name: "whiskers", mark: { type: "rule", color: "#1d232b", strokeWidth: 1.3 }, encoding: { x: { field: "low", ...x }, x2: { field: "high" } } },
    ],
  };
}

const COMPARE_COLUMNS = () => [
  { key: "short", label: "Question", cell: (cell, row) => { cell.textContent = row.short; cell.title = row.question; } },
  { key: "value", label: `${state} (%)`, numeric: true, cell: valueCell },
  { key: "interval", label: "95% interval", numeric: true, format: (_, row) => fmt.interval(row.low, row.high) },
  { key: "years_used", label: "Years", cell: (cell, row) => {
    cell.textContent = typeof row.value === "number" ? fmt.years(row.years_used) : "–";
    if (row.yearsDiffer) cell.append(" ", mark("differ", `nation: ${fmt.years(row.national_years)}`));
  } },
  { key: "sample_size", label: "Respondents", numeric: true, format: fmt.count },
  { key: "national", label: "Nation (%)", numeric: true, format: (value, row) => (typeof value === "number" ? `${fmt.one(value)} (${fmt.interval(row.national_low, row.national_high)})` : "–") },
  { key: "versus", label: "Against the nation", cell: verdictCell },
  { key: "reliable", label: "Reliable", cell: reliabilityCell },
];
const COMPARE_DOWNLOAD = [
  { key: "question" }, { key: "best_is" }, { key: "value", kind: "value" }, { key: "low", kind: "value" }, { key: "high", kind: "value" },
  { key: "years_used" }, { key: "sample_size" }, { key: "rows_suppressed" }, { key: "national", kind: "value" },
  { key: "national_low", kind: "value" }, { key: "national_high", kind: "value" }, { key: "national_years" }, { key: "versus" },
  { key: "compared" }, { key: "p_adjusted", kind: "p" }, { key: "reliable" }, { key: "unreliable" }, { key: "reason" },
];

function compareRow(item, answer) {
  const base = { question: item.question, short: fmt.shortLabel(item.question), best_is: item.best_is, value: null, unreliable: [] };
  if (!answer) return { ...base, reason: `no rows for this question in ${picker.describe()}` };
  const entry = answer.data.states[state] || (state === NATIONAL ? answer.data.national : null);
  const nation = answer.data.national;
  if (!entry) return { ...base, reason: `no rows for ${state} on this question`, national: nation.value };
  const words = fmt.meaning(item.best_is);
  const row = {
    ...base, ...entry, unreliable: entry.unreliable || [], compared: entry.versus ? words[entry.versus] : null,
    national: nation.value, national_low: nation.low, national_high: nation.high, national_years: nation.years_used,
  };
  row.yearsDiffer = state !== NATIONAL && typeof row.value === "number" && typeof nation.value === "number" &&
    !fmt.sameYears(row.years_used, nation.years_used);
  row.tip = { Question: row.short, [`${state} (%)`]: fmt.withInterval(row.value, row.low, row.high), Years: fmt.years(row.years_used),
    Respondents: fmt.count(row.sample_size) };
  row.nationTip = { Question: row.short, "Nation (%)": fmt.withInterval(nation.value, nation.low, nation.high),
    Years: fmt.years(nation.years_used), Respondents: fmt.count(nation.sample_size) };
  return row;
}

async function compare(answers, fields) {
  const mine = ++generations.compare;
  const rows = list.map((item, index) => compareRow(item, answers[index]));
  if (mine !== generations.compare) return;
  renderTable(document.getElementById("compare"), `${state} and the nation (${picker.describe()})`, COMPARE_COLUMNS(), rows);
  const context = { question: "every question", ...picker.context() };
  downloadButtons(document.getElementById("compare-downloads"), "the comparison",
    () => ({ name: `${state} against the nation`, context, columns: COMPARE_DOWNLOAD, rows }))(answers.filter(Boolean).map((a) => a.jobId));
  const differ = rows.filter((row) => row.yearsDiffer);
  document.getElementById("compare-years").textContent = differ.length
    ? `For ${differ.length} question${differ.length === 1 ? "" : "s"}, ${state}'s value comes from other years than the nation's ` +
      `(${differ.map((row) => row.short).join(", ")}): the Years column says which.`
    : "";
  const spec = compareSpec(rows);
  exportButtons(document.getElementById("compare-chart-downloads"), "the chart of the comparison",
    () => ({ name: `${state} against the nation`, spec, context }));
  await draw(document.getElementById("compare-chart"), spec);
  if (mine === generations.compare) document.getElementById("compare").dataset.years = fields.years.join("-");
}

async function trends(answers, fields) {
  const mine = ++generations.trends;
  const container = document.getElementById("trends");
  delete container.dataset.years;
  container.replaceChildren();
  await Promise.all(list.map((item, index) => {
    const section = block(container, `trend-${index + 1}`, fmt.shortLabel(item.question), "Trend chart");
    section.dataset.question = item.question;
    section.querySelector("h3").title = item.question;
    return drawTrend(section, state, item, answers[index], picker, () => mine === generations.trends)
      .then(() => { if (mine === generations.trends) section.dataset.done = "true"; });
  }));
  if (mine === generations.trends) container.dataset.years = fields.years.join("-");
}

async function breakdown(question) {
  const mine = ++generations.breakdown;
  const container = document.getElementById("breakdown");
  delete container.dataset.question;
  const index = list.findIndex((item) => item.question === question);
  const fields = picker.fields({ group: false });
  const membership = covers(coverage[index], fields) ? await ask("compare_to_national", question, undefined, fields) : null;
  if (mine !== generations.breakdown) return;
  await drawBreakdown(container, block, state, question, coverage[index], membership, picker, () => mine === generations.breakdown);
  if (mine === generations.breakdown) container.dataset.question = question;
}

async function everything() {
  const mine = ++generations.all;
  delete document.body.dataset.ready;
  const fields = picker.fields();
  setStatus("Asking the service…");
  const answers = await memberships(fields);
  await Promise.all([compare(answers, fields), trends(answers, fields), breakdown(select.value)]);
  if (mine !== generations.all) return;
  setStatus(`Showing ${state}, ${picker.describe()}; by group: ${fmt.shortLabel(select.value)}`);
  document.body.dataset.ready = "true"; // everything drawn (the tests wait for it)
}

const failed = (error) => {
  setStatus(`Could not load the answers: ${error.message}`, true);
  document.body.dataset.ready = "error";
};

async function start() {
  try {
    list = await questions();
    coverage = await Promise.all(list.map(covered));
    picker = selectionPicker(union(coverage), () => everything().catch(failed));
    await questionPicker(select, (question) => {
      delete document.body.dataset.ready;
      breakdown(question).then(() => { document.body.dataset.ready = "true"; }, failed);
    });
    await everything();
  } catch (error) {
    failed(error);
  }
}

start();
