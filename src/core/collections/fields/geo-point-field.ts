import { fieldError } from '../../errors.js';
import { isPlainObject, parseStoredJson } from './coerce.js';
import { INVALID, requiredError, type FieldType } from './field-type.js';

export interface GeoPoint {
  lon: number;
  lat: number;
}

function toCoordinate(v: unknown): number | null {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

export const geoPointField: FieldType = {
  type: 'geoPoint',
  defaults: { required: false },
  checkOptions() {},
  column: () => ({ kind: 'json', nullable: false, default: '{"lon":0,"lat":0}' }),
  isMultiple: () => false,
  zero: (): GeoPoint => ({ lon: 0, lat: 0 }),
  prepare(_field, raw) {
    if (raw === null || raw === undefined || raw === '') return { lon: 0, lat: 0 };
    let value = raw;
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        return INVALID;
      }
    }
    if (!isPlainObject(value)) return INVALID;
    const lon = toCoordinate(value.lon ?? 0);
    const lat = toCoordinate(value.lat ?? 0);
    return lon === null || lat === null ? INVALID : { lon, lat };
  },
  validate(field, value) {
    const p = value as GeoPoint;
    if (p.lon === 0 && p.lat === 0) return field.required ? requiredError() : null;
    if (p.lat < -90 || p.lat > 90) return fieldError('validation_invalid_latitude', 'Latitude must be between -90 and 90 degrees.');
    if (p.lon < -180 || p.lon > 180) return fieldError('validation_invalid_longitude', 'Longitude must be between -180 and 180 degrees.');
    return null;
  },
  toDb: (_field, value) => JSON.stringify(value ?? { lon: 0, lat: 0 }),
  fromDb(_field, raw) {
    const v = parseStoredJson(raw, null);
    if (!isPlainObject(v)) return { lon: 0, lat: 0 };
    return { lon: Number(v.lon) || 0, lat: Number(v.lat) || 0 };
  },
};
