// Validates the shipped custom connector (connector/) with tools independent of the app:
//  - apiDefinition.swagger.json with @apidevtools/swagger-parser (Swagger 2.0 schema and semantics, $refs resolved);
//  - apiDefinition.swagger.json and apiProperties.json against the Power Platform connector schemas vendored in
//    connector/schemas/ (from microsoft/PowerPlatformConnectors, MIT: see connector/schemas/LICENSE).
// Usage: node scripts/check-connector.mjs   (exit 1 on any finding)
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv04 from "ajv-draft-04";
import Ajv07 from "ajv";
import addFormats from "ajv-formats";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const file = (...parts) => path.join(root, ...parts);
const readJson = async (...parts) => JSON.parse(await readFile(file(...parts), "utf8"));

let failed = false;
const report = (name, errors) => {
  if (errors.length === 0) {
    console.log(`check-connector: ok: ${name}`);
    return;
  }
  failed = true;
  console.error(`check-connector: FAILED: ${name}`);
  for (const error of errors) console.error(`  ${error}`);
};

// Swagger 2.0: swagger-parser validates a copy (it dereferences in place).
try {
  const api = await SwaggerParser.validate(file("connector", "apiDefinition.swagger.json"));
  report(`swagger-parser: ${api.info.title} ${api.info.version} (Swagger ${api.swagger})`, []);
} catch (error) {
  report("swagger-parser: connector/apiDefinition.swagger.json", [error.message]);
}

// The Power Platform schemas: the definition's is draft-04, apiProperties' is draft-07. strict: false because the
// schemas use keywords (examples, x-ms-*) that Ajv's strict mode would refuse as unknown.
const schemaCheck = async (Ajv, schemaFile, documentFile) => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const schema = await readJson("connector", "schemas", schemaFile);
  // The apiProperties schema declares draft-07 but names itself with draft-04's "id", which Ajv 8 refuses.
  if (schema.$schema?.includes("draft-07") && "id" in schema) {
    schema.$id = schema.id;
    delete schema.id;
  }
  const validate = ajv.compile(schema);
  const valid = validate(await readJson("connector", documentFile));
  report(`${documentFile} against ${schemaFile}`, valid ? [] : validate.errors.map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`));
};
await schemaCheck(Ajv04, "apiDefinition.swagger.schema.json", "apiDefinition.swagger.json");
await schemaCheck(Ajv07, "paconn-apiProperties.schema.json", "apiProperties.json");

process.exit(failed ? 1 : 0);
