/**
 * `basalt_json_cmp(a jsonb, b jsonb) → -1 | 0 | 1 | NULL`: compares two JSON values the way
 * SQLite compares what json_extract returns (PocketBase's semantics): NULL first; numbers and
 * booleans (1/0) numerically; strings, objects and arrays as text in byte order; a number is
 * always less than a text. jsonb's own ordering (type first, then value) would disagree.
 */
export const JSON_COMPARE_SQL = String.raw`
CREATE OR REPLACE FUNCTION basalt_json_rank(j jsonb) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE jsonb_typeof(j) WHEN 'number' THEN 1 WHEN 'boolean' THEN 1
    WHEN 'string' THEN 2 WHEN 'object' THEN 2 WHEN 'array' THEN 2 ELSE 0 END
$fn$;

CREATE OR REPLACE FUNCTION basalt_json_num(j jsonb) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE jsonb_typeof(j) WHEN 'number' THEN (j #>> '{}')::float8
    WHEN 'boolean' THEN CASE WHEN j = 'true'::jsonb THEN 1 ELSE 0 END END
$fn$;

CREATE OR REPLACE FUNCTION basalt_json_text(j jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE jsonb_typeof(j) WHEN 'string' THEN j #>> '{}' ELSE j::text END
$fn$;

CREATE OR REPLACE FUNCTION basalt_json_cmp(a jsonb, b jsonb) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE
    WHEN basalt_json_rank(a) = 0 OR basalt_json_rank(b) = 0 THEN NULL
    WHEN basalt_json_rank(a) <> basalt_json_rank(b) THEN sign(basalt_json_rank(a) - basalt_json_rank(b))::int
    WHEN basalt_json_rank(a) = 1 THEN sign(basalt_json_num(a) - basalt_json_num(b))::int
    WHEN basalt_json_text(a) COLLATE "C" < basalt_json_text(b) THEN -1
    WHEN basalt_json_text(a) COLLATE "C" > basalt_json_text(b) THEN 1
    ELSE 0 END
$fn$
`;
