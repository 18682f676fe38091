// The dashboard's table: every location but the nation, ranked by its pooled value over the
// selection (best first by the question's direction), with its interval, years, respondents,
// verdict against the nation and reliability; territories marked; those without a value last,
// saying why.

import * as fmt from "./format.js";
import { mark, note, reliabilityCell, valueCell, verdictCell } from "./tables.js";

/** The rows of the table, from compare_to_national's answer (`data`). */
export function rankRows(data, bestIs, places, href) {
  const words = fmt.meaning(bestIs);
  const nation = data.national;
  // A location the question has no row for at all is listed too (and drawn grey), saying so.
  const absent = { value: null, reason: "no rows for this question in the loaded data", rows_suppressed: 0 };
  const entries = [...Object.entries(data.states),
    ...places.locations.filter((name) => name !== "National" && !(name in data.states)).map((name) => [name, absent])];
  const rows = entries.map(([location, item]) => ({
    location,
    ...item,
    unreliable: item.unreliable || [],
    compared: item.versus ? words[item.versus] : null,
    territory: !places.shapes.has(location),
    onMap: places.shapes.has(location),
    yearsDiffer: typeof item.value === "number" && typeof nation.value === "number" &&
      !fmt.sameYears(item.years_used, nation.years_used),
    href: href(location),
  }));
  const sign = bestIs === "lowest" ? 1 : -1;
  const valued = rows.filter((row) => typeof row.value === "number")
    .sort((a, b) => sign * (a.value - b.value) || a.location.localeCompare(b.location));
  const others = rows.filter((row) => typeof row.value !== "number").sort((a, b) => a.location.localeCompare(b.location));
  valued.forEach((row, index) => { row.rank = index + 1; });
  others.forEach((row) => { row.rank = null; });
  return [...valued, ...others].map((row) => ({ ...row, flag: flag(row), label: label(row) }));
}

/** The map's flag of a row: "no data", "unreliable" or null. */
const flag = (row) => (typeof row.value !== "number" ? "no data" : row.reliable ? null : "unreliable");

/** A state's shape described for assistive technology. */
const label = (row) => (typeof row.value === "number" ? `${row.location}: ${fmt.one(row.value)}%` : `${row.location}: no value`);

export const COLUMNS = [
  { key: "rank", label: "Rank", numeric: true, format: (rank) => (rank === null ? "–" : String(rank)) },
  {
    key: "location",
    label: "Location",
    cell: (cell, row) => {
      const link = Object.assign(document.createElement("a"), { href: row.href, textContent: row.location });
      cell.appendChild(link);
      if (row.territory) cell.append(" ", mark("territory", "territory"));
    },
  },
  { key: "value", label: "Value (%)", numeric: true, cell: valueCell },
  { key: "interval", label: "95% interval", numeric: true, format: (_, row) => fmt.interval(row.low, row.high) },
  {
    key: "years_used",
    label: "Years",
    cell: (cell, row) => {
      cell.textContent = typeof row.value === "number" ? fmt.years(row.years_used) : "–";
      if (row.yearsDiffer) cell.append(" ", mark("differ", "not the nation's years"));
    },
  },
  { key: "sample_size", label: "Respondents", numeric: true, format: fmt.count },
  { key: "versus", label: "Against the nation", cell: verdictCell },
  { key: "reliable", label: "Reliable", cell: reliabilityCell },
];

/** The columns of the table's downloads (values rounded in the CSV, full in the JSON). */
export const DOWNLOAD = [
  { key: "rank" }, { key: "location" }, { key: "territory" }, { key: "value", kind: "value" },
  { key: "low", kind: "value" }, { key: "high", kind: "value" }, { key: "years_used" }, { key: "sample_size" },
  { key: "rows_suppressed" }, { key: "versus" }, { key: "compared" }, { key: "p_adjusted", kind: "p" },
  { key: "reliable" }, { key: "unreliable" }, { key: "reason" },
];

/** The nation's headline: its pooled value with its interval, years and respondents. */
export function headline(element, nation, context) {
  element.replaceChildren();
  if (typeof nation.value !== "number") {
    element.append(note(`No national value for ${context}: ${fmt.why(nation)}.`));
    return;
  }
  const value = Object.assign(document.createElement("strong"), { className: "figure", textContent: `${fmt.one(nation.value)}%` });
  element.append(value, ` (95% interval ${fmt.interval(nation.low, nation.high)}), `,
    `${fmt.years(nation.years_used)}, ${fmt.count(nation.sample_size)} respondents`);
  if (nation.rows_suppressed) element.append(`; ${fmt.suppressed(nation.rows_suppressed, [])}`);
  element.append(".");
}
