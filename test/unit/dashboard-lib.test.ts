/**
 * The dashboard's pure helpers (dashboard/src/lib): its routes in the URL's fragment, where it
 * finds the API (sub-paths too), and how the grid shows values and cycles its sort.
 */
import { describe, expect, it } from 'vitest';
import { apiBaseUrl } from '../../dashboard/src/lib/base-url.js';
import { cellText, nextSort, sortState } from '../../dashboard/src/lib/format.js';
import { accessOf, hrefOf, matchRoute } from '../../dashboard/src/lib/routes.js';

describe('dashboard routes', () => {
  it.each([
    ['', 'home', {}],
    ['#/', 'home', {}],
    ['#/login', 'signIn', {}],
    ['#/collections', 'collections', {}],
    ['#/collections/posts', 'collections', { collection: 'posts' }],
    ['#/collections/my%20posts?page=2', 'collections', { collection: 'my posts' }],
    ['#/collections/%E0%A4%A', 'collections', { collection: '%E0%A4%A' }],
    ['#/pbinstal/abc.def.ghi', 'installer', { token: 'abc.def.ghi' }],
    ['#/pbinstall/abc.def.ghi', 'installer', { token: 'abc.def.ghi' }],
    ['#/auth/oauth2-redirect-success', 'oauth2Success', {}],
    ['#/auth/oauth2-redirect-failure', 'oauth2Failure', {}],
    ['#/collections/a/b', 'notFound', {}],
    ['#/nothing', 'notFound', {}],
  ])('%s → %s', (hash, name, params) => {
    const route = matchRoute(hash);
    expect(route.name).toBe(name);
    expect(route.params).toEqual(params);
  });

  it('keeps the query of the fragment', () => {
    const route = matchRoute('#/collections/posts?filter=title+%3D+%22a%22&sort=-created&page=3');
    expect(route.query.get('filter')).toBe('title = "a"');
    expect(route.query.get('sort')).toBe('-created');
    expect(route.path).toBe('/collections/posts');
    expect(hrefOf('/collections/posts', { filter: 'a b', page: 2, sort: '' })).toBe('#/collections/posts?filter=a+b&page=2');
  });

  it('says who may open each route', () => {
    expect(accessOf('collections')).toBe('superuser');
    expect(accessOf('signIn')).toBe('guest');
    expect(accessOf('installer')).toBe('guest');
    expect(accessOf('oauth2Success')).toBe('anyone');
    expect(accessOf('notFound')).toBe('anyone');
  });
});

describe('dashboard API base URL', () => {
  it.each([
    [{ origin: 'http://127.0.0.1:8090', pathname: '/_/' }, 'http://127.0.0.1:8090'],
    [{ origin: 'https://example.com', pathname: '/basalt/_/' }, 'https://example.com/basalt'],
    [{ origin: 'https://example.com', pathname: '/a/_/b/_/' }, 'https://example.com/a/_/b'],
    [{ origin: 'http://localhost:5173', pathname: '/_/index.html' }, 'http://localhost:5173'],
    [{ origin: 'http://localhost:5173', pathname: '/' }, 'http://localhost:5173'],
  ])('%j → %s', (location, expected) => {
    expect(apiBaseUrl(location)).toBe(expected);
  });
});

describe('dashboard grid formatting', () => {
  it('shows values on one short line, never markup', () => {
    expect(cellText(null)).toBe('');
    expect(cellText('')).toBe('');
    expect(cellText(0)).toBe('0');
    expect(cellText(false)).toBe('false');
    expect(cellText('<p>Hello <b>world</b></p>')).toBe('Hello world');
    expect(cellText(['a', 'b'])).toBe('a, b');
    expect(cellText({ lat: 1, lon: 2 })).toBe('{"lat":1,"lon":2}');
    expect(cellText('x'.repeat(500))).toHaveLength(120);
  });

  it('sorts ascending first, then flips', () => {
    expect(nextSort('', 'title')).toBe('title');
    expect(nextSort('title', 'title')).toBe('-title');
    expect(nextSort('-title', 'title')).toBe('title');
    expect(nextSort('-views', 'title')).toBe('title');
    expect(sortState('title', 'title')).toBe('ascending');
    expect(sortState('-title', 'title')).toBe('descending');
    expect(sortState('views', 'title')).toBe('none');
  });
});
