/**
 * The load generator's HTTP/1.x response parser: each framing (Content-Length, chunked, read until
 * close, none for HEAD, 204 and 304) ends the response at its last byte, interim 1xx answers are
 * skipped, keep-alive follows the version and the Connection header, broken framing is an error with
 * a code, and however the bytes are split across reads the result is the same.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MAX_HEAD_BYTES, ResponseParseError, ResponseParser } from '../../src/load/response-parser.js';

interface Parsed {
  status: number;
  bodyBytes: number;
  keepAlive: boolean;
  /** Bytes of the input the response took. */
  consumed: number;
  done: boolean;
}

/** Feeds `pieces` in order until the response is done; what it consumed counts across pieces. */
function parse(pieces: Buffer[], bodyless = false, closeAtEnd = false): Parsed {
  const parser = new ResponseParser();
  parser.reset(bodyless);
  let consumed = 0;
  for (const piece of pieces) {
    consumed += parser.execute(piece);
    if (parser.done) break;
  }
  if (closeAtEnd && !parser.done) parser.finishOnClose();
  return { status: parser.status, bodyBytes: parser.bodyBytes, keepAlive: parser.keepAlive, consumed, done: parser.done };
}

const bytes = (text: string) => Buffer.from(text, 'latin1');

/** The code of the ResponseParseError `work` throws. */
function parseErrorCode(work: () => void): string {
  try {
    work();
  } catch (error) {
    if (error instanceof ResponseParseError) return error.code;
    throw error;
  }
  throw new Error('no ResponseParseError');
}

describe('framing', () => {
  it('ends a Content-Length body at its last byte and leaves what follows', () => {
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
    expect(parse([bytes(`${response}HTTP/1.1 ...`)])).toEqual({ status: 200, bodyBytes: 5, keepAlive: true, consumed: response.length, done: true });
  });

  it('reads header names in any case and a Content-Length between blanks', () => {
    const response = 'HTTP/1.1 200 OK\r\nCONTENT-LENGTH: \t5 \r\nCoNNecTion:  CLOSE\r\n\r\nhello';
    expect(parse([bytes(response)])).toEqual({ status: 200, bodyBytes: 5, keepAlive: false, consumed: response.length, done: true });
  });

  it('counts the data of a chunked body, not its framing, and reads chunk extensions and trailers', () => {
    const response = 'HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n4;name=x\r\nabcd\r\nA\r\n0123456789\r\n0\r\nx-checksum: 1\r\n\r\n';
    expect(parse([bytes(response)])).toEqual({ status: 201, bodyBytes: 14, keepAlive: true, consumed: response.length, done: true });
  });

  it('frames by Transfer-Encoding chunked over a Content-Length that came with it', () => {
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    expect(parse([bytes(response)])).toMatchObject({ bodyBytes: 3, done: true, consumed: response.length });
  });

  it('reads a body without length until the connection closes, and that connection is not kept', () => {
    const pieces = [bytes('HTTP/1.1 200 OK\r\n\r\nsome'), bytes(' more')];
    expect(parse(pieces)).toMatchObject({ status: 200, bodyBytes: 9, done: false });
    expect(parse(pieces, false, true)).toMatchObject({ status: 200, bodyBytes: 9, keepAlive: false, done: true });
  });

  it('a close before a Content-Length body is complete does not complete it', () => {
    const parser = new ResponseParser();
    parser.reset(false);
    parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort'));
    expect(parser.finishOnClose()).toBe(false);
  });

  it('takes no body after a HEAD request whatever Content-Length says', () => {
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n';
    expect(parse([bytes(response)], true)).toEqual({ status: 200, bodyBytes: 0, keepAlive: true, consumed: response.length, done: true });
  });

  it.each([204, 304])('takes no body after %i', (status) => {
    const response = `HTTP/1.1 ${status} X\r\n\r\n`;
    expect(parse([bytes(`${response}HTTP`)])).toMatchObject({ status, bodyBytes: 0, consumed: response.length, done: true });
  });

  it('skips interim 1xx answers and reports the final response', () => {
    const response = 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno';
    expect(parse([bytes(response)])).toEqual({ status: 404, bodyBytes: 2, keepAlive: true, consumed: response.length, done: true });
  });
});

describe('keep-alive', () => {
  it.each([
    ['HTTP/1.1', '', true],
    ['HTTP/1.1', 'Connection: close\r\n', false],
    ['HTTP/1.1', 'connection: Upgrade, Close\r\n', false],
    ['HTTP/1.0', '', false],
    ['HTTP/1.0', 'Connection: keep-alive\r\n', true],
  ])('%s with %j: kept %s', (version, header, kept) => {
    expect(parse([bytes(`${version} 200 OK\r\n${header}Content-Length: 0\r\n\r\n`)]).keepAlive).toBe(kept);
  });
});

describe('broken responses are errors with a code', () => {
  it.each([
    ['a status line that is not HTTP/1.x', 'HTTP/2 200\r\n\r\n', 'HPE_INVALID_RESPONSE'],
    ['a status line without a 3-digit code', 'HTTP/1.1 20 OK\r\n\r\n', 'HPE_INVALID_RESPONSE'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nno colon\r\n\r\n', 'HPE_INVALID_RESPONSE'],
    ['two different Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 'HPE_INVALID_RESPONSE'],
    ['a Content-Length that is not a number', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'HPE_INVALID_RESPONSE'],
    ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HPE_INVALID_RESPONSE'],
    ['chunk data longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n', 'HPE_INVALID_RESPONSE'],
    ['101 Switching Protocols', 'HTTP/1.1 101 Switching Protocols\r\n\r\n', 'HPE_INVALID_RESPONSE'],
    ['a head without end beyond the limit', `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`, 'HPE_HEADER_OVERFLOW'],
  ])('%s', (_what, response, code) => {
    const parser = new ResponseParser();
    parser.reset(false);
    expect(parseErrorCode(() => parser.execute(bytes(response)))).toBe(code);
  });

  it('refuses a head that grows past the limit across many reads', () => {
    const parser = new ResponseParser();
    parser.reset(false);
    parser.execute(bytes('HTTP/1.1 200 OK\r\n'));
    const line = bytes(`X: ${'a'.repeat(1000)}\r\n`);
    const code = parseErrorCode(() => {
      for (let i = 0; i < MAX_HEAD_BYTES / line.length + 2; i += 1) parser.execute(line);
    });
    expect(code).toBe('HPE_HEADER_OVERFLOW');
  });
});

/** A response as a server may frame it, with the result the parser must give. */
const responses = fc
  .record({
    status: fc.constantFrom(200, 201, 301, 404, 500, 503),
    version: fc.constantFrom('1.0', '1.1'),
    framing: fc.constantFrom('length', 'chunked', 'close'),
    chunks: fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 5 }),
    interim: fc.boolean(),
    connectionClose: fc.boolean(),
    extraHeaders: fc.array(fc.constantFrom('Server: x\r\n', 'X-Long: ' + 'v'.repeat(200) + '\r\n', 'Date: now\r\n'), { maxLength: 3 }),
  })
  .map(({ status, version, framing, chunks, interim, connectionClose, extraHeaders }) => {
    const size = chunks.reduce((a, b) => a + b, 0);
    let head = `HTTP/${version} ${status} Reason\r\n${extraHeaders.join('')}`;
    if (connectionClose) head += 'Connection: close\r\n';
    let body = '';
    if (framing === 'length') {
      head += `Content-Length: ${size}\r\n`;
      body = 'b'.repeat(size);
    } else if (framing === 'chunked') {
      head += 'Transfer-Encoding: chunked\r\n';
      body = chunks.map((n) => `${n.toString(16)}\r\n${'c'.repeat(n)}\r\n`).join('') + '0\r\n\r\n';
    } else {
      body = 'd'.repeat(size);
    }
    const text = `${interim ? 'HTTP/1.1 100 Continue\r\n\r\n' : ''}${head}\r\n${body}`;
    const keepAlive = framing !== 'close' && !connectionClose && version === '1.1';
    return { text, expected: { status, bodyBytes: size, keepAlive, consumed: text.length, done: true } };
  });

/** Cut points that split a text into reads of any size, down to one byte. */
const splits = (length: number) => fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, length - 1) }), { maxLength: 40 }).map((cuts) => cuts.sort((a, b) => a - b));

function split(text: string, cuts: number[]): Buffer[] {
  const all = bytes(text);
  const points = [0, ...cuts.filter((c) => c < all.length), all.length];
  return points.slice(1).map((end, i) => all.subarray(points[i], end));
}

describe('reads split anywhere', () => {
  it('give the same status, body bytes, keep-alive and end as one read', () => {
    fc.assert(
      fc.property(
        responses.chain((r) => fc.tuple(fc.constant(r), splits(r.text.length))),
        ([{ text, expected }, cuts]) => {
          const framedByClose = !/\r\n(Content-Length|Transfer-Encoding):/i.test(text);
          expect(parse(split(text, cuts), false, framedByClose)).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a stream of responses, each parsed after the last, ends every one at its own last byte', () => {
    const kept = responses.filter((r) => r.expected.keepAlive);
    fc.assert(
      fc.property(fc.array(kept, { minLength: 1, maxLength: 6 }).chain((rs) => fc.tuple(fc.constant(rs), splits(rs.map((r) => r.text).join('').length))), ([rs, cuts]) => {
        const parser = new ResponseParser();
        const seen: Array<{ status: number; bodyBytes: number }> = [];
        parser.reset(false);
        for (const piece of split(rs.map((r) => r.text).join(''), cuts)) {
          let at = 0;
          while (at < piece.length) {
            at = parser.execute(piece, at);
            if (parser.done) {
              seen.push({ status: parser.status, bodyBytes: parser.bodyBytes });
              parser.reset(false);
            }
          }
        }
        expect(seen).toEqual(rs.map((r) => ({ status: r.expected.status, bodyBytes: r.expected.bodyBytes })));
      }),
      { numRuns: 300 },
    );
  });
});
