// Charts with the vendored Vega-Lite: drawn into the page as SVG, without vega-embed's menu
// (its unnamed button and links would sit inside an image), and exported as PNG or SVG with
// their context written on them: the question, the years, the group, the unit and the source.

import { dataset, save } from "./lss.js";
import { slug } from "./format.js";

/** The width of an exported chart, in pixels (PNG at twice that). */
const EXPORT_WIDTH = 760;

/**
 * Vega's logger, without one warning: Vega-Lite says it drops "fit-y" from a layered chart that
 * fits its width and takes the height its rows need, which is what these charts ask for.
 */
function quietLogger() {
  const logger = vega.logger(vega.Warn);
  const warn = logger.warn.bind(logger);
  logger.warn = (...args) => (String(args[0]).startsWith('Dropping "fit-y"') ? logger : warn(...args));
  return logger;
}

/** Every symbol legend of `spec` in one column (for a phone, where a row of them overflows). A
 * colour gradient stays horizontal: stood upright it took the height the chart was given (the
 * phone's map was drawn 70 px tall under it). */
function stackLegends(node) {
  if (Array.isArray(node)) return node.map(stackLegends);
  if (!node || typeof node !== "object") return node;
  const gradient = node.type === "quantitative";
  return Object.fromEntries(Object.entries(node).map(([key, value]) =>
    [key, key === "legend" && value && typeof value === "object" && !gradient ? { ...value, direction: "vertical" } : stackLegends(value)]));
}

/** Draw a Vega-Lite spec into `element` (SVG); resolves to the Vega view. */
export async function draw(element, spec) {
  // As wide as its box; as tall as its rows need (a chart by rows has no height to fit).
  const fitted = spec.autosize || spec.width !== "container" ? spec : { ...spec, autosize: { type: "fit-x", contains: "padding" } };
  const sized = element.clientWidth < 520 ? stackLegends(fitted) : fitted;
  const result = await vegaEmbed(element, sized, { renderer: "svg", actions: false, logger: quietLogger() });
  return result.view;
}

/** `spec` as a file stands alone: a fixed width, and a title saying what, when, who and whence. */
function standalone(spec, context) {
  const copy = JSON.parse(JSON.stringify(spec));
  if (copy.width === "container") copy.width = EXPORT_WIDTH;
  if (copy.height === "container") copy.height = Math.round(EXPORT_WIDTH * 0.6);
  delete copy.usermeta;
  copy.title = {
    text: context.question,
    subtitle: [`${context.years} · ${context.group} · ${context.unit || "percent of adults (%)"}`, dataset().citation],
    anchor: "start",
    fontSize: 13,
    subtitleFontSize: 11,
    limit: EXPORT_WIDTH,
  };
  copy.background = "#ffffff";
  return copy;
}

/** The PNG (a data: URL) or SVG text of `spec` with its context, rendered off the page. */
export async function exported(spec, context, format) {
  const compiled = vegaLite.compile(standalone(spec, context), { logger: quietLogger() }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  await view.runAsync();
  try {
    return format === "svg" ? await view.toSVG() : await view.toImageURL("png", 2);
  } finally {
    view.finalize();
  }
}

/**
 * "Download PNG" and "Download SVG" buttons in `container` for the chart `what`; `current()`
 * returns {name, spec, context: {question, years, group, unit?}} for the chart shown now.
 */
export function exportButtons(container, what, current) {
  container.querySelectorAll("button.export").forEach((button) => button.remove());
  for (const format of ["PNG", "SVG"]) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "export";
    button.textContent = `Download ${format}`;
    button.setAttribute("aria-label", `Download ${format} of ${what}`);
    button.addEventListener("click", async () => {
      const { name, spec, context } = current();
      const type = format === "PNG" ? "image/png" : "image/svg+xml";
      save(`${slug(name)}.${format.toLowerCase()}`, type, await exported(spec, context, format.toLowerCase()));
    });
    container.prepend(button);
  }
  // PNG first, then SVG, before the table's own buttons.
  const [svg, png] = container.querySelectorAll("button.export");
  container.prepend(png, svg);
}
