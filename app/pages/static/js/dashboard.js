// The dashboard: one question's states on a US map, by value around the nation's or by verdict
// against it; the nation's headline and every location in a table; over a chosen year range
// and group. The numbers come from two answers over the same selection: compare_to_national
// (the nation, the verdicts, the years) and rankings (the ranks and their uncertainty).

import { ask, getJSON, questions, setStatus } from "./lss.js";
import * as fmt from "./format.js";
import { exportButtons } from "./charts.js";
import { covered, param, questionPicker, selectionPicker, setParams } from "./selection.js";
import { downloadButtons, renderTable } from "./tables.js";
import { drawMap, shapes, tip, valueSpec, verdictSpec } from "./map.js";
import { COLUMNS, DOWNLOAD, headline, rankRows } from "./ranking.js";

const atlas = document.querySelector("script[data-atlas]").dataset.atlas;
const select = document.getElementById("question");
const colour = document.getElementById("colour");
const mapElement = document.getElementById("map");
const picked = document.getElementById("picked");
let generation = 0;
let picker = null;
let list = [];
const places = { shapes: new Set(), locations: [] };
/** What the page shows now: the rows, the map's spec and the context exports carry. */
let shown = null;
let chosen = null;

const showJobs = downloadButtons(document.getElementById("ranking-downloads"), "the table of every location",
  () => ({ name: `${fmt.shortLabel(shown.question)} by location`, context: shown.context, columns: DOWNLOAD, rows: shown.rows }));
exportButtons(document.getElementById("map-downloads"), "the map",
  () => ({ name: `${fmt.shortLabel(shown.question)} map`, spec: shown.spec, context: shown.context }));

/** The query of a state page link: the question and this page's selection. */
function stateHref(location, question) {
  const params = new URLSearchParams(window.location.search);
  params.delete("colour");
  params.set("question", question);
  return `/states/${encodeURIComponent(location)}?${params}`;
}

/** Show a state's numbers beside the map; on a touch screen, a second tap opens its page. */
function pick(location, touch) {
  const row = shown && shown.rows.find((item) => item.location === location);
  if (!row) return;
  if (!touch || chosen === location) {
    window.location.href = row.href;
    return;
  }
  chosen = location;
  const list = document.createElement("dl");
  for (const [name, text] of Object.entries(tip(row, fmt.meaning(shown.bestIs)))) {
    if (name === "State") continue;
    list.append(Object.assign(document.createElement("dt"), { textContent: name }),
      Object.assign(document.createElement("dd"), { textContent: text }));
  }
  const heading = Object.assign(document.createElement("h3"), { textContent: location });
  const link = Object.assign(document.createElement("a"), { href: row.href, textContent: `Open ${location}'s page` });
  const hint = Object.assign(document.createElement("p"), { className: "hint", textContent: "Tap the state again to open its page." });
  picked.replaceChildren(heading, list, link, hint);
  picked.dataset.location = location;
}

function explain(mode, bestIs, nation) {
  const words = fmt.meaning(bestIs);
  const centre = typeof nation.value === "number" ? `the nation's ${fmt.one(nation.value)}%` : "no national value";
  const better = bestIs === "lowest" ? "lower" : "higher";
  document.getElementById("direction").textContent = mode === "value"
    ? `Best is ${bestIs}. White is ${centre}; blue is ${better} (better), orange the other way (worse).`
    : `Best is ${bestIs}: "higher" than the nation is ${words.higher}, "lower" is ${words.lower}; ` +
      `blue is better, red worse, yellow similar.`;
}

async function show() {
  const mine = ++generation;
  delete document.body.dataset.ready;
  const question = select.value;
  const item = list.find((entry) => entry.question === question);
  const fields = picker.fields();
  setStatus("Asking the service…");
  const [compared, ranked] = await Promise.all([
    ask("compare_to_national", question, undefined, fields),
    ask("rankings", question, undefined, fields),
  ]);
  if (mine !== generation) return;
  const context = { question, ...picker.context() };
  const nation = compared.data.national;
  const rows = rankRows(ranked.data, compared.data, item.best_is, places, (location) => stateHref(location, question));
  for (const row of rows) row.tip = tip(row, fmt.meaning(item.best_is));
  headline(document.getElementById("national"), nation, picker.describe());
  renderTable(document.getElementById("ranking"), `${fmt.shortLabel(question)}: every location, best first (${picker.describe()})`,
    COLUMNS, rows);
  showJobs([ranked.jobId, compared.jobId]);

  const centred = typeof nation.value === "number";
  const mode = colour.value === "national" && centred ? "national" : "value";
  // The states' shape is about 0.62 as tall as wide; below it the legends (on a phone in a column).
  const legends = mapElement.clientWidth < 520 ? 100 : 60;
  const height = Math.round(Math.max(mapElement.clientWidth, 300) * 0.62) + legends;
  const spec = mode === "national"
    ? verdictSpec(atlas, rows, item.best_is, height)
    : valueSpec(atlas, rows, centred ? nation.value : null, item.best_is, height);
  shown = { question, bestIs: item.best_is, rows, spec, context };
  chosen = null;
  explain(mode, item.best_is, nation);
  const grey = "Grey: no value; dashed outline: unreliable value.";
  document.getElementById("map-caption").textContent = (mode === "national"
    ? `Each state's pooled value against the nation's, ${picker.describe()}. ${grey}`
    : `Each state's pooled value, ${picker.describe()}, on a scale centred on ${centred ? `the nation's ${fmt.one(nation.value)}%` : "nothing: there is no national value"}. ${grey}`) +
    " Territories are in the table.";
  if (colour.value === "national" && !centred) {
    setStatus(`Not compared with the nation: ${fmt.why(nation)}. The map shows each state's value instead.`);
  }
  mapElement.setAttribute("aria-label", `Map of ${fmt.shortLabel(question)} by state (${picker.describe()}); ` +
    "the table below lists every value.");
  await drawMap(mapElement, spec, pick);
  if (mine !== generation) return;
  Object.assign(mapElement.dataset, { mode, years: fields.years.join("-"), question,
    group: `${fields.stratification.category} / ${fields.stratification.stratum}`,
    national: centred ? String(nation.value) : "" });
  if (!(colour.value === "national" && !centred)) setStatus(`Showing: ${question} (${picker.describe()})`);
  document.body.dataset.ready = "true"; // everything drawn (the tests wait for it)
}

const showing = () => show().catch((error) => {
  setStatus(`Could not load the answers: ${error.message}`, true);
  document.body.dataset.ready = "error";
});

async function start() {
  try {
    let states;
    [list, places.shapes, { states }] = await Promise.all([questions(), shapes(atlas), getJSON("/api/states")]);
    places.locations = states;
    await questionPicker(select, async (question) => {
      try {
        picker.recover(await covered(list.find((entry) => entry.question === question)));
      } catch (error) {
        setStatus(`Could not load the question's years: ${error.message}`, true);
        return;
      }
      showing();
    });
    picker = selectionPicker(await covered(list.find((entry) => entry.question === select.value)), showing);
    colour.value = param("colour") === "national" ? "national" : "value";
    colour.addEventListener("change", () => {
      setParams({ colour: colour.value === "value" ? null : colour.value });
      showing();
    });
    await showing();
  } catch (error) {
    setStatus(`Could not reach the service: ${error.message}`, true);
    document.body.dataset.ready = "error";
  }
}

start();
