/**
 * The benchmark's local HTTP sink endpoint, run as its own process: counts
 * NDJSON lines POSTed to it; GET /count answers the total. Prints its port.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let lines = 0;
const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.end(String(lines));
    return;
  }
  let n = 0;
  req.on('data', (d: Buffer) => {
    for (const b of d) if (b === 10) n++;
  });
  req.on('end', () => {
    lines += n;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
