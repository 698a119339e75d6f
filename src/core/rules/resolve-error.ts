/** A filter or rule names something that does not resolve (unknown field, bad modifier…). */
export class FilterResolveError extends Error {}
