/**
 * Email templates: PocketBase's placeholders (`{APP_NAME}`, `{APP_URL}`, `{TOKEN}`, `{OTP}`,
 * `{OTP_ID}`, `{ALERT_INFO}`, `{RECORD:field}`) replaced in the subject and the HTML body, and a
 * plain-text alternative derived from the HTML.
 */

export type TemplateVars = Record<string, string>;

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/**
 * Replaces every `{NAME}` of `vars` in `text`. In HTML the values are escaped: record fields are
 * user data and must not inject markup into a mail sent in the app's name.
 */
export function renderTemplate(text: string, vars: TemplateVars, html: boolean): string {
  return text.replace(/\{([A-Z_]+(?::[A-Za-z0-9_]+)?)\}/g, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) return whole;
    return html ? escapeHtml(value) : value;
  });
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ' };

/** A readable plain-text version of a template's HTML: links keep their address. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, '')
    .replace(/<a\s[^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/gi, (_m, href: string, label: string) => `${label.replace(/<[^>]*>/g, '').trim()} (${href})`)
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|h[1-6]|li|tr)>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_m, e: string) => ENTITIES[e])
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
