// A trend's annual percent changes (SPEC §15.2): its segments between joinpoints and the average
// over the whole series, in words under the trend's sentence and drawn on its chart.

import * as fmt from "./format.js";

const JOINPOINT_COLOUR = "#5b2a86";

/** A percent change a year: "+1.8%". */
const change = (x) => `${fmt.signed(x)}%`;

/** The segments, joinpoints and average in words, or why there are none. */
export function apcSentence(data) {
  const apc = data.apc;
  if (!apc) return data.apc_reason ? `No annual percent change: ${data.apc_reason}.` : "";
  const segments = apc.segments.map((segment) =>
    `${segment.from}–${segment.to} ${change(segment.apc)} a year (95% interval ${change(segment.low)} to ${change(segment.high)})`);
  const joinpoints = apc.joinpoints.length
    ? ` Joinpoint${apc.joinpoints.length > 1 ? "s" : ""}: ${apc.joinpoints.join(", ")}.`
    : " No joinpoint.";
  const average = apc.segments.length > 1
    ? ` Average over the series (AAPC) ${change(apc.aapc.value)} a year (95% interval ${change(apc.aapc.low)} to ${change(apc.aapc.high)}).`
    : "";
  const left = apc.years_left_out.length ? ` Years left out (no positive value): ${apc.years_left_out.join(", ")}.` : "";
  return `Annual percent change: ${segments.join("; ")}.${joinpoints}${average}${left}`;
}

/**
 * The chart's layers for the APCs: a dashed rule at each joinpoint, and along the top a bar per
 * segment labelled with its APC. `x` is the chart's year encoding.
 */
export function apcLayers(apc, x) {
  if (!apc) return [];
  const segments = apc.segments.map((segment, index) => ({
    // Inset a little, so that two segments meeting at a joinpoint are seen as two.
    from: segment.from + 0.12, to: segment.to - 0.12, middle: (segment.from + segment.to) / 2, index,
    label: `${change(segment.apc)} a year`,
  }));
  const along = { ...x, field: "from", title: null };
  return [
    ...(apc.joinpoints.length ? [{
      name: "joinpoints",
      data: { values: apc.joinpoints.map((year) => ({ year })) },
      mark: { type: "rule", color: JOINPOINT_COLOUR, strokeDash: [3, 3], strokeWidth: 1.5 },
      encoding: { x: { ...x, field: "year" } },
    }] : []),
    {
      name: "segments",
      data: { values: segments },
      mark: { type: "rule", color: JOINPOINT_COLOUR, strokeWidth: 3 },
      encoding: { x: along, x2: { field: "to" }, y: { value: 4 } },
    },
    {
      name: "segment_labels",
      data: { values: segments },
      mark: { type: "text", color: JOINPOINT_COLOUR, fontSize: 11, dy: 12, baseline: "top" },
      encoding: { x: { ...x, field: "middle" }, y: { value: 4 }, text: { field: "label" } },
    },
  ];
}
