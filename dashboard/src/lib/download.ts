/** Files the dashboard hands to the browser (its pure helpers stay free of the DOM, for the unit tests). */
import { exportJson } from './collection-export';

/** Downloads the export as a file (a blob URL: the CSP allows nothing inline and nothing remote). */
export function exportCollections(collections: readonly object[], filename = 'pb_schema.json'): void {
  const url = URL.createObjectURL(new Blob([exportJson(collections)], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
