// Renders the gateway's OpenAPI document as a readable reference.
// Everything from the document is inserted as text, never as HTML: the spec is
// assembled from several services and must not be able to inject markup.
"use strict";

(function () {
  const main = document.getElementById("operations");
  const METHODS = ["get", "head", "post", "put", "patch", "delete", "options"];

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // `code` spans and paragraphs: the only markdown the descriptions use.
  function prose(text) {
    const wrapper = el("div");
    for (const paragraph of String(text || "").split(/\n\s*\n/)) {
      if (!paragraph.trim()) continue;
      const p = el("p");
      paragraph.split("`").forEach((part, i) => p.append(i % 2 ? el("code", {}, part) : part));
      wrapper.append(p);
    }
    return wrapper;
  }

  function resolve(spec, schema) {
    let seen = 0;
    while (schema && schema.$ref && seen++ < 20) {
      const path = schema.$ref.replace(/^#\//, "").split("/");
      schema = path.reduce((node, key) => (node ? node[key] : undefined), spec);
    }
    return schema || {};
  }

  // A JSON-like outline of a schema: `"field": type  (required)`.
  function outline(spec, schema, indent, depth) {
    const pad = "  ".repeat(indent);
    const named = schema && schema.$ref ? schema.$ref.split("/").pop() : null;
    schema = resolve(spec, schema);
    if (depth > 6) return named || "…";
    if (schema.type === "array") {
      return "[\n" + pad + "  " + outline(spec, schema.items || {}, indent + 1, depth + 1) + "\n" + pad + "]";
    }
    if (schema.type === "object" || schema.properties) {
      const props = Object.entries(schema.properties || {});
      if (!props.length) return "object";
      const required = new Set(schema.required || []);
      const lines = props.map(([name, sub]) => {
        const notes = [];
        if (required.has(name)) notes.push("required");
        const resolved = resolve(spec, sub);
        if (resolved.nullable) notes.push("nullable");
        if (resolved.default !== undefined) notes.push("default " + JSON.stringify(resolved.default));
        if (resolved.enum) notes.push("one of " + resolved.enum.map((v) => JSON.stringify(v)).join(", "));
        const note = notes.length ? "   // " + notes.join("; ") : "";
        return [pad + "  " + JSON.stringify(name) + ": " + outline(spec, sub, indent + 1, depth + 1), note];
      });
      const body = lines.map(([line, note], i) => line + (i < lines.length - 1 ? "," : "") + note);
      return (named ? named + " " : "") + "{\n" + body.join("\n") + "\n" + pad + "}";
    }
    return (schema.type || "any") + (schema.format ? " (" + schema.format + ")" : "");
  }

  function schemaBlock(spec, content) {
    const json = content && (content["application/json"] || Object.values(content)[0]);
    return json && json.schema ? el("pre", {}, outline(spec, json.schema, 0, 0)) : null;
  }

  function parametersTable(parameters) {
    if (!parameters.length) return null;
    const rows = parameters.map((p) => el("tr", {},
      el("td", {}, el("code", {}, p.name)), el("td", {}, p.in),
      el("td", {}, (p.schema && p.schema.type) || ""), el("td", {}, p.required ? "required" : ""),
      el("td", {}, p.description || (p.schema && p.schema.description) || "")));
    return el("table", {}, el("tr", {}, ...["name", "in", "type", "", "description"].map((h) => el("th", {}, h))), ...rows);
  }

  function curlExample(method, path, operation) {
    const auth = operation.security && operation.security.length === 0 ? "" : " \\\n  -H \"Authorization: Bearer $CRM_API_KEY\"";
    const body = operation.requestBody ? " \\\n  -H \"Content-Type: application/json\" -d '{...}'" : "";
    return "curl -X " + method.toUpperCase() + " \"" + location.origin + path + "\"" + auth + body;
  }

  function operationCard(spec, path, method, operation, pathParameters) {
    const scope = operation["x-required-scope"];
    const summary = el("summary", {}, el("span", { class: "method " + method }, method),
      el("span", { class: "path" }, path), el("span", { class: "summary" }, operation.summary || ""),
      scope ? el("span", { class: "scope" }, scope) : null);
    const body = el("div", { class: "op-body" }, prose(operation.description));
    const parameters = (pathParameters || []).concat(operation.parameters || []);
    if (parameters.length) body.append(el("h4", {}, "Parameters"), parametersTable(parameters));
    if (operation.requestBody) body.append(el("h4", {}, "Request body"), schemaBlock(spec, operation.requestBody.content));
    body.append(el("h4", {}, "Responses"));
    for (const [status, response] of Object.entries(operation.responses || {})) {
      body.append(el("div", {}, el("span", { class: "status" }, status), " ", response.description || ""));
      const block = schemaBlock(spec, response.content);
      if (block && !status.startsWith("4") && !status.startsWith("5")) body.append(block);
    }
    body.append(el("h4", {}, "Example"), el("pre", {}, curlExample(method, path, operation)));
    const card = el("details", { class: "op", id: method + "-" + path.replace(/[^A-Za-z0-9]+/g, "-") }, summary, body);
    card.dataset.search = (method + " " + path + " " + (operation.summary || "")).toLowerCase();
    return card;
  }

  function render(spec) {
    document.getElementById("title").textContent = (spec.info && spec.info.title) || "API reference";
    document.title = document.getElementById("title").textContent;
    const description = document.getElementById("description");
    description.append(prose(spec.info && spec.info.description));
    if ((spec["x-missing-services"] || []).length) {
      description.append(el("p", { class: "warning" }, "Some services did not answer, so their endpoints are missing: "
        + spec["x-missing-services"].join(", ") + ". Reload in a few seconds."));
    }
    const byTag = new Map();
    for (const [path, item] of Object.entries(spec.paths || {})) {
      for (const method of METHODS) {
        const operation = item[method];
        if (!operation) continue;
        const tag = (operation.tags && operation.tags[0]) || "other";
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push(operationCard(spec, path, method, operation, item.parameters));
      }
    }
    main.replaceChildren();
    for (const [tag, cards] of byTag) main.append(el("section", {}, el("h2", {}, tag), ...cards));
    // A link to `/docs#post--api-v1-segments` opens that operation.
    const linked = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (linked) { linked.open = true; linked.scrollIntoView(); }
  }

  document.getElementById("filter").addEventListener("input", (event) => {
    const needle = event.target.value.trim().toLowerCase();
    for (const card of main.querySelectorAll("details.op")) {
      card.hidden = needle !== "" && !card.dataset.search.includes(needle);
    }
    for (const section of main.querySelectorAll("section")) {
      section.hidden = !section.querySelector("details.op:not([hidden])");
    }
  });

  fetch(main.dataset.specUrl, { headers: { Accept: "application/json" } })
    .then((response) => {
      if (!response.ok) throw new Error("the gateway answered " + response.status);
      return response.json();
    })
    .then(render)
    .catch((error) => {
      main.replaceChildren(el("p", { class: "warning" }, "Could not load the API description: " + error.message));
    });
})();
