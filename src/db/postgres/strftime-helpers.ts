/**
 * PL/pgSQL port of the date-time core of SQLite's `date.c` (SQLite 3.53): the `DateTime`
 * state, its conversions (`computeJD`, `computeYMD`, `computeHMS`, `computeFloor`,
 * `toLocaltime`), the parsers (`parseHhMmSs`, `parseTimezone`, `parseYyyyMmDd`,
 * `parseDateOrTime`) and `sqlite3AtoF`. `strftime-format.ts` adds the formatter and
 * `strftime-function.ts` the modifiers and `basalt_strftime()` itself.
 *
 * The port is deliberately literal, flags and all, because SQLite's observable behaviour lives
 * in them: which fields are "valid" decides whether `2023-02-31` prints as `31` or is normalised
 * to March 3rd, and an overflow resets the state to zero and keeps going rather than stopping.
 * C names map to the composite type's fields as: iJD → ijd, Y/M/D → yr/mon/dy, h/m/s →
 * hr/mi/sec, the rest snake_case. C casts `(int)`/`(i64)` truncate, hence `trunc(…)::int`
 * (a bare `::int` on float8 rounds); decimal literals are `::float8` wherever C computes in
 * double (a bare `30.6001` is an exact numeric in PostgreSQL).
 *
 * Nothing here raises for any input: every path that could overflow in PostgreSQL (where C
 * would wrap or produce ±Inf) is range-checked first, because a PL/pgSQL EXCEPTION block would
 * start a subtransaction, which PostgreSQL 15 forbids in parallel workers.
 *
 * The server is assumed to run in UTC: `toLocaltime` is SQLite's algorithm with `gmtime()` as
 * the C library's `localtime()`.
 */

/** SQLite's `sqlite3Isspace`: exactly these six ASCII characters, as a regex class body. */
const WS = String.raw` \t\n\v\f\r`;
/** The same six characters inside an E'…' literal (where `\v` is not an escape). */
const WS_E = String.raw` \t\n\x0B\f\r`;

/** The DateTime type (created or, when its shape changed, recreated) and the state helpers. */
export const DATE_STATE_SQL = String.raw`
-- basalt_dt mirrors SQLite's struct DateTime (date.c). Recreated only when its shape changes;
-- DROP … CASCADE takes the basalt_dt_* functions with it, which this script then recreates.
DO $do$
DECLARE
  want text := 'ijd:bigint,yr:integer,mon:integer,dy:integer,hr:integer,mi:integer,tz:integer,'
    'sec:double precision,valid_jd:boolean,valid_ymd:boolean,valid_hms:boolean,n_floor:integer,'
    'raw_s:boolean,is_error:boolean,use_subsec:boolean,is_utc:boolean,is_local:boolean';
  have text;
BEGIN
  SELECT string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attnum)
    INTO have
    FROM pg_type t
    JOIN pg_attribute a ON a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE t.typname = 'basalt_dt' AND t.typnamespace = current_schema()::regnamespace;
  IF have IS DISTINCT FROM want THEN
    IF have IS NOT NULL THEN
      DROP TYPE basalt_dt CASCADE;
    END IF;
    CREATE TYPE basalt_dt AS (
      ijd bigint,              -- julian day number × 86400000
      yr int, mon int, dy int, -- year, month, day
      hr int, mi int,          -- hour, minute
      tz int,                  -- timezone offset in minutes, not yet applied
      sec float8,              -- seconds (or the raw number when raw_s)
      valid_jd boolean, valid_ymd boolean, valid_hms boolean,
      n_floor int,             -- days to subtract for the "floor" modifier
      raw_s boolean, is_error boolean, use_subsec boolean, is_utc boolean, is_local boolean
    );
  END IF;
END
$do$;

-- memset(p, 0, sizeof(*p)), and datetimeError().
CREATE OR REPLACE FUNCTION basalt_dt_zero() RETURNS basalt_dt
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT ROW(0::bigint, 0, 0, 0, 0, 0, 0, 0::float8, false, false, false, 0,
             false, false, false, false, false)::basalt_dt
$fn$;

CREATE OR REPLACE FUNCTION basalt_dt_error() RETURNS basalt_dt
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT ROW(0::bigint, 0, 0, 0, 0, 0, 0, 0::float8, false, false, false, 0,
             false, true, false, false, false)::basalt_dt
$fn$;

-- computeJD(): Y-M-D h:m:s (default 2000-01-01) to ijd, applying and clearing tz.
CREATE OR REPLACE FUNCTION basalt_dt_compute_jd(p basalt_dt) RETURNS basalt_dt
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  y int := 2000; m int := 1; d int := 1; a int; b int; x1 int; x2 int;
BEGIN
  IF p.valid_jd THEN RETURN p; END IF;
  IF p.valid_ymd THEN y := p.yr; m := p.mon; d := p.dy; END IF;
  IF y < -4713 OR y > 9999 OR p.raw_s THEN RETURN basalt_dt_error(); END IF;
  IF m <= 2 THEN y := y - 1; m := m + 12; END IF;
  a := (y + 4800) / 100;
  b := 38 - a + (a / 4);
  x1 := 36525 * (y + 4716) / 100;
  x2 := 306001 * (m + 1) / 10000;
  -- (X1 + X2 + D + B - 1524.5) * 86400000 is an exact integer in double, so in bigint too.
  p.ijd := (x1 + x2 + d + b)::bigint * 86400000 - 131716800000;
  p.valid_jd := true;
  IF p.valid_hms THEN
    p.ijd := p.ijd + p.hr * 3600000 + p.mi * 60000 + trunc(p.sec * 1000::float8 + 0.5::float8)::bigint;
    IF p.tz <> 0 THEN
      p.ijd := p.ijd - p.tz * 60000;
      p.valid_ymd := false; p.valid_hms := false; p.tz := 0;
      p.is_utc := true; p.is_local := false;
    END IF;
  END IF;
  RETURN p;
END
$fn$;

-- computeYMD(): ijd to Y-M-D (Meeus), or 2000-01-01 when there is no ijd.
CREATE OR REPLACE FUNCTION basalt_dt_compute_ymd(p basalt_dt) RETURNS basalt_dt
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  z int; alpha int; a int; b int; c int; d int; e int; x1 int;
BEGIN
  IF p.valid_ymd THEN RETURN p; END IF;
  IF NOT p.valid_jd THEN
    p.yr := 2000; p.mon := 1; p.dy := 1;
  ELSIF p.ijd < 0 OR p.ijd > 464269060799999 THEN
    RETURN basalt_dt_error();
  ELSE
    z := ((p.ijd + 43200000) / 86400000)::int;
    alpha := trunc((z + 32044.75::float8) / 36524.25::float8)::int - 52;
    a := z + 1 + alpha - ((alpha + 100) / 4) + 25;
    b := a + 1524;
    c := trunc((b - 122.1::float8) / 365.25::float8)::int;
    d := (36525 * (c & 32767)) / 100;
    e := trunc((b - d) / 30.6001::float8)::int;
    x1 := trunc(30.6001::float8 * e)::int;
    p.dy := b - d - x1;
    p.mon := CASE WHEN e < 14 THEN e - 1 ELSE e - 13 END;
    p.yr := CASE WHEN p.mon > 2 THEN c - 4716 ELSE c - 4715 END;
  END IF;
  p.valid_ymd := true;
  RETURN p;
END
$fn$;

-- computeHMS(). Like the C code it carries on after computeJD() failed (ijd is then 0).
CREATE OR REPLACE FUNCTION basalt_dt_compute_hms(p basalt_dt) RETURNS basalt_dt
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  day_ms int; day_min int;
BEGIN
  IF p.valid_hms THEN RETURN p; END IF;
  p := basalt_dt_compute_jd(p);
  day_ms := ((p.ijd + 43200000) % 86400000)::int;
  p.sec := (day_ms % 60000)::float8 / 1000::float8;
  day_min := day_ms / 60000;
  p.mi := day_min % 60;
  p.hr := day_min / 60;
  p.raw_s := false;
  p.valid_hms := true;
  RETURN p;
END
$fn$;

-- computeFloor(): days by which D overflows its month (for the "floor" modifier).
CREATE OR REPLACE FUNCTION basalt_dt_compute_floor(p basalt_dt) RETURNS basalt_dt
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
BEGIN
  IF p.dy <= 28 OR p.mon NOT BETWEEN 0 AND 12 OR ((1 << p.mon) & 5546) <> 0 THEN
    p.n_floor := 0;                          -- 5546 = 0x15aa: the 31-day months
  ELSIF p.mon <> 2 THEN
    p.n_floor := (p.dy = 31)::int;
  ELSIF p.yr % 4 <> 0 OR (p.yr % 100 = 0 AND p.yr % 400 <> 0) THEN
    p.n_floor := p.dy - 28;
  ELSE
    p.n_floor := p.dy - 29;
  END IF;
  RETURN p;
END
$fn$;

-- toLocaltime() with the server in UTC: localtime_r() is gmtime(). Years outside 1970–2037
-- are mapped into 1997–2000 and back, as SQLite does, which recomputes every field.
CREATE OR REPLACE FUNCTION basalt_dt_to_localtime(p basalt_dt) RETURNS basalt_dt
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  x basalt_dt; year_diff int := 0; t bigint; days int; secs int;
  era int; doe int; yoe int; doy int; mp int; y int;
BEGIN
  p := basalt_dt_compute_jd(p);
  IF p.ijd < 210866760000000 OR p.ijd > 213014145600000 THEN
    x := basalt_dt_compute_hms(basalt_dt_compute_ymd(p));
    year_diff := (2000 + x.yr % 4) - x.yr;
    x.yr := x.yr + year_diff;
    x.valid_jd := false;
    x := basalt_dt_compute_jd(x);
    t := x.ijd / 1000 - 210866760000;
  ELSE
    t := p.ijd / 1000 - 210866760000;
  END IF;
  -- gmtime(t) (t lies in 1970–2038 here), by Howard Hinnant's civil_from_days().
  days := floor(t / 86400.0)::int;
  secs := (t - days::bigint * 86400)::int;
  days := days + 719468;
  era := floor(days / 146097.0)::int;
  doe := days - era * 146097;
  yoe := (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy := doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp := (5 * doy + 2) / 153;
  p.dy := doy - (153 * mp + 2) / 5 + 1;
  p.mon := CASE WHEN mp < 10 THEN mp + 3 ELSE mp - 9 END;
  y := yoe + era * 400 + (p.mon <= 2)::int;
  p.yr := y - year_diff;
  p.hr := secs / 3600;
  p.mi := secs / 60 % 60;
  p.sec := (secs % 60)::float8 + (p.ijd % 1000)::float8 * 0.001::float8;
  p.valid_ymd := true; p.valid_hms := true; p.valid_jd := false;
  p.raw_s := false; p.tz := 0; p.is_error := false;
  RETURN p;
END
$fn$;
`;

/** `sqlite3AtoF` and the time-string parsers. */
export const DATE_PARSE_SQL = String.raw`
-- sqlite3AtoF(): the number, or NULL where SQLite reports "not a number". SQLite keeps about
-- the first 19 significant digits (a 64-bit mantissa) and rounds s × 10^d once; up to 19 digits
-- PostgreSQL's correctly rounded float8 input gives the same double, beyond that the digits
-- are cut exactly as SQLite cuts them.
CREATE OR REPLACE FUNCTION basalt_sqlite_atof(z text) RETURNS float8
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  mt text[]; int_part text; frac text; s numeric := 0; d int := 0; e int := 0;
  i int; mag int; v numeric;
  cap CONSTANT numeric := 1844674407370955160;  -- (LARGEST_UINT64 - 9) / 10
BEGIN
  -- Fast path (no capture groups, which are slow in PostgreSQL's regex engine): a plain
  -- decimal of at most 19 digits, where both engines round the same exact value.
  IF length(z) <= 19 AND z ~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$' THEN
    RETURN z::float8;
  END IF;
  mt := regexp_match(z, '^[${WS}]*([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?)([0-9]+))?[${WS}]*$');
  IF mt IS NULL OR (mt[2] = '' AND coalesce(mt[3], '') = '') THEN RETURN NULL; END IF;
  int_part := mt[2]; frac := coalesce(mt[3], '');
  IF length(int_part) + length(frac) <= 19 AND coalesce(length(mt[5]), 0) <= 2 THEN
    RETURN z::float8;                                    -- within 1e-118 … 1e118: no overflow
  END IF;
  -- The 64-bit mantissa: digits while s < cap, later integer digits only scale by 10.
  i := 1;
  WHILE i <= length(int_part) AND s < cap LOOP
    s := s * 10 + (ascii(substr(int_part, i, 1)) - 48);
    i := i + 1;
  END LOOP;
  d := length(int_part) - i + 1;
  i := 1;
  WHILE i <= length(frac) AND s < cap LOOP
    s := s * 10 + (ascii(substr(frac, i, 1)) - 48);
    d := d - 1;
    i := i + 1;
  END LOOP;
  IF mt[5] IS NOT NULL THEN
    FOR i IN 1..length(mt[5]) LOOP
      e := CASE WHEN e < 10000 THEN e * 10 + (ascii(substr(mt[5], i, 1)) - 48) ELSE 10000 END;
    END LOOP;
    d := d + CASE WHEN mt[4] = '-' THEN -e ELSE e END;
  END IF;
  IF s = 0 THEN
    v := 0;
  ELSE
    mag := length(s::text) + d;                          -- 10^(mag-1) <= value < 10^mag
    IF mag > 310 THEN
      RETURN CASE WHEN mt[1] = '-' THEN '-Infinity'::float8 ELSE 'Infinity'::float8 END;
    ELSIF mag < -324 THEN
      v := 0;
    ELSE
      v := s * ('1e' || d)::numeric;
      -- Round-to-nearest overflows at DBL_MAX + ulp/2 and underflows at or below 2^-1075,
      -- cases float8 input would reject with an error.
      IF v >= 2::numeric ^ 1024 - 2::numeric ^ 970 THEN
        RETURN CASE WHEN mt[1] = '-' THEN '-Infinity'::float8 ELSE 'Infinity'::float8 END;
      ELSIF v * 2::numeric ^ 1075 <= 1 THEN
        v := 0;
      END IF;
    END IF;
  END IF;
  RETURN CASE WHEN mt[1] = '-' THEN -(v::float8) ELSE v::float8 END;
END
$fn$;

-- setRawDateNumber(): a number is a julian day when in range; kept raw for "unixepoch"/"auto".
-- NULL for NULL and NaN (SQLite has no NaN: it turns one into NULL).
CREATE OR REPLACE FUNCTION basalt_dt_raw(r float8) RETURNS basalt_dt
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  p basalt_dt := basalt_dt_zero();
BEGIN
  IF r IS NULL OR r = 'NaN'::float8 THEN RETURN NULL; END IF;
  p.sec := r; p.raw_s := true;
  IF r >= 0 AND r < 5373484.5::float8 THEN
    p.ijd := trunc(r * 86400000::float8 + 0.5::float8)::bigint;
    p.valid_jd := true;
  END IF;
  RETURN p;
END
$fn$;

-- parseHhMmSs() and parseTimezone(): "HH:MM[:SS[.F…]]" then optional "Z" or "±HH:MM". Sets
-- the time fields of p (tz unapplied), or returns NULL for a syntax error. Boolean regexes and
-- substr() only: capture groups cost ten times as much.
CREATE OR REPLACE FUNCTION basalt_dt_parse_hms(z text, p basalt_dt) RETURNS basalt_dt
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  rest text; digits text; h int; m int; s int := 0; n int; i int;
  ms float8 := 0; scale float8 := 1;
BEGIN
  IF z !~ '^[0-9]{2}:[0-9]{2}' THEN RETURN NULL; END IF;
  h := substr(z, 1, 2)::int; m := substr(z, 4, 2)::int; rest := substr(z, 6);
  IF h > 24 OR m > 59 THEN RETURN NULL; END IF;
  IF left(rest, 1) = ':' THEN
    IF rest !~ '^:[0-9]{2}' OR substr(rest, 2, 2)::int > 59 THEN RETURN NULL; END IF;
    s := substr(rest, 2, 2)::int; rest := substr(rest, 4);
    IF rest ~ '^\.[0-9]' THEN
      n := length(rest) - length(ltrim(substr(rest, 2), '0123456789')) - 1;
      digits := substr(rest, 2, n); rest := substr(rest, n + 2);
      IF n <= 15 THEN
        ms := digits::float8 / ('1e' || n)::float8;     -- exact operands, as in C
      ELSE
        -- ms = ms*10.0 + c - '0' and rScale *= 10.0 in double; past 1e308 both become
        -- Infinity in C, which PostgreSQL would report as an error instead.
        FOR i IN 1..n LOOP
          ms := CASE WHEN ms > 1.7e307::float8 THEN 'Infinity'::float8
                     ELSE ms * 10::float8 + ascii(substr(digits, i, 1))::float8 - 48::float8 END;
          scale := CASE WHEN scale > 1.7e307::float8 THEN 'Infinity'::float8 ELSE scale * 10::float8 END;
        END LOOP;
        ms := ms / scale;
        IF ms = 'NaN'::float8 THEN RETURN NULL; END IF;  -- Inf/Inf: undefined in SQLite
      END IF;
      IF ms > 0.999::float8 THEN ms := 0.999::float8; END IF;
    END IF;
  END IF;
  p.valid_jd := false; p.raw_s := false; p.valid_hms := true;
  p.hr := h; p.mi := m; p.sec := s::float8 + ms;
  -- parseTimezone()
  p.tz := 0;
  IF rest = '' THEN RETURN p; END IF;
  rest := ltrim(rest, E'${WS_E}');
  IF left(rest, 1) IN ('Z', 'z') THEN
    p.is_local := false; p.is_utc := true;
    rest := substr(rest, 2);
  ELSIF rest ~ '^[+-][0-9]{2}:[0-9]{2}' THEN
    h := substr(rest, 2, 2)::int; m := substr(rest, 5, 2)::int;
    IF h > 14 OR m > 59 THEN RETURN NULL; END IF;
    p.tz := CASE WHEN left(rest, 1) = '-' THEN -1 ELSE 1 END * (m + h * 60);
    IF p.tz = 0 THEN p.is_local := false; p.is_utc := true; END IF;
    rest := substr(rest, 7);
  END IF;
  IF ltrim(rest, E'${WS_E}') <> '' THEN RETURN NULL; END IF;
  RETURN p;
END
$fn$;

-- parseDateOrTime(): "[-]YYYY-MM-DD[( |T)time]", a bare time (on 2000-01-01), "now", a number
-- (julian day, or raw for "unixepoch"/"auto"), or "subsec". NULL when SQLite rejects it.
-- STABLE because of "now": the statement's start, to the millisecond, like SQLite's
-- per-statement clock.
CREATE OR REPLACE FUNCTION basalt_dt_parse(t text) RETURNS basalt_dt
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $fn$
DECLARE
  p basalt_dt := basalt_dt_zero(); q basalt_dt; rest text; lt text; o int; mo int; d int;
BEGIN
  IF t ~ '^-?[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN
    o := (left(t, 1) = '-')::int;
    mo := substr(t, o + 6, 2)::int; d := substr(t, o + 9, 2)::int;
    IF mo BETWEEN 1 AND 12 AND d BETWEEN 1 AND 31 THEN
      rest := ltrim(substr(t, o + 11), E'${WS_E}T');
      IF rest = '' THEN
        p.valid_hms := false;
      ELSE
        p := basalt_dt_parse_hms(rest, p);
        IF p IS NULL THEN RETURN NULL; END IF;
      END IF;
      p.valid_jd := false; p.valid_ymd := true;
      p.yr := CASE WHEN o = 1 THEN -substr(t, 2, 4)::int ELSE substr(t, 1, 4)::int END;
      p.mon := mo; p.dy := d;
      IF d > 28 THEN p := basalt_dt_compute_floor(p); END IF;   -- n_floor is 0 otherwise
      IF p.tz <> 0 THEN p := basalt_dt_compute_jd(p); END IF;
      RETURN p;
    END IF;
  END IF;
  q := basalt_dt_parse_hms(t, p);
  IF q IS NOT NULL THEN RETURN q; END IF;
  lt := translate(t, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');
  IF lt IN ('now', 'subsec', 'subsecond') THEN
    p.ijd := floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint + 210866760000000;
    p.valid_jd := true; p.is_utc := true;
    p.use_subsec := lt <> 'now';
    RETURN p;
  END IF;
  RETURN basalt_dt_raw(basalt_sqlite_atof(t));
END
$fn$;
`;
