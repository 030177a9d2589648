// PostGraphile 5 (amber preset) over the plain schema, for benches/postgraphile/run.sh.
// Usage: node server.mjs <postgres url> <port>. No authentication (the anchor ran it so too).
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";

const [connectionString, port] = process.argv.slice(2);
if (!connectionString || !port) {
  console.error("usage: node server.mjs <postgres url> <port>");
  process.exit(2);
}

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString, schemas: ["public"] })],
  grafserv: { graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (e) => {
  console.error(e);
  process.exit(1);
});
serv.addTo(server).then(
  () => server.listen(Number(port), "127.0.0.1", () => console.log(`postgraphile listening on 127.0.0.1:${port}`)),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
