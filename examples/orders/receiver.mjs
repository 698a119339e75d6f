// A webhook receiver for the orders example: verifies each delivery with the `standardwebhooks`
// package and prints it. Usage: WEBHOOK_SECRET=whsec_… node examples/orders/receiver.mjs [port]
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const secret = process.env.WEBHOOK_SECRET;
if (!secret) {
  console.error('Set WEBHOOK_SECRET to the endpoint\'s "whsec_…" secret (shown once, when the endpoint is created).');
  process.exit(2);
}
const wh = new Webhook(secret);
const port = Number(process.argv[2] ?? 4000);

createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    try {
      const event = wh.verify(body, req.headers); // throws if forged, or older than 5 minutes
      const { record, transition } = event.data;
      const what = transition ? `${transition.name}: ${transition.from} → ${transition.to}` : event.type;
      console.log(`${req.headers['webhook-id']}  ${record.collectionName}/${record.id}  ${what}  (status ${record.status})`);
      res.writeHead(204).end();
    } catch (err) {
      console.log(`refused: ${err.message}`);
      res.writeHead(400).end();
    }
  });
}).listen(port, '127.0.0.1', () => console.log(`receiving on http://127.0.0.1:${port}/`));
