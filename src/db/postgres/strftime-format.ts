/**
 * The formatting half of `basalt_strftime` (see `strftime-function.ts`): `strftimeFunc()` from
 * SQLite 3.53's `date.c` and the parts of SQLite's printf it relies on.
 *
 * Integers print like C's `%02d`/`%2d` (a sign counts towards the width). Doubles are the
 * delicate part: SQLite's printf does not round the exact binary value but an 18-digit (`%f`)
 * or 17-digit (`%g`) decimal approximation of it, rounding half up; `basalt_sqlite_sec3` and
 * `basalt_sqlite_g16` redo that on the exact value of the double, in numeric arithmetic.
 */

/** `basalt_pad`, the exact-double helpers and `basalt_dt_format` (strftimeFunc). */
export const DATE_FORMAT_SQL = String.raw`
-- printf("%0<width>d") when zero, printf("%<width>d") otherwise.
CREATE OR REPLACE FUNCTION basalt_pad(v bigint, width int, zero boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT CASE
    WHEN length(v::text) >= width THEN v::text
    WHEN NOT zero THEN lpad(v::text, width, ' ')
    WHEN v < 0 THEN '-' || lpad((-v)::text, width - 1, '0')
    ELSE lpad(v::text, width, '0')
  END
$fn$;

-- The exact decimal value of a positive, normal double, and floor(log2(x)).
CREATE OR REPLACE FUNCTION basalt_f8_exact(x float8, OUT exact numeric, OUT e2 int)
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
  m bigint;
BEGIN
  e2 := floor(ln(x) / ln(2::float8))::int;
  WHILE 2::float8 ^ e2 > x LOOP e2 := e2 - 1; END LOOP;
  WHILE 2::float8 ^ (e2 + 1) <= x LOOP e2 := e2 + 1; END LOOP;
  m := (x * 2::float8 ^ (52 - e2))::bigint;           -- the 53-bit mantissa, exactly
  exact := CASE WHEN e2 >= 52 THEN m * 2::numeric ^ (e2 - 52)
                ELSE m * 5::numeric ^ (52 - e2) * ('1e' || (e2 - 52))::numeric END;
END
$fn$;

-- sqlite3FpDecode()'s decimal exponent: p such that x × 10^p has the wanted digit count.
CREATE OR REPLACE FUNCTION basalt_sqlite_pwr2to10(e int) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
  SELECT floor((e * 78913)::float8 / 262144)::int
$fn$;

-- printf("%06.3f", s): 18 significant digits rounded half up, then 3 decimals half up.
CREATE OR REPLACE FUNCTION basalt_sqlite_sec3(s float8) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  a float8 := abs(s); k float8; ms bigint; ex numeric; e int; p int; dd numeric; body text;
BEGIN
  IF a < 0.0004::float8 THEN
    ms := 0;                                           -- prints as 0.000 however it rounds
  ELSE
    k := round(a * 1000::float8);
    IF k / 1000::float8 = a THEN
      ms := k::bigint;                                 -- the double nearest to k/1000
    ELSE
      SELECT f.exact, f.e2 INTO ex, e FROM basalt_f8_exact(a) f;
      p := 17 - basalt_sqlite_pwr2to10(e);
      dd := floor(ex * ('1e' || p)::numeric + 0.5);
      ms := div(dd + 5 * ('1e' || (p - 4))::numeric, ('1e' || (p - 3))::numeric)::bigint;
    END IF;
  END IF;
  body := (ms / 1000)::text || '.' || lpad((ms % 1000)::text, 3, '0');
  RETURN CASE WHEN s < 0 THEN '-' || lpad(body, 5, '0') ELSE lpad(body, 6, '0') END;
END
$fn$;

-- printf("%.16g", x) for x >= 0: 17 digits truncated, 16 rounded half up, zeros trimmed.
CREATE OR REPLACE FUNCTION basalt_sqlite_g16(x float8) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  ex numeric; e int; p int; dd numeric; digits text; n int; dp int; q numeric; xp int;
BEGIN
  IF x = 0 THEN RETURN '0'; END IF;
  SELECT f.exact, f.e2 INTO ex, e FROM basalt_f8_exact(x) f;
  p := 16 - basalt_sqlite_pwr2to10(e);
  dd := trunc(ex * ('1e' || p)::numeric);
  digits := dd::text;
  n := length(digits);
  dp := n - p;                                         -- digits before the decimal point
  IF n > 16 THEN
    q := div(dd, ('1e' || (n - 16))::numeric);
    IF substr(digits, 17, 1) >= '5' THEN q := q + 1; END IF;
    digits := q::text;
    IF length(digits) > 16 THEN dp := dp + 1; END IF; -- 99…9 rounded up to 100…0
  END IF;
  digits := rtrim(digits, '0');
  n := length(digits);
  xp := dp - 1;
  IF xp < -4 OR xp > 15 THEN
    RETURN left(digits, 1) || CASE WHEN n > 1 THEN '.' || substr(digits, 2) ELSE '' END
      || CASE WHEN xp < 0 THEN 'e-' ELSE 'e+' END || CASE WHEN abs(xp) < 10 THEN '0' ELSE '' END
      || abs(xp)::text;
  ELSIF dp <= 0 THEN
    RETURN '0.' || repeat('0', -dp) || digits;
  ELSIF dp >= n THEN
    RETURN digits || repeat('0', dp - n);
  ELSE
    RETURN left(digits, dp) || '.' || substr(digits, dp + 1);
  END IF;
END
$fn$;

-- daysAfterJan01(): zero-based day of the year (the time of day is kept on both sides).
CREATE OR REPLACE FUNCTION basalt_dt_days_after_jan01(p basalt_dt) RETURNS int
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  jan01 basalt_dt := p;
BEGIN
  jan01.valid_jd := false; jan01.mon := 1; jan01.dy := 1;
  jan01 := basalt_dt_compute_jd(jan01);
  RETURN ((p.ijd - jan01.ijd + 43200000) / 86400000)::int;
END
$fn$;

-- strftimeFunc(): p is a validated state. NULL for an unknown conversion.
CREATE OR REPLACE FUNCTION basalt_dt_format(fmt text, x basalt_dt) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $fn$
DECLARE
  res text := ''; i int := 1; j int; cf text; y basalt_dt; v int; k bigint;
  after_monday int; after_sunday int;
BEGIN
  -- computeJD() and computeYMD_HMS(); the flag tests only save function calls.
  IF NOT x.valid_jd THEN x := basalt_dt_compute_jd(x); END IF;
  IF NOT x.valid_ymd THEN x := basalt_dt_compute_ymd(x); END IF;
  IF NOT x.valid_hms THEN x := basalt_dt_compute_hms(x); END IF;
  after_monday := ((x.ijd + 43200000) / 86400000) % 7;   -- daysAfterMonday(): 0 = Monday
  after_sunday := ((x.ijd + 129600000) / 86400000) % 7;  -- daysAfterSunday(): 0 = Sunday
  LOOP
    j := strpos(substr(fmt, i), '%');
    IF j = 0 THEN RETURN res || substr(fmt, i); END IF;
    res := res || substr(fmt, i, j - 1);
    cf := substr(fmt, i + j, 1);
    i := i + j + 1;
    CASE cf
      WHEN 'd' THEN res := res || basalt_pad(x.dy, 2, true);
      WHEN 'e' THEN res := res || basalt_pad(x.dy, 2, false);
      WHEN 'f' THEN res := res || basalt_sqlite_sec3(least(x.sec, 59.999::float8));
      WHEN 'F' THEN
        res := res || basalt_pad(x.yr, 4, true) || '-' || basalt_pad(x.mon, 2, true) || '-'
          || basalt_pad(x.dy, 2, true);
      WHEN 'G', 'g' THEN                               -- ISO year: the year of the week's Thursday
        y := x;
        y.ijd := y.ijd + (3 - after_monday) * 86400000::bigint;
        y.valid_ymd := false;
        y := basalt_dt_compute_ymd(y);
        res := res || CASE WHEN cf = 'G' THEN basalt_pad(y.yr, 4, true) ELSE basalt_pad(y.yr % 100, 2, true) END;
      WHEN 'H' THEN res := res || basalt_pad(x.hr, 2, true);
      WHEN 'k' THEN res := res || basalt_pad(x.hr, 2, false);
      WHEN 'I', 'l' THEN
        v := x.hr;
        IF v > 12 THEN v := v - 12; END IF;
        IF v = 0 THEN v := 12; END IF;
        res := res || basalt_pad(v, 2, cf = 'I');
      WHEN 'j' THEN res := res || basalt_pad(basalt_dt_days_after_jan01(x) + 1, 3, true);
      WHEN 'J' THEN res := res || basalt_sqlite_g16(x.ijd::float8 / 86400000::float8);
      WHEN 'm' THEN res := res || basalt_pad(x.mon, 2, true);
      WHEN 'M' THEN res := res || basalt_pad(x.mi, 2, true);
      WHEN 'p' THEN res := res || CASE WHEN x.hr >= 12 THEN 'PM' ELSE 'AM' END;
      WHEN 'P' THEN res := res || CASE WHEN x.hr >= 12 THEN 'pm' ELSE 'am' END;
      WHEN 'R' THEN res := res || basalt_pad(x.hr, 2, true) || ':' || basalt_pad(x.mi, 2, true);
      WHEN 's' THEN
        IF x.use_subsec THEN                           -- printf("%.3f", ms / 1000.0)
          k := x.ijd - 210866760000000;
          res := res || CASE WHEN k < 0 THEN '-' ELSE '' END || (abs(k) / 1000)::text || '.'
            || lpad((abs(k) % 1000)::text, 3, '0');
        ELSE
          res := res || (x.ijd / 1000 - 210866760000)::text;
        END IF;
      WHEN 'S' THEN res := res || basalt_pad(trunc(x.sec)::int, 2, true);
      WHEN 'T' THEN
        res := res || basalt_pad(x.hr, 2, true) || ':' || basalt_pad(x.mi, 2, true) || ':'
          || basalt_pad(trunc(x.sec)::int, 2, true);
      WHEN 'u' THEN res := res || CASE WHEN after_sunday = 0 THEN 7 ELSE after_sunday END;
      WHEN 'w' THEN res := res || after_sunday;
      WHEN 'U' THEN                                    -- weeks start on Sunday, week 1 at the first
        res := res || basalt_pad((basalt_dt_days_after_jan01(x) - after_sunday + 7) / 7, 2, true);
      WHEN 'V' THEN                                    -- ISO week: of the week's Thursday
        y := x;
        y.ijd := y.ijd + (3 - after_monday) * 86400000::bigint;
        y.valid_ymd := false;
        y := basalt_dt_compute_ymd(y);
        res := res || basalt_pad(basalt_dt_days_after_jan01(y) / 7 + 1, 2, true);
      WHEN 'W' THEN                                    -- weeks start on Monday, week 1 at the first
        res := res || basalt_pad((basalt_dt_days_after_jan01(x) - after_monday + 7) / 7, 2, true);
      WHEN 'Y' THEN res := res || basalt_pad(x.yr, 4, true);
      WHEN '%' THEN res := res || '%';
      ELSE RETURN NULL;                                -- unknown, or a lone '%' at the end
    END CASE;
  END LOOP;
END
$fn$;
`;
