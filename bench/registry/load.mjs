// A small HTTP/1.1 keep-alive load generator: N connections, one request in flight each, for a fixed time.
// Raw sockets with a minimal response parser, so the generator costs the same against any server.
import net from 'node:net';

/**
 * @param {{ host: string, port: number, path: string, connections: number, durationMs: number, expectBytes: number }} o
 * @returns {Promise<{ requests: number, errors: number, seconds: number, perSecond: number }>}
 */
export function runLoad(o) {
  const request = Buffer.from(
    `GET ${o.path} HTTP/1.1\r\nHost: ${o.host}:${o.port}\r\nUser-Agent: bpfleet-bench\r\n\r\n`,
  );
  let requests = 0;
  let errors = 0;
  let stopping = false;
  const started = process.hrtime.bigint();

  function connection() {
    return new Promise((resolve) => {
      const socket = net.connect({ host: o.host, port: o.port, noDelay: true });
      let head = Buffer.alloc(0);
      let bodyLeft = -1;
      const send = () => {
        if (stopping) {
          socket.end();
          return;
        }
        head = Buffer.alloc(0);
        bodyLeft = -1;
        socket.write(request);
      };
      socket.on('connect', send);
      socket.on('data', (chunk) => {
        let data = chunk;
        while (data.length > 0) {
          if (bodyLeft < 0) {
            head = head.length === 0 ? data : Buffer.concat([head, data]);
            const end = head.indexOf('\r\n\r\n');
            if (end < 0) return;
            const text = head.subarray(0, end).toString('latin1');
            const status = Number(text.slice(9, 12));
            const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
            if (status !== 200 || !length || Number(length[1]) !== o.expectBytes) errors++;
            bodyLeft = length ? Number(length[1]) : 0;
            data = head.subarray(end + 4);
            head = Buffer.alloc(0);
          }
          const take = Math.min(bodyLeft, data.length);
          bodyLeft -= take;
          data = data.subarray(take);
          if (bodyLeft === 0) {
            requests++;
            send();
            if (data.length > 0) errors++;
            return;
          }
        }
      });
      socket.on('error', () => {
        errors++;
      });
      socket.on('close', resolve);
    });
  }

  const all = Array.from({ length: o.connections }, connection);
  const timer = setTimeout(() => {
    stopping = true;
  }, o.durationMs);
  return Promise.all(all).then(() => {
    clearTimeout(timer);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { requests, errors, seconds, perSecond: requests / seconds };
  });
}

// As a child process: argv[2] is the JSON options; prints the JSON result.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const options = JSON.parse(process.argv[2] ?? '{}');
  runLoad(options).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
