// The dashboard's table: every location but the nation in the service's `rankings` order (best
// first by the question's direction), each with its rank and the 95% interval of that rank, its
// chances of being among the best or worst five, its pooled value with interval, years and
// respondents, its verdict against the nation (compare_to_national) and reliability; territories
// marked; those without a value last, saying why.

import * as fmt from "./format.js";
import { mark, note, reliabilityCell, valueCell, verdictCell } from "./tables.js";

/** A location the question has no row for at all: listed too (and drawn grey), saying so. */
const ABSENT = { value: null, reason: "no rows for this question in the loaded data", rows_suppressed: 0 };

/**
 * The rows of the table: `ranked` is rankings' answer, `compared` compare_to_national's over the
 * same selection (its verdicts, years and withheld rows), `places` {shapes, locations}.
 */
export function rankRows(ranked, compared, bestIs, places, href) {
  const words = fmt.meaning(bestIs);
  const nation = compared.national;
  const listed = new Set(ranked.locations.map((entry) => entry.location));
  const absent = places.locations.filter((name) => name !== "National" && !listed.has(name))
    .map((location) => ({ location, ...ABSENT, territory: !places.shapes.has(location), rank: null }));
  return [...ranked.locations, ...absent].map((entry) => {
    const versus = compared.states[entry.location] || {};
    const row = {
      ...entry,
      unreliable: entry.unreliable || [],
      years_used: versus.years_used || [],
      rows_suppressed: versus.rows_suppressed ?? entry.rows_suppressed ?? 0,
      versus: versus.versus ?? null,
      p_adjusted: versus.p_adjusted ?? null,
      reason: entry.reason || versus.reason,
      compared: versus.versus ? words[versus.versus] : null,
      onMap: places.shapes.has(entry.location),
      href: href(entry.location),
    };
    row.yearsDiffer = typeof row.value === "number" && typeof nation.value === "number" &&
      !fmt.sameYears(row.years_used, nation.years_used);
    return { ...row, flag: flag(row), label: label(row) };
  });
}

/** The map's flag of a row: "no data", "unreliable" or null. */
const flag = (row) => (typeof row.value !== "number" ? "no data" : row.reliable ? null : "unreliable");

/** A state's shape described for assistive technology. */
const label = (row) => (typeof row.value === "number" ? `${row.location}: ${fmt.one(row.value)}%` : `${row.location}: no value`);

/** A chance as people read it: "82%", "< 1%". */
const chance = (p) => (p >= 0.995 ? "> 99%" : p < 0.005 ? "< 1%" : `${Math.round(p * 100)}%`);

/** A chance of being among the best or worst five worth saying (1 in 20 or more). */
function fiveCell(cell, row) {
  const said = [];
  if (row.p_best5 >= 0.05) said.push(["best", `best five ${chance(row.p_best5)}`]);
  if (row.p_worst5 >= 0.05) said.push(["worst", `worst five ${chance(row.p_worst5)}`]);
  if (!said.length) {
    cell.textContent = "–";
    return;
  }
  said.forEach(([kind, text], index) => {
    if (index) cell.append(" ");
    cell.append(row[`p_${kind}5`] >= 0.5 ? mark(kind, text) : note(text));
  });
}

export const COLUMNS = [
  {
    key: "rank", label: "Rank (95%)", numeric: true,
    cell: (cell, row) => {
      if (row.rank === null || row.rank === undefined) {
        cell.textContent = "–";
        return;
      }
      cell.append(String(row.rank), " ", note(`${row.rank_low}–${row.rank_high}`));
    },
  },
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
  { key: "p_best5", label: "Best / worst five", cell: fiveCell },
  { key: "versus", label: "Against the nation", cell: verdictCell },
  { key: "reliable", label: "Reliable", cell: reliabilityCell },
];

/** The columns of the table's downloads (values rounded in the CSV, full in the JSON). */
export const DOWNLOAD = [
  { key: "rank" }, { key: "rank_low" }, { key: "rank_high" }, { key: "location" }, { key: "territory" },
  { key: "value", kind: "value" }, { key: "low", kind: "value" }, { key: "high", kind: "value" }, { key: "years_used" },
  { key: "sample_size" }, { key: "rows_suppressed" }, { key: "p_best5", kind: "p" }, { key: "p_worst5", kind: "p" },
  { key: "versus" }, { key: "compared" }, { key: "p_adjusted", kind: "p" }, { key: "reliable" }, { key: "unreliable" },
  { key: "reason" },
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
