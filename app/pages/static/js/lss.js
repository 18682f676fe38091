// Le Stats Sportif pages: a small client of the public job API (submit, then poll, like any
// client), the loaded dataset as the banner names it, and the writing of CSV and JSON files.

const POLL_FIRST_MS = 25;
const POLL_MAX_MS = 500;
const POLL_LIMIT_MS = 60000;
/** Seconds a POST asks the server to hold it for the answer (Prefer: wait, SPEC §14). */
const WAIT_S = 5;

/** An answer of the API that is not a success, with the reason the service gave. */
export class ApiError extends Error {
  constructor(status, reason) {
    super(reason);
    this.status = status;
  }
}

async function request(url, options) {
  const response = await fetch(url, options);
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    throw new ApiError(response.status, `${url}: answer is not JSON (HTTP ${response.status})`);
  }
  if (!response.ok) {
    throw new ApiError(response.status, (body && body.reason) || `HTTP ${response.status}`);
  }
  return body;
}

export const getJSON = (url) => request(url, { headers: { Accept: "application/json" } });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Submit one question as a job: `extra` holds the optional fields (years, stratification,
 * category). The POST asks the server to hold it until the job is done (Prefer: wait); the
 * answer is {jobId, done, data} when it was, else {jobId} and the job must be polled.
 */
async function submit(endpoint, question, state, extra) {
  const body = { question, ...(state === undefined ? {} : { state }), ...(extra || {}) };
  const answer = await request(`/api/${encodeURIComponent(endpoint)}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", Prefer: `wait=${WAIT_S}` },
    body: JSON.stringify(body),
  });
  if (answer.status === "error") throw new ApiError(200, answer.reason);
  return { jobId: answer.job_id, done: answer.status === "done", data: answer.data };
}

/** Poll a job until it is done; its answer's data, or an ApiError with its reason. */
async function poll(jobId) {
  const started = Date.now();
  let wait = POLL_FIRST_MS;
  for (;;) {
    const answer = await getJSON(`/api/get_results/${encodeURIComponent(jobId)}`);
    if (answer.status === "done") return answer.data;
    if (answer.status === "error") throw new ApiError(200, answer.reason);
    if (Date.now() - started > POLL_LIMIT_MS) throw new ApiError(0, `${jobId} still running`);
    await sleep(wait);
    wait = Math.min(wait * 2, POLL_MAX_MS);
  }
}

const asked = new Map();

/**
 * Ask a question the way any client does: submit, then poll unless the server already
 * answered. `extra`: optional fields of the body. Returns {jobId, data}. The same question asked
 * twice by one page is asked once.
 */
export function ask(endpoint, question, state, extra) {
  const key = JSON.stringify([endpoint, question, state ?? null, extra || {}]);
  if (!asked.has(key)) {
    const answer = submit(endpoint, question, state, extra).then(async (submitted) =>
      submitted.done ? submitted : { jobId: submitted.jobId, data: await poll(submitted.jobId) });
    asked.set(key, answer.catch((error) => {
      asked.delete(key);
      throw error;
    }));
  }
  return asked.get(key);
}

let questionsCache = null;
/** The questions with their direction (and, where the service lists them, years and groups). */
export function questions() {
  questionsCache = questionsCache || getJSON("/api/questions").then((body) => body.questions);
  return questionsCache;
}

/**
 * The loaded dataset as the server rendered it into the banner: {synthetic, source ("synthetic
 * sample" or "CDC BRFSS"), years, sha256, footnotes, citation}. Every export names it.
 */
export function dataset() {
  const info = document.getElementById("dataset").dataset;
  const short = info.sha256.slice(0, 12);
  return {
    synthetic: info.synthetic === "true",
    source: info.source,
    years: info.years,
    sha256: info.sha256,
    footnotes: JSON.parse(info.footnotes || "[]"),
    citation: `Source: ${info.source}, ${info.years}, sha256 ${short}`,
  };
}

// -- files for people: CSV and JSON ----------------------------------------------------------

/**
 * A text cell a spreadsheet would run as a formula (it begins with =, +, -, @, a tab or a CR)
 * gets a leading ' (the data may come from anywhere); numbers, negative ones too, stay numbers.
 */
function neutralised(value) {
  if (typeof value !== "string" || !/^[=+\-@\t\r]/.test(value)) return value;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) ? value : `'${value}`;
}

/** One CSV cell: quoted when it holds a comma, a quote or a line end; null is empty. */
function csvField(value) {
  if (value === null || value === undefined) return "";
  const text = String(neutralised(value));
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV text of `rows` (objects) with a header of `keys`, each cell written by csvField. */
export function toCSV(keys, rows) {
  const lines = [keys.map(csvField).join(",")];
  for (const row of rows) lines.push(keys.map((key) => csvField(row[key])).join(","));
  return lines.join("\r\n") + "\r\n";
}

/** Offer `content` (text, or a data: URL) to the browser as a file called `filename`. */
export function save(filename, type, content) {
  const url = content.startsWith("data:") ? content : URL.createObjectURL(new Blob([content], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  if (!content.startsWith("data:")) setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The page's status line, under the controls. */
export function setStatus(text, isError) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.classList.toggle("error", Boolean(isError));
}
