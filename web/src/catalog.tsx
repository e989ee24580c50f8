// The step and trigger catalogs, read once from the server and shared by
// every screen (palette, inspector, reference menu, run pages).
import { createContext, useContext } from 'react';
import type { StepType, TriggerType } from './api/types';

export interface Catalog {
  stepTypes: StepType[];
  triggerTypes: TriggerType[];
  stepType: (type: string) => StepType | undefined;
  triggerType: (type: string) => TriggerType | undefined;
}

export function makeCatalog(stepTypes: StepType[], triggerTypes: TriggerType[]): Catalog {
  const steps = new Map(stepTypes.map((s) => [s.type, s]));
  const triggers = new Map(triggerTypes.map((t) => [t.type, t]));
  return {
    stepTypes,
    triggerTypes,
    stepType: (t) => steps.get(t),
    triggerType: (t) => triggers.get(t),
  };
}

export const CatalogContext = createContext<Catalog>(makeCatalog([], []));

export function useCatalog(): Catalog {
  return useContext(CatalogContext);
}
