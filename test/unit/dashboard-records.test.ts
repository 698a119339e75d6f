/**
 * The records screens' pure logic (dashboard/src/lib): a record ↔ the form's values ↔ the body
 * sent, the remembered column choice, and realtime events applied to the page shown.
 */
import type { CollectionField, RecordModel } from 'pocketbase';
import { describe, expect, it } from 'vitest';
import { loadHiddenColumns, saveHiddenColumns, visibleColumns } from '../../dashboard/src/lib/column-prefs.js';
import { applyRealtime } from '../../dashboard/src/lib/live-list.js';
import { relationLabel, relationLabels } from '../../dashboard/src/lib/relation-label.js';
import { editableFields, fromInputDate, initialValues, jsonError, toBody, toInputDate } from '../../dashboard/src/lib/record-form.js';

const field = (name: string, type: string, extra: Record<string, unknown> = {}): CollectionField =>
  ({ id: name, name, type, system: false, hidden: false, presentable: false, ...extra }) as CollectionField;

const FIELDS = [
  field('title', 'text'),
  field('body', 'editor'),
  field('views', 'number'),
  field('done', 'bool'),
  field('due', 'date'),
  field('tags', 'select', { maxSelect: 3, values: ['a', 'b'] }),
  field('kind', 'select', { maxSelect: 1, values: ['x', 'y'] }),
  field('owner', 'relation', { maxSelect: 1 }),
  field('meta', 'json'),
  field('where', 'geoPoint'),
  field('cover', 'file', { maxSelect: 1 }),
];
const NO_FILES = { added: {}, removed: {} };

describe('record form', () => {
  it('leaves out the fields the server sets', () => {
    const fields = [field('id', 'text'), field('password', 'password'), field('tokenKey', 'text'), field('email', 'email'), field('created', 'autodate'), field('name', 'text')];
    expect(editableFields({ type: 'auth', fields }).map((f) => f.name)).toEqual(['email', 'name']);
    expect(editableFields({ type: 'base', fields }).map((f) => f.name)).toEqual(['tokenKey', 'email', 'name']);
  });

  it('converts dates between the stored UTC text and a datetime-local input', () => {
    expect(toInputDate('2024-01-02 03:04:05.678Z')).toBe('2024-01-02T03:04:05');
    expect(toInputDate('')).toBe('');
    expect(toInputDate(null)).toBe('');
    expect(fromInputDate('2024-01-02T03:04')).toBe('2024-01-02 03:04:00.000Z');
    expect(fromInputDate('2024-01-02T03:04:05')).toBe('2024-01-02 03:04:05.000Z');
    expect(fromInputDate('')).toBe('');
  });

  it('starts a new record with each type’s empty value', () => {
    expect(initialValues(FIELDS, null)).toEqual({
      title: '', body: '', views: '', done: false, due: '', tags: [], kind: [], owner: [], meta: '', where: { lon: '0', lat: '0' }, cover: [],
    });
  });

  it('round-trips a stored record through the form to the same body', () => {
    const record = {
      id: 'r1', collectionId: 'c', collectionName: 'posts',
      title: 'Hello', body: '<p>Hi</p>', views: 12, done: true, due: '2024-05-06 07:08:09.000Z', tags: ['a', 'b'], kind: 'y', owner: 'u1',
      meta: { a: [1, 2] }, where: { lon: 2.35, lat: 48.85 }, cover: 'pic_abc.png',
    } as RecordModel;
    const values = initialValues(FIELDS, record);
    expect(values['views']).toBe('12');
    expect(values['kind']).toEqual(['y']);
    expect(values['cover']).toEqual(['pic_abc.png']);
    const { body, errors } = toBody(FIELDS, values, NO_FILES);
    expect(errors).toEqual({});
    expect(body).toEqual({
      title: 'Hello', body: '<p>Hi</p>', views: 12, done: true, due: '2024-05-06 07:08:09.000Z', tags: ['a', 'b'], kind: 'y', owner: 'u1',
      meta: { a: [1, 2] }, where: { lon: 2.35, lat: 48.85 },
    });
  });

  it('sends new files as field+ and removed ones as field-', () => {
    const file = new File(['x'], 'x.png', { type: 'image/png' });
    const { body } = toBody([field('cover', 'file')], { cover: ['old.png'] }, { added: { cover: [file] }, removed: { cover: ['old.png'] } });
    expect(body).toEqual({ 'cover+': [file], 'cover-': ['old.png'] });
  });

  it('refuses invalid JSON, numbers and points before sending, and sends empties as null', () => {
    expect(jsonError('{"a":')).toMatch(/^Invalid JSON/);
    expect(jsonError('  ')).toBe('');
    const values = { ...initialValues(FIELDS, null), meta: '{"a":', views: 'ten', where: { lon: '', lat: '1' } };
    const { errors } = toBody(FIELDS, values, NO_FILES);
    expect(Object.keys(errors).sort()).toEqual(['meta', 'views', 'where']);
    const empty = toBody(FIELDS, initialValues(FIELDS, null), NO_FILES).body;
    expect(empty['views']).toBeNull();
    expect(empty['meta']).toBeNull();
    expect(empty['kind']).toBe('');
    expect(empty['tags']).toEqual([]);
    // A bound number input hands back numbers, and null once emptied.
    expect(toBody([field('where', 'geoPoint')], { where: { lon: 2.5, lat: -1 } as never }, NO_FILES).body).toEqual({ where: { lon: 2.5, lat: -1 } });
    expect(toBody([field('where', 'geoPoint')], { where: { lon: null, lat: 1 } as never }, NO_FILES).errors).toHaveProperty('where');
  });

  it('sends the password pair only when one of them is filled', () => {
    expect(toBody([], {}, NO_FILES, { password: '', passwordConfirm: '' }).body).toEqual({});
    expect(toBody([], {}, NO_FILES, { password: 'a', passwordConfirm: 'b' }).body).toEqual({ password: 'a', passwordConfirm: 'b' });
  });
});

describe('column choice', () => {
  const memory = () => {
    const map = new Map<string, string>();
    return { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v), removeItem: (k: string) => void map.delete(k), map };
  };

  it('is remembered per collection, and forgotten when nothing is hidden', () => {
    const s = memory();
    saveHiddenColumns(s, 'c1', ['views', 'title', 'views']);
    expect(loadHiddenColumns(s, 'c1')).toEqual(['title', 'views']);
    expect(loadHiddenColumns(s, 'c2')).toEqual([]);
    saveHiddenColumns(s, 'c1', []);
    expect(s.map.size).toBe(0);
  });

  it('survives damaged storage, and never hides id', () => {
    const s = memory();
    s.setItem('basalt.columns.c1', '{not json');
    expect(loadHiddenColumns(s, 'c1')).toEqual([]);
    s.setItem('basalt.columns.c1', '[1,"a"]');
    expect(loadHiddenColumns(s, 'c1')).toEqual(['a']);
    expect(visibleColumns(['id', 'a', 'b'], ['id', 'a'])).toEqual(['id', 'b']);
  });
});

describe('realtime on the page shown', () => {
  const rec = (id: string, title = id) => ({ id, title, collectionId: 'c', collectionName: 'posts' }) as RecordModel;
  const plain = { filter: '', sort: '', perPage: 3 };

  it('replaces an updated row and removes a deleted one in place', () => {
    const items = [rec('a'), rec('b')];
    expect(applyRealtime(items, 'update', rec('b', 'B'), plain)).toEqual({ items: [rec('a'), rec('b', 'B')], delta: 0 });
    expect(applyRealtime(items, 'delete', rec('a'), plain)).toEqual({ items: [rec('b')], delta: -1 });
  });

  it('appends a new record where it surely belongs, and asks for a reload elsewhere', () => {
    expect(applyRealtime([rec('a')], 'create', rec('n'), plain)).toEqual({ items: [rec('a'), rec('n')], delta: 1 });
    expect(applyRealtime([rec('a'), rec('b'), rec('c')], 'create', rec('n'), plain)).toBe('reload');
    expect(applyRealtime([rec('a')], 'create', rec('n'), { ...plain, filter: 'x = 1' })).toBe('reload');
    expect(applyRealtime([rec('a')], 'create', rec('n'), { ...plain, sort: '-title' })).toBe('reload');
    expect(applyRealtime([rec('a')], 'update', rec('a'), { ...plain, filter: 'x = 1' })).toBe('reload');
    // An event for a record already shown (the form's own write arrived first) changes nothing.
    expect(applyRealtime([rec('a')], 'create', rec('a'), plain)).toEqual({ items: [rec('a')], delta: 0 });
  });
});

describe('relation cells', () => {
  it('show a telling value of the expanded record, else its first short text, else its id', () => {
    expect(relationLabel({ id: 'a1', collectionId: 'c', name: 'Grace Hopper' })).toBe('Grace Hopper');
    expect(relationLabel({ id: 'a1', collectionName: 'authors', city: 'Paris' })).toBe('Paris');
    expect(relationLabel({ id: 'a1', n: 3 })).toBe('a1');
    expect(relationLabel(null)).toBe('');
  });

  it('fall back to the ids when the relation is not expanded', () => {
    expect(relationLabels(['a1', 'a2'], [{ id: 'a1', title: 'One' }, { id: 'a2', title: 'Two' }])).toEqual(['One', 'Two']);
    expect(relationLabels('a1', { id: 'a1', email: 'x@example.com' })).toEqual(['x@example.com']);
    expect(relationLabels(['a1', ''], undefined)).toEqual(['a1']);
    expect(relationLabels('', undefined)).toEqual([]);
  });
});
