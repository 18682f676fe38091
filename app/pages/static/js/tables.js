// Tables of numbers beside the charts, their marks (unreliable, suppressed, territory, the
// verdict against the nation) and their downloads: CSV for people (one decimal, with the
// question, years, group, unit and source on every row) and JSON at full precision.

import { dataset, save, toCSV } from "./lss.js";
import * as fmt from "./format.js";

/**
 * Fill `table` with `rows` (objects). `columns` are {key, label, numeric?, format?, cell?}:
 * `format(value, row)` turns a value into text, `cell(td, row)` builds the cell itself. Every
 * cell carries its column's label (data-label), which a narrow screen shows beside it when the
 * rows stack. A row's `_class` becomes its class.
 */
export function renderTable(table, caption, columns, rows) {
  table.replaceChildren();
  const cap = table.createCaption();
  cap.textContent = caption;
  const head = table.createTHead().insertRow();
  for (const column of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = column.label;
    if (column.numeric) th.className = "num";
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    if (row._class) tr.className = row._class;
    columns.forEach((column, index) => {
      const cell = document.createElement(index === 0 ? "th" : "td");
      if (index === 0) cell.scope = "row";
      if (column.numeric) cell.className = "num";
      cell.dataset.label = column.label;
      if (column.cell) column.cell(cell, row);
      else cell.textContent = (column.format || fmt.one)(row[column.key], row);
      tr.appendChild(cell);
    });
  }
}

/** A small coloured label: `kind` is its class (unreliable, suppressed, territory, best...). */
export function mark(kind, text) {
  const span = document.createElement("span");
  span.className = `mark ${kind}`;
  span.textContent = text;
  return span;
}

/** A note in smaller type after a value (a reason, the years). */
export function note(text) {
  return Object.assign(document.createElement("small"), { className: "note", textContent: text });
}

/**
 * A value cell: the value with its interval, or why there is none (a withheld value marked
 * "suppressed" with the CDC's footnote, and the count of its rows).
 */
export function valueCell(cell, row) {
  if (typeof row.value === "number") {
    cell.textContent = fmt.one(row.value);
    return;
  }
  cell.classList.remove("num");
  const footnotes = dataset().footnotes.join(" ");
  if (row.rows_suppressed) {
    cell.append(mark("suppressed", "suppressed"), " ", note(fmt.suppressed(row.rows_suppressed, dataset().footnotes)));
  } else if (row.withheld) {
    cell.append(mark("suppressed", "suppressed"), " ", note(footnotes || "value withheld"));
  } else {
    cell.append(note(`no value: ${fmt.why(row)}`));
  }
}

/** A reliability cell: "yes", "unreliable" with the rules broken, or "–" without a value. */
export function reliabilityCell(cell, row) {
  if (typeof row.value !== "number") {
    cell.textContent = "–";
  } else if (row.reliable) {
    cell.textContent = "yes";
  } else {
    cell.append(mark("unreliable", "unreliable"), " ", note((row.unreliable || []).join("; ")));
  }
}

/** The verdict of compare_to_national for people: "worse (higher)", with its Holm p. */
export function verdictCell(cell, row) {
  if (!row.versus) {
    const valued = typeof row.value === "number";
    cell.append(note(!valued ? "–" : row.reason ? `not compared: ${row.reason}` : "not compared"));
    return;
  }
  cell.append(mark(`versus-${row.compared}`, row.compared), " ");
  const p = `p ${fmt.pValue(row.p_adjusted)}`;
  cell.append(note(row.versus === "similar" ? p : `${row.versus}, ${p}`));
}

/** Every column of a download: {key, kind?}; kind "value" rounds to one decimal in CSV. */
const roundFor = { value: fmt.rounded, p: (p) => (typeof p === "number" ? Number(p.toPrecision(3)) : p) };

const csvText = (value) => (Array.isArray(value) ? value.join(" ") : typeof value === "boolean" ? String(value) : value);

/** The columns every CSV row of the data's numbers starts with. */
const ABOUT = ["question", "years", "group", "unit", "source"];

/** What a file's numbers are: the question, years and group shown, the unit and the source. */
function about(context, csv) {
  const data = dataset();
  return {
    question: context.question,
    years: context.years,
    group: context.group,
    unit: "percent of adults (%)",
    source: csv ? data.citation.replace(/^Source: /, "") : data.source,
    ...(csv ? {} : { dataset_sha256: data.sha256 }),
  };
}

/**
 * Put "Download CSV" and "Download JSON" buttons in `container`; `current()` returns {name,
 * context: {question, years, group}, columns: [{key, kind?}], rows, jobs} for what is shown.
 * Returns a function that lists the API jobs behind it (links to their JSON and CSV).
 */
export function downloadButtons(container, what, current) {
  container.querySelectorAll("button:not(.export), .raw").forEach((element) => element.remove());
  for (const [format, type] of [["CSV", "text/csv"], ["JSON", "application/json"]]) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `Download ${format}`;
    button.setAttribute("aria-label", `Download ${format} of ${what}`);
    button.addEventListener("click", () => {
      const { name, context, columns, rows } = current();
      const keys = columns.map((column) => column.key);
      let text;
      if (format === "CSV") {
        const lines = rows.map((row) => Object.fromEntries(columns.map((column) =>
          [column.key, csvText((roundFor[column.kind] || ((x) => x))(row[column.key] ?? null))])));
        const header = [...ABOUT, ...keys.filter((key) => !ABOUT.includes(key))];
        text = context ? toCSV(header, lines.map((line) => ({ ...about(context, true), ...line })))
          : toCSV(keys, lines);
      } else {
        const plain = rows.map((row) => Object.fromEntries(keys.map((key) => [key, row[key] ?? null])));
        text = JSON.stringify(context ? { ...about(context, false), rows: plain } : plain, null, 2) + "\n";
      }
      save(`${fmt.slug(name)}.${format.toLowerCase()}`, type, text);
    });
    container.appendChild(button);
  }
  const raw = document.createElement("span");
  raw.className = "raw";
  container.appendChild(raw);
  return (jobs) => {
    raw.replaceChildren();
    const ids = [...new Set((jobs || []).filter(Boolean))];
    if (!ids.length) return;
    raw.append(ids.length === 1 ? "The API's answer: " : "The API's answers: ");
    ids.forEach((jobId, index) => {
      if (index) raw.append(", ");
      const json = Object.assign(document.createElement("a"), { href: `/api/get_results/${jobId}`, textContent: jobId });
      const csv = Object.assign(document.createElement("a"), { href: `/api/get_results/${jobId}?format=csv`, textContent: "csv" });
      raw.append(json, " (", csv, ")");
    });
  };
}
