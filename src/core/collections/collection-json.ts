/**
 * A collection as the API returns it (spec §3): type-specific keys only, and no secrets (token
 * secrets and OAuth2 client secrets are write-only).
 */
import { AUTH_OPTION_KEYS, TOKEN_KEYS, type Collection } from '../model/collection-types.js';

export function collectionToJson(c: Collection): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: c.id,
    listRule: c.listRule,
    viewRule: c.viewRule,
    createRule: c.createRule,
    updateRule: c.updateRule,
    deleteRule: c.deleteRule,
    name: c.name,
    type: c.type,
    fields: c.fields,
    indexes: c.indexes,
    system: c.system,
    created: c.created,
    updated: c.updated,
  };
  if (c.type === 'view') out.viewQuery = c.viewQuery ?? '';
  // Basalt's addition: only present when set, so PocketBase clients see the shape they know.
  if (c.workflow) out.workflow = c.workflow;
  if (c.type === 'auth') {
    for (const key of AUTH_OPTION_KEYS) {
      const value = c[key];
      if ((TOKEN_KEYS as readonly string[]).includes(key) && value && typeof value === 'object') {
        out[key] = { duration: (value as { duration: number }).duration };
      } else if (key === 'oauth2' && value && typeof value === 'object') {
        const oauth2 = value as { providers?: unknown[] };
        out[key] = {
          ...oauth2,
          providers: (oauth2.providers ?? []).map((p) => {
            if (!p || typeof p !== 'object') return p;
            const { clientSecret: _secret, ...rest } = p as Record<string, unknown>;
            return rest;
          }),
        };
      } else out[key] = value;
    }
  }
  return out;
}
