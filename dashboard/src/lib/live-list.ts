/**
 * A realtime event applied to the page of records the grid shows, without reloading it where the
 * change is certain: an update replaces its row, a delete removes it. A new record is appended
 * only where it surely belongs (no filter, the default order, which is insertion order, and room
 * left on this page, so it is the last page); elsewhere the caller reloads the page, since only
 * the server knows whether it matches the filter and where it sorts.
 */
import type { RecordModel } from 'pocketbase';

export interface LiveView {
  filter: string;
  sort: string;
  perPage: number;
}

export type LiveOutcome = { items: RecordModel[]; delta: number } | 'reload';

export function applyRealtime(items: RecordModel[], action: string, record: RecordModel, view: LiveView): LiveOutcome {
  const at = items.findIndex((r) => r.id === record.id);
  switch (action) {
    case 'update':
      // A changed record may now fall outside the filter or move in the order: only the server knows.
      if (view.filter !== '' || view.sort !== '') return 'reload';
      if (at === -1) return { items, delta: 0 };
      return { items: items.map((r, i) => (i === at ? record : r)), delta: 0 };
    case 'delete':
      if (at === -1) return view.filter === '' ? { items, delta: -1 } : 'reload';
      return { items: items.filter((_, i) => i !== at), delta: -1 };
    case 'create':
      if (at !== -1) return { items, delta: 0 };
      if (view.filter !== '' || view.sort !== '' || items.length >= view.perPage) return 'reload';
      return { items: [...items, record], delta: 1 };
    default:
      return { items, delta: 0 };
  }
}
