// The dashboard's US map: each state's pooled value on a diverging scale whose white point is
// the nation's pooled value over the same selection, or its verdict against the nation; grey
// where there is no value, a dashed outline where the value is unreliable. A mouse click opens
// the state's page; on a touch screen the first tap shows the value and a second opens the page.

import { draw } from "./charts.js";
import * as fmt from "./format.js";

/** Colours of the verdicts (the table's marks use the same) and of a state without a value. */
export const COLOURS = { better: "#2166ac", similar: "#f1d77e", worse: "#b2182b", noData: "#c8c8c8" };
const VERSUS = ["higher", "similar", "lower"];
/** The flags a state can carry over its colour, as the legend names them. */
const FLAGS = ["no data", "unreliable"];

/** The atlas's states the albersUsa projection draws (the 50 states and DC). */
export async function shapes(atlas) {
  const topology = await fetch(atlas).then((response) => response.json());
  const names = new Set(topology.objects.states.geometries.map((shape) => shape.properties.name));
  for (const name of ["Puerto Rico", "Guam", "United States Virgin Islands", "American Samoa",
    "Commonwealth of the Northern Mariana Islands"]) names.delete(name);
  return names;
}

/** A tooltip without empty fields: what the page knows of one location, in words. */
export function tip(row, words) {
  const lines = { State: row.location };
  if (typeof row.value !== "number") {
    lines.Value = row.rows_suppressed ? `withheld (${fmt.suppressed(row.rows_suppressed, [])})` : `no value: ${fmt.why(row)}`;
    return lines;
  }
  lines["Value (%)"] = fmt.withInterval(row.value, row.low, row.high);
  lines.Years = fmt.years(row.years_used);
  lines.Respondents = fmt.count(row.sample_size);
  lines["Against the nation"] = row.versus ? `${words[row.versus]} (${row.versus}, p ${fmt.pValue(row.p_adjusted)})` : "not compared";
  lines.Reliable = row.reliable ? "yes" : `no: ${(row.unreliable || []).join("; ")}`;
  return lines;
}

function base(atlas, rows, height) {
  const onMap = rows.filter((row) => row.onMap);
  return {
    width: "container",
    height,
    autosize: { type: "fit", contains: "padding" },
    projection: { type: "albersUsa" },
    data: { url: atlas, format: { type: "topojson", feature: "states" } },
    transform: [
      { calculate: "datum.properties.name", as: "location" },
      { filter: { field: "location", oneOf: onMap.map((row) => row.location) } },
      {
        lookup: "location",
        from: { data: { values: onMap }, key: "location", fields: ["value", "versus", "flag", "tip", "label"] },
      },
    ],
  };
}

/** The layer of flags over the colours: grey for no value, a dashed outline for unreliable. */
const FLAG_LAYER = {
  name: "flags",
  transform: [{ filter: "datum.flag != null" }],
  // No ARIA of its own: the states layer names every shape (and an empty layer has no name).
  mark: { type: "geoshape", strokeWidth: 1.6, aria: false },
  encoding: {
    fill: {
      field: "flag", type: "nominal", title: null,
      scale: { domain: FLAGS, range: [COLOURS.noData, "transparent"] },
      legend: {
        orient: "bottom", direction: "vertical", symbolType: "square", symbolSize: 140,
        symbolStrokeColor: "#111111", symbolStrokeWidth: 1.2, symbolDash: [3, 2],
      },
    },
    stroke: { condition: { test: "datum.flag === 'unreliable'", value: "#111111" }, value: "#ffffff" },
    strokeDash: { condition: { test: "datum.flag === 'unreliable'", value: [4, 2] }, value: [1, 0] },
    tooltip: { field: "tip", type: "nominal" },
  },
};

const RESOLVE = {
  scale: { color: "independent", fill: "independent", stroke: "independent" },
  legend: { color: "independent", fill: "independent", stroke: "independent" },
};

/** The map by value: a diverging scale around the nation's value (a plain one without it). */
export function valueSpec(atlas, rows, national, bestIs, height) {
  const values = rows.filter((row) => row.onMap && typeof row.value === "number").map((row) => row.value);
  const centred = typeof national === "number";
  const known = [...values, ...(centred ? [national] : [])];
  // Without a single value the scale still needs a range: any will do, nothing is coloured by it.
  const low = known.length ? Math.min(...known) : 0;
  const high = known.length ? Math.max(...known) : 100;
  const ticks = centred ? [low, national, high] : [low, high];
  const label = centred
    ? `datum.value === ${national} ? 'nation ' + format(datum.value, '.1f') : format(datum.value, '.1f')`
    : "format(datum.value, '.1f')";
  return {
    ...base(atlas, rows, height),
    layer: [
      {
        name: "states",
        mark: { type: "geoshape", stroke: "#ffffff", strokeWidth: 0.6, invalid: "show" },
        encoding: {
          color: {
            condition: { test: "!isValid(datum.value)", value: COLOURS.noData },
            field: "value",
            type: "quantitative",
            title: "Value (%)",
            scale: {
              type: "linear",
              scheme: "blueorange",
              reverse: bestIs === "highest",
              domain: [low, high],
              ...(centred ? { domainMid: national } : {}),
            },
            legend: {
              orient: "bottom", direction: "horizontal", values: ticks, labelExpr: label,
              gradientLength: Math.min(220, Math.round(height * 0.6)),
            },
          },
          tooltip: { field: "tip", type: "nominal" },
          description: { field: "label", type: "nominal" },
        },
      },
      FLAG_LAYER,
    ],
    resolve: RESOLVE,
  };
}

/** The map by verdict: higher / similar / lower than the nation, said as better or worse. */
export function verdictSpec(atlas, rows, bestIs, height) {
  const words = fmt.meaning(bestIs);
  const colour = (versus) => COLOURS[words[versus]];
  const text = (versus) => (versus === "similar" ? "similar to the nation" : `${versus}: ${words[versus]} than the nation`);
  return {
    ...base(atlas, rows, height),
    layer: [
      {
        name: "states",
        mark: { type: "geoshape", stroke: "#ffffff", strokeWidth: 0.6, invalid: "show" },
        encoding: {
          color: {
            condition: { test: "!isValid(datum.versus)", value: COLOURS.noData },
            field: "versus",
            type: "nominal",
            title: "Against the nation",
            scale: { domain: VERSUS, range: VERSUS.map(colour) },
            legend: {
              orient: "bottom", direction: "vertical",
              labelExpr: `{${VERSUS.map((versus) => `'${versus}': '${text(versus)}'`).join(", ")}}[datum.label]`,
            },
          },
          tooltip: { field: "tip", type: "nominal" },
          description: { field: "label", type: "nominal" },
        },
      },
      FLAG_LAYER,
    ],
    resolve: RESOLVE,
  };
}

/**
 * Draw `spec` into `element`; a click or tap on a state calls `pick(location, viaTouch)`.
 * Resolves to the view.
 */
export async function drawMap(element, spec, pick) {
  if (!element.dataset.listening) {
    element.dataset.listening = "true";
    element.addEventListener("pointerdown", (event) => { element.dataset.pointer = event.pointerType; }, true);
  }
  const view = await draw(element, spec);
  view.addEventListener("click", (event, item) => {
    const touch = element.dataset.pointer === "touch" || matchMedia("(hover: none)").matches;
    const location = item && item.datum && item.datum.location;
    if (location) pick(location, touch);
  });
  return view;
}
