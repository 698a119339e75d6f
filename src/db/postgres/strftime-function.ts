/**
 * `basalt_strftime(format, time, modifiers)`: SQLite's `strftime()` for PostgreSQL, so that a
 * filter such as `strftime('%Y-%m', created, '+1 month') = '2024-03'` selects the same records
 * on both engines.
 *
 * It is a literal port of SQLite 3.53's `date.c`: `strftime-helpers.ts` holds the state,
 * conversions and parsers, `strftime-format.ts` the formatter, this file the modifiers, the
 * entry points and the installer.
 * SQLite behaviours reproduced on purpose, because PostgreSQL's own date arithmetic differs:
 * - month and year arithmetic overflows into the next month (2024-01-31 +1 month → 2024-03-02)
 *   instead of clamping, and `floor` / `ceiling` resolve that overflow the SQLite way;
 * - a date with no modifiers is normalised (2023-02-31 → 2023-03-03) but `%d` still prints the
 *   day as given when a modifier left the parsed fields alone (`'2023-02-31', 'subsec'` → 31);
 * - a number is a julian day, or Unix seconds after `unixepoch` (`auto` guesses); `julianday`,
 *   `unixepoch` and `auto` only count as the first modifier;
 * - `localtime` and `utc` run SQLite's algorithm with the server in UTC, so they still normalise
 *   fields and `utc` still drops `subsec` when the value was not known to be UTC;
 * - a time without a date is on 2000-01-01, `24:00` is accepted, fractions are truncated to
 *   0.999 s, a `±HH:MM` zone is applied (converted to UTC) only once the julian day is computed;
 * - `%f`, `%J` and `%s` print doubles the way SQLite's own printf rounds them;
 * - an unknown specifier (or a lone `%` at the end) makes the whole result NULL, as does any
 *   invalid time value, unknown modifier, out-of-range result or NULL argument.
 *
 * Known differences, only where SQLite's C code has undefined behaviour: modifiers whose sum
 * overflows 64-bit milliseconds (twenty `+464269000000000 seconds` in a row; `utc` on an
 * instant beyond ±73 million years) give NULL where C wraps around, and so does a fraction of
 * 300+ digits that overflows a double. The server's time zone is taken to be UTC.
 *
 * The functions call each other unqualified: install them in a schema on the `search_path`.
 */

import { DATE_PARSE_SQL, DATE_STATE_SQL } from './strftime-helpers.js';
import { DATE_FORMAT_SQL } from './strftime-format.js';

/** SQLite's `sqlite3Isspace`: exactly these six ASCII characters, as a regex class body. */
const WS = String.raw` \t\n\v\f\r`;
/** The same six characters inside an E'…' literal (where `\v` is not an escape). */
const WS_E = String.raw` \t\n\x0B\f\r`;

/** `parseModifier()`: one modifier applied to a state, NULL when SQLite reports an error. */
const DATE_MODIFIER_SQL = String.raw`
CREATE OR REPLACE FUNCTION basalt_dt_modify(p basalt_dt, z text, idx int) RETURNS basalt_dt
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  lz text := translate(z, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
  z0 text := left(z, 1); z2 text; tail text; unit text; mt text[];
  r float8; rounder float8; lim float8; xform float8;
  n int; n2 int; y int; m int; d int; x int; cnt int;
  wd bigint; day bigint; orig bigint; guess bigint; err bigint; tx basalt_dt;
BEGIN
  IF lz = 'auto' THEN                                  -- autoAdjustDate()
    IF idx > 1 THEN RETURN NULL; END IF;
    IF NOT p.raw_s OR p.valid_jd THEN
      p.raw_s := false;
    ELSIF p.sec >= -210866760000::float8 AND p.sec <= 253402300799::float8 THEN
      r := p.sec * 1000::float8 + 210866760000000::float8;
      p.valid_ymd := false; p.valid_hms := false; p.tz := 0;
      p.ijd := trunc(r + 0.5::float8)::bigint; p.valid_jd := true; p.raw_s := false;
    END IF;
    RETURN p;
  ELSIF lz = 'ceiling' THEN
    p := basalt_dt_compute_jd(p);
    p.valid_ymd := false; p.valid_hms := false; p.tz := 0; p.n_floor := 0;
    RETURN p;
  ELSIF lz = 'floor' THEN
    p := basalt_dt_compute_jd(p);
    p.ijd := p.ijd - p.n_floor * 86400000::bigint;
    p.valid_ymd := false; p.valid_hms := false; p.tz := 0;
    RETURN p;
  ELSIF lz = 'julianday' THEN
    IF idx > 1 OR NOT (p.valid_jd AND p.raw_s) THEN RETURN NULL; END IF;
    p.raw_s := false;
    RETURN p;
  ELSIF lz = 'localtime' THEN
    IF NOT p.is_local THEN p := basalt_dt_to_localtime(p); END IF;
    p.is_utc := false; p.is_local := true;
    RETURN p;
  ELSIF lz = 'unixepoch' AND p.raw_s THEN
    IF idx > 1 OR abs(p.sec) > 1e15::float8 THEN RETURN NULL; END IF;
    r := p.sec * 1000::float8 + 210866760000000::float8;
    IF r < 0 OR r >= 464269060800000::float8 THEN RETURN NULL; END IF;
    p.valid_ymd := false; p.valid_hms := false; p.tz := 0;
    p.ijd := trunc(r + 0.5::float8)::bigint; p.valid_jd := true; p.raw_s := false;
    RETURN p;
  ELSIF lz = 'utc' THEN
    -- Search the UTC instant whose local time is p; with the server in UTC it is p itself,
    -- but the state is rebuilt from ijd alone, as in SQLite.
    IF NOT p.is_utc THEN
      p := basalt_dt_compute_jd(p);
      -- Up to four rounds add ±orig each time: beyond 2^61 C overflows (undefined behaviour).
      IF abs(p.ijd) > 2305843009213693952 THEN RETURN NULL; END IF;
      orig := p.ijd; guess := orig; err := 0; cnt := 0;
      LOOP
        guess := guess - err;
        tx := basalt_dt_zero(); tx.ijd := guess; tx.valid_jd := true;
        tx := basalt_dt_compute_jd(basalt_dt_to_localtime(tx));
        err := tx.ijd - orig;
        EXIT WHEN err = 0 OR cnt >= 3;
        cnt := cnt + 1;
      END LOOP;
      p := basalt_dt_zero(); p.ijd := guess; p.valid_jd := true; p.is_utc := true;
    END IF;
    RETURN p;
  ELSIF left(lz, 8) = 'weekday ' THEN
    r := basalt_sqlite_atof(substr(z, 9));
    IF r IS NULL OR r < 0 OR r >= 7 OR r <> trunc(r) THEN RETURN NULL; END IF;
    n := r::int;
    p := basalt_dt_compute_hms(basalt_dt_compute_ymd(p));
    p.tz := 0; p.valid_jd := false;
    p := basalt_dt_compute_jd(p);
    wd := ((p.ijd + 129600000) / 86400000) % 7;
    IF wd > n THEN wd := wd - 7; END IF;
    p.ijd := p.ijd + (n - wd) * 86400000;
    p.valid_ymd := false; p.valid_hms := false; p.tz := 0;
    RETURN p;
  ELSIF left(lz, 9) = 'start of ' THEN
    IF NOT (p.valid_jd OR p.valid_ymd OR p.valid_hms) THEN RETURN NULL; END IF;
    p := basalt_dt_compute_ymd(p);
    p.valid_hms := true; p.hr := 0; p.mi := 0; p.sec := 0;
    p.raw_s := false; p.tz := 0; p.valid_jd := false;
    CASE substr(lz, 10)
      WHEN 'month' THEN p.dy := 1;
      WHEN 'year' THEN p.mon := 1; p.dy := 1;
      WHEN 'day' THEN NULL;
      ELSE RETURN NULL;
    END CASE;
    RETURN p;
  ELSIF lz IN ('subsec', 'subsecond') THEN
    p.use_subsec := true;
    RETURN p;
  ELSIF z0 IN ('+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') THEN
    -- The number ends at ':', at a space, or at the '-' after a 4- or 5-digit year.
    n := strpos(translate(substr(z, 2), E':${WS_E}', '       '), ' ');   -- all 7 to ' '
    n := CASE WHEN n = 0 THEN length(z) ELSE n END;
    IF n > 5 AND substr(z, 6, 1) = '-' AND substr(z, 2, 4) ~ '^[0-9]{4}$' THEN
      n := 5;
    ELSIF n > 6 AND substr(z, 7, 1) = '-' AND substr(z, 2, 5) ~ '^[0-9]{5}$'
          AND substr(z, 2, 5)::int <= 14712 THEN
      n := 6;
    END IF;
    r := basalt_sqlite_atof(left(z, n));
    IF r IS NULL THEN RETURN NULL; END IF;
    z2 := z; n2 := n;
    IF substr(z, n + 1, 1) = '-' THEN
      -- ±YYYY-MM-DD[ HH:MM[:SS[.FFF]]]: add or subtract years, months (0–11) and days (0–30).
      IF z0 NOT IN ('+', '-') THEN RETURN NULL; END IF;
      mt := regexp_match(substr(z, 2), '^([0-9]{' || (n - 1) || '})-([0-9]{2})-([0-9]{2})');
      IF mt IS NULL OR mt[1]::int > 14712 OR mt[2]::int >= 12 OR mt[3]::int >= 31 THEN
        RETURN NULL;
      END IF;
      y := mt[1]::int; m := mt[2]::int; d := mt[3]::int;
      tail := substr(z, n + 7);
      p := basalt_dt_compute_hms(basalt_dt_compute_ymd(p));
      p.valid_jd := false;
      IF z0 = '-' THEN
        p.yr := p.yr - y; p.mon := p.mon - m; d := -d;
      ELSE
        p.yr := p.yr + y; p.mon := p.mon + m;
      END IF;
      x := CASE WHEN p.mon > 0 THEN (p.mon - 1) / 12 ELSE (p.mon - 12) / 12 END;
      p.yr := p.yr + x; p.mon := p.mon - x * 12;
      p := basalt_dt_compute_jd(basalt_dt_compute_floor(p));
      p.valid_hms := false; p.valid_ymd := false;
      p.ijd := p.ijd + d::bigint * 86400000;
      IF tail = '' THEN RETURN p; END IF;
      mt := regexp_match(tail, '^[${WS}]([0-9]{2}):([0-9]{2})');
      IF mt IS NULL OR mt[1]::int > 24 OR mt[2]::int > 59 THEN RETURN NULL; END IF;
      z2 := substr(tail, 2); n2 := 2;
    END IF;
    IF substr(z2, n2 + 1, 1) = ':' THEN
      -- ±HH:MM[:SS[.FFF]]: add or subtract a time of day (taken modulo one day).
      IF left(z2, 1) !~ '[0-9]' THEN z2 := substr(z2, 2); END IF;
      tx := basalt_dt_parse_hms(z2, basalt_dt_zero());
      IF tx IS NULL THEN RETURN NULL; END IF;
      tx := basalt_dt_compute_jd(tx);
      tx.ijd := tx.ijd - 43200000;
      day := tx.ijd / 86400000;
      tx.ijd := tx.ijd - day * 86400000;
      IF z0 = '-' THEN tx.ijd := -tx.ijd; END IF;
      p := basalt_dt_compute_jd(p);
      p.valid_ymd := false; p.valid_hms := false; p.tz := 0;
      p.ijd := p.ijd + tx.ijd;
      RETURN p;
    END IF;
    -- NNN seconds|minutes|hours|days|months|years (singular too, any case).
    unit := ltrim(substr(z, n + 1), E'${WS_E}');
    IF length(unit) < 3 OR length(unit) > 10 THEN RETURN NULL; END IF;
    unit := translate(unit, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
    IF right(unit, 1) = 's' THEN unit := left(unit, -1); END IF;
    p := basalt_dt_compute_jd(p);
    rounder := CASE WHEN r < 0 THEN -0.5::float8 ELSE 0.5::float8 END;
    p.n_floor := 0;
    -- Limits are SQLite's, as the single-precision floats its table stores.
    CASE unit
      WHEN 'second' THEN lim := 464269992787968; xform := 1;
      WHEN 'minute' THEN lim := 7737900007424; xform := 60;
      WHEN 'hour' THEN lim := 128969998336; xform := 3600;
      WHEN 'day' THEN lim := 5373485; xform := 86400;
      WHEN 'month' THEN lim := 176546; xform := 2592000;
      WHEN 'year' THEN lim := 14713; xform := 31536000;
      ELSE RETURN NULL;
    END CASE;
    IF NOT (r > -lim AND r < lim) THEN RETURN NULL; END IF;
    IF unit = 'month' THEN
      p := basalt_dt_compute_hms(basalt_dt_compute_ymd(p));
      p.mon := p.mon + trunc(r)::int;
      x := CASE WHEN p.mon > 0 THEN (p.mon - 1) / 12 ELSE (p.mon - 12) / 12 END;
      p.yr := p.yr + x; p.mon := p.mon - x * 12;
      p := basalt_dt_compute_floor(p);
      p.valid_jd := false;
      r := r - trunc(r);                               -- a fraction counts as 30-day months
    ELSIF unit = 'year' THEN
      y := trunc(r)::int;
      p := basalt_dt_compute_hms(basalt_dt_compute_ymd(p));
      p.yr := p.yr + y;
      p := basalt_dt_compute_floor(p);
      p.valid_jd := false;
      r := r - trunc(r);                               -- a fraction counts as 365-day years
    END IF;
    p := basalt_dt_compute_jd(p);
    day := trunc(r * 1000::float8 * xform + rounder)::bigint;
    IF (day > 0 AND p.ijd > 9223372000000000000 - day) OR (day < 0 AND p.ijd < -9223372000000000000 - day) THEN
      RETURN NULL;                                     -- int64 overflow: undefined in C
    END IF;
    p.ijd := p.ijd + day;
    p.valid_ymd := false; p.valid_hms := false; p.tz := 0;
    RETURN p;
  END IF;
  RETURN NULL;
END
$fn$;
`;

/**
 * The state type and every helper `basalt_strftime` needs (all named `basalt_dt_*`,
 * `basalt_sqlite_*` or `basalt_pad`). Idempotent; run before {@link STRFTIME_FUNCTION_SQL}.
 * No geo helper is needed at present: `geoDistance` renders as inline SQL.
 */
export const GEO_AND_HELPERS_SQL: string = [DATE_STATE_SQL, DATE_PARSE_SQL, DATE_MODIFIER_SQL, DATE_FORMAT_SQL].join('\n');

/**
 * `basalt_strftime(fmt text, t text, mods text[] DEFAULT '{}') RETURNS text`, plus an overload
 * taking `t double precision` (a number bound as such, like a REAL argument in SQLite).
 * NULL wherever SQLite's `strftime(fmt, t, mods…)` is NULL; never raises for user input.
 * STABLE because `'now'` is the statement's start time; PARALLEL SAFE.
 */
export const STRFTIME_FUNCTION_SQL: string = String.raw`
-- isDate() after parsing: apply the modifiers in order, validate, format.
CREATE OR REPLACE FUNCTION basalt_dt_strftime(fmt text, p basalt_dt, mods text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  m text; i int := 0;
BEGIN
  IF fmt IS NULL OR p IS NULL OR mods IS NULL THEN RETURN NULL; END IF;
  FOREACH m IN ARRAY mods LOOP
    i := i + 1;
    IF m IS NULL THEN RETURN NULL; END IF;
    p := basalt_dt_modify(p, m, i);
    -- Bar "NNN units" (checked there), a modifier moves iJD by less than a week: within these
    -- bounds no bigint arithmetic can overflow.
    IF p IS NULL OR p.ijd NOT BETWEEN -9223372000000000000 AND 9223372000000000000 THEN
      RETURN NULL;
    END IF;
  END LOOP;
  IF NOT p.valid_jd THEN p := basalt_dt_compute_jd(p); END IF;
  IF p.is_error OR p.ijd NOT BETWEEN 0 AND 464269060799999 THEN RETURN NULL; END IF;
  -- Without modifiers a day past the month's end is normalised: 2023-02-31 → 2023-03-03.
  IF i = 0 AND p.valid_ymd AND p.dy > 28 THEN p.valid_ymd := false; END IF;
  RETURN basalt_dt_format(fmt, p);
END
$fn$;

CREATE OR REPLACE FUNCTION basalt_strftime(fmt text, t text, mods text[] DEFAULT '{}') RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
  SELECT basalt_dt_strftime(fmt, basalt_dt_parse(t), mods)
$fn$;

CREATE OR REPLACE FUNCTION basalt_strftime(fmt text, t float8, mods text[] DEFAULT '{}') RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT basalt_dt_strftime(fmt, basalt_dt_raw(t), mods)
$fn$;
`;

/** The subset of `pg.Client` / `pg.PoolClient` / `pg.Pool` that {@link installPostgresFunctions} uses. */
