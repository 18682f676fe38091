// The interactive API docs: the vendored swagger-ui on this server's OpenAPI document, with
// repairs for assistive technology (axe-core finds none of these left): the page has one main
// landmark (swagger-ui draws its operations in a <main> of its own, inside ours), no link sits
// inside an operation's button (deep links would put one there), the request body's text area
// has a name, and code blocks that scroll can be reached by the keyboard.
"use strict";

/** Repair what swagger-ui draws, now and whenever it draws more. */
function repairs(root) {
  const repair = () => {
    for (const main of root.querySelectorAll("main:not([role])")) {
      main.setAttribute("role", "region");
      main.setAttribute("aria-label", "Operations");
    }
    for (const area of root.querySelectorAll("textarea:not([aria-label])")) {
      area.setAttribute("aria-label", area.classList.contains("body-param__text") ? "Request body (JSON)" : "Value");
    }
    for (const code of root.querySelectorAll("pre:not([tabindex])")) {
      code.setAttribute("tabindex", "0");
    }
  };
  new MutationObserver(repair).observe(root, { childList: true, subtree: true });
  repair();
}

window.addEventListener("DOMContentLoaded", () => {
  const element = document.getElementById("swagger-ui");
  repairs(element);
  window.ui = SwaggerUIBundle({
    url: element.dataset.spec,
    domNode: element,
    deepLinking: false,
    syntaxHighlight: false, // its colours on the dark code blocks are below 4.5:1
    validatorUrl: null, // the default would send the document to an outside validator
    layout: "BaseLayout",
  });
});
