// Validation problems in words: the step (its name and id) and the field
// they are about, instead of JSON paths such as "steps[2].input.x".
import type { Problem, Workflow } from '../api/types';
import { findStep, problemsByNode, TRIGGER_ID, walkSteps } from '../model';

/** A problem said for people: where it is ("Step “Get opportunity” (get_opp)") and which field. */
export interface ShownProblem {
  where: string;
  field: string;
  message: string;
}

/** A field path inside a step or the trigger, in words: "input.x" is field “x”. */
function fieldWords(field: string): string {
  return field.replace(/^(?:input|config)\./, '');
}

/**
 * The problems of a workflow by the step they belong to (its name and id)
 * and the field, instead of JSON paths such as "steps[2].input.x". Steps
 * come in the workflow's order; the trigger and workflow-wide ones first.
 */
export function describeProblems(wf: Workflow, problems: Problem[]): ShownProblem[] {
  const byNode = problemsByNode(wf, problems);
  const order = [TRIGGER_ID];
  walkSteps(wf, (l) => order.push(l.step.id));
  const out: ShownProblem[] = [];
  for (const id of new Set(order)) {
    for (const p of byNode[id] ?? []) {
      if (id === TRIGGER_ID) {
        if (p.path === 'trigger' || p.path.startsWith('trigger.')) {
          out.push({ where: 'Trigger', field: fieldWords(p.path.replace(/^trigger\.?/, '')), message: p.message });
        } else if (/^(?:.*\.)?edges\[\d+\]/.test(p.path)) {
          out.push({ where: 'A connection between steps', field: '', message: p.message });
        } else {
          out.push({ where: 'Workflow', field: p.path, message: p.message });
        }
        continue;
      }
      const name = findStep(wf, id)?.step.name;
      const step = name ? `step “${name}” (${id})` : `step ${id}`;
      if (/^(?:.*\.)?edges\[\d+\]/.test(p.field)) out.push({ where: `A connection into ${step}`, field: '', message: p.message });
      else out.push({ where: step[0].toUpperCase() + step.slice(1), field: fieldWords(p.field), message: p.message });
    }
  }
  return out;
}
