// Validates every document of a Kubernetes YAML file against the Kubernetes schema, with the models of npm's
// kubernetes-models (its validate() checks types, required fields, enums and formats of each kind), and prints
// the documents as a JSON array for the checks that follow. Each file with a document that fails is one line on
// stderr, naming the file, the document and why, and the exit code is 1.
// Usage: NODE_PATH="$(npm root -g)" node kubernetes-validate.cjs FILE.yaml...
"use strict";
const fs = require("node:fs");
const yaml = require("js-yaml");

const MODELS = {
  "v1/ConfigMap": () => require("kubernetes-models/v1/ConfigMap").ConfigMap,
  "v1/Service": () => require("kubernetes-models/v1/Service").Service,
  "v1/PersistentVolumeClaim": () => require("kubernetes-models/v1/PersistentVolumeClaim").PersistentVolumeClaim,
  "apps/v1/Deployment": () => require("kubernetes-models/apps/v1/Deployment").Deployment,
};

/** Why the file's documents are not valid, or null; the valid ones are added to `out`. */
function check(file, out) {
  const docs = yaml.loadAll(fs.readFileSync(file, "utf8")).filter((d) => d !== null);
  for (const [i, doc] of docs.entries()) {
    const key = `${doc.apiVersion}/${doc.kind}`;
    const model = MODELS[key];
    if (!model) {
      return `document ${i + 1} is a ${key}, which this check has no model for`;
    }
    try {
      const Model = model();
      new Model(doc).validate();
    } catch (e) {
      return `document ${i + 1} (${key} ${doc.metadata && doc.metadata.name}): ${e.message}`;
    }
  }
  out.push(...docs);
  return null;
}

const valid = [];
let failed = false;
for (const file of process.argv.slice(2)) {
  const why = check(file, valid);
  if (why !== null) {
    console.error(`${file}: ${why.replace(/\n/g, " ")}`);
    failed = true;
  }
}
console.log(JSON.stringify(valid));
process.exit(failed ? 1 : 0);
