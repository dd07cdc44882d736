import type { FieldValue } from '../profile/model.js';

export type ProfileFields = Readonly<Record<string, FieldValue>>;

/** Reads one field of a profile's flat field map; `undefined` when the profile has no such field. */
export type FieldReader = (fields: ProfileFields) => FieldValue | undefined;

/**
 * Builds the reader once per configured field name. A plain `fields[name]` would find inherited members
 * for names such as `constructor` or `toString`, so only those names pay for the own-property check.
 */
export function fieldReader(name: string): FieldReader {
  if (name in Object.prototype) {
    return (fields) => (Object.hasOwn(fields, name) ? fields[name] : undefined);
  }
  return (fields) => fields[name];
}
