// Numbers, years and reasons as people read them: one decimal, intervals, respondents, year
// lists, and the words for a value that is missing or withheld.

const isNumber = (value) => typeof value === "number" && Number.isFinite(value);

/** A percentage for people: one decimal ("30.0"); "–" when there is none. */
export const one = (value) => (isNumber(value) ? value.toFixed(1) : "–");

/** A number rounded to one decimal as a number (for CSV files people read); null stays null. */
export const rounded = (value) => (isNumber(value) ? Math.round(value * 10) / 10 : null);

/** A 95% interval: "29.9–30.1". */
export const interval = (low, high) => (isNumber(low) && isNumber(high) ? `${one(low)}–${one(high)}` : "–");

/** A value with its interval: "30.0 (95%: 29.9–30.1)". */
export const withInterval = (value, low, high) =>
  isNumber(value) ? `${one(value)} (95%: ${interval(low, high)})` : "–";

/** Respondents: "12,345". */
export const count = (n) => (isNumber(n) ? Math.round(n).toLocaleString("en-US") : "–");

/** A number with its sign to `digits` decimals ("+1.2", "−0.4"); one that rounds to zero has none. */
function withSign(x, digits) {
  if (!isNumber(x)) return "–";
  const size = Math.abs(x).toFixed(digits);
  return Number(size) === 0 ? size : `${x > 0 ? "+" : "−"}${size}`;
}

/** A signed difference in points: "+1.2" or "−0.4". */
export const signed = (x) => withSign(x, 1);

/** A slope in points a year: two decimals, signed ("+0.53", "−0.04"). */
export const slope = (x) => withSign(x, 2);

/** A p-value: three decimals, or "< 0.001". */
export const pValue = (p) => (isNumber(p) ? (p < 0.001 ? "< 0.001" : p.toFixed(3)) : "–");

/** Years as runs: [2011, 2012, 2013, 2016] is "2011–2013, 2016"; none is "none". */
export function years(list) {
  if (!list || !list.length) return "none";
  const runs = [];
  let start = list[0];
  let last = list[0];
  for (const year of list.slice(1).concat([null])) {
    if (year === last + 1) {
      last = year;
      continue;
    }
    runs.push(start === last ? String(start) : `${start}–${last}`);
    start = last = year;
  }
  return runs.join(", ");
}

/** A year range [from, to] as text: "2011–2022", or "2018" for one year. */
export const span = ([from, to]) => (from === to ? String(from) : `${from}–${to}`);

/** Whether two year lists differ. */
export const sameYears = (a, b) => (a || []).join() === (b || []).join();

/** "rising", "falling", "stable": the words of a verdict of the service, for its direction. */
export const meaning = (bestIs) =>
  bestIs === "lowest" ? { higher: "worse", lower: "better", similar: "similar" } : { higher: "better", lower: "worse", similar: "similar" };

/** The words for a withheld value: "suppressed: <the CDC's footnote>" (its rows counted). */
export function suppressed(rows, footnotes) {
  const note = footnotes && footnotes.length ? `: ${footnotes.join(" ")}` : "";
  return `${rows} row${rows === 1 ? "" : "s"} suppressed${note}`;
}

/** Why an entry of an answer has no value, in words (its `reason`, or a plain "no value"). */
export const why = (entry) => (entry && entry.reason ? entry.reason : "no value in this selection");

/** A few words for each question, for chart axes and headings; the full text is in the tables. */
const SHORT = [
  [/overweight/, "Overweight"],
  [/have obesity/, "Obesity"],
  [/no leisure-time/, "No leisure-time activity"],
  [/fruit less/, "Fruit less than daily"],
  [/vegetables less/, "Vegetables less than daily"],
  [/150 minutes.*muscle-strengthening/, "150 min aerobic + muscle"],
  [/at least 150 minutes/, "150 min aerobic"],
  [/at least 300 minutes/, "300 min aerobic"],
  [/muscle-strengthening/, "Muscle-strengthening"],
];
export const shortLabel = (question) => (SHORT.find(([pattern]) => pattern.test(question)) || [0, question])[1];

export const slug = (text) => text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
