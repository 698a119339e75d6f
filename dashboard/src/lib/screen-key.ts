/** What makes a route another screen. */
import type { Route } from './routes.js';

/**
 * A route's screen: its name and parameters, not its query. A new query (a filter typed, a page
 * turned) keeps the screen as it is; another collection or section starts it afresh.
 */
export function screenKey(route: Pick<Route, 'name' | 'params'>): string {
  return `${route.name} ${JSON.stringify(route.params)}`;
}
