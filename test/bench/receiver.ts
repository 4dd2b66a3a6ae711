/**
 * The benchmark's local HEC endpoint, run as its own process: accepts
 * POST /services/collector/event (gzip or plain), counts the distinct events by
 * their `mltrail_id` indexed field and answers as HEC does; GET /count answers
 * `distinct duplicates`. Prints its port on the first line.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

const MARK = Buffer.from('"mltrail_id":"');
const seen = new Set<string>();
let duplicates = 0;

function count(buf: Buffer): void {
  for (let i = buf.indexOf(MARK); i !== -1; i = buf.indexOf(MARK, i + MARK.length)) {
    const start = i + MARK.length;
    const id = buf.toString('latin1', start, buf.indexOf(34, start));
    if (seen.has(id)) duplicates++;
    else seen.add(id);
  }
}

const server = createServer((req, res) => {
  if (req.method === 'GET') {
    res.end(`${seen.size} ${duplicates}`);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (d: Buffer) => chunks.push(d));
  req.on('end', () => {
    if (req.headers.authorization !== 'Splunk bench-token') {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"text":"Invalid authorization","code":3}');
      return;
    }
    const raw = Buffer.concat(chunks);
    count(req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}');
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
