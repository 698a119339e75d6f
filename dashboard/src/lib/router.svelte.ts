/** The current route, following `location.hash`. */
import { hrefOf, matchRoute, type Route } from './routes';

class Router {
  route: Route = $state(matchRoute(window.location.hash));
}

export const router = new Router();

window.addEventListener('hashchange', () => {
  router.route = matchRoute(window.location.hash);
});

/** Goes to `path`; `replace` keeps the back button from returning to a redirect. */
export function navigate(path: string, query: Record<string, string | number | undefined> = {}, replace = false): void {
  const href = hrefOf(path, query);
  if (replace) {
    window.history.replaceState(window.history.state, '', href);
    router.route = matchRoute(href);
  } else {
    window.location.hash = href;
  }
}
