import { labelOfKey } from '../../segments/label.js';
import { formatPython } from '../format-python.js';
import type { PersonaTemplate } from '../persona-content.js';
import { topLine } from '../persona-content.js';

/**
 * For user-defined families: "Family Label: Segment Label", with every average (`,.1f`) and top list of the
 * family's summary spec, in spec order.
 */
export const genericTemplate: PersonaTemplate = (summary, family) => {
  const familyLabel = family.label ?? labelOfKey(family.name);
  const facts: string[] = [];
  for (const spec of family.summary.numeric) {
    const average = summary.averages[spec.field];
    if (average !== undefined && average !== null) facts.push(`Avg ${spec.field}: ${formatPython(average, ',.1f')}`);
  }
  for (const field of family.summary.categorical) facts.push(...topLine(summary, field, labelOfKey(field)));
  const industry = summary.top['industry']?.[0];
  return {
    name: `${familyLabel}: ${summary.label}`,
    description: [`${summary.label} segment of ${familyLabel}`, `N=${summary.count}`, ...facts].join('. ') + '.',
    ...(industry === undefined ? {} : { industry }),
    keyDifferentiators: [`Segment: ${summary.segment}`, `Members: ${summary.count}`, ...facts],
    pains: [],
  };
};
