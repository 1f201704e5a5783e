/**
 * bench:load's server under test, in a process of its own so that no load generator shares its event
 * loop: answers every request with the same body on 127.0.0.1, sends its port to the parent over
 * IPC, and exits when the parent goes.
 *   node dist/bench/load-target.js BODY_BYTES
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const body = Buffer.alloc(Number(process.argv[2] ?? 4096), 'x');
const server = createServer((_request, response) => response.end(body));
server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
process.on('disconnect', () => process.exit(0));
