// A pushdown recogniser for prefixes of JSON text (RFC 8259). It never builds
// values and never looks at a parser's error message, whose wording differs
// between Node versions.

enum S {
  /** Expecting a value (top level, after `:`, after `,` in an array). */
  Value,
  /** Just after `[`: a value or `]`. */
  ValueOrEnd,
  /** Just after `{`: a key or `}`. */
  KeyOrEnd,
  /** After `,` in an object: a key. */
  Key,
  /** After a key: `:`. */
  Colon,
  /** After a value inside a container: `,` or the closing bracket. */
  AfterValue,
  /** Inside a string. */
  Str,
  /** After a backslash in a string. */
  StrEscape,
  /** Inside `\uXXXX`; `hex` counts the digits read. */
  StrHex,
  /** After `-`. */
  Minus,
  /** After a leading `0`. */
  Zero,
  /** In the integer digits (1-9 first). */
  Int,
  /** After `.`. */
  FracStart,
  /** In the fraction digits. */
  Frac,
  /** After `e`/`E`. */
  ExpStart,
  /** After the exponent's sign. */
  ExpSign,
  /** In the exponent digits. */
  Exp,
  /** Inside `true`, `false` or `null`. */
  Literal,
  /** The top-level value is complete: only whitespace may follow. */
  Done,
}

enum Result {
  Complete,
  Incomplete,
  Invalid,
}

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

const ESCAPES = new Set([...'"\\/bfnrtu'].map((ch) => ch.charCodeAt(0)));

function scan(text: string): Result {
  // Containers still open: true for an object, false for an array.
  const stack: boolean[] = [];
  let state: S = S.Value;
  let stringIsKey = false;
  let hex = 0;
  let literal = '';
  let literalPos = 0;
  let sawValue = false;

  const endOfValue = (): S => (stack.length === 0 ? S.Done : S.AfterValue);

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Numbers end at the first character that cannot continue them; that
    // character is then read again in the state after the number.
    let again = true;
    while (again) {
      again = false;
      switch (state) {
        case S.Value:
        case S.ValueOrEnd:
          if (isWhitespace(c)) break;
          if (c === 0x5d /* ] */ && state === S.ValueOrEnd) {
            stack.pop();
            state = endOfValue();
            break;
          }
          sawValue = true;
          if (c === 0x7b /* { */) {
            stack.push(true);
            state = S.KeyOrEnd;
          } else if (c === 0x5b /* [ */) {
            stack.push(false);
            state = S.ValueOrEnd;
          } else if (c === 0x22 /* " */) {
            stringIsKey = false;
            state = S.Str;
          } else if (c === 0x2d /* - */) {
            state = S.Minus;
          } else if (c === 0x30 /* 0 */) {
            state = S.Zero;
          } else if (isDigit(c)) {
            state = S.Int;
          } else if (c === 0x74 /* t */ || c === 0x66 /* f */ || c === 0x6e /* n */) {
            literal = c === 0x74 ? 'true' : c === 0x66 ? 'false' : 'null';
            literalPos = 1;
            state = S.Literal;
          } else {
            return Result.Invalid;
          }
          break;
        case S.KeyOrEnd:
        case S.Key:
          if (isWhitespace(c)) break;
          if (c === 0x7d /* } */ && state === S.KeyOrEnd) {
            stack.pop();
            state = endOfValue();
          } else if (c === 0x22) {
            stringIsKey = true;
            state = S.Str;
          } else {
            return Result.Invalid;
          }
          break;
        case S.Colon:
          if (isWhitespace(c)) break;
          if (c !== 0x3a /* : */) return Result.Invalid;
          state = S.Value;
          break;
        case S.AfterValue: {
          if (isWhitespace(c)) break;
          const inObject = stack[stack.length - 1] === true;
          if (c === 0x2c /* , */) {
            state = inObject ? S.Key : S.Value;
          } else if ((c === 0x7d && inObject) || (c === 0x5d && !inObject)) {
            stack.pop();
            state = endOfValue();
          } else {
            return Result.Invalid;
          }
          break;
        }
        case S.Str:
          if (c === 0x22) {
            state = stringIsKey ? S.Colon : endOfValue();
          } else if (c === 0x5c /* \ */) {
            state = S.StrEscape;
          } else if (c < 0x20) {
            return Result.Invalid;
          }
          break;
        case S.StrEscape:
          if (!ESCAPES.has(c)) return Result.Invalid;
          if (c === 0x75 /* u */) {
            hex = 0;
            state = S.StrHex;
          } else {
            state = S.Str;
          }
          break;
        case S.StrHex:
          if (!isHex(c)) return Result.Invalid;
          hex++;
          if (hex === 4) state = S.Str;
          break;
        case S.Minus:
          if (c === 0x30) state = S.Zero;
          else if (isDigit(c)) state = S.Int;
          else return Result.Invalid;
          break;
        case S.Zero:
        case S.Int:
        case S.Frac:
        case S.Exp:
          if (isDigit(c) && state !== S.Zero) break;
          if (c === 0x2e /* . */ && (state === S.Zero || state === S.Int)) {
            state = S.FracStart;
          } else if ((c === 0x65 || c === 0x45) /* e E */ && state !== S.Exp) {
            state = S.ExpStart;
          } else {
            state = endOfValue();
            again = true;
          }
          break;
        case S.FracStart:
          if (!isDigit(c)) return Result.Invalid;
          state = S.Frac;
          break;
        case S.ExpStart:
          if (c === 0x2b || c === 0x2d /* + - */) state = S.ExpSign;
          else if (isDigit(c)) state = S.Exp;
          else return Result.Invalid;
          break;
        case S.ExpSign:
          if (!isDigit(c)) return Result.Invalid;
          state = S.Exp;
          break;
        case S.Literal:
          if (c !== literal.charCodeAt(literalPos)) return Result.Invalid;
          literalPos++;
          if (literalPos === literal.length) state = endOfValue();
          break;
        case S.Done:
          if (!isWhitespace(c)) return Result.Invalid;
          break;
      }
    }
  }
  if (!sawValue) return Result.Invalid;
  if (state === S.Done) return Result.Complete;
  // A number at the top level is complete when it ends in a digit.
  if (
    stack.length === 0 &&
    (state === S.Zero || state === S.Int || state === S.Frac || state === S.Exp)
  ) {
    return Result.Complete;
  }
  return Result.Incomplete;
}

/**
 * `true` when `text` is a truncated JSON value: a prefix of some valid JSON
 * text that is not itself complete, so a parser would run out of input. This
 * is what a write torn by a crash leaves behind.
 *
 * - `'{"url":"https://a'`, `'[1,2'`, `'tru'`, `'-'`, `'1e'` → `true`.
 * - Complete JSON (`'{"a":1}'`, `'12'`) → `false`. A top-level number such as
 *   `'12'` is complete even though it is also a prefix of `'123'`.
 * - Anything no JSON text starts with (`'{"a":1}x'`, `'{a'`, a control
 *   character in a string, a NUL byte) → `false`.
 * - Empty or whitespace-only text → `false`: nothing was written.
 *
 * It runs a small pushdown automaton over the text in O(length); it does not
 * depend on `JSON.parse` or its error messages.
 *
 * @example
 * ```ts
 * isTruncatedJsonPrefix('{"url":"https://exa'); // true
 * isTruncatedJsonPrefix('{"url":1}');           // false (complete)
 * isTruncatedJsonPrefix('{"url":1}}');          // false (invalid)
 * ```
 */
export function isTruncatedJsonPrefix(text: string): boolean {
  return scan(text) === Result.Incomplete;
}
