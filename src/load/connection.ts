import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { ResponseParseError, ResponseParser } from './response-parser.js';

const READ_BUFFER_BYTES = 64 * 1024;

/** What every connection of one load run sends, and where. */
export interface LoadTarget {
  url: URL;
  /** The request's bytes, the same for every request of the run. */
  request: Buffer;
  /** The request is HEAD: its responses carry no body whatever their headers say. */
  bodyless: boolean;
  /** A request fails when its connection stays silent this long (connecting, waiting, or mid-body), as checkSilence sees it. */
  timeoutMs: number;
}

export interface ConnectionEvents {
  /** The response is complete; the connection is free for the next request (it may be sent from here). */
  response(connection: LoadConnection, status: number, bodyBytes: number): void;
  /** The request failed (`code` says how); the connection is closed and reconnects on its next send. */
  failure(connection: LoadConnection, code: string): void;
}

/** The request line and Host header, the only header: what wrk sends too. */
export function encodeRequest(method: 'GET' | 'HEAD', url: URL, host?: string): Buffer {
  return Buffer.from(`${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${host ?? url.host}\r\n\r\n`, 'latin1');
}

/**
 * One keep-alive HTTP/1.1 connection that sends the run's request and reads its response, one at a
 * time, with nothing allocated per request beyond what the socket reads. Dialled on the first send
 * and again after the server closes it or a request fails on it.
 */
export class LoadConnection {
  /** A request is waiting for its response. */
  busy = false;
  private socket: Socket | undefined;
  private readonly parser = new ResponseParser();
  /** Sends and reads so far, and the count and time checkSilence last saw it change. */
  private activity = 0;
  private activitySeen = 0;
  private quietSince = 0;

  constructor(
    readonly index: number,
    private readonly target: LoadTarget,
    private readonly events: ConnectionEvents,
  ) {}

  send(): void {
    this.activity += 1;
    this.busy = true;
    this.parser.reset(this.target.bodyless);
    // A socket still connecting queues the write.
    (this.socket ??= this.open()).write(this.target.request);
  }

  /** Closes the connection; a request in flight is dropped without an event (the caller counts it). */
  close(): void {
    this.busy = false;
    if (this.socket) this.detach(this.socket);
  }

  /**
   * Fails the request in flight once nothing was sent or read for the target's timeout, give or take
   * the interval between calls. A run calls it for all its connections on one timer: a socket
   * timeout re-armed on every read and write cost about a tenth of the client's CPU per request.
   */
  checkSilence(now: number): void {
    if (!this.busy || this.activity !== this.activitySeen) {
      this.activitySeen = this.activity;
      this.quietSince = now;
    } else if (now - this.quietSince >= this.target.timeoutMs) {
      if (this.socket) this.detach(this.socket);
      this.fail('ETIMEDOUT');
    }
  }

  private open(): Socket {
    const { url } = this.target;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    let socket: Socket;
    if (url.protocol === 'https:') {
      socket = connectTls({ host, port });
      socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    } else {
      // Reads land in one buffer per connection, handed over without a stream 'data' event: the
      // per-read allocation and stream bookkeeping were a large part of the client's CPU per request.
      const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      const callback = (length: number) => {
        this.onData(socket, readBuffer.subarray(0, length));
        return true; // false would pause the socket
      };
      socket = connectTcp({ host, port, onread: { buffer: readBuffer, callback } });
    }
    socket.setNoDelay(true);
    socket.on('error', (error: NodeJS.ErrnoException) => this.onSocketError(socket, error.code ?? error.name));
    socket.on('end', () => this.onPeerClose(socket));
    socket.on('close', () => this.onPeerClose(socket));
    return socket;
  }

  private detach(socket: Socket): void {
    if (this.socket === socket) this.socket = undefined;
    socket.destroy();
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (this.socket !== socket) return;
    this.activity += 1;
    if (!this.busy) {
      // Bytes nobody asked for (e.g. a 408 before an idle close): the stream is out of step.
      this.detach(socket);
      return;
    }
    let end: number;
    try {
      end = this.parser.execute(chunk);
    } catch (error) {
      this.detach(socket);
      this.fail(error instanceof ResponseParseError ? error.code : 'HPE_INVALID_RESPONSE');
      return;
    }
    if (!this.parser.done) return;
    // Bytes after the response are out of step too: the response counts, the connection does not stay.
    if (!this.parser.keepAlive || end < chunk.length) this.detach(socket);
    this.complete();
  }

  private onSocketError(socket: Socket, code: string): void {
    if (this.socket !== socket) return;
    this.detach(socket);
    // An idle keep-alive connection reset is simply gone; the next send dials again.
    if (this.busy) this.fail(code);
  }

  private onPeerClose(socket: Socket): void {
    if (this.socket !== socket) return;
    this.detach(socket);
    if (!this.busy) return;
    if (this.parser.finishOnClose()) this.complete();
    else this.fail('ECONNRESET');
  }

  private complete(): void {
    this.busy = false;
    this.events.response(this, this.parser.status, this.parser.bodyBytes);
  }

  private fail(code: string): void {
    this.busy = false;
    this.events.failure(this, code);
  }
}
