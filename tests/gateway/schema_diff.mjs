// @graphql-inspector/core's diff of two SDL files (OLD_SCHEMA, NEW_SCHEMA): prints one JSON line
// with the breaking changes ({ path, message }) and how many changes there are in all.
import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { diff, CriticalityLevel } from '@graphql-inspector/core';

const load = (path) => buildSchema(readFileSync(path, 'utf8'));
const changes = await diff(load(process.env.OLD_SCHEMA), load(process.env.NEW_SCHEMA));
const breaking = changes
  .filter((c) => c.criticality.level === CriticalityLevel.Breaking)
  .map((c) => ({ path: c.path ?? '', message: c.message }));
console.log(JSON.stringify({ changes: changes.length, breaking }));
