// What a page asks about: the question, and the year range and group every request carries
// (SPEC §13), kept in the page's address; and what each question has rows for, so that a page
// never asks for a selection the service would refuse.

import { questions } from "./lss.js";
import { span } from "./format.js";

const TOTAL = ["Total", "Total"];

/** Change some of the address's query parameters (null removes one), keeping the others. */
export function setParams(changes) {
  const params = new URLSearchParams(location.search);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === undefined) params.delete(name);
    else params.set(name, value);
  }
  const query = params.toString();
  history.replaceState(null, "", query ? `${location.pathname}?${query}` : location.pathname);
}

export const param = (name) => new URLSearchParams(location.search).get(name);

/**
 * What `item` (an entry of /api/questions) has rows for: {years: [...], categories:
 * [{category, strata}]}, as the service lists them (categories and strata in SPEC §2's order).
 */
export const covered = (item) => Promise.resolve({ years: item.years, categories: item.categories });

/** Whether a question covers a selection: some of its years, and the group. */
export function covers(cover, fields) {
  const [from, to] = fields.years;
  const inYears = cover.years.some((year) => year >= from && year <= to);
  const group = fields.stratification;
  const inGroup = !group || cover.categories.some((c) => c.category === group.category && c.strata.includes(group.stratum));
  return inYears && inGroup;
}

/** Fill a question <select> and keep its value in the page's address (?question=). */
export async function questionPicker(select, onChange) {
  const list = await questions();
  const wanted = param("question");
  select.replaceChildren(...list.map((item) => new Option(item.question, item.question, false, item.question === wanted)));
  select.disabled = false;
  select.addEventListener("change", () => {
    setParams({ question: select.value });
    onChange(select.value);
  });
  return list;
}

function fillSelect(select, options, wanted) {
  select.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
  const values = options.map(([value]) => value);
  select.value = values.includes(wanted) ? wanted : values[0];
  select.disabled = false;
}

/** The union of several coverages: every year and every group, in the order first met. */
export function union(covers) {
  const years = [...new Set(covers.flatMap((cover) => cover.years))].sort((a, b) => a - b);
  const categories = [];
  for (const cover of covers) {
    for (const { category, strata } of cover.categories) {
      let entry = categories.find((c) => c.category === category);
      if (!entry) categories.push((entry = { category, strata: [] }));
      for (const stratum of strata) if (!entry.strata.includes(stratum)) entry.strata.push(stratum);
    }
  }
  return { years, categories };
}

/**
 * The year range and group controls (#year-from, #year-to, #category, #stratum), filled from a
 * coverage and set from the address (?from=&to=&category=&stratum=), which they keep up to date.
 * `onChange()` runs after each choice. Returns {fields(), describe(), context(), cover()}.
 */
export function selectionPicker(initial, onChange) {
  const from = document.getElementById("year-from");
  const to = document.getElementById("year-to");
  const category = document.getElementById("category");
  const stratum = document.getElementById("stratum");
  let cover = initial;

  function setYears(wantedFrom, wantedTo) {
    const list = cover.years;
    const options = list.map((year) => [String(year), String(year)]);
    // A wanted year the list lacks moves to the nearest year inside the range.
    const nearest = (wanted, fallback, up) => {
      if (wanted === null || wanted === undefined || Number.isNaN(Number(wanted))) return fallback;
      const inside = list.filter((year) => (up ? year >= Number(wanted) : year <= Number(wanted)));
      return inside.length ? (up ? inside[0] : inside[inside.length - 1]) : fallback;
    };
    fillSelect(from, options, String(nearest(wantedFrom, list[0], true)));
    fillSelect(to, options, String(nearest(wantedTo, list[list.length - 1], false)));
    if (Number(from.value) > Number(to.value)) to.value = from.value;
  }

  function setGroups(wantedCategory, wantedStratum) {
    fillSelect(category, cover.categories.map(({ category: name }) => [name, name]), wantedCategory || TOTAL[0]);
    const entry = cover.categories.find((c) => c.category === category.value) || { strata: [TOTAL[1]] };
    fillSelect(stratum, entry.strata.map((name) => [name, name]), wantedStratum);
  }

  function remember() {
    const full = from.value === from.options[0].value && to.value === to.options[to.options.length - 1].value;
    const total = category.value === TOTAL[0] && stratum.value === TOTAL[1];
    setParams({
      from: full ? null : from.value,
      to: full ? null : to.value,
      category: total ? null : category.value,
      stratum: total ? null : stratum.value,
    });
  }

  setYears(param("from"), param("to"));
  setGroups(param("category"), param("stratum"));
  const changed = () => {
    remember();
    onChange();
  };
  from.addEventListener("change", () => {
    if (Number(from.value) > Number(to.value)) to.value = from.value;
    changed();
  });
  to.addEventListener("change", () => {
    if (Number(from.value) > Number(to.value)) from.value = to.value;
    changed();
  });
  category.addEventListener("change", () => {
    setGroups(category.value, null);
    changed();
  });
  stratum.addEventListener("change", changed);

  const years = () => [Number(from.value), Number(to.value)];
  return {
    /** The optional fields every request of the page carries ({group: false}: years only). */
    fields({ group = true } = {}) {
      const body = { years: years() };
      if (group) body.stratification = { category: category.value, stratum: stratum.value };
      return body;
    },
    /** The selection in words, for captions and the status line. */
    describe({ group = true } = {}) {
      return group ? `${span(years())}, ${category.value}: ${stratum.value}` : span(years());
    },
    /** The selection as an export names it: {years, group}. */
    context({ group = true } = {}) {
      return { years: span(years()), group: group ? `${category.value}: ${stratum.value}` : "every group of the category" };
    },
    /** Another coverage (another question's), keeping the choice where it can. */
    recover(next) {
      cover = next;
      setYears(from.value, to.value);
      setGroups(category.value, stratum.value);
      remember();
    },
  };
}
