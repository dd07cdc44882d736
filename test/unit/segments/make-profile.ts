import type { FieldValue, Profile, ProfileKind } from '../../../src/domain/profile/model.js';
import { profileKey } from '../../../src/domain/profile/model.js';

export function makeProfile(kind: ProfileKind, entityId: string, fields: Record<string, FieldValue>): Profile {
  return { key: profileKey(kind, entityId), kind, entityId, asOf: 0, lastEventAt: 0, revenue: null, fields };
}

export const customer = (id: string, fields: Record<string, FieldValue>): Profile =>
  makeProfile('customer', id, fields);
export const user = (id: string, fields: Record<string, FieldValue>): Profile => makeProfile('user', id, fields);
