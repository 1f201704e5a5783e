/**
 * An incremental HTTP/1.x response parser for the load generator's keep-alive connections: it
 * finds where each response ends (Content-Length, chunked, or the connection closing) and counts
 * body bytes without keeping them. Headers other than the framing ones are not kept either.
 */

/** A response the parser cannot frame; the connection it came on is unusable after it. */
export class ResponseParseError extends Error {
  constructor(
    message: string,
    readonly code: 'HPE_INVALID_RESPONSE' | 'HPE_HEADER_OVERFLOW',
  ) {
    super(message);
    this.name = 'ResponseParseError';
  }
}

/** Larger heads are refused rather than buffered without bound. */
export const MAX_HEAD_BYTES = 64 * 1024;
const HTTP_1 = Buffer.from('HTTP/1.');
const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const COLON = 0x3a;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const TAB = 0x09;
const CONTENT_LENGTH = Buffer.from('content-length');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding');
const CONNECTION = Buffer.from('connection');
const KEEP_ALIVE = Buffer.from('keep-alive');
const CLOSE = Buffer.from('close');
/** Chunk-size lines and trailer lines are short; a longer one is a broken stream. */
const MAX_LINE_BYTES = 8 * 1024;

type State = 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'chunk-data-end' | 'trailers' | 'body-until-close' | 'done';

export class ResponseParser {
  /** The final response's status, once its head is parsed. */
  status = 0;
  /** Body bytes so far (chunked: the data, not the framing). */
  bodyBytes = 0;
  /** Whether the connection may carry another request after this response. */
  keepAlive = true;

  private state: State = 'head';
  private bodyless = false;
  /** Bytes left in a Content-Length body or the current chunk. */
  private remaining = 0;
  /** A head or line that spans reads, copied (a socket may reuse its read buffer). */
  private partial: Buffer | undefined;

  /** Expects a new response; `bodyless` when it answers a HEAD request. */
  reset(bodyless: boolean): void {
    this.state = 'head';
    this.bodyless = bodyless;
    this.status = 0;
    this.bodyBytes = 0;
    this.keepAlive = true;
    this.remaining = 0;
    this.partial = undefined;
  }

  /** True once the final (non-1xx) response is complete. */
  get done(): boolean {
    return this.state === 'done';
  }

  /**
   * Parses `chunk` from `start`. Returns the index after the last byte it consumed: the chunk's
   * length, or where the response ended (`done`), so the caller can tell bytes that follow it.
   */
  execute(chunk: Buffer, start = 0): number {
    let at = start;
    while (at < chunk.length && this.state !== 'done') {
      switch (this.state) {
        case 'head':
          at = this.readHead(chunk, at);
          break;
        case 'body':
        case 'chunk-data': {
          const take = Math.min(this.remaining, chunk.length - at);
          this.remaining -= take;
          this.bodyBytes += take;
          at += take;
          if (this.remaining === 0) this.state = this.state === 'body' ? 'done' : 'chunk-data-end';
          break;
        }
        case 'body-until-close':
          this.bodyBytes += chunk.length - at;
          at = chunk.length;
          break;
        case 'chunk-size':
        case 'chunk-data-end':
        case 'trailers':
          at = this.readLine(chunk, at);
          break;
      }
    }
    return at;
  }

  /** The peer closed the connection: true when that completes the response (a body read until close). */
  finishOnClose(): boolean {
    if (this.state === 'body-until-close') this.state = 'done';
    return this.state === 'done';
  }

  private readHead(chunk: Buffer, at: number): number {
    let source = chunk;
    let from = at;
    if (this.partial) {
      source = Buffer.concat([this.partial, chunk.subarray(at)]);
      from = 0;
    }
    const end = headEnd(source, from);
    if (end < 0) {
      if (source.length - from > MAX_HEAD_BYTES) throw new ResponseParseError(`response head over ${MAX_HEAD_BYTES} bytes`, 'HPE_HEADER_OVERFLOW');
      this.partial = Buffer.from(source.subarray(from));
      return chunk.length;
    }
    if (end - from > MAX_HEAD_BYTES) throw new ResponseParseError(`response head over ${MAX_HEAD_BYTES} bytes`, 'HPE_HEADER_OVERFLOW');
    // Where the head ends in `chunk` itself: `source` may start with bytes of an earlier read.
    const consumedOfChunk = end + 4 - from - (this.partial?.length ?? 0);
    this.partial = undefined;
    this.parseHead(source, from, end);
    return at + consumedOfChunk;
  }

  /** The head's bytes are read in place; only the framing headers become strings. */
  private parseHead(head: Buffer, from: number, end: number): void {
    let eol = lineEnd(head, from, end);
    const status = statusCode(head, from, eol);
    let keepAlive = head[from + 7] === DIGIT_1;
    let contentLength: number | undefined;
    let chunked = false;
    for (let at = eol + 2; at < end; at = eol + 2) {
      eol = lineEnd(head, at, end);
      const colon = indexOfByte(head, COLON, at, eol);
      if (colon <= at) throw new ResponseParseError(`malformed header line: ${JSON.stringify(head.toString('latin1', at, Math.min(eol, at + 64)))}`, 'HPE_INVALID_RESPONSE');
      // Only Content-Length, Connection and Transfer-Encoding frame the body; the rest are skipped unread.
      if (equalsIgnoringCase(head, at, colon, CONTENT_LENGTH)) {
        const length = decimal(head, colon + 1, eol);
        if (Number.isNaN(length) || (contentLength !== undefined && contentLength !== length)) {
          throw new ResponseParseError(`invalid Content-Length: ${JSON.stringify(head.toString('latin1', colon + 1, eol).trim())}`, 'HPE_INVALID_RESPONSE');
        }
        contentLength = length;
        continue;
      }
      if (equalsIgnoringCase(head, at, colon, TRANSFER_ENCODING)) {
        // Only the last coding frames the body (RFC 9112 6.1).
        chunked = head.toString('latin1', colon + 1, eol).toLowerCase().split(',').at(-1)!.trim() === 'chunked';
      } else if (equalsIgnoringCase(head, at, colon, CONNECTION)) {
        keepAlive = connectionKeepsAlive(head, colon + 1, eol, keepAlive);
      }
    }
    // 1xx answers are interim (103 Early Hints, 100 Continue): the final response follows.
    if (status >= 100 && status < 200) {
      if (status === 101) throw new ResponseParseError('101 Switching Protocols to a load request', 'HPE_INVALID_RESPONSE');
      return;
    }
    this.status = status;
    this.keepAlive = keepAlive;
    if (this.bodyless || status === 204 || status === 304) {
      this.state = 'done';
    } else if (chunked) {
      this.state = 'chunk-size';
    } else if (contentLength !== undefined) {
      this.remaining = contentLength;
      this.state = contentLength === 0 ? 'done' : 'body';
    } else {
      this.keepAlive = false;
      this.state = 'body-until-close';
    }
  }

  /** Reads one line (chunk size, the CRLF after chunk data, or a trailer) when it is complete. */
  private readLine(chunk: Buffer, at: number): number {
    const lf = chunk.indexOf(LF, at);
    const piece = chunk.subarray(at, lf < 0 ? chunk.length : lf);
    const line = this.partial ? Buffer.concat([this.partial, piece]) : piece;
    if (line.length > MAX_LINE_BYTES) throw new ResponseParseError('chunked framing line too long', 'HPE_INVALID_RESPONSE');
    if (lf < 0) {
      this.partial = Buffer.from(line);
      return chunk.length;
    }
    this.partial = undefined;
    if (line.length === 0 || line[line.length - 1] !== 0x0d) throw new ResponseParseError('chunked framing line without CRLF', 'HPE_INVALID_RESPONSE');
    this.onLine(line.toString('latin1', 0, line.length - 1));
    return lf + 1;
  }

  private onLine(text: string): void {
    switch (this.state) {
      case 'chunk-size': {
        const size = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(text);
        if (!size) throw new ResponseParseError(`invalid chunk size: ${JSON.stringify(text.slice(0, 64))}`, 'HPE_INVALID_RESPONSE');
        this.remaining = parseInt(size[1]!, 16);
        this.state = this.remaining === 0 ? 'trailers' : 'chunk-data';
        return;
      }
      case 'chunk-data-end':
        if (text !== '') throw new ResponseParseError('chunk data longer than its size', 'HPE_INVALID_RESPONSE');
        this.state = 'chunk-size';
        return;
      case 'trailers':
        if (text === '') this.state = 'done';
        return;
    }
  }
}

// Plain loops over a head's few hundred bytes: Buffer.indexOf per line cost more in call overhead than it saved.

/** The index of `byte` in head[at, end), or -1. */
function indexOfByte(head: Buffer, byte: number, at: number, end: number): number {
  for (let i = at; i < end; i += 1) if (head[i] === byte) return i;
  return -1;
}

function startsWith(head: Buffer, at: number, prefix: Buffer): boolean {
  for (let i = 0; i < prefix.length; i += 1) if (head[at + i] !== prefix[i]) return false;
  return true;
}

/** Whether head[from, to) is `lowercase`, in any case. */
function equalsIgnoringCase(head: Buffer, from: number, to: number, lowercase: Buffer): boolean {
  if (to - from !== lowercase.length) return false;
  for (let i = 0; i < lowercase.length; i += 1) {
    const byte = head[from + i]!;
    if ((byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte) !== lowercase[i]) return false;
  }
  return true;
}

const isBlank = (byte: number | undefined) => byte === SPACE || byte === TAB;

function firstNonBlank(head: Buffer, from: number, to: number): number {
  let at = from;
  while (at < to && isBlank(head[at])) at += 1;
  return at;
}

function afterLastNonBlank(head: Buffer, from: number, to: number): number {
  let at = to;
  while (at > from && isBlank(head[at - 1])) at -= 1;
  return at;
}

/** The decimal number in head[from, to) between optional blanks (1 to 15 digits), or NaN. */
function decimal(head: Buffer, from: number, to: number): number {
  const start = firstNonBlank(head, from, to);
  const end = afterLastNonBlank(head, start, to);
  if (end === start || end - start > 15) return NaN;
  let value = 0;
  for (let i = start; i < end; i += 1) {
    if (!isDigit(head[i])) return NaN;
    value = value * 10 + (head[i]! - DIGIT_0);
  }
  return value;
}

/** Keep-alive after a Connection header with value head[from, to): `close` ends it, `keep-alive` keeps it, else `current`. */
function connectionKeepsAlive(head: Buffer, from: number, to: number, current: boolean): boolean {
  const start = firstNonBlank(head, from, to);
  const end = afterLastNonBlank(head, start, to);
  // A single token, by far the usual value, is read in place.
  if (equalsIgnoringCase(head, start, end, KEEP_ALIVE)) return true;
  if (equalsIgnoringCase(head, start, end, CLOSE)) return false;
  const tokens = head.toString('latin1', start, end).toLowerCase().split(',').map((token) => token.trim());
  if (tokens.includes('close')) return false;
  return tokens.includes('keep-alive') || current;
}

/** Where the empty line that ends a head starts (at its CRLFCRLF), or -1. */
function headEnd(source: Buffer, from: number): number {
  for (let i = from + 3; i < source.length; i += 1) {
    if (source[i] === LF && source[i - 1] === CR && source[i - 2] === LF && source[i - 3] === CR) return i - 3;
  }
  return -1;
}

/** Where the line starting at `at` ends (its CRLF), the head's end at the latest. */
function lineEnd(head: Buffer, at: number, end: number): number {
  for (let i = at; i < end; i += 1) if (head[i] === CR && head[i + 1] === LF) return i;
  return end;
}

const isDigit = (byte: number | undefined) => byte !== undefined && byte >= DIGIT_0 && byte <= DIGIT_0 + 9;

/** The status of `HTTP/1.x NNN reason` in head[from, eol). */
function statusCode(head: Buffer, from: number, eol: number): number {
  const version = head[from + 7];
  const valid =
    eol - from >= 12 &&
    startsWith(head, from, HTTP_1) &&
    (version === DIGIT_0 || version === DIGIT_1) &&
    head[from + 8] === SPACE &&
    isDigit(head[from + 9]) &&
    isDigit(head[from + 10]) &&
    isDigit(head[from + 11]) &&
    (eol === from + 12 || head[from + 12] === SPACE);
  if (!valid) throw new ResponseParseError(`not an HTTP/1.x status line: ${JSON.stringify(head.toString('latin1', from, Math.min(eol, from + 64)))}`, 'HPE_INVALID_RESPONSE');
  return (head[from + 9]! - DIGIT_0) * 100 + (head[from + 10]! - DIGIT_0) * 10 + (head[from + 11]! - DIGIT_0);
}
