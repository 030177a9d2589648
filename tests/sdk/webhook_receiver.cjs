// Receives orgraph's webhooks: verifies the signature, handles each webhook-id once, answers
// 204 at once and does the work after. WEBHOOK_SECRET is the webhook's whsec_ secret.
const http = require('node:http');
const { Webhook } = require('standardwebhooks');

const wh = new Webhook(process.env.WEBHOOK_SECRET);
const seen = new Set(); // in production: a table with a unique key on the id
const queue = [];

function work() {
  for (let job = queue.shift(); job; job = queue.shift()) {
    console.log(JSON.stringify({ id: job.id, eventName: job.event.eventName })); // the real work
  }
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let event;
    try {
      event = wh.verify(Buffer.concat(chunks).toString('utf8'), req.headers);
    } catch (e) {
      res.writeHead(401).end();
      return;
    }
    const id = req.headers['webhook-id'];
    if (seen.has(id)) {
      console.log(JSON.stringify({ duplicate: id })); // a retry of one already handled
    } else {
      seen.add(id);
      queue.push({ id, event });
      setImmediate(work);
    }
    res.writeHead(204).end();
  });
});
server.listen(Number(process.env.PORT ?? 8000), '127.0.0.1', () => {
  console.log(JSON.stringify({ listening: server.address().port }));
});
