// The interactive API docs: the vendored swagger-ui on this server's OpenAPI document.
"use strict";

window.addEventListener("DOMContentLoaded", () => {
  const element = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: element.dataset.spec,
    domNode: element,
    deepLinking: true,
    validatorUrl: null, // the default would send the document to an outside validator
    layout: "BaseLayout",
  });
});
