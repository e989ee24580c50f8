// Test helpers: the catalog from testdata (samples of the server's
// /step-types and /trigger-types) and the example workflows.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { StepType, TriggerType, Workflow } from '../api/types';
import { makeCatalog, type Catalog } from '../catalog';

const testdata = new URL('./testdata/', import.meta.url);
const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url));

export function testCatalog(): Catalog {
  const steps = JSON.parse(readFileSync(new URL('step-types.json', testdata), 'utf8')) as { step_types: StepType[] };
  const triggers = JSON.parse(readFileSync(new URL('trigger-types.json', testdata), 'utf8')) as { trigger_types: TriggerType[] };
  return makeCatalog(steps.step_types, triggers.trigger_types);
}

/** The example workflows (not their *.test.json / *.trigger.json): [file name, raw text]. */
export function exampleFiles(): [string, string][] {
  return readdirSync(examplesDir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.test.json') && !f.endsWith('.trigger.json'))
    .sort()
    .map((f) => [f, readFileSync(examplesDir + f, 'utf8')]);
}

export function example(name: string): Workflow {
  const found = exampleFiles().find(([f]) => f === name);
  if (!found) throw new Error(`no example ${name}`);
  return JSON.parse(found[1]) as Workflow;
}
