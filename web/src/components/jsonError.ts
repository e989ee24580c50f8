// Where JSON text breaks, as "line L, column C: what", for messages that
// tell the user where to look. Browsers' JSON.parse messages do not all
// carry a position, so the text is scanned here.

/** Describes the first syntax error in text, or '' when it is valid JSON. */
export function jsonSyntaxError(text: string): string {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxAt(i, what);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`expected a value, found ${found()}`);
  };
  const found = () => (i >= text.length ? 'the end of the text' : `"${text[i]}"`);
  const string = () => {
    i++; // the opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('a \\u escape needs four hex digits');
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? '')) fail(`unknown escape \\${text[i] ?? ''}`);
      } else if (text.charCodeAt(i) < 0x20) fail('a line break or control character inside a string: close the string first or write \\n');
      i++;
    }
    if (i >= text.length) fail('a string is not closed: add the closing "');
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail(`expected a value, found ${found()}`);
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    if (c === "'") fail("strings take double quotes (\"), not single ones");
    fail(`expected a value, found ${found()}`);
  };
  const object = () => {
    i++;
    ws();
    if (text[i] === '}') return void i++;
    for (;;) {
      ws();
      if (text[i] !== '"') fail(text[i] === '}' ? 'a comma before "}": remove it' : `expected a field name in double quotes, found ${found()}`);
      string();
      ws();
      if (text[i] !== ':') fail(`expected ":" after the field name, found ${found()}`);
      i++;
      value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') return void i++;
      fail(`expected "," or "}", found ${found()}`);
    }
  };
  const array = () => {
    i++;
    ws();
    if (text[i] === ']') return void i++;
    for (;;) {
      ws();
      if (text[i] === ']') fail('a comma before "]": remove it');
      value();
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') return void i++;
      fail(`expected "," or "]", found ${found()}`);
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${found()} after the value`);
    return '';
  } catch (e) {
    if (!(e instanceof SyntaxAt)) throw e;
    const before = text.slice(0, e.offset);
    const line = before.split('\n').length;
    const col = e.offset - before.lastIndexOf('\n');
    return `line ${line}, column ${col}: ${e.what}`;
  }
}

class SyntaxAt extends Error {
  constructor(
    readonly offset: number,
    readonly what: string,
  ) {
    super(what);
  }
}
